/**
 * The periodic resync: which pods get a `resync` nudge so that a lost message or a crash anywhere is repaired.
 * A pod is due when it is not terminal and has no container group yet, is terminating, is still changing, or
 * its status was last converged (annotation `eci-bridge.io/synced-at`, when pod-sync writes it) longer ago
 * than `staleMs`.
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

export function dueForResync(records: Iterable<PodRecord>, nowMs: number, staleMs: number): PodRecord[] {
  const out: PodRecord[] = [];
  for (const r of records) if (resyncWhy(r, nowMs, staleMs)) out.push(r);
  return out;
}
