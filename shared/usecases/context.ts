/**
 * What every use-case gets (ports, settings, the pure domain functions it needs) and the small helpers they share:
 * Events, guarded status writes (never backwards, never on terminal pods, only when something changed), delayed
 * re-nudges with an attempt counter, group lookups by UID tag.
 *
 * Over 400 lines: the one place every use-case takes its ports, settings and these shared helpers from; split, each
 * use-case would import several small modules for the same handful of helpers.
 */
import type { EciContainerGroup, EciCreateRequest, EciKeyValue } from '../domain/eci.js';
import type { Violation } from '../domain/errors.js';
import type { ConfigMap, K8sEvent, Pod, PodCondition, PodStatus, Secret } from '../domain/k8s.js';
import type { PodReferences } from '../domain/references.js';
import type { ServiceView } from '../domain/serviceEnv.js';
import { encodeMessage, type PodNudge } from '../domain/messages.js';
import { ANNOTATION_INSTANCE_ID, type Owner, TAG_CLUSTER, TAG_POD_UID, TAG_VNODE, tagValue } from '../domain/names.js';
import type { Clock, Cluster, ContainerGroups, Logger, QueueSender } from '../ports/index.js';
import { classify, describeError } from './errors.js';
import type { PodMemory } from './podMemory.js';

/**
 * Resolved inputs of a translation: the objects a pod references, read through the Cluster port. An object that
 * does not exist is simply absent (translation decides: optional → skipped, required → a transient violation).
 */
export interface ResolvedReferences {
  configMaps: Map<string, ConfigMap>;
  secrets: Map<string, Secret>;
  /** minted tokens keyed by `tokenKey` of shared/domain/references.ts */
  tokens: Map<string, string>;
  /** the cluster's Services for the kubelet's service env (shared/domain/serviceEnv.ts) */
  services?: ServiceView;
  /** the kube-proxy sidecar's token (an unbound TokenRequest of its ServiceAccount) */
  kubeProxyToken?: string;
}

/**
 * The pure domain functions the use-cases call, injected so the use-cases stay testable with any translation
 * (compose.ts wires the real ones from shared/domain).
 */
export interface SyncDomain {
  /** ConfigMaps, Secrets, image pull secrets and tokens the pod references (podReferences). */
  references(pod: Pod): PodReferences;
  /** The ServiceAccount whose token the pod's kube-proxy sidecar needs, if it gets one. */
  kubeProxyAccount?(pod: Pod): { namespace: string; name: string; expirationSeconds: number } | undefined;
  /** Violations that need no referenced object (hostPath, hostNetwork, ...): checked before anything is read. */
  validate(pod: Pod): Violation[];
  translate(
    pod: Pod,
    refs: ResolvedReferences,
  ): { ok: true; request: EciCreateRequest; warnings: { code: string; message: string }[] } | { ok: false; violations: Violation[] };
  /** ECI group → the pod status it implies. */
  toStatus(group: EciContainerGroup, pod: Pod, nowMs: number): PodStatus;
  /**
   * The status digest (shared/domain/statusDigest.ts) the pod would have once `group` is applied to a pod in
   * `phase`. Optional: without it, status ticks read every pod they name.
   */
  groupDigest?(group: EciContainerGroup, phase: string | undefined): string;
  /** Would patching `next` over `current` change anything a user sees? */
  differs(current: PodStatus | undefined, next: PodStatus): boolean;
  /**
   * ECI events of the group last seen after `sinceMs`, as the Kubernetes Events that mirror them on the pod,
   * oldest first: each with its deterministic name (the same ECI event always gets the same name), ECI's count
   * and timestamps.
   */
  events(group: EciContainerGroup, pod: Pod, sinceMs: number): K8sEvent[];
  /** Violation codes that a later retry can fix (a missing ConfigMap appears). */
  transient: ReadonlySet<string>;
}

export interface SyncSettings {
  clusterName: string;
  vnodeName: string;
  /** after this many attempts a retried pod gets an Event and a condition saying so (retries continue, capped) */
  maxAttempts: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  /** delay before retrying a pod all of whose capacity fallbacks failed */
  capacityRetrySeconds: number;
  /** a group younger than this is not an orphan (its pod may be being created) */
  orphanGraceSeconds: number;
  /** a bound pod without a group for longer than this is re-nudged by gc */
  stuckPodSeconds: number;
  /** a pod whose recorded group is missing for longer than this after its creation is Failed */
  lostGroupGraceSeconds: number;
  /** poll period while a deleted pod's group terminates */
  deletePollSeconds: number;
}

