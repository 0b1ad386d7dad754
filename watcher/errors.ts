/** The watcher's error family. */
import { BridgeError, findCause } from '../shared/errors.js';

export class WatcherError extends BridgeError {}

/** The queue refused or could not take a batch; the sender retries it with backoff. */
export class SendError extends WatcherError {}

/** Leader election or node lease could not be written. */
export class LeaseError extends WatcherError {}

/** Reads an HTTP status from an error of the Kubernetes adapter (any error in the cause chain carrying one). */
function httpStatusOf(err: unknown): number | undefined {
  const hit = findCause(err, (e): e is Error => {
    const r = e as unknown as Record<string, unknown>;
    return typeof r.status === 'number' || typeof r.code === 'number' || typeof r.statusCode === 'number';
  });
  if (!hit) return undefined;
  const r = hit as unknown as Record<string, unknown>;
  const v = r.status ?? r.statusCode ?? r.code;
  return typeof v === 'number' ? v : undefined;
}

function named(err: unknown, word: string): boolean {
  return findCause(err, (e): e is Error => e.name.includes(word)) !== undefined;
}

export function isNotFound(err: unknown): boolean {
  return httpStatusOf(err) === 404 || named(err, 'NotFound');
}

/** 409 Conflict (stale resourceVersion) or AlreadyExists. */
export function isConflict(err: unknown): boolean {
  return httpStatusOf(err) === 409 || named(err, 'Conflict') || named(err, 'AlreadyExists');
}
