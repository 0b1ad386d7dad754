/**
 * The checks of `eci-bridge doctor`: a pre-flight a user runs before and after deploying. Each check returns lines of
 * ok / warn / fail with what to do; the command exits non-zero on any fail. Three groups:
 * - files (always): placeholders left in deploy/, the RAM policies against the actions the code calls
 *   (scripts/lib/ramPolicy.ts), s.yaml resolved with the user's values and each function's environment size
 *   (scripts/lib/sYaml.ts), and the watcher's ConfigMap agreeing with s.yaml;
 * - the cluster (with a kubeconfig): the virtual node, the watcher's replicas and PodDisruptionBudget, the webhooks'
 *   caBundle, the age of the functions' heartbeat Lease;
 * - the cloud (with credentials): ECI and MNS answer.
 * Values are never printed when they are credentials (KUBE_TOKEN, keys): lines name variables, not their values.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { createEciContainerGroups } from '../../shared/adapters/eci/index.js';
import type { KubeClient } from '../../shared/adapters/kube/client.js';
import { KubeCluster } from '../../shared/adapters/kube/index.js';
import { readObject } from '../../shared/adapters/kube/provision.js';
import { cloudCredentials, createMnsQueue } from '../../shared/compose.js';
import type { Config } from '../../shared/domain/config.js';
import { FUNCTIONS_HEARTBEAT_NAME } from '../../shared/domain/heartbeat.js';
import { TAG_CLUSTER } from '../../shared/domain/names.js';
import { describeError, isNotFound } from '../../shared/usecases/errors.js';
import { type NetworkCheck, networkPrerequisiteChecks } from '../../shared/usecases/networkChecks.js';
import { HEALTH_CONDITION } from '../../watcher/node.js';
import { imagePlaceholders, placeholdersIn, renderPlaceholders } from './placeholders.js';
import { checkPolicy, functionsGrants, parsePolicy, watcherGrants } from './ramPolicy.js';
import { envBytes, FC_ENV_LIMIT_BYTES, functionsOf, loadSYaml, resolveSYaml } from './sYaml.js';

export type Status = 'ok' | 'warn' | 'fail';
export interface Line {
  status: Status;
  check: string;
  detail: string;
  /** what to do (warn and fail) */
  fix?: string;
}

const line = (status: Status, check: string, detail: string, fix?: string): Line => ({ status, check, detail, ...(fix ? { fix } : {}) });

/** `KEY=VALUE` lines (comments, blank lines and `export ` allowed; one level of quotes removed). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m?.[1]) continue;
    const v = (m[2] ?? '').trim();
    out[m[1]] = /^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v;
  }
  return out;
}

// ---------------------------------------------------------------- files

export interface FileInputs {
  root: string;
  /** the user's values: the process environment merged with the env files */
  env: Record<string, string | undefined>;
}

export function placeholderLines({ root }: FileInputs): Line[] {
  const out: Line[] = [];
  const k = parse(readFileSync(join(root, 'deploy', 'kustomization.yaml'), 'utf8')) as { images?: { newName?: string; newTag?: string; digest?: string }[] };
  for (const img of k.images ?? []) {
    const ref = `${img.newName ?? ''}:${img.digest ?? img.newTag ?? ''}`;
    const left = imagePlaceholders(ref);
    out.push(
      left.length
        ? line('fail', 'watcher image', `deploy/kustomization.yaml still names ${ref}`, 'set images[0].newName to your registry path and newTag to the version you pushed (docs/deploy.md, step 6)')
        : line('ok', 'watcher image', ref),
    );
  }
  const cm = readFileSync(join(root, 'deploy', 'configmap.yaml'), 'utf8');
  const left = placeholdersIn(cm);
  out.push(
    left.length
      ? line('fail', 'watcher settings', `deploy/configmap.yaml has placeholders ${left.map((p) => `{{${p}}}`).join(', ')}`, 'replace them with your region and account id (docs/deploy.md, step 6)')
      : line('ok', 'watcher settings', 'deploy/configmap.yaml has no placeholder'),
  );
  return out;
}

function configMapData(root: string): Record<string, string> {
  const doc = parseAllDocuments(readFileSync(join(root, 'deploy', 'configmap.yaml'), 'utf8'))[0]?.toJS() as { data?: Record<string, string> };
  return doc?.data ?? {};
}