export const DEFAULT_SETTINGS: Omit<SyncSettings, 'clusterName' | 'vnodeName'> = {
  maxAttempts: 6,
  retryBaseSeconds: 2,
  retryMaxSeconds: 300,
  capacityRetrySeconds: 60,
  orphanGraceSeconds: 120,
  stuckPodSeconds: 180,
  lostGroupGraceSeconds: 120,
  deletePollSeconds: 3,
};

export interface UseCaseDeps {
  cluster: Cluster;
  eci: ContainerGroups;
  /** the pod queue, for delayed re-nudges */
  queue: QueueSender;
  clock: Clock;
  logger: Logger;
  settings: SyncSettings;
  domain: SyncDomain;
  /** what this process last learned of each pod (status ticks converge from it instead of reading; ./podMemory.ts) */
  memory?: PodMemory;
}

/**
 * Pods that are copies (a nudge's snapshot, PodMemory's) not yet proven current: the first write to such a pod is
 * conditional on its resourceVersion (a Conflict or NotFound means the copy was stale; the caller reads the pod).
 */
const copies = new WeakSet<Pod>();

/** Marks `pod` as a copy whose first write is conditional (see `copies`); returns it. */
export function markCopy(pod: Pod): Pod {
  copies.add(pod);
  return pod;
}

/** Is `pod` a copy no write has proven current yet? */
export function isCopy(pod: Pod): boolean {
  return copies.has(pod);
}

/** The resourceVersion a write to `pod` is conditional on: set for a copy not yet proven current. */
export function preconditionOf(pod: Pod): string | undefined {
  return copies.has(pod) ? pod.metadata.resourceVersion : undefined;
}

/** Reads the pod, and remembers it (PodMemory) as the newest this process knows. */
export async function readPod(deps: Pick<UseCaseDeps, 'cluster' | 'memory'>, namespace: string, name: string): Promise<Pod> {
  const pod = await deps.cluster.getPod(namespace, name);
  deps.memory?.remember(pod);
  return pod;
}

/** A write to `pod` succeeded and answered `updated`: the pod is current (no longer a copy), and remembered. */
export function learned(deps: Pick<UseCaseDeps, 'memory'>, pod: Pod, updated: Pod): void {
  copies.delete(pod);
  pod.metadata.resourceVersion = updated.metadata.resourceVersion ?? pod.metadata.resourceVersion;
  deps.memory?.remember(updated);
}

/**
 * Sets one annotation on `pod` with a metadata patch — conditional on `resourceVersion` when given (a Conflict or
 * NotFound propagates) — and takes in the answer: the pod is current and remembered (`learned`), and its
 * annotations are the server's.
 */
export async function annotatePod(deps: Pick<UseCaseDeps, 'cluster' | 'memory'>, pod: Pod, key: string, value: string, resourceVersion?: string): Promise<void> {
  const updated = await deps.cluster.patchPodMetadata(pod.metadata.namespace ?? '', pod.metadata.name ?? '', {
    annotations: { [key]: value },
    ...(resourceVersion ? { resourceVersion } : {}),
  });
  learned(deps, pod, updated);
  pod.metadata.annotations = updated.metadata.annotations ?? { ...(pod.metadata.annotations ?? {}), [key]: value };
}

/** Counts ECI outcomes of one run, for the functions heartbeat. */
export interface EciHealth {
  calls: number;
  failures: number;
  lastError?: string;
}

export const ANNOTATION_EVENTS_SEEN = 'eci-bridge.io/eci-events-seen';
/**
 * Set (to the time) just before pod-sync first calls CreateContainerGroup for a pod. Without it no group of the
 * pod can exist, so the create needs no lookup by UID tag; with it but no recorded group id, a create's result
 * may have been lost, and pod-sync looks the group up before creating.
 */
export const ANNOTATION_CREATE_ATTEMPTED = 'eci-bridge.io/create-attempted';
/**
 * `<group id> <time>`: written, as a conditional patch on the pod's resourceVersion, just before pod-sync sends
 * DeleteContainerGroup for a terminating pod. Of two invocations that saw the same pod (a tick and the deleting
 * nudge, or two ticks in two instances), only the first write succeeds, so only one sends the delete; the others
 * wait for the group to go. A claim older than DELETE_CLAIM_SECONDS whose group still runs (the claimer crashed
 * before its delete) may be claimed again.
 */
