/**
 * The one configuration schema of the bridge. Parsed once (see `shared/config.ts`) from the environment:
 * FC function environment variables, the watcher's ConfigMap/env, or `npm start`'s flags.
 */
import { z } from 'zod';
import type { EciKeyValue } from './eci.js';
import { ECI_API_QUOTAS } from './eciQuotas.js';
import { tagProblem } from './names.js';

const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/**
 * `VNODE_TAGS`: `key=value,key2=value2` → ECI tags (each checked against ECI's tag rules; the `eci-bridge.io/`
 * prefix is the bridge's own). Keys are unique.
 */
export const VnodeTagsSchema = z.string().transform((s, ctx): EciKeyValue[] => {
  const out: EciKeyValue[] = [];
  for (const part of s.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    const problem =
      eq <= 0
        ? 'is not key=value'
        : (tagProblem(key, value) ??
          (key.startsWith('eci-bridge.io/') ? 'the eci-bridge.io/ prefix is reserved' : out.some((t) => t.Key === key) ? 'repeats a key' : undefined));
    if (problem) ctx.addIssue({ code: 'custom', message: `"${item}": ${problem}` });
    else out.push({ Key: key, Value: value });
  }
  return out;
});

export const ConfigSchema = z.object({
  /** Identity of this bridge: every container group is tagged with it. */
  CLUSTER_NAME: z.string().min(1).max(64).default('default-cluster'),
  VNODE_NAME: z.string().min(1).max(63).default('eci-bridge-vnode'),
  BRIDGE_NAMESPACE: z.string().min(1).default('eci-bridge'),

  /** ECI */
  ECI_REGION: z.string().min(1).default('cn-hangzhou'),
  /** host[:port] without scheme; default: eci-vpc.<region>.aliyuncs.com */
  ECI_ENDPOINT: z.string().optional(),
  ECI_PROTOCOL: z.enum(['https', 'http']).default('https'),
  ECI_VSWITCH_IDS: csv.default([]),
  ECI_SECURITY_GROUP_ID: z.string().optional(),
  ECI_ZONE_ID: z.string().optional(),
  /** Client-side rate limits, defaulting to ECI's published quotas. */
  ECI_CREATE_PER_SECOND: z.coerce.number().positive().default(ECI_API_QUOTAS.CreateContainerGroup.perSecond),
  ECI_CREATE_BURST: z.coerce.number().int().positive().default(ECI_API_QUOTAS.CreateContainerGroup.burst),

  /** Credentials (static keys or STS). FC injects these from the function role. */
  ALIBABA_CLOUD_ACCESS_KEY_ID: z.string().optional(),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: z.string().optional(),
  ALIBABA_CLOUD_SECURITY_TOKEN: z.string().optional(),
  ALIBABA_CLOUD_ACCOUNT_ID: z.string().optional(),

  /** Queue */
  QUEUE_KIND: z.enum(['mns', 'embedded']).default('mns'),
  MNS_ENDPOINT: z.string().optional(),
  MNS_QUEUE: z.string().default('eci-bridge-pods'),
  MNS_DEAD_LETTER_QUEUE: z.string().default('eci-bridge-pods-dlq'),

  /** Kubernetes: kubeconfig, in-cluster, or explicit server + token + CA (the functions). */
  KUBECONFIG: z.string().optional(),
  KUBE_API_SERVER: z.string().url().optional(),
  KUBE_TOKEN: z.string().optional(),
  /** PEM, or base64 of PEM */
  KUBE_CA: z.string().optional(),

  /** Cluster DNS for ECI pods (dnsPolicy ClusterFirst). */
  CLUSTER_DNS: z.string().default('10.96.0.10'),
  CLUSTER_DOMAIN: z.string().default('cluster.local'),

  /**
   * Function Compute invocation API used by `eci-bridge invoke` and any function-to-function call:
   * `fc3` (FC 3.0, API 2023-03-30, first-level functions; the default) or `fc2` (FC 2.0, API 2016-08-15,
   * services/functions, for legacy service deployments). `local` runs the handler modules in-process (sandbox).
   */
  FC_API: z.enum(['fc3', 'fc2', 'local']).default('fc3'),
  /** URL or host of the FC API; default https://<account>.<region>.fc.aliyuncs.com (region = FC_REGION or ECI_REGION). */
  FC_ENDPOINT: z.string().optional(),
  /** Region of the functions; FC injects it into every function. Falls back to ECI_REGION. */
  FC_REGION: z.string().optional(),
  /** FC 2.0 only: the service holding the functions. */
  FC_SERVICE: z.string().default('eci-bridge'),

  /** pod-sync / status-sync / gc (the functions). */
  /** After this many failed attempts a pod gets an Event and condition ContainerInstanceCreated=False (retries go on). */
  SYNC_MAX_ATTEMPTS: z.coerce.number().int().positive().default(6),
  SYNC_RETRY_BASE_SECONDS: z.coerce.number().positive().default(2),
  SYNC_RETRY_MAX_SECONDS: z.coerce.number().positive().default(300),
  /** Base delay before retrying a pod all of whose capacity fallbacks (NoStock) failed. */
  SYNC_CAPACITY_RETRY_SECONDS: z.coerce.number().positive().default(60),
  /** A group whose pod is gone is deleted by gc only once it is older than this. */
  GC_ORPHAN_GRACE_SECONDS: z.coerce.number().min(0).default(120),
  /** A bound pod without a group for this long is re-nudged by gc (and an Event names a pod stuck on errors). */
  GC_STUCK_POD_SECONDS: z.coerce.number().positive().default(180),
  /** A pod whose recorded group vanished is Failed (ContainerGroupNotFound) once it is older than this. */
  LOST_GROUP_GRACE_SECONDS: z.coerce.number().positive().default(120),
  /**
   * The API server as ECI pods reach it (HOST:PORT), for KUBERNETES_SERVICE_HOST/PORT in containers. Unset (the
   * default): pod-sync reads the `kubernetes` Service and, when the group cannot reach ClusterIPs, its Endpoints.
   */
  KUBERNETES_SERVICE_ADDRESS: z.string().regex(/^[^:]+:\d+$/).optional(),
  /** The VPC routes the Service CIDR to the cluster, so ECI groups reach ClusterIPs without a kube-proxy inside. */
  CLUSTER_IP_ROUTED: z.stringbool().default(false),
  /**
   * kube-proxy inside each group (docs/networking.md): the image (your registry's copy of the upstream kube-proxy
   * matching the cluster's version); unset = no kube-proxy. KUBE_PROXY_DEFAULT: on for pods without the
   * k8s.aliyun.com/eci-kube-proxy-enabled annotation.
   */
  KUBE_PROXY_IMAGE: z.string().min(1).optional(),
  KUBE_PROXY_DEFAULT: z.stringbool().default(true),
  KUBE_PROXY_CPU: z.coerce.number().positive().max(4).default(0.25),
  KUBE_PROXY_MEMORY_GIB: z.coerce.number().positive().max(8).default(0.25),
  /** Its ServiceAccount in BRIDGE_NAMESPACE (deploy/kube-proxy-rbac.yaml: bound to system:node-proxier). */
  KUBE_PROXY_SERVICE_ACCOUNT: z.string().min(1).default('eci-bridge-kube-proxy'),
  /** Lifetime of its token (fixed in the group at create time): at least the longest-running ECI pod. */
  KUBE_PROXY_TOKEN_SECONDS: z.coerce.number().int().min(600).default(30 * 86400),
  /** The cluster's pod CIDR (kube-proxy --cluster-cidr), optional. */
  KUBE_PROXY_CLUSTER_CIDR: z.string().optional(),

  /** eci-profile webhooks, served by the watcher (both replicas) over TLS. */
  WEBHOOK_ENABLED: z.stringbool().default(false),
  WEBHOOK_PORT: z.coerce.number().int().min(0).max(65535).default(9443),
  /** A mounted TLS Secret (tls.crt, tls.key, ca.crt), e.g. from cert-manager; unset: generated and shared via WEBHOOK_TLS_SECRET. */
  WEBHOOK_TLS_DIR: z.string().optional(),
  WEBHOOK_TLS_SECRET: z.string().default('eci-bridge-webhook-tls'),
  /** The Service in front of the watcher's webhook port (the generated certificate names it). */
  WEBHOOK_SERVICE: z.string().default('eci-bridge-webhook'),
  /** Name of the Mutating- and ValidatingWebhookConfiguration whose caBundle the watcher keeps current. */
  WEBHOOK_CONFIG_NAME: z.string().default('eci-bridge'),
  WEBHOOK_EXCLUDED_NAMESPACES: csv.default([]),
  PROFILE_CONFIGMAP: z.string().default('eci-profile'),
  PROFILE_RELOAD_SECONDS: z.coerce.number().positive().default(5),

  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  /** Watcher: the virtual node (labels and taint as `k=v,k2=v2` and `key=value:Effect`, or `none`). */
  VNODE_LABELS: z.string().default(''),
  /**
   * Cost tags of the virtual node (`key=value,...`): shown on the node (annotation `eci-bridge.io/vnode-tags`),
   * put on every container group it creates, and used by the billing reports and `cost --by tag:<key>`.
   */
  VNODE_TAGS: VnodeTagsSchema.default([]),
  VNODE_TAINT: z.string().default('virtual-kubelet.io/provider=alibabacloud:NoSchedule'),
  VNODE_CPU: z.string().default('1000'),
  VNODE_MEMORY: z.string().default('4Ti'),
  VNODE_PODS: z.string().default('1000'),
  VNODE_EPHEMERAL_STORAGE: z.string().default('40Ti'),
  VNODE_GPU: z.string().default('100'),
  VNODE_ARCH: z.string().default('amd64'),
  KUBELET_PORT: z.coerce.number().int().min(1).max(65535).default(10250),
  /** The IP the node publishes (InternalIP) for the apiserver to reach the kubelet API; default POD_IP. */
  KUBELET_ADDRESS: z.union([z.ipv4(), z.ipv6()]).optional(),
  /** Serve the kubelet API (logs, exec, metrics) over HTTPS on KUBELET_PORT (docs/kubelet-api.md). */
  KUBELET_ENABLED: z.stringbool().default(false),
  KUBELET_HOST: z.string().default('0.0.0.0'),
  /**
   * The serving certificate: `csr` requests a kubernetes.io/kubelet-serving certificate from the cluster (an admin
   * or an approver approves it) and falls back to `self-signed` after KUBELET_CSR_WAIT_SECONDS; `self-signed`
   * generates one (the apiserver does not verify kubelet certificates by default; metrics-server then needs
   * --kubelet-insecure-tls); KUBELET_TLS_DIR (tls.crt, tls.key) wins over both.
   */
  KUBELET_SERVING_CERT: z.enum(['csr', 'self-signed']).default('self-signed'),
  KUBELET_CSR_WAIT_SECONDS: z.coerce.number().min(0).default(30),
  KUBELET_TLS_DIR: z.string().optional(),
  /** CA (PEM or a file) of the client certificates accepted (the apiserver's --kubelet-client-certificate); default the service-account CA. */
  KUBELET_CLIENT_CA: z.string().optional(),
  /** This replica's share of ECI's DescribeContainerLog quota (500/min per account, shared with everything else). */
  KUBELET_LOG_CALLS_PER_MINUTE: z.coerce.number().int().positive().max(500).default(300),
  /** Log archives of finished pods: per container (gzip) and in total for the node; 0 turns archiving off. */
  KUBELET_LOG_ARCHIVE_BYTES: z.coerce.number().int().min(0).default(256 * 1024),
  KUBELET_LOG_ARCHIVE_TOTAL_BYTES: z.coerce.number().int().min(0).default(64 * 1024 * 1024),
  /** Their own namespace: the watcher's ConfigMap rights there touch nothing else (eci-profile stays read-only). */
  KUBELET_LOG_ARCHIVE_NAMESPACE: z.string().min(1).default('eci-bridge-logs'),
  /** How long one DescribeMultiContainerGroupMetric snapshot serves /metrics/resource and /stats/summary. */
  KUBELET_METRICS_TTL_SECONDS: z.coerce.number().positive().default(15),
  /** The watcher pod's own IP and name (downward API); POD_NAME is the leader-election identity. */
  POD_IP: z.string().optional(),
  POD_NAME: z.string().optional(),
  WATCHER_HTTP_HOST: z.string().default('0.0.0.0'),
  WATCHER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Periodic resync of stale pods / pods without a group. */
  RESYNC_SECONDS: z.coerce.number().positive().default(300),
  /** Status clock period, and how long a pod may keep changing before only resync and status-sync cover it. */
  STATUS_TICK_MS: z.coerce.number().int().positive().default(1000),
  STATUS_TICK_MAX_AGE_SECONDS: z.coerce.number().positive().default(600),
  /**
   * While the node has steady pods (Running and Ready), a "steady" tick every this many seconds asks ECI once
   * (DescribeContainerGroupStatus, SinceSecond, cluster + node tags) which groups changed, so a finished Job or a
   * reclaimed spot instance shows within seconds instead of at the minutely sweep. One call per period in all,
   * not per pod. 0 turns it off.
   */
  STATUS_STEADY_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  /**
   * The steady tick's period while a steady pod can finish (restartPolicy Never or OnFailure: Jobs), so its
   * completion shows within about 2 s: still one DescribeContainerGroupStatus call per period for the whole node.
   * 0 keeps STATUS_STEADY_SECONDS for those pods too.
   */
  STATUS_FINISHING_SECONDS: z.coerce.number().int().min(0).max(3600).default(1),
  /** Per-pod coalescing window for nudges. */
  NUDGE_COALESCE_MS: z.coerce.number().int().min(0).default(50),
  SEND_BUFFER_MAX: z.coerce.number().int().positive().default(10000),
  NODE_LEASE_RENEW_SECONDS: z.coerce.number().positive().default(10),
  NODE_LEASE_DURATION_SECONDS: z.coerce.number().int().positive().default(40),
  NODE_STATUS_SECONDS: z.coerce.number().positive().default(60),
  LEADER_ELECTION: z.stringbool().default(true),
  LEADER_LEASE_SECONDS: z.coerce.number().int().positive().default(10),
  LEADER_RETRY_SECONDS: z.coerce.number().positive().default(2),
  /** Health rule: the functions' heartbeat is stale after this long; this many consecutive ECI failures is unhealthy. */
  HEALTH_STALE_SECONDS: z.coerce.number().positive().default(180),
  HEALTH_ECI_FAILURES: z.coerce.number().int().positive().default(3),
  /** Billing: price tables as JSON (shared/domain/prices.ts PriceTableSchema[]; default: the list prices). */
  BILLING_PRICE_TABLES: z.string().optional(),
  /** Pod labels copied into cost tags (key = label name). */
  BILLING_TEAM_LABELS: csv.default([]),
  /** Over-budget namespaces: refuse new virtual-node pods, only warn, or do nothing. */
  BILLING_BUDGET_ENFORCEMENT: z.enum(['refuse', 'warn', 'off']).default('refuse'),
  /**
   * Show the ECI-VNode comparison in reports: what ECI's own virtual node (a resident 2 vCPU / 8 GiB instance) would
   * cost for the same time. A comparison, never counted in a total: eci-bridge's virtual node is not billed so.
   */
  BILLING_VNODE_CHARGE: z.stringbool().default(true),
  /** Reconciliation (docs/billing-reconciliation.md): the BSS OpenAPI endpoint (host[:port]; default by site from ECI_REGION). */
  BSS_ENDPOINT: z.string().optional(),
  BSS_PROTOCOL: z.enum(['https', 'http']).default('https'),
  /** The bill's time zone, hours east of UTC (Alibaba Cloud bills in China Standard Time, UTC+8). */
  BILLING_DAY_UTC_OFFSET_HOURS: z.coerce.number().int().min(-12).max(14).default(8),
  /** A billing day is reconciled once it ended this many hours ago (the daily bill lags the usage by about a day). */
  BILLING_SETTLE_HOURS: z.coerce.number().min(0).max(24 * 14).default(24),
  /** The hourly estimator uses the instance-type prices and the spot ratio learned from the bill. */
  BILLING_LEARNED_PRICES: z.stringbool().default(false),
  /**
   * The cost model the reconciliation predicts the bridge's own FC + MNS cost with, as JSON (shared/domain/bridge-cost.ts
   * BridgeModelSchema; any field left out keeps the burst bench's measurement). Default: the measured model.
   */
  BILLING_BRIDGE_MODEL: z.string().optional(),
});

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Parses an environment-like record; throws ConfigError listing every bad variable at once. */
/** `{{NAME}}`: a placeholder in deploy/ (configmap.yaml, the RAM policies) that must be replaced before use. */
export const PLACEHOLDER_RE = /\{\{[A-Z_]+\}\}/;

export function parseConfig(env: Record<string, string | undefined>): Config {
  const left = Object.keys(ConfigSchema.shape).filter((k) => PLACEHOLDER_RE.test(env[k] ?? ''));
  if (left.length > 0) {
    throw new ConfigError(
      `invalid configuration: placeholder left in ${left.map((k) => `${k}=${env[k]}`).join(', ')}: set the real value (deploy/configmap.yaml, docs/deploy.md)`,
    );
  }
  const res = ConfigSchema.safeParse(env);
  if (!res.success) {
    throw new ConfigError(`invalid configuration:\n${z.prettifyError(res.error)}`, { cause: res.error });
  }
  return res.data;
}

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}
