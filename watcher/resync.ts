/**
 * The periodic resync: which pods get a `resync` nudge so that a lost message or a crash anywhere is repaired.
 * A pod is due when it is not terminal and has no container group yet, is terminating, is still changing, or
 * its status was last converged (annotation `eci-bridge.io/synced-at`, when pod-sync writes it) longer ago
 * than `staleMs`.
 *
 * A due pod is skipped when the watcher nudged it (any reason, or named it in a status tick that converges it:
 * the pod has a group id, see tickConverges) less than one resync period ago: that nudge is still queued or was just handled, and
 * one more only grows the queue after an outage. Bound: with the resync running every period P, a pod whose last
 * nudge was lost at time t is nudged again at the first resync at or after t + P, so by t + 2P at the latest
 * (plus the coalescing window). A forced resync (after the send buffer dropped nudges) skips nothing.
 */
import type { PodRecord } from './podState.js';
import { isChanging, isTerminal } from './podState.js';

export function resyncWhy(r: PodRecord, nowMs: number, staleMs: number): string | undefined {
  if (isTerminal(r.phase)) return undefined;
  if (!r.groupId) return 'no container group yet';
  if (r.deletion) return 'terminating';
  if (isChanging(r)) return 'status not steady';
  if (r.syncedAt !== undefined && nowMs - r.syncedAt > staleMs) return 'status stale';
  return undefined;
}

/** When the watcher last nudged each pod (epoch ms), so the resync skips what was just nudged. */
export class NudgeMemory {
  readonly #last = new Map<string, number>();

  /** A nudge for the pod was handed to the sender (or a tick naming it was sent) at `atMs`. */
  nudged(uid: string, atMs: number): void {
    const cur = this.#last.get(uid);
    if (cur === undefined || atMs > cur) this.#last.set(uid, atMs);
  }

  lastNudgedAt(uid: string): number | undefined {
    return this.#last.get(uid);
  }

  forget(uid: string): void {
    this.#last.delete(uid);
  }

  clear(): void {
    this.#last.clear();
  }

  get size(): number {
    return this.#last.size;
  }
}

/**
 * Does a status tick naming this pod converge it, as a nudge would? Only when the watcher saw its group id:
 * pod-sync's tick leaves a pod without one to its nudges (its create may be in flight), terminating or not.
 */
export function tickConverges(r: Pick<PodRecord, 'groupId'>): boolean {
  return r.groupId !== undefined;
}

export interface ResyncPlan {
  due: PodRecord[];
  /** due, but nudged less than a period ago */
  skipped: number;
}

/**
 * The pods to nudge now: due (resyncWhy) and not nudged within `periodMs` (unless `force`). `staleMs` is the
 * status-staleness limit of resyncWhy (the resync period in the watcher).
 */
export function planResync(
  records: Iterable<PodRecord>,
  nowMs: number,
  staleMs: number,
  memory?: NudgeMemory,
  periodMs = staleMs,
  force = false,
): ResyncPlan {
  const due: PodRecord[] = [];
  let skipped = 0;
  for (const r of records) {
    if (!resyncWhy(r, nowMs, staleMs)) continue;
    const last = force ? undefined : memory?.lastNudgedAt(r.uid);
    if (last !== undefined && nowMs - last < periodMs) {
      skipped++;
      continue;
    }
    due.push(r);
  }
  return { due, skipped };
}

export function dueForResync(records: Iterable<PodRecord>, nowMs: number, staleMs: number): PodRecord[] {
  return planResync(records, nowMs, staleMs).due;
}