export const ANNOTATION_GROUP_DELETE = 'eci-bridge.io/group-delete-sent';
/** After this long an unfulfilled delete claim (the group still not terminating) may be taken over. */
export const DELETE_CLAIM_SECONDS = 60;
export const CONDITION_SYNC = 'ContainerInstanceCreated';
export const EVENT_SOURCE = 'eci-bridge';

const TERMINAL = new Set(['Succeeded', 'Failed']);
const RANK: Record<string, number> = { Pending: 0, Unknown: 0, Running: 1, Succeeded: 2, Failed: 2 };

export function isTerminalPhase(phase: string | undefined): boolean {
  return phase !== undefined && TERMINAL.has(phase);
}

/** ECI statuses after which a group will not run again. */
export const FINISHED_GROUP = new Set(['Succeeded', 'Failed', 'Expired', 'ScheduleFailed', 'StartingFailed', 'WatingForDel']);

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

export function createAttempted(pod: Pod): boolean {
  return !!pod.metadata.annotations?.[ANNOTATION_CREATE_ATTEMPTED];
}

/** The delete claim on the pod (ANNOTATION_GROUP_DELETE), if any and well formed. */
export function deleteClaimOf(pod: Pod): { groupId: string; atMs: number } | undefined {
  const [groupId, at] = (pod.metadata.annotations?.[ANNOTATION_GROUP_DELETE] ?? '').split(' ');
  const atMs = Date.parse(at ?? '');
  return groupId && Number.isFinite(atMs) ? { groupId, atMs } : undefined;
}

export function groupIdOf(pod: Pod): string | undefined {
  const id = pod.metadata.annotations?.[ANNOTATION_INSTANCE_ID];
  return id ? id : undefined;
}

export function tagOf(group: EciContainerGroup, key: string): string | undefined {
  return group.Tags?.find((t) => t.Key === key)?.Value;
}

/** The tags that scope a listing to this bridge (cluster + virtual node). */
export function bridgeTags(s: SyncSettings): EciKeyValue[] {
  return [
    { Key: TAG_CLUSTER, Value: tagValue(s.clusterName) },
    { Key: TAG_VNODE, Value: tagValue(s.vnodeName) },
  ];
}

/** Groups of one pod UID in this cluster (normally zero or one), by tag — never by name. */
/**
 * Every group of this cluster + virtual node (tag-filtered, pages of 20), counting the calls on the report. On
 * failure the classified error goes on the report and in one log line, and the result is undefined.
 */
export async function listBridgeGroups(
  deps: UseCaseDeps,
  report: { eciCalls: number; eciError?: string },
  what: string,
): Promise<EciContainerGroup[] | undefined> {
  try {
    const groups = await deps.eci.list({ tags: bridgeTags(deps.settings) });
    report.eciCalls += Math.max(1, Math.ceil(groups.length / 20));
    return groups;
  } catch (err) {
    report.eciError = `${classify(err)}: ${describeError(err)}`;
    deps.logger.warn({ err: report.eciError }, `${what}: listing groups failed`);
    return undefined;
  }
}

export async function groupsOfUid(deps: UseCaseDeps, uid: string): Promise<EciContainerGroup[]> {
  return deps.eci.list({
    tags: [{ Key: TAG_CLUSTER, Value: tagValue(deps.settings.clusterName) }, { Key: TAG_POD_UID, Value: uid }],
  });
}

