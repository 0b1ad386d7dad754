/**
 * The virtual Node as pure data: labels, taints, capacity, conditions, and the health rule.
 *
 * The health rule ("honest health without blast radius"): when the functions stop reporting or ECI calls keep
 * failing, the node says so with the condition `BridgeHealthy=False` and the taint
 * `eci-bridge.io/unhealthy:NoSchedule`, so the scheduler stops sending new pods. `Ready` stays True as long as
 * the watcher renews the node lease: a NotReady node would be tainted `unreachable:NoExecute` by the node
 * lifecycle controller and every running ECI pod, healthy in the cloud, would be evicted after 300 s.
 */
import type { Config } from '../shared/domain/config.js';
import type { FunctionsHeartbeat } from '../shared/domain/heartbeat.js';
import type { Node, NodeCondition } from '../shared/domain/k8s.js';

export const HEALTH_CONDITION = 'BridgeHealthy';
export const HEALTH_TAINT_KEY = 'eci-bridge.io/unhealthy';

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** `k=v,k2=v2` → record (empty entries ignored). */
export function parseLabels(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`VNODE_LABELS entry "${item}" is not key=value`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

/** `key=value:Effect`, `key:Effect`, or `none`/empty for no taint. */
export function parseTaint(spec: string): Taint | undefined {
  const s = spec.trim();
  if (s === '' || s === 'none') return undefined;
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(s);
  if (!m?.[1]) throw new Error(`VNODE_TAINT "${spec}" is not key=value:Effect`);
  return m[2] === undefined ? { key: m[1], effect: m[3] ?? 'NoSchedule' } : { key: m[1], value: m[2], effect: m[3] ?? 'NoSchedule' };
}

/** MicroTime as the apiserver wants it: RFC 3339 with exactly 6 fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** RFC 3339 without fractions (metav1.Time). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type NodeConfig = Pick<
  Config,
  | 'VNODE_NAME'
  | 'VNODE_LABELS'
  | 'VNODE_TAGS'
  | 'VNODE_TAINT'
  | 'VNODE_CPU'
  | 'VNODE_MEMORY'
  | 'VNODE_PODS'
  | 'VNODE_EPHEMERAL_STORAGE'
  | 'VNODE_GPU'
  | 'VNODE_ARCH'
  | 'KUBELET_PORT'
  | 'POD_IP'
>;

/**
 * The node's labels: VNODE_LABELS first, then the fixed labels, which always win — the scheduler's nodeSelector
 * (`k8s.aliyun.com/vnode=true`) and the watcher's own anti-affinity (deploy/watcher.yaml: `type`,
 * `k8s.aliyun.com/vnode`, `kubernetes.io/hostname`) rely on them.
 */
export function nodeLabels(cfg: NodeConfig): Record<string, string> {
  return {
    ...parseLabels(cfg.VNODE_LABELS),
    type: 'virtual-kubelet',
    'kubernetes.io/role': 'agent',
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': cfg.VNODE_ARCH,
    'kubernetes.io/hostname': cfg.VNODE_NAME,
    'k8s.aliyun.com/vnode': 'true',
  };
}

/** The node annotation showing its cost tags (VNODE_TAGS) as a JSON object. */
export const ANNOTATION_VNODE_TAGS = 'eci-bridge.io/vnode-tags';

/**
 * The node's annotations: who manages it, and its cost tags (VNODE_TAGS, also on every group it creates) as a JSON
 * object (`{}` without tags, so a patch also clears tags removed from the configuration).
 */
export function nodeAnnotations(cfg: NodeConfig): Record<string, string> {
  const tags = JSON.stringify(Object.fromEntries(cfg.VNODE_TAGS.map((t) => [t.Key, t.Value])));
  return { 'eci-bridge.io/managed-by': 'eci-bridge-watcher', [ANNOTATION_VNODE_TAGS]: tags };
}

export interface Health {
  healthy: boolean;
  reason: string;
  message: string;
}

/**
 * The node's taints: the configured one, plus the health taint while unhealthy. Taints owned by others
 * (anything whose key is neither ours nor the configured one) are kept as they are.
 */
export function nodeTaints(cfg: NodeConfig, health: Health, existing: readonly Taint[] = []): Taint[] {
  const configured = parseTaint(cfg.VNODE_TAINT);
  const ours = new Set([HEALTH_TAINT_KEY, ...(configured ? [configured.key] : [])]);
  const out: Taint[] = existing.filter((t) => !ours.has(t.key)).map((t) => ({ key: t.key, value: t.value, effect: t.effect }));
  if (configured) out.push(configured);
  if (!health.healthy) out.push({ key: HEALTH_TAINT_KEY, value: health.reason, effect: 'NoSchedule' });
  return out;
}

export function nodeCapacity(cfg: NodeConfig): Record<string, string> {
  return {
    cpu: cfg.VNODE_CPU,
    memory: cfg.VNODE_MEMORY,
    pods: cfg.VNODE_PODS,
    'ephemeral-storage': cfg.VNODE_EPHEMERAL_STORAGE,
    'nvidia.com/gpu': cfg.VNODE_GPU,
  };
}

/** The conditions, keeping lastTransitionTime from `previous` when a status did not change. */
export function nodeConditions(health: Health, nowMs: number, previous: readonly NodeCondition[] = []): NodeCondition[] {
  const now = rfc3339(nowMs);
  const want: Omit<NodeCondition, 'lastHeartbeatTime' | 'lastTransitionTime'>[] = [
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'eci-bridge watcher is renewing the node lease' },
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'ECI has no node memory' },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'ECI has no node disk' },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'ECI has no node PIDs' },
    { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'ECI pods use the VPC network' },
    { type: HEALTH_CONDITION, status: health.healthy ? 'True' : 'False', reason: health.reason, message: health.message },
  ];
  return want.map((c) => {
    const prev = previous.find((p) => p.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    return { ...c, lastHeartbeatTime: now, lastTransitionTime };
  });
}

