/**
 * Shared by `eci-bridge translate` and `eci-bridge validate`: reads YAML/JSON manifests, extracts pods (Pods and
 * the pod templates of Deployment, StatefulSet, ReplicaSet, ReplicationController, Job, CronJob, DaemonSet), resolves ConfigMaps and
 * Secrets found in the same input, and runs the domain. I/O is injected so tests can run it in-process.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../shared/domain/config.js';
import type { ConfigMap, ObjectMeta, Pod, PodSpec, Secret } from '../../shared/domain/k8s.js';
import type { TranslateContext } from '../../shared/domain/translate.js';

export interface Io {
  readFile(path: string): string;
  env: Record<string, string | undefined>;
}

export const processIo: Io = {
  readFile: (p) => readFileSync(p === '-' ? 0 : p, 'utf8'),
  env: process.env,
};

export interface Options {
  files: string[];
  showSecrets: boolean;
  strict: boolean;
  ctx: TranslateContext;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const FLAGS_HELP = `  -f, --filename FILE    manifest file (YAML or JSON, several documents allowed; '-' = stdin); repeatable
  --strict               ConfigMaps/Secrets/tokens not in the input are an error, not a placeholder
  --region ID            ECI region                 (env ECI_REGION, default cn-hangzhou)
  --vswitch IDS          comma list of vSwitch ids  (env ECI_VSWITCH_IDS, default vsw-dry-run)
  --security-group ID    security group id          (env ECI_SECURITY_GROUP_ID, default sg-dry-run)
  --zone ID              zone id                    (env ECI_ZONE_ID, default none)
  --cluster-dns IP       cluster DNS service IP     (env CLUSTER_DNS, default 10.96.0.10)
  --cluster-domain D     cluster domain             (env CLUSTER_DOMAIN, default cluster.local)
  --cluster-name NAME    cluster tag                (env CLUSTER_NAME, default default-cluster)
  --vnode NAME           virtual node name          (env VNODE_NAME, default eci-bridge-vnode)
  --api-server HOST:PORT kubernetes Service address (env KUBERNETES_SERVICE_ADDRESS, default 10.96.0.1:443)`;

export function parseOptions(argv: string[], io: Io, allowShowSecrets: boolean): Options {
  const files: string[] = [];
  const flags: Record<string, string> = {};
  let showSecrets = false;
  let strict = false;
  const valued = new Set(['region', 'vswitch', 'security-group', 'zone', 'cluster-dns', 'cluster-domain', 'cluster-name', 'vnode', 'api-server']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const next = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '-f' || flag === '--filename') files.push(next());
    else if (flag === '--show-secrets' && allowShowSecrets) showSecrets = true;
    else if (flag === '--strict') strict = true;
    else if (flag.startsWith('--') && valued.has(flag.slice(2))) flags[flag.slice(2)] = next();
    else throw new UsageError(`unknown option ${a}`);
  }
  if (files.length === 0) throw new UsageError('-f FILE is required');
  const cfg = parseConfig({
    ECI_REGION: flags.region ?? io.env.ECI_REGION,
    ECI_VSWITCH_IDS: flags.vswitch ?? io.env.ECI_VSWITCH_IDS ?? 'vsw-dry-run',
    ECI_SECURITY_GROUP_ID: flags['security-group'] ?? io.env.ECI_SECURITY_GROUP_ID ?? 'sg-dry-run',
    ECI_ZONE_ID: flags.zone ?? io.env.ECI_ZONE_ID,
    CLUSTER_DNS: flags['cluster-dns'] ?? io.env.CLUSTER_DNS,
    CLUSTER_DOMAIN: flags['cluster-domain'] ?? io.env.CLUSTER_DOMAIN,
    CLUSTER_NAME: flags['cluster-name'] ?? io.env.CLUSTER_NAME,
    VNODE_NAME: flags.vnode ?? io.env.VNODE_NAME,
    VNODE_TAGS: io.env.VNODE_TAGS,
  });
  const api = flags['api-server'] ?? io.env.KUBERNETES_SERVICE_ADDRESS ?? '10.96.0.1:443';
  const m = /^([^:]+):(\d+)$/.exec(api);
  if (!m?.[1] || !m[2]) throw new UsageError('--api-server must be HOST:PORT');
  return {
    files,
    showSecrets,
    strict,
    ctx: {
      clusterName: cfg.CLUSTER_NAME,
      vnodeName: cfg.VNODE_NAME,
      ...(cfg.VNODE_TAGS.length ? { vnodeTags: cfg.VNODE_TAGS } : {}),
      regionId: cfg.ECI_REGION,
      vSwitchIds: cfg.ECI_VSWITCH_IDS,
      ...(cfg.ECI_SECURITY_GROUP_ID ? { securityGroupId: cfg.ECI_SECURITY_GROUP_ID } : {}),
      ...(cfg.ECI_ZONE_ID ? { zoneId: cfg.ECI_ZONE_ID } : {}),
      clusterDns: cfg.CLUSTER_DNS,
      clusterDomain: cfg.CLUSTER_DOMAIN,
      kubernetesService: { host: m[1], port: Number(m[2]) },
      offline: strict ? 'strict' : 'placeholder',
    },
  };
}

export interface Input {
  pods: Pod[];
  configMaps: Map<string, Map<string, ConfigMap>>;
  secrets: Map<string, Map<string, Secret>>;
  notes: string[];
}

/** Marks a field the CLI invented for a pod template (no such value exists before the pod is created). */
export const DRY_RUN_UID = '<pod-uid>';

