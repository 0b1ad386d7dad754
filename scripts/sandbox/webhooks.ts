/**
 * The eci-profile admission webhooks for `npm start` when WEBHOOK_ENABLED: the watcher's admission runtime
 * (watcher/webhook/) served on 127.0.0.1, and, when the API server runs on this machine (the sandbox's own control
 * plane: `register`), the webhook configurations of deploy/webhook.yaml registered with a loopback URL instead of
 * the in-cluster Service (the runtime writes its generated CA into their caBundle). Another API server (even kind's,
 * whose kubeconfig says 127.0.0.1 but which runs in a container) cannot call a loopback URL: nothing is registered
 * then and the reason is returned (the caller says it; never silently).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { createKubeAdmissionSupport, type KubeClient } from '../../shared/adapters/kube/index.js';
import { applyManifests, clusterEndpoint, type Manifest } from '../../shared/adapters/kube/provision.js';
import { kubeOptions, systemClock } from '../../shared/compose.js';
import type { Config } from '../../shared/domain/config.js';
import type { Cluster, Logger } from '../../shared/ports/index.js';
import { type AdmissionRuntime, startAdmission } from '../../watcher/webhook/index.js';

const WEBHOOK_MANIFEST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'webhook.yaml');

export interface LocalWebhooks {
  /** set when the configurations are registered with the API server */
  readonly url?: string;
  /** why they are not (the webhooks still serve) */
  readonly notRegistered?: string;
  readonly admission: AdmissionRuntime;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

interface WebhookEntry {
  clientConfig: { service?: { path?: string }; url?: string; caBundle?: string };
  namespaceSelector?: { matchExpressions?: { key: string; values?: string[] }[] };
}

/**
 * deploy/webhook.yaml's two configurations, named `config.WEBHOOK_CONFIG_NAME`, calling `baseUrl` + each
 * webhook's Service path, excluding the configured bridge namespace.
 */
export function loopbackConfigurations(config: Config, baseUrl: string, manifestPath = WEBHOOK_MANIFEST): Manifest[] {
  const docs = parseAllDocuments(readFileSync(manifestPath, 'utf8')).map((d) => d.toJSON() as Manifest | null);
  const out: Manifest[] = [];
  for (const doc of docs) {
    if (!doc || !/^(Mutating|Validating)WebhookConfiguration$/.test(doc.kind)) continue;
    const webhooks = (doc.webhooks as WebhookEntry[]).map((w) => ({
      ...w,
      clientConfig: { url: `${baseUrl}${w.clientConfig.service?.path ?? '/'}` },
      namespaceSelector: {
        matchExpressions: (w.namespaceSelector?.matchExpressions ?? []).map((e) => ({
          ...e,
          values: e.values?.map((v) => (v === 'eci-bridge' ? config.BRIDGE_NAMESPACE : v)),
        })),
      },
    }));
    out.push({ ...doc, metadata: { ...doc.metadata, name: config.WEBHOOK_CONFIG_NAME }, webhooks });
  }
  return out;
}

export async function startLocalWebhooks(opts: {
  config: Config;
  kube: KubeClient;
  cluster: Cluster;
  log: Logger;
  register: boolean;
}): Promise<LocalWebhooks> {
  const { kube, log } = opts;
  const port = opts.config.WEBHOOK_PORT === 0 ? await freePort() : opts.config.WEBHOOK_PORT;
  const config: Config = { ...opts.config, WEBHOOK_PORT: port };
  const server = clusterEndpoint(kube).server;
  const url = `https://127.0.0.1:${port}`;
  const register = opts.register;
  // the configurations first (without a caBundle): the admission runtime writes its CA into them as it starts
  if (register) await applyManifests(kube, loopbackConfigurations(config, url));
  const admission = await startAdmission({
    cluster: opts.cluster,
    support: createKubeAdmissionSupport(kubeOptions(config)),
    clock: systemClock,
    log,
    config,
    certIps: ['127.0.0.1'],
    host: '127.0.0.1',
  });
  return {
    ...(register
      ? { url }
      : {
          notRegistered:
            `the API server (${server}) is not the sandbox's own, so it may not reach the webhooks on ${url}; ` +
            'apply deploy/webhook.yaml with a URL it can reach (or deploy the watcher) to admit pods at apply time',
        }),
    admission,
    async stop() {
      await admission.stop();
    },
  };
}
