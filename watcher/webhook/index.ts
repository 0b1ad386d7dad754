/**
 * The eci-profile admission runtime the watcher starts when WEBHOOK_ENABLED: TLS (a mounted Secret, or one
 * certificate generated once and shared by every replica through a Secret), the caBundle kept current in the
 * webhook configurations (re-asserted periodically: `kubectl apply` of the manifests resets it), the hot-reloaded
 * profile, and the HTTPS server. Every replica serves; the Service spreads the apiserver's calls.
 */
import type { Config } from '../../shared/domain/config.js';
import type { Pod, Secret } from '../../shared/domain/k8s.js';
import type { VirtualNodeIdentity } from '../../shared/domain/profile.js';
import { validatePod } from '../../shared/domain/validate.js';
import type { AdmissionSupport, Cluster, Clock, Logger } from '../../shared/ports/index.js';
import type { AdmissionDeps } from '../../shared/usecases/admission.js';
import { budgetPodCheck } from '../../shared/usecases/budgets.js';
import { nodeLabels, parseTaint } from '../node.js';
import { generateTls, readTls, type TlsMaterial } from './certs.js';
import { ProfileStore } from './profileStore.js';
import { startWebhookServer, type WebhookServer } from './server.js';

export interface AdmissionRuntime {
  port: number;
  profile: ProfileStore;
  server: WebhookServer;
  stop(): Promise<void>;
}

export interface AdmissionRuntimeDeps {
  cluster: Pick<Cluster, 'getConfigMap' | 'getSecret' | 'listPods'>;
  support: AdmissionSupport;
  clock: Clock;
  log: Logger;
  config: Config;
  /** extra IP SANs for the generated certificate (tests serve on 127.0.0.1) */
  certIps?: string[];
  host?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

function tlsFromSecret(s: Secret): TlsMaterial | undefined {
  const d = s.data ?? {};
  if (!d['tls.crt'] || !d['tls.key']) return undefined;
  return { certPem: unb64(d['tls.crt']), keyPem: unb64(d['tls.key']), caPem: unb64(d['ca.crt'] ?? d['tls.crt']) };
}

/** One certificate for all replicas: read the shared Secret, or generate it and race to create it. */
export async function sharedTls(deps: AdmissionRuntimeDeps): Promise<TlsMaterial> {
  const { config: cfg, cluster, support } = deps;
  const ns = cfg.BRIDGE_NAMESPACE;
  const read = async (): Promise<TlsMaterial | undefined> => {
    try {
      return tlsFromSecret(await cluster.getSecret(ns, cfg.WEBHOOK_TLS_SECRET));
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined;
      throw err;
    }
  };
  const existing = await read();
  if (existing) return existing;
  const svc = cfg.WEBHOOK_SERVICE;
  const tls = await generateTls({
    dnsNames: [`${svc}.${ns}.svc`, `${svc}.${ns}.svc.${cfg.CLUSTER_DOMAIN}`, `${svc}.${ns}`, svc],
    ips: deps.certIps ?? [],
    days: 3650,
  });
  try {
    await support.createSecret(ns, {
      metadata: { name: cfg.WEBHOOK_TLS_SECRET, labels: { 'app.kubernetes.io/part-of': 'eci-bridge' } },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(tls.certPem), 'tls.key': b64(tls.keyPem), 'ca.crt': b64(tls.caPem) },
    });
    deps.log.info({ secret: `${ns}/${cfg.WEBHOOK_TLS_SECRET}` }, 'webhook certificate generated and stored');
    return tls;
  } catch (err) {
    // Another replica won the race: use its certificate.
    if ((err as Error).name !== 'AlreadyExistsError' && (err as Error).name !== 'ConflictError') throw err;
    const theirs = await read();
    if (!theirs) throw err;
    return theirs;
  }
}

function labelSelector(sel: Record<string, string>): string {
  return Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function virtualNodeIdentity(cfg: Config): VirtualNodeIdentity {
  const taint = parseTaint(cfg.VNODE_TAINT);
  return {
    nodeName: cfg.VNODE_NAME,
    labels: nodeLabels(cfg),
    taint: taint
      ? { key: taint.key, value: taint.value ?? '', effect: taint.effect }
      : { key: 'virtual-kubelet.io/provider', value: 'alibabacloud', effect: 'NoSchedule' },
    exclusiveLabels: { 'k8s.aliyun.com/vnode': 'true' },
  };
}

export async function startAdmission(deps: AdmissionRuntimeDeps): Promise<AdmissionRuntime> {
  const { config: cfg, log } = deps;
  const fromDir = cfg.WEBHOOK_TLS_DIR !== undefined && cfg.WEBHOOK_TLS_DIR !== '';
  const tls = fromDir ? await readTls(cfg.WEBHOOK_TLS_DIR as string) : await sharedTls(deps);

  // With a generated CA, keep the caBundle right (kubectl apply of deploy/ resets it to the manifest's).
  let caTimer: NodeJS.Timeout | undefined;
  if (!fromDir) {
    const assertCa = async (): Promise<void> => {
      try {
        const n = await deps.support.setWebhookCaBundle(cfg.WEBHOOK_CONFIG_NAME, tls.caPem);
        if (n > 0) log.info({ configuration: cfg.WEBHOOK_CONFIG_NAME, webhooks: n }, 'webhook caBundle updated');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not update the webhook caBundle');
      }
    };
    await assertCa();
    const loop = (): void => {
      caTimer = setTimeout(() => void assertCa().finally(() => caTimer && loop()), 30_000);
      caTimer.unref();
    };
    loop();
  }

  const profile = new ProfileStore(deps.cluster, {
    namespace: cfg.BRIDGE_NAMESPACE,
    name: cfg.PROFILE_CONFIGMAP,
    intervalMs: cfg.PROFILE_RELOAD_SECONDS * 1000,
    logger: log,
  });
  await profile.start();

  const nsCache = new Map<string, { at: number; labels: Record<string, string> }>();
  const admissionDeps: AdmissionDeps = {
    vnode: virtualNodeIdentity(cfg),
    profile: () => profile.current(),
    excludedNamespaces: new Set(['kube-system', cfg.BRIDGE_NAMESPACE, ...cfg.WEBHOOK_EXCLUDED_NAMESPACES]),
    async namespaceLabels(name) {
      const hit = nsCache.get(name);
      const now = deps.clock.now();
      if (hit && now - hit.at < 30_000) return hit.labels;
      const labels = (await deps.support.getNamespace(name)).metadata.labels ?? {};
      nsCache.set(name, { at: now, labels });
      return labels;
    },
    validatePod: (pod: Pod) => validatePod(pod),
    async virtualPodsMatch(namespace, selector) {
      const pods = await deps.cluster.listPods({ nodeName: cfg.VNODE_NAME, namespace, labelSelector: labelSelector(selector) });
      return pods.length > 0;
    },
    extraPodCheck: budgetPodCheck({ cluster: deps.cluster, clock: deps.clock }, cfg.BRIDGE_NAMESPACE, cfg.BILLING_BUDGET_ENFORCEMENT),
  };
  const server = await startWebhookServer({ tls, deps: admissionDeps, logger: log, host: deps.host, port: cfg.WEBHOOK_PORT });
  log.info({ port: server.port, tls: fromDir ? 'mounted' : 'generated' }, 'eci-profile webhooks serving');
  return {
    port: server.port,
    profile,
    server,
    async stop() {
      clearTimeout(caTimer);
      caTimer = undefined;
      profile.stop();
      await server.close();
    },
  };
}
