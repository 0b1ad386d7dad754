/**
 * The status clock: while pods on the node are changing, one status tick per period names them (split into
 * messages of at most MAX_PODS_PER_TICK pods and MAX_TICK_ENTRY_BYTES); when every pod is steady nothing is sent. A pod that keeps
 * "changing" for longer than `maxAgeMs` (stuck Pending, say) drops out of the ticks: the resync and the
 * minutely status-sync still cover it, and the tick stays cheap. Each pod goes with its phase and status digest,
 * so pod-sync reads from the API server only the pods whose group changed.
 */
import type { StatusTick } from '../shared/domain/messages.js';
import { MAX_MESSAGE_BYTES, MAX_PODS_PER_TICK, TICK_RV, TICK_VERSION } from '../shared/domain/messages.js';
import type { PodRecord } from './podState.js';
import { isChanging, isTerminal } from './podState.js';

export function changingPods(records: Iterable<PodRecord>, nowMs: number, maxAgeMs: number): PodRecord[] {
  const out: PodRecord[] = [];
  for (const r of records) {
    if (!isChanging(r)) continue;
    if (r.changingSince !== undefined && nowMs - r.changingSince > maxAgeMs) continue;
    out.push(r);
  }
  return out;
}

const PHASES: ReadonlySet<string> = new Set(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);

/**
 * A record's `deletion` ("<deletionTimestamp>/<deletionGracePeriodSeconds>") as tick fields (version 3): pod-sync
 * then need not read a terminating pod to learn that it has nothing to do yet.
 */
export function deletionOf(deletion: string): Pick<StatusTick['pods'][number], 'deletionTimestamp' | 'deletionGracePeriodSeconds'> {
  const cut = deletion.lastIndexOf('/');
  const at = deletion.slice(0, cut);
  const grace = deletion.slice(cut + 1);
  if (cut < 0 || at.length > 40 || !Number.isFinite(Date.parse(at))) return {};
  return { deletionTimestamp: at, ...(/^\d{1,8}$/.test(grace) ? { deletionGracePeriodSeconds: Number(grace) } : {}) };
}

/**
 * The JSON bytes of one tick's pod entries at most: base64 makes 4 bytes of 3, and the message must stay within
 * MNS's 64 KiB with room for the envelope. 100 entries of typical names take about 25 KiB; long names (a pod name
 * may have 253 characters) split a tick earlier.
 */
export const MAX_TICK_ENTRY_BYTES = Math.floor((MAX_MESSAGE_BYTES * 3) / 4) - 1024;

/**
 * Ticks naming `pods`, each with what the watcher sees of it (phase, status digest, deleting and when,
 * resourceVersion): version 4; at most `perTick` pods and MAX_TICK_ENTRY_BYTES of entries per tick.
 */
export function buildTicks(pods: readonly PodRecord[], at: string, perTick = MAX_PODS_PER_TICK): StatusTick[] {
  const ticks: StatusTick[] = [];
  let entries: StatusTick['pods'] = [];
  let bytes = 0;
  const flush = (): void => {
    if (entries.length > 0) ticks.push({ v: TICK_VERSION, kind: 'status-tick', at, pods: entries });
    entries = [];
    bytes = 0;
  };
  for (const p of pods) {
    const entry = tickEntry(p);
    const size = JSON.stringify(entry).length + 1;
    if (entries.length >= perTick || bytes + size > MAX_TICK_ENTRY_BYTES) flush();
    entries.push(entry);
    bytes += size;
  }
  flush();
  return ticks;
}

function tickEntry(p: PodRecord): StatusTick['pods'][number] {
  const entry: StatusTick['pods'][number] = { namespace: p.namespace, name: p.name, uid: p.uid };
  if (p.groupId && p.groupId.length <= 64) entry.groupId = p.groupId;
  if (p.phase && PHASES.has(p.phase)) entry.phase = p.phase as NonNullable<StatusTick['pods'][number]['phase']>;
  if (p.digest) entry.digest = p.digest;
  if (p.deletion !== undefined) Object.assign(entry, { deleting: true }, deletionOf(p.deletion));
  if (p.resourceVersion && TICK_RV.test(p.resourceVersion)) entry.rv = p.resourceVersion;
  return entry;
}

/**
 * The steady tick: when some pod on the node is steady (Running and Ready, with a group), one message asking
 * pod-sync for the groups whose status changed in the last `periodSeconds` plus a margin for delivery (a window
 * that overlaps the previous one: a change is never missed between two ticks, and seeing it twice is harmless).
 */
export function steadyTick(records: Iterable<PodRecord>, at: string, periodSeconds: number): StatusTick | undefined {
  for (const r of records) {
    if (r.groupId && !isTerminal(r.phase) && !isChanging(r)) {
      return { v: TICK_VERSION, kind: 'status-tick', at, since: Math.min(3600, periodSeconds + STEADY_MARGIN_SECONDS), pods: [] };
    }
  }
  return undefined;
}

/**
 * The steady tick's period now: `finishingSeconds` while some steady pod can finish (a Job's pod: its completion
 * then shows within about 2 s), else `steadySeconds`; undefined when no pod is steady (idle costs nothing).
 * Either way one DescribeContainerGroupStatus call per period covers the whole node, never a call per pod.
 */
export function steadyPeriodSeconds(records: Iterable<PodRecord>, steadySeconds: number, finishingSeconds: number): number | undefined {
  let period: number | undefined;
  for (const r of records) {
    if (!r.groupId || isTerminal(r.phase) || isChanging(r)) continue;
    if (r.canFinish && finishingSeconds > 0) return steadySeconds > 0 ? Math.min(steadySeconds, finishingSeconds) : finishingSeconds;
    if (steadySeconds > 0) period = steadySeconds;
  }
  return period;
}

/** Added to the steady window: delivery delay and clock skew between the watcher and ECI. */
export const STEADY_MARGIN_SECONDS = 5;
