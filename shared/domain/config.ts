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
  CLUSTER_NAME: z.string().min(1).max(64).default('default-cluster').describe("Identity of this bridge: every container group is tagged with it (the same value in the functions, the watcher and the RAM policy's cluster tag)."),
  VNODE_NAME: z.string().min(1).max(63).default('eci-bridge-vnode').describe("Name of the virtual node; every container group is tagged with it."),
  BRIDGE_NAMESPACE: z.string().min(1).default('eci-bridge').describe("Namespace of the watcher, its Leases, the functions' heartbeat and the cost reports."),

  /** ECI */
  ECI_REGION: z.string().min(1).default('cn-hangzhou').describe("ECI region."),
  /** host[:port] without scheme; default: eci-vpc.<region>.aliyuncs.com */
  ECI_ENDPOINT: z.string().optional().describe("ECI endpoint host[:port] without scheme; default eci-vpc.<region>.aliyuncs.com (127.0.0.1:PORT for the emulator)."),
  ECI_PROTOCOL: z.enum(['https', 'http']).default('https').describe("https, or http for the emulator."),
  ECI_VSWITCH_IDS: csv.default([]).describe("vSwitches of the container groups, comma-separated (several = multi-zone)."),
  ECI_SECURITY_GROUP_ID: z.string().optional().describe("Security group of the container groups."),
  ECI_ZONE_ID: z.string().optional().describe("Zone of the container groups, when fixed."),
  /** Client-side rate limits, defaulting to ECI's published quotas. */
  ECI_CREATE_PER_SECOND: z.coerce.number().positive().default(ECI_API_QUOTAS.CreateContainerGroup.perSecond).describe("Client-side token bucket for CreateContainerGroup: rate (ECI's published quota)."),
  ECI_CREATE_BURST: z.coerce.number().int().positive().default(ECI_API_QUOTAS.CreateContainerGroup.burst).describe("Client-side token bucket for CreateContainerGroup: burst."),

  /** Credentials (static keys or STS). FC injects these from the function role. */
  ALIBABA_CLOUD_ACCESS_KEY_ID: z.string().optional().describe("Access key id (FC passes the function role's STS keys per invocation); never logged."),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: z.string().optional().describe("Access key secret; never logged."),
  ALIBABA_CLOUD_SECURITY_TOKEN: z.string().optional().describe("STS security token, with temporary keys; never logged."),
  ALIBABA_CLOUD_ACCOUNT_ID: z.string().optional().describe("Account id (the MNS and FC endpoints name it)."),

  /** Queue */
  QUEUE_KIND: z.enum(['mns', 'embedded']).default('mns').describe("mns (the cloud) or embedded (in-process, npm start)."),
  MNS_ENDPOINT: z.string().optional().describe("MNS endpoint; default the VPC endpoint of the account and region."),
  MNS_QUEUE: z.string().default('eci-bridge-pods').describe("The pod queue."),
  MNS_DEAD_LETTER_QUEUE: z.string().default('eci-bridge-pods-dlq').describe("The dead-letter queue (malformed messages, with their reason)."),

  /** Kubernetes: kubeconfig, in-cluster, or explicit server + token + CA (the functions). */
  KUBECONFIG: z.string().optional().describe("Kubeconfig file (the watcher and the CLI); in-cluster configuration when unset."),
  KUBE_API_SERVER: z.string().url().optional().describe("API server URL for the functions' built-in client (with KUBE_TOKEN and KUBE_CA)."),
  KUBE_TOKEN: z.string().optional().describe("ServiceAccount token of the functions; never logged."),
  /** PEM, or base64 of PEM */
  KUBE_CA: z.string().optional().describe("CA of the API server (PEM, or base64 of PEM)."),

  /** Cluster DNS for ECI pods (dnsPolicy ClusterFirst). */
  CLUSTER_DNS: z.string().default('10.96.0.10').describe("Cluster DNS server for ECI pods with dnsPolicy ClusterFirst."),
  CLUSTER_DOMAIN: z.string().default('cluster.local').describe("Cluster domain for the DNS search list."),

  /**
   * Function Compute invocation API used by `eci-bridge invoke` and any function-to-function call:
   * `fc3` (FC 3.0, API 2023-03-30, first-level functions; the default) or `fc2` (FC 2.0, API 2016-08-15,
   * services/functions, for legacy service deployments). `local` runs the handler modules in-process (sandbox).
   */
  FC_API: z.enum(['fc3', 'fc2', 'local']).default('fc3').describe("FC API for invoke/replay: fc3 (FC 3.0), fc2 (FC 2.0 services, legacy) or local (handlers in-process)."),
  /** URL or host of the FC API; default https://<account>.<region>.fc.aliyuncs.com (region = FC_REGION or ECI_REGION). */
  FC_ENDPOINT: z.string().optional().describe("URL or host of the FC API; default https://<account>.<region>.fc.aliyuncs.com."),
  /** Region of the functions; FC injects it into every function. Falls back to ECI_REGION. */
  FC_REGION: z.string().optional().describe("Region of the functions (FC injects it); falls back to ECI_REGION."),
  /** FC 2.0 only: the service holding the functions. */
  FC_SERVICE: z.string().default('eci-bridge').describe("FC 2.0 only: the service holding the functions."),

  /** pod-sync / status-sync / gc (the functions). */
  /** After this many failed attempts a pod gets an Event and condition ContainerInstanceCreated=False (retries go on). */
  SYNC_MAX_ATTEMPTS: z.coerce.number().int().positive().default(6).describe("After this many failed attempts a pod gets an Event and condition ContainerInstanceCreated=False (retries go on)."),
  SYNC_RETRY_BASE_SECONDS: z.coerce.number().positive().default(2).describe("Base delay of a re-nudge after a retryable failure (exponential, with jitter)."),
  SYNC_RETRY_MAX_SECONDS: z.coerce.number().positive().default(300).describe("Longest delay of a re-nudge."),
  /** Base delay before retrying a pod all of whose capacity fallbacks (NoStock) failed. */
  SYNC_CAPACITY_RETRY_SECONDS: z.coerce.number().positive().default(60).describe("Base delay before retrying a pod all of whose capacity fallbacks (NoStock) failed."),
  /** A group whose pod is gone is deleted by gc only once it is older than this. */
  GC_ORPHAN_GRACE_SECONDS: z.coerce.number().min(0).default(120).describe("gc deletes a group whose pod is gone only once it is older than this."),
  /** A bound pod without a group for this long is re-nudged by gc (and an Event names a pod stuck on errors). */
  GC_STUCK_POD_SECONDS: z.coerce.number().positive().default(180).describe("A bound pod without a group for this long is re-nudged by gc (at most once per period) and gets a StuckOnErrors Event."),
  /** A pod whose recorded group vanished is Failed (ContainerGroupNotFound) once it is older than this. */
  LOST_GROUP_GRACE_SECONDS: z.coerce.number().positive().default(120).describe("A pod whose recorded group vanished is Failed (ContainerGroupNotFound) once it is older than this."),
  /**
   * The API server as ECI pods reach it (HOST:PORT), for KUBERNETES_SERVICE_HOST/PORT in containers. Unset (the
   * default): pod-sync reads the `kubernetes` Service and, when the group cannot reach ClusterIPs, its Endpoints.
   */
  KUBERNETES_SERVICE_ADDRESS: z.string().regex(/^[^:]+:\d+$/).optional().describe("The API server as ECI pods reach it (HOST:PORT); unset: pod-sync reads the kubernetes Service (or its Endpoints when groups cannot reach ClusterIPs)."),
  /** The VPC routes the Service CIDR to the cluster, so ECI groups reach ClusterIPs without a kube-proxy inside. */
  CLUSTER_IP_ROUTED: z.stringbool().default(false).describe("The VPC routes the Service CIDR, so groups reach ClusterIPs without a kube-proxy inside (docs/networking.md)."),
  /**
   * kube-proxy inside each group (docs/networking.md): the image (your registry's copy of the upstream kube-proxy
   * matching the cluster's version); unset = no kube-proxy. KUBE_PROXY_DEFAULT: on for pods without the
   * k8s.aliyun.com/eci-kube-proxy-enabled annotation.
   */
  KUBE_PROXY_IMAGE: z.string().min(1).optional().describe("Image of the kube-proxy sidecar (your registry's copy of the cluster's kube-proxy); unset: no sidecar."),
  KUBE_PROXY_DEFAULT: z.stringbool().default(true).describe("Add kube-proxy to pods without the k8s.aliyun.com/eci-kube-proxy-enabled annotation."),
  KUBE_PROXY_CPU: z.coerce.number().positive().max(4).default(0.25).describe("vCPU of the kube-proxy sidecar."),
  KUBE_PROXY_MEMORY_GIB: z.coerce.number().positive().max(8).default(0.25).describe("Memory (GiB) of the kube-proxy sidecar."),
  /** Its ServiceAccount in BRIDGE_NAMESPACE (deploy/kube-proxy-rbac.yaml: bound to system:node-proxier). */
  KUBE_PROXY_SERVICE_ACCOUNT: z.string().min(1).default('eci-bridge-kube-proxy').describe("ServiceAccount of the kube-proxy sidecar in BRIDGE_NAMESPACE (deploy/kube-proxy-rbac.yaml)."),
  /** Lifetime of its token (fixed in the group at create time): at least the longest-running ECI pod. */
  KUBE_PROXY_TOKEN_SECONDS: z.coerce.number().int().min(600).default(30 * 86400).describe("Lifetime of the sidecar's token (fixed at create time): at least the longest-running ECI pod."),
  /** The cluster's pod CIDR (kube-proxy --cluster-cidr), optional. */
  KUBE_PROXY_CLUSTER_CIDR: z.string().optional().describe("The cluster's pod CIDR (kube-proxy --cluster-cidr)."),

  /** eci-profile webhooks, served by the watcher (both replicas) over TLS. */
  WEBHOOK_ENABLED: z.stringbool().default(false).describe("Serve the eci-profile admission webhooks (true in deploy/)."),
  WEBHOOK_PORT: z.coerce.number().int().min(0).max(65535).default(9443).describe("Port of the webhooks."),
  /** A mounted TLS Secret (tls.crt, tls.key, ca.crt), e.g. from cert-manager; unset: generated and shared via WEBHOOK_TLS_SECRET. */
  WEBHOOK_TLS_DIR: z.string().optional().describe("A mounted TLS Secret (tls.crt, tls.key, ca.crt), e.g. from cert-manager; unset: generated and shared via WEBHOOK_TLS_SECRET."),
  WEBHOOK_TLS_SECRET: z.string().default('eci-bridge-webhook-tls').describe("Secret holding the generated webhook certificate, shared by every replica."),
  /** The Service in front of the watcher's webhook port (the generated certificate names it). */
  WEBHOOK_SERVICE: z.string().default('eci-bridge-webhook').describe("Service in front of the webhook port (the generated certificate names it)."),
  /** Name of the Mutating- and ValidatingWebhookConfiguration whose caBundle the watcher keeps current. */
  WEBHOOK_CONFIG_NAME: z.string().default('eci-bridge').describe("Name of the Mutating- and ValidatingWebhookConfiguration whose caBundle the watcher keeps current."),
  WEBHOOK_EXCLUDED_NAMESPACES: csv.default([]).describe("Namespaces the webhooks never touch, besides kube-system and the bridge namespace."),
  PROFILE_CONFIGMAP: z.string().default('eci-profile').describe("The eci-profile ConfigMap (deploy/profile.yaml)."),
  PROFILE_RELOAD_SECONDS: z.coerce.number().positive().default(5).describe("How often the profile is reloaded."),

  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe("pino log level; secrets are never logged."),

  /** Watcher: the virtual node (labels and taint as `k=v,k2=v2` and `key=value:Effect`, or `none`). */
  VNODE_LABELS: z.string().default('').describe("Extra node labels, k=v,k2=v2 (cannot change the bridge's own)."),
  /**
   * Cost tags of the virtual node (`key=value,...`): shown on the node (annotation `eci-bridge.io/vnode-tags`),
   * put on every container group it creates, and used by the billing reports and `cost --by tag:<key>`.
   */
  VNODE_TAGS: VnodeTagsSchema.default([]).describe("Cost tags key=value,...: on the node (annotation eci-bridge.io/vnode-tags), on every group, and in the billing reports."),
  VNODE_TAINT: z.string().default('virtual-kubelet.io/provider=alibabacloud:NoSchedule').describe("Taint of the virtual node, key=value:Effect, or none."),
  VNODE_CPU: z.string().default('1000').describe("Node capacity: cpu."),
  VNODE_MEMORY: z.string().default('4Ti').describe("Node capacity: memory."),
  VNODE_PODS: z.string().default('1000').describe("Node capacity: pods."),
  VNODE_EPHEMERAL_STORAGE: z.string().default('40Ti').describe("Node capacity: ephemeral-storage."),
  VNODE_GPU: z.string().default('100').describe("Node capacity: nvidia.com/gpu."),
  VNODE_ARCH: z.string().default('amd64').describe("The node's kubernetes.io/arch label."),
  KUBELET_PORT: z.coerce.number().int().min(1).max(65535).default(10250).describe("Port of the kubelet API."),
  /** The IP the node publishes (InternalIP) for the apiserver to reach the kubelet API; default POD_IP. */
  KUBELET_ADDRESS: z.union([z.ipv4(), z.ipv6()]).optional().describe("The IP the node publishes (InternalIP) for the apiserver to reach the kubelet API; default POD_IP."),
  /** Serve the kubelet API (logs, exec, metrics) over HTTPS on KUBELET_PORT (docs/kubelet-api.md). */
  KUBELET_ENABLED: z.stringbool().default(false).describe("Serve the kubelet API (logs, exec, metrics) over HTTPS on KUBELET_PORT (docs/kubelet-api.md)."),
  KUBELET_HOST: z.string().default('0.0.0.0').describe("Listen address of the kubelet API."),
  /**
   * The serving certificate: `csr` requests a kubernetes.io/kubelet-serving certificate from the cluster (an admin
   * or an approver approves it) and falls back to `self-signed` after KUBELET_CSR_WAIT_SECONDS; `self-signed`
   * generates one (the apiserver does not verify kubelet certificates by default; metrics-server then needs
   * --kubelet-insecure-tls); KUBELET_TLS_DIR (tls.crt, tls.key) wins over both.
   */
  KUBELET_SERVING_CERT: z.enum(['csr', 'self-signed']).default('self-signed').describe("csr (a kubernetes.io/kubelet-serving certificate, falling back to self-signed after KUBELET_CSR_WAIT_SECONDS) or self-signed."),
  KUBELET_CSR_WAIT_SECONDS: z.coerce.number().min(0).default(30).describe("How long to wait for the serving CSR to be approved."),
  KUBELET_TLS_DIR: z.string().optional().describe("A mounted serving certificate (tls.crt, tls.key); wins over KUBELET_SERVING_CERT."),
  /** CA (PEM or a file) of the client certificates accepted (the apiserver's --kubelet-client-certificate); default the service-account CA. */
  KUBELET_CLIENT_CA: z.string().optional().describe("CA (PEM or a file) of the accepted client certificates; default the service-account CA."),
  /** This replica's share of ECI's DescribeContainerLog quota (500/min per account, shared with everything else). */
  KUBELET_LOG_CALLS_PER_MINUTE: z.coerce.number().int().positive().max(500).default(300).describe("This replica's share of ECI's DescribeContainerLog quota (500/min per account)."),
  /** Log archives of finished pods: per container (gzip) and in total for the node; 0 turns archiving off. */
  KUBELET_LOG_ARCHIVE_BYTES: z.coerce.number().int().min(0).default(256 * 1024).describe("Log archive of a finished pod, per container (gzip); 0 turns archiving off."),
  KUBELET_LOG_ARCHIVE_TOTAL_BYTES: z.coerce.number().int().min(0).default(64 * 1024 * 1024).describe("Log archives in total for the node."),
  /** Their own namespace: the watcher's ConfigMap rights there touch nothing else (eci-profile stays read-only). */
  KUBELET_LOG_ARCHIVE_NAMESPACE: z.string().min(1).default('eci-bridge-logs').describe("Namespace of the log archives."),
  /** How long one DescribeMultiContainerGroupMetric snapshot serves /metrics/resource and /stats/summary. */
  KUBELET_METRICS_TTL_SECONDS: z.coerce.number().positive().default(15).describe("How long one metrics snapshot serves /metrics/resource and /stats/summary."),
  /** The watcher pod's own IP and name (downward API); POD_NAME is the leader-election identity. */
  POD_IP: z.string().optional().describe("The watcher pod's IP (downward API)."),
  POD_NAME: z.string().optional().describe("The watcher pod's name (downward API): its leader-election identity."),
  WATCHER_HTTP_HOST: z.string().default('0.0.0.0').describe("Listen address of /healthz, /readyz and /metrics."),
  WATCHER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe("Port of /healthz, /readyz and /metrics."),
  /** Periodic resync of stale pods / pods without a group. */
  RESYNC_SECONDS: z.coerce.number().positive().default(300).describe("Period of the watcher's resync of stale pods and pods without a group."),
  /** Status clock period, and how long a pod may keep changing before only resync and status-sync cover it. */
  STATUS_TICK_MS: z.coerce.number().int().positive().default(1000).describe("Status clock period while pods change."),
  STATUS_TICK_MAX_AGE_SECONDS: z.coerce.number().positive().default(600).describe("How long a pod may keep changing before only resync and status-sync cover it."),
  /**
   * While the node has steady pods (Running and Ready), a "steady" tick every this many seconds asks ECI once
   * (DescribeContainerGroupStatus, SinceSecond, cluster + node tags) which groups changed, so a finished Job or a
   * reclaimed spot instance shows within seconds instead of at the minutely sweep. One call per period in all,
   * not per pod. 0 turns it off.
   */
  STATUS_STEADY_SECONDS: z.coerce.number().int().min(0).max(3600).default(10).describe("Period of the steady tick (one DescribeContainerGroupStatus for the whole node) while pods are steady; 0 turns it off."),
  /**
   * The steady tick's period while a steady pod can finish (restartPolicy Never or OnFailure: Jobs), so its
   * completion shows within about 2 s: still one DescribeContainerGroupStatus call per period for the whole node.
   * 0 keeps STATUS_STEADY_SECONDS for those pods too.
   */
  STATUS_FINISHING_SECONDS: z.coerce.number().int().min(0).max(3600).default(1).describe("Period of the steady tick while a steady pod can finish (restartPolicy Never or OnFailure); 0 keeps STATUS_STEADY_SECONDS."),
  /** Per-pod coalescing window for nudges. */
  NUDGE_COALESCE_MS: z.coerce.number().int().min(0).default(50).describe("Per-pod coalescing window for nudges."),
  SEND_BUFFER_MAX: z.coerce.number().int().positive().default(10000).describe("Nudges the watcher buffers while the queue is down."),
  NODE_LEASE_RENEW_SECONDS: z.coerce.number().positive().default(10).describe("Renewal period of the node Lease in kube-node-lease."),
  NODE_LEASE_DURATION_SECONDS: z.coerce.number().int().positive().default(40).describe("Duration of the node Lease."),
  NODE_STATUS_SECONDS: z.coerce.number().positive().default(60).describe("Period of the node status patch."),
  LEADER_ELECTION: z.stringbool().default(true).describe("Elect one leader among the watcher replicas."),
  LEADER_LEASE_SECONDS: z.coerce.number().int().positive().default(10).describe("Duration of the leader Lease."),
  LEADER_RETRY_SECONDS: z.coerce.number().positive().default(2).describe("Retry period of leader election."),
  /** Health rule: the functions' heartbeat is stale after this long; this many consecutive ECI failures is unhealthy. */
  HEALTH_STALE_SECONDS: z.coerce.number().positive().default(180).describe("The functions' heartbeat is stale after this long (condition BridgeHealthy=False, taint eci-bridge.io/unhealthy)."),
  HEALTH_ECI_FAILURES: z.coerce.number().int().positive().default(3).describe("This many consecutive function runs with ECI failures make the bridge unhealthy."),
  /** Billing: price tables as JSON (shared/domain/prices.ts PriceTableSchema[]; default: the list prices). */
  BILLING_PRICE_TABLES: z.string().optional().describe("Price tables as JSON (shared/domain/prices.ts PriceTableSchema[]); default: the list prices."),
  /** Pod labels copied into cost tags (key = label name). */
  BILLING_TEAM_LABELS: csv.default([]).describe("Pod labels copied into cost tags (key = label name)."),
  /** Over-budget namespaces: refuse new virtual-node pods, only warn, or do nothing. */
  BILLING_BUDGET_ENFORCEMENT: z.enum(['refuse', 'warn', 'off']).default('refuse').describe("Over-budget namespaces: refuse new virtual-node pods, only warn, or do nothing."),
  /**
   * Show the ECI-VNode comparison in reports: what ECI's own virtual node (a resident 2 vCPU / 8 GiB instance) would
   * cost for the same time. A comparison, never counted in a total: eci-bridge's virtual node is not billed so.
   */
  BILLING_VNODE_CHARGE: z.stringbool().default(true).describe("Show the ECI-VNode comparison in reports (never counted in a total)."),
  /** Reconciliation (docs/billing-reconciliation.md): the BSS OpenAPI endpoint (host[:port]; default by site from ECI_REGION). */
  BSS_ENDPOINT: z.string().optional().describe("The BSS OpenAPI endpoint for reconciliation (host[:port]; default by site from ECI_REGION)."),
  BSS_PROTOCOL: z.enum(['https', 'http']).default('https').describe("https, or http for the emulator."),
  /** The bill's time zone, hours east of UTC (Alibaba Cloud bills in China Standard Time, UTC+8). */
  BILLING_DAY_UTC_OFFSET_HOURS: z.coerce.number().int().min(-12).max(14).default(8).describe("The bill's time zone, hours east of UTC."),
  /** A billing day is reconciled once it ended this many hours ago (the daily bill lags the usage by about a day). */
  BILLING_SETTLE_HOURS: z.coerce.number().min(0).max(24 * 14).default(24).describe("A billing day is reconciled once it ended this many hours ago."),
  /** The hourly estimator uses the instance-type prices and the spot ratio learned from the bill. */
  BILLING_LEARNED_PRICES: z.stringbool().default(false).describe("The hourly estimator uses the instance-type prices and the spot ratio learned from the bill."),
  /**
   * The cost model the reconciliation predicts the bridge's own FC + MNS cost with, as JSON (shared/domain/bridge-cost.ts
   * BridgeModelSchema; any field left out keeps the burst bench's measurement). Default: the measured model.
   */
  BILLING_BRIDGE_MODEL: z.string().optional().describe("JSON cost model for the bridge's own predicted FC + MNS cost in the reconciliation (fields left out keep the burst bench's measurement)."),
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