/** The RAM policies of deploy/ against the code, rendered with the user's region, account and cluster name. */
export function ramLines({ root, env }: FileInputs): Line[] {
  const doc = loadSYaml(join(root, 's.yaml')).doc;
  const vars = (doc.vars ?? {}) as Record<string, string>;
  const values = {
    REGION: env.REGION ?? env.ECI_REGION ?? 'cn-hangzhou',
    ACCOUNT_ID: env.ALIBABA_CLOUD_ACCOUNT_ID ?? '1234567890',
    CLUSTER_NAME: env.CLUSTER_NAME ?? 'default-cluster',
  };
  const sample = !env.ALIBABA_CLOUD_ACCOUNT_ID || !(env.REGION ?? env.ECI_REGION);
  const id = { region: values.REGION, accountId: values.ACCOUNT_ID, queue: String(vars.queue), deadLetterQueue: String(vars.deadLetterQueue) };
  const out: Line[] = [];
  for (const [file, grants] of [
    ['ram-policy.json', functionsGrants(id)],
    ['ram-policy-watcher.json', watcherGrants(id)],
  ] as const) {
    const text = readFileSync(join(root, 'deploy', file), 'utf8');
    let problems: string[];
    try {
      problems = checkPolicy(parsePolicy(renderPlaceholders(text, values), file), grants, values.CLUSTER_NAME).map((p) => p.problem);
    } catch (err) {
      problems = [describeError(err)];
    }
    const render = `sed -e 's/{{REGION}}/${values.REGION}/g' -e 's/{{ACCOUNT_ID}}/${values.ACCOUNT_ID}/g' -e 's/{{CLUSTER_NAME}}/${values.CLUSTER_NAME}/g' deploy/${file}`;
    out.push(
      problems.length
        ? line('fail', `RAM ${file}`, problems.join('; '), 'grant what the code calls (the adapters\' action lists), scoped by the cluster tag')
        : line(
            'ok',
            `RAM ${file}`,
            `covers the ${grants.length} grants the code needs; attach the output of: ${render}${sample ? ' (sample values: set REGION and ALIBABA_CLOUD_ACCOUNT_ID)' : ''}`,
          ),
    );
  }
  return out;
}

/** s.yaml resolved with the user's values: nothing missing, every function's environment under FC's 4 KB. */
export function sYamlLines({ root, env }: FileInputs): Line[] {
  const { doc, dir } = loadSYaml(join(root, 's.yaml'));
  const r = resolveSYaml(doc, dir, { env, accountId: env.ALIBABA_CLOUD_ACCOUNT_ID ?? '1234567890' });
  const out: Line[] = [];
  out.push(
    r.missingEnv.length
      ? line('fail', 's.yaml values', `not set: ${r.missingEnv.join(', ')}`, 'set them in the env files you pass with --env-file (docs/deploy.md, step 4), or export them')
      : line('ok', 's.yaml values', 'every env(...) of s.yaml has a value'),
  );
  if (r.unsupported.length) out.push(line('warn', 's.yaml expressions', `not checked: ${r.unsupported.join(', ')}`));
  for (const [id, res] of functionsOf(r.doc)) {
    const bytes = envBytes(res.props.environmentVariables);
    const detail = `${id}: ${bytes} of ${FC_ENV_LIMIT_BYTES} bytes`;
    if (bytes >= FC_ENV_LIMIT_BYTES) out.push(line('fail', 'function environment', detail, 're-run setup-functions (compact KUBE_CA), use a shorter-lived bound token or shorter names; FC refuses more than 4 KB'));
    else if (bytes > FC_ENV_LIMIT_BYTES * 0.9) out.push(line('warn', 'function environment', detail, 'close to the limit: a longer token or CA chain will not fit'));
    else out.push(line('ok', 'function environment', detail));
  }
  const cm = configMapData(root);
  for (const key of ['CLUSTER_NAME', 'VNODE_NAME', 'BRIDGE_NAMESPACE'] as const) {
    const fn = String((functionsOf(r.doc)[0]?.[1].props.environmentVariables as Record<string, string> | undefined)?.[key] ?? '');
    if (cm[key] !== undefined && fn && cm[key] !== fn) {
      out.push(line('fail', 'watcher and functions agree', `${key}: deploy/configmap.yaml says ${cm[key]}, the functions get ${fn}`, `set the same ${key} in both`));
    }
  }
  return out;
}

// ---------------------------------------------------------------- cluster

const ageSeconds = (iso: unknown, now: number): number => (now - Date.parse(String(iso))) / 1000;

