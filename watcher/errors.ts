/** The watcher's error family. */
import { BridgeError, hasKind } from '../shared/errors.js';

export class WatcherError extends BridgeError {}

/** The queue refused or could not take a batch; the sender retries it with backoff. */
export class SendError extends WatcherError {}

/** Leader election or node lease could not be written. */
export class LeaseError extends WatcherError {}

/** NotFound anywhere on the cause chain (the one vocabulary, shared/errors.ts). */
export function isNotFound(err: unknown): boolean {
  return hasKind(err, 'notFound');
}

/** Conflict (stale resourceVersion) or AlreadyExists. */
export function isConflict(err: unknown): boolean {
  return hasKind(err, 'conflict');
}