export async function recordPodEvent(
  deps: UseCaseDeps,
  pod: Pod,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): Promise<void> {
  try {
    const wrote = await deps.cluster.recordEvent({
      involvedObject: {
        kind: 'Pod',
        apiVersion: 'v1',
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name ?? '',
        ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
      },
      reason,
      message: message.length > 1000 ? `${message.slice(0, 997)}...` : message,
      type,
      source: { component: EVENT_SOURCE, host: deps.settings.vnodeName },
    });
    // held back on purpose (too many Events about this pod at once): not a failure
    if (wrote === 'dropped') deps.logger.debug({ pod: podKey(pod), reason }, 'event not recorded: spam filter (too many Events about this pod)');
  } catch (err) {
    // An Event is best-effort: losing one must not fail the convergence that produced it.
    deps.logger.warn({ pod: podKey(pod), reason, err: String(err) }, 'could not record event');
  }
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Fields of `next` plus an explicit null for each field of `cur` (among `keys`) that `next` no longer has. */
function withNulls(cur: Json | undefined, next: Json, keys: readonly string[]): Json {
  const out: Json = { ...next };
  for (const k of keys) if (cur && cur[k] !== undefined && next[k] === undefined) out[k] = null;
  return out;
}

const STATE_KEYS = ['waiting', 'running', 'terminated'] as const;

function containerPatch(cur: Json | undefined, next: Json): Json {
  const out: Json = { ...next };
  for (const k of ['state', 'lastState'] as const) {
    const n = next[k];
    const c = cur?.[k];
    if (isObj(n)) out[k] = withNulls(isObj(c) ? c : undefined, n, STATE_KEYS);
    else if (isObj(c) && n === undefined && k === 'lastState') out[k] = null;
  }
  return out;
}

/**
 * The strategic-merge patch that turns `cur` into `next` for the fields the bridge owns: top-level reason/message,
 * conditions (merged by type; reason/message cleared when gone), container states (a running container loses its
 * `waiting`). Conditions and containers written by others are left alone. Returns the patch and the status the
 * server will hold after it.
 */
export function statusPatch(cur: PodStatus | undefined, next: PodStatus): { patch: PodStatus; after: PodStatus } {
  const c = (cur ?? {}) as Json;
  const patch: Json = withNulls(c, next as Json, ['reason', 'message']);
  if (next.conditions) {
    patch.conditions = next.conditions.map((nc) => {
      const cc = cur?.conditions?.find((x) => x.type === nc.type);
      return withNulls(cc as Json | undefined, nc as unknown as Json, ['reason', 'message']);
    });
  }
  for (const list of ['containerStatuses', 'initContainerStatuses'] as const) {
    const n = next[list];
    if (!n) continue;
    patch[list] = n.map((nc) => containerPatch(cur?.[list]?.find((x) => x.name === nc.name) as Json | undefined, nc as unknown as Json));
  }
  // The patch carries JSON nulls (deletions), which PodStatus cannot type: one cast, read only by the port.
  return { patch: patch as PodStatus, after: applyStatusPatch(cur, patch as PodStatus) };
}

function mergeObj(cur: Json | undefined, patch: Json): Json {
  const out: Json = { ...(cur ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isObj(v) && isObj(out[k])) out[k] = mergeObj(out[k] as Json, v);
    else out[k] = v;
  }
  return out;
}

function mergeList(cur: unknown, patch: unknown, key: string): unknown {
  if (!Array.isArray(patch)) return patch;
  const out = Array.isArray(cur) ? cur.map((x) => ({ ...(x as Json) })) : [];
  for (const p of patch as Json[]) {
    const i = out.findIndex((x) => x[key] === p[key]);
    if (i >= 0) out[i] = mergeObj(out[i], p);
    else out.push(mergeObj(undefined, p));
  }
  return out;
}

/** Strategic-merge semantics for pods/status: conditions by type, container statuses by name, null deletes. */
export function applyStatusPatch(cur: PodStatus | undefined, patch: PodStatus): PodStatus {
  const p = patch as Json;
  const rest: Json = {};
  for (const [k, v] of Object.entries(p)) {
    if (k !== 'conditions' && k !== 'containerStatuses' && k !== 'initContainerStatuses') rest[k] = v;
  }
  const out = mergeObj(cur as Json | undefined, rest);
  if (p.conditions !== undefined) out.conditions = mergeList(cur?.conditions, p.conditions, 'type');
  if (p.containerStatuses !== undefined) out.containerStatuses = mergeList(cur?.containerStatuses, p.containerStatuses, 'name');
  if (p.initContainerStatuses !== undefined) {
    out.initContainerStatuses = mergeList(cur?.initContainerStatuses, p.initContainerStatuses, 'name');
  }
  return out as PodStatus;
}

/**
 * Patches pods/status when, and only when, a user would see a difference. Never writes to a terminal pod and never
 * moves the phase backwards (Running stays Running while ECI restarts containers). Returns the written status.
 *
 * `annotations` ride on the same write (Cluster.patchPodStatus: the status subresource keeps them), so recording
 * the group id costs no metadata patch of its own; an annotation the pod does not hold yet makes the write happen
 * even when the status is unchanged. On a terminal pod nothing is written: the caller that must still record an
 * annotation checks `pod.metadata.annotations` afterwards.
 */
export async function writeStatus(
  deps: UseCaseDeps,
  pod: Pod,
  next: PodStatus,
  annotations?: Record<string, string>,
): Promise<PodStatus | undefined> {
  const current = pod.status;
  if (isTerminalPhase(current?.phase)) return undefined;
  const status: PodStatus = { ...next };
  const curRank = RANK[current?.phase ?? 'Pending'] ?? 0;
  if (status.phase !== undefined && (RANK[status.phase] ?? 0) < curRank && current?.phase) status.phase = current.phase;
  const { patch, after } = statusPatch(current, status);
  const held = pod.metadata.annotations ?? {};
  const ride = annotations && Object.entries(annotations).some(([k, v]) => held[k] !== v) ? annotations : undefined;
  if (!ride && !deps.domain.differs(current, after)) return undefined;
  const updated = await deps.cluster.patchPodStatus(pod.metadata.namespace ?? '', pod.metadata.name ?? '', patch, ride, preconditionOf(pod));
  learned(deps, pod, updated);
  pod.status = updated.status ?? after;
  if (ride) pod.metadata.annotations = updated.metadata.annotations ?? { ...held, ...ride };
  return after;
}

export function condition(
  deps: UseCaseDeps,
  type: string,
  status: PodCondition['status'],
  reason: string,
  message: string,
): PodCondition {
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime: new Date(deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/** Marks a pod Failed with a reason and message (unless it is terminal already) and records a Warning Event. */
export async function failPod(deps: UseCaseDeps, pod: Pod, reason: string, message: string): Promise<boolean> {
  if (isTerminalPhase(pod.status?.phase)) return false;
  const updated = await deps.cluster.patchPodStatus(
    pod.metadata.namespace ?? '',
    pod.metadata.name ?? '',
    {
      phase: 'Failed',
      reason,
      message,
      conditions: [condition(deps, CONDITION_SYNC, 'False', reason, message), condition(deps, 'Ready', 'False', reason, message)],
    },
    undefined,
    preconditionOf(pod),
  );
  learned(deps, pod, updated);
  pod.status = { ...(pod.status ?? {}), phase: 'Failed', reason, message };
  await recordPodEvent(deps, pod, 'Warning', reason, message);
  return true;
}

/** The reason on a refused pod (Failed, or Pending when its controller would replace it: holdRefused). */
export const REASON_REFUSED = 'UnsupportedFeature';

/**
 * A refused pod whose controller would replace a failed pod at once (`replacingController`): it stays Pending —
 * reason and condition `ContainerInstanceCreated=False` `UnsupportedFeature`, the refusal and its alternative in
 * the message, one Warning Event — so the ReplicaSet counts a replica and creates no replacement, and the rollout
 * stalls where `kubectl describe` shows why. A repeated sync of the same refusal writes nothing.
 */
export async function holdRefused(deps: UseCaseDeps, pod: Pod, owner: Owner, refusal: string): Promise<boolean> {
  if (isTerminalPhase(pod.status?.phase)) return false;
  const message = `${refusal} | Kept Pending, not Failed, so that ${owner.kind} ${owner.name} does not replace it in a loop: fix its pod template.`;
  const held = pod.status?.conditions?.find((c) => c.type === CONDITION_SYNC);
  if (pod.status?.reason === REASON_REFUSED && held?.reason === REASON_REFUSED && held.message === message) return false;
  await writeStatus(deps, pod, {
    phase: 'Pending',
    reason: REASON_REFUSED,
    message,
    conditions: [condition(deps, CONDITION_SYNC, 'False', REASON_REFUSED, message), condition(deps, 'Ready', 'False', REASON_REFUSED, message)],
  });
  await recordPodEvent(deps, pod, 'Warning', REASON_REFUSED, message);
  return true;
}

/** Exponential backoff with full jitter in [base·2^a / 2, base·2^a], capped. */
export function backoffSeconds(attempt: number, base: number, cap: number, rand: () => number = Math.random): number {
  const exp = Math.min(cap, base * 2 ** Math.min(attempt, 20));
  return Math.max(1, Math.round(exp / 2 + (rand() * exp) / 2));
}

/** Sends a delayed re-nudge for the pod. `counts` adds one to the attempt counter (an error retry). */
export async function renudge(
  deps: UseCaseDeps,
  nudge: Pick<PodNudge, 'namespace' | 'name' | 'uid' | 'attempt'>,
  delaySeconds: number,
  opts: { counts: boolean; reason?: PodNudge['reason'] },
): Promise<number> {
  const attempt = (nudge.attempt ?? 0) + (opts.counts ? 1 : 0);
  const msg: PodNudge = {
    v: 1,
    kind: 'pod',
    namespace: nudge.namespace,
    name: nudge.name,
    uid: nudge.uid,
    reason: opts.reason ?? 'retry',
    ...(attempt > 0 ? { attempt: Math.min(attempt, 1000) } : {}),
  };
  await deps.queue.send([{ body: encodeMessage(msg), delaySeconds: Math.max(0, Math.min(Math.round(delaySeconds), 604800)) }]);
  return attempt;
}