export async function clusterLines(client: KubeClient, config: Config, now = Date.now()): Promise<Line[]> {
  const cluster = new KubeCluster(client);
  const ns = config.BRIDGE_NAMESPACE;
  const out: Line[] = [];

  // the virtual node
  try {
    const node = await cluster.getNode(config.VNODE_NAME);
    const labels = node.metadata.labels ?? {};
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const health = node.status?.conditions?.find((c) => c.type === HEALTH_CONDITION);
    if (labels.type !== 'virtual-kubelet' || labels['k8s.aliyun.com/vnode'] !== 'true') {
      out.push(line('fail', 'virtual node', `${config.VNODE_NAME} lacks the labels type=virtual-kubelet, k8s.aliyun.com/vnode=true`, 'upgrade the watcher: its fixed labels always win over VNODE_LABELS'));
    } else if (ready?.status !== 'True') {
      out.push(line('fail', 'virtual node', `${config.VNODE_NAME} is not Ready (${ready?.reason ?? 'no condition'})`, 'the watcher renews its lease: check the watcher pods and their logs'));
    } else if (health && health.status !== 'True') {
      out.push(line('warn', 'virtual node', `${config.VNODE_NAME} Ready, ${HEALTH_CONDITION}=False: ${health.reason}: ${health.message}`, 'see the functions heartbeat line below and the functions logs'));
    } else out.push(line('ok', 'virtual node', `${config.VNODE_NAME} Ready`));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    out.push(line('warn', 'virtual node', `${config.VNODE_NAME} is not registered`, 'kubectl apply -k deploy/, then check the watcher pods (docs/deploy.md, step 7)'));
  }

  // the watcher: replicas and the PodDisruptionBudget
  const dep = await readObject(client, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'eci-bridge-watcher' });
  if (!dep) out.push(line('warn', 'watcher', `no Deployment ${ns}/eci-bridge-watcher`, 'kubectl apply -k deploy/'));
  else {
    const spec = dep.spec as { replicas?: number; template?: { spec?: { priorityClassName?: string } } };
    const ready = Number((dep.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0);
    const want = Number(spec.replicas ?? 1);
    const detail = `${ready}/${want} replicas ready${spec.template?.spec?.priorityClassName ? `, priority class ${spec.template.spec.priorityClassName}` : ', no priority class'}`;
    if (ready === 0) out.push(line('fail', 'watcher', detail, 'kubectl -n eci-bridge describe pods -l app.kubernetes.io/name=eci-bridge-watcher'));
    else if (ready < 2 || want < 2) out.push(line('warn', 'watcher', detail, 'run 2 replicas: one can be drained while the other renews the node lease'));
    else out.push(line('ok', 'watcher', detail));
  }
  const pdb =
    (await readObject(client, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: ns, name: 'eci-bridge-watcher' })) ??
    (await readObject(client, { apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget', namespace: ns, name: 'eci-bridge-watcher' }));
  const minAvailable = Number((pdb?.spec as { minAvailable?: number } | undefined)?.minAvailable ?? 0);
  out.push(
    pdb && minAvailable >= 1
      ? line('ok', 'watcher disruption budget', `minAvailable ${minAvailable}`)
      : line(dep ? 'fail' : 'warn', 'watcher disruption budget', pdb ? `minAvailable ${minAvailable}` : 'no PodDisruptionBudget eci-bridge-watcher', 'kubectl apply -k deploy/ (deploy/pdb.yaml): a drain must never take both replicas'),
  );

  // the webhooks' caBundle
  const hooks: { kind: string; obj: Record<string, unknown> | undefined }[] = [];
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    hooks.push({ kind, obj: await readObject(client, { apiVersion: 'admissionregistration.k8s.io/v1', kind, name: config.WEBHOOK_CONFIG_NAME }) });
  }
  if (hooks.every((h) => !h.obj)) out.push(line('warn', 'webhook caBundle', `no webhook configuration ${config.WEBHOOK_CONFIG_NAME}`, 'optional: deploy/webhook.yaml refuses unsupported pods at kubectl apply'));
  for (const h of hooks.filter((x) => x.obj)) {
    const webhooks = ((h.obj?.webhooks ?? []) as { name: string; clientConfig?: { caBundle?: string } }[]).filter((w) => !w.clientConfig?.caBundle);
    out.push(
      webhooks.length
        ? line('fail', 'webhook caBundle', `${h.kind} ${config.WEBHOOK_CONFIG_NAME}: empty on ${webhooks.map((w) => w.name).join(', ')}`, 'the watcher writes it within 30 s of starting: check that it runs with WEBHOOK_ENABLED=true and its logs')
        : line('ok', 'webhook caBundle', `${h.kind} ${config.WEBHOOK_CONFIG_NAME}`),
    );
  }

  // the functions' heartbeat
  try {
    const lease = await cluster.getLease(ns, FUNCTIONS_HEARTBEAT_NAME);
    const age = ageSeconds(lease.spec?.renewTime, now);
    const detail = `${ns}/${FUNCTIONS_HEARTBEAT_NAME} renewed ${Math.round(age)} s ago`;
    out.push(
      Number.isFinite(age) && age <= config.HEALTH_STALE_SECONDS
        ? line('ok', 'functions heartbeat', detail)
        : line('fail', 'functions heartbeat', `${detail} (stale after ${config.HEALTH_STALE_SECONDS} s)`, 'the timers run status-sync every minute: check the functions logs (s logs) and their VPC access to the API server'),
    );
  } catch (err) {
    if (!isNotFound(err)) throw err;
    out.push(line('warn', 'functions heartbeat', `no Lease ${ns}/${FUNCTIONS_HEARTBEAT_NAME}: the functions never ran`, 's deploy, then wait a minute for status-sync'));
  }

  // what ECI pods need to reach the apiserver, cluster DNS, Services and pods (docs/networking.md)
  for (const c of await networkPrerequisiteChecks(cluster, config)) {
    out.push(line(c.status, `network ${c.id}`, c.message, c.status === 'ok' ? undefined : NETWORK_FIX[c.id]));
  }
  return out;
}

const NETWORK_FIX: Record<NetworkCheck['id'], string> = {
  'apiserver-endpoint': 'set KUBERNETES_SERVICE_ADDRESS to an address ECI reaches (the apiserver SLB or a master private IP), docs/networking.md',
  'cluster-dns': "set CLUSTER_DNS to the cluster DNS Service's ClusterIP (kubectl -n kube-system get svc)",
  'kube-proxy': 'set KUBE_PROXY_IMAGE (the kube-proxy sidecar) or route the Service CIDR and set CLUSTER_IP_ROUTED=true, docs/networking.md',
  cni: 'route the pod CIDRs to the nodes in the VPC route table, docs/networking.md §3',
};

// ---------------------------------------------------------------- cloud

export async function cloudLines(config: Config): Promise<Line[]> {
  const creds = cloudCredentials(config);
  if (!creds) return [line('warn', 'cloud', 'no ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET: ECI and MNS not checked', 'export them (a RAM user that may describe groups and read the queue attributes) to check')];
  const out: Line[] = [];
  const eci = createEciContainerGroups(config, creds, { retry: { maxAttempts: 2 } });
  try {
    const changed = await eci.changedSince({ tags: [{ Key: TAG_CLUSTER, Value: config.CLUSTER_NAME }], sinceSeconds: 60 });
    out.push(line('ok', 'ECI', `${config.ECI_REGION} answers (${changed.length} group(s) of ${config.CLUSTER_NAME} changed in the last minute)`));
  } catch (err) {
    out.push(line('fail', 'ECI', describeError(err), 'check ECI_REGION / ECI_ENDPOINT and that the credentials may call eci:DescribeContainerGroupStatus'));
  }
  const account = config.ALIBABA_CLOUD_ACCOUNT_ID;
  if (!account) out.push(line('warn', 'MNS', 'no ALIBABA_CLOUD_ACCOUNT_ID: the queue not checked', 'export it'));
  else {
    const queue = createMnsQueue(config, creds, config.MNS_QUEUE, account, 'cli');
    try {
      const a = await queue.attributes();
      out.push(line('ok', 'MNS', `queue ${config.MNS_QUEUE}: ${a.activeMessages ?? 0} active, ${a.inactiveMessages ?? 0} in flight, ${a.delayMessages ?? 0} delayed`));
    } catch (err) {
      out.push(line('fail', 'MNS', `queue ${config.MNS_QUEUE}: ${describeError(err)}`, 's deploy creates it (the eci-bridge-queues stack); the credentials need mns:GetQueueAttributes'));
    }
  }
  return out;
}

export function formatLine(l: Line): string {
  return `${l.status.padEnd(4)} ${l.check}: ${l.detail}${l.fix ? `\n       fix: ${l.fix}` : ''}`;
}