export function nodeStatus(
  cfg: NodeConfig,
  health: Health,
  nowMs: number,
  previous: readonly NodeCondition[] = [],
  version = 'v1.20.0-eci-bridge',
): NonNullable<Node['status']> {
  const capacity = nodeCapacity(cfg);
  const addresses: { type: string; address: string }[] = [];
  if (cfg.POD_IP) addresses.push({ type: 'InternalIP', address: cfg.POD_IP });
  addresses.push({ type: 'Hostname', address: cfg.VNODE_NAME });
  return {
    capacity,
    allocatable: { ...capacity },
    conditions: nodeConditions(health, nowMs, previous),
    addresses,
    daemonEndpoints: { kubeletEndpoint: { Port: cfg.KUBELET_PORT } },
    nodeInfo: {
      architecture: cfg.VNODE_ARCH,
      operatingSystem: 'linux',
      kubeletVersion: version,
      kubeProxyVersion: version,
      containerRuntimeVersion: 'eci://alibabacloud',
      osImage: 'Alibaba Cloud Elastic Container Instance',
      kernelVersion: '',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  };
}

/** The Node to create when it does not exist yet (status is patched separately: create ignores most of it). */
export function buildNode(cfg: NodeConfig, health: Health, nowMs: number): Node {
  return {
    metadata: {
      name: cfg.VNODE_NAME,
      labels: nodeLabels(cfg),
      annotations: nodeAnnotations(cfg),
    },
    spec: { taints: nodeTaints(cfg, health) },
    status: nodeStatus(cfg, health, nowMs),
  };
}

// ---------------------------------------------------------------- health rule

export interface HealthThresholds {
  /** the heartbeat's last successful run may be at most this old */
  staleSeconds: number;
  /** this many ECI-failing runs in a row make the bridge unhealthy */
  eciFailures: number;
}

/**
 * The health rule, over the functions heartbeat (shared/domain/heartbeat.ts: Lease `eci-bridge-functions`).
 * `heartbeat` is undefined when the Lease does not exist (yet). A missing heartbeat counts as stale only once
 * the watcher has been up for longer than the stale threshold, so a fresh install is not tainted before the
 * functions' first timer run.
 */
export function evaluateHealth(
  heartbeat: FunctionsHeartbeat | undefined,
  nowMs: number,
  startedAtMs: number,
  t: HealthThresholds,
): Health {
  const staleMs = t.staleSeconds * 1000;
  const last = heartbeat?.lastSuccess ? Date.parse(heartbeat.lastSuccess) : Number.NaN;
  if (!Number.isFinite(last)) {
    if (nowMs - startedAtMs <= staleMs) return { healthy: true, reason: 'AwaitingFunctions', message: 'no successful function run reported yet' };
    return { healthy: false, reason: 'FunctionsNotReporting', message: `no successful function run reported in ${t.staleSeconds}s` };
  }
  const age = nowMs - last;
  if (age > staleMs) {
    return { healthy: false, reason: 'FunctionsNotReporting', message: `last successful function run ${Math.round(age / 1000)}s ago` };
  }
  if (heartbeat && heartbeat.consecutiveEciFailures >= t.eciFailures) {
    const lastErr = heartbeat.lastEciError ? ` (last: ${heartbeat.lastEciError.slice(0, 120)})` : '';
    return {
      healthy: false,
      reason: 'EciCallsFailing',
      message: `ECI calls failed in ${heartbeat.consecutiveEciFailures} function runs in a row${lastErr}`,
    };
  }
  return { healthy: true, reason: 'FunctionsReporting', message: 'functions report and ECI calls succeed' };
}