const OWNER_OF: Record<string, string> = {
  Deployment: 'ReplicaSet',
  ReplicaSet: 'ReplicaSet',
  ReplicationController: 'ReplicationController',
  StatefulSet: 'StatefulSet',
  Job: 'Job',
  CronJob: 'Job',
  DaemonSet: 'DaemonSet',
};

const OWNER_API: Record<string, string> = { ReplicationController: 'v1' };

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function fromTemplate(kind: string, meta: ObjectMeta, template: unknown, vcts?: unknown): Pod | undefined {
  const t = obj(template);
  const spec = obj(t?.spec) as PodSpec | undefined;
  if (!spec) return undefined;
  const tm = (obj(t?.metadata) ?? {}) as ObjectMeta;
  const name = meta.name ?? 'workload';
  const ns = meta.namespace ?? 'default';
  const podName = kind === 'StatefulSet' ? `${name}-0` : `${name}-dryrun`;
  // The StatefulSet controller adds one PVC volume per volumeClaimTemplate (claim <template>-<pod>).
  const claims = kind === 'StatefulSet' && Array.isArray(vcts) ? vcts : [];
  const volumes = [
    ...(spec.volumes ?? []),
    ...claims
      .map((c) => (obj(obj(c)?.metadata)?.name as string | undefined) ?? '')
      .filter((n) => n && !(spec.volumes ?? []).some((v) => v.name === n))
      .map((n) => ({ name: n, persistentVolumeClaim: { claimName: `${n}-${podName}` } })),
  ];
  // A Deployment's pods belong to a ReplicaSet `<name>-<pod-template-hash>` and carry that label, as in a cluster
  // (so the owner tags show the Deployment, like the billing report).
  const hash = kind === 'Deployment' ? 'dryrun' : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...tm,
      ...(hash ? { labels: { ...tm.labels, 'pod-template-hash': hash } } : {}),
      name: podName,
      namespace: ns,
      uid: DRY_RUN_UID,
      ownerReferences: [
        {
          apiVersion: OWNER_API[kind] ?? 'apps/v1',
          kind: OWNER_OF[kind] ?? kind,
          name: hash ? `${name}-${hash}` : name,
          uid: DRY_RUN_UID,
          controller: true,
        },
      ],
    },
    spec: volumes.length ? { ...spec, volumes } : spec,
  };
}

function add<T>(m: Map<string, Map<string, T>>, ns: string, name: string, v: T): void {
  let inner = m.get(ns);
  if (!inner) {
    inner = new Map();
    m.set(ns, inner);
  }
  inner.set(name, v);
}

function collect(doc: unknown, out: Input): void {
  const d = obj(doc);
  if (!d) return;
  const kind = typeof d.kind === 'string' ? d.kind : '';
  const meta = (obj(d.metadata) ?? {}) as ObjectMeta;
  const ns = meta.namespace ?? 'default';
  const spec = obj(d.spec);
  if (kind === 'List' || kind.endsWith('List')) {
    for (const item of Array.isArray(d.items) ? d.items : []) collect(item, out);
    return;
  }
  if (kind === 'Pod') {
    const pod = structuredClone(d) as unknown as Pod;
    pod.metadata = { ...meta, namespace: ns, ...(meta.uid ? {} : { uid: DRY_RUN_UID }) };
    out.pods.push(pod);
  } else if (kind === 'CronJob') {
    const pod = fromTemplate(kind, meta, obj(obj(spec?.jobTemplate)?.spec)?.template);
    if (pod) out.pods.push(pod);
  } else if (OWNER_OF[kind]) {
    const pod = fromTemplate(kind, meta, spec?.template, spec?.volumeClaimTemplates);
    if (pod) out.pods.push(pod);
  } else if (kind === 'ConfigMap' && meta.name) {
    add(out.configMaps, ns, meta.name, d as unknown as ConfigMap);
  } else if (kind === 'Secret' && meta.name) {
    const data: Record<string, string> = { ...((obj(d.data) ?? {}) as Record<string, string>) };
    for (const [k, v] of Object.entries((obj(d.stringData) ?? {}) as Record<string, string>)) {
      data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    }
    add(out.secrets, ns, meta.name, { metadata: meta, ...(typeof d.type === 'string' ? { type: d.type } : {}), data });
  } else {
    out.notes.push(`skipped ${kind || 'a document without kind'}${meta.name ? ` ${meta.name}` : ''}: not a pod or pod template`);
  }
}

/** Reads every file; throws UsageError on unreadable files or YAML errors (messages carry no file content). */
export function readInput(files: string[], io: Io): Input {
  const out: Input = { pods: [], configMaps: new Map(), secrets: new Map(), notes: [] };
  for (const f of files) {
    let text: string;
    try {
      text = io.readFile(f);
    } catch {
      throw new UsageError(`cannot read ${f}`);
    }
    const docs = parseAllDocuments(text, { version: '1.1' }); // as Kubernetes: 0644 is octal
    for (const [i, doc] of docs.entries()) {
      if (doc.errors.length) throw new UsageError(`${f}: document ${i + 1} is not valid YAML/JSON`);
      collect(doc.toJS(), out);
    }
  }
  return out;
}

export function podId(p: Pod): string {
  return `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? '?'}`;
}

/** The translate context for one pod: the input's ConfigMaps and Secrets of the pod's namespace. */
export function contextFor(base: TranslateContext, input: Input, pod: Pod): TranslateContext {
  const ns = pod.metadata?.namespace ?? 'default';
  return { ...base, configMaps: input.configMaps.get(ns) ?? new Map(), secrets: input.secrets.get(ns) ?? new Map() };
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}
