/**
 * The root of every typed error family in the bridge. Each module has one `errors.ts` whose classes extend
 * `BridgeError`, set `name`, and always pass `{ cause }` when wrapping.
 */
export class BridgeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Narrow an unknown thrown value to an Error (wrapping non-errors). */
export function asError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

/** Walks the cause chain and returns the first error matching the predicate. */
export function findCause<T extends Error>(err: unknown, pred: (e: Error) => e is T): T | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur instanceof Error && depth < 16; depth++) {
    if (pred(cur)) return cur;
    cur = cur.cause;
  }
  return undefined;
}

/**
 * The one error vocabulary at the port boundary (as virtual-kubelet's errdefs): every adapter error carries a `kind`,
 * and callers branch on it — never on HTTP codes, SDK codes or error names.
 * - `notFound`: the object (pod, container group, queue, function, lease …) does not exist (any more);
 * - `conflict`: a precondition failed (resourceVersion, UID, AlreadyExists, a superseded receipt handle): re-read, retry;
 * - `retryable`: throttling, 5xx, network, timeouts, expired temporary credentials: the same call may work later;
 * - `capacity`: no stock for this spec/zone/vSwitch: another placement may work, the same one later;
 * - `permanent`: the request cannot succeed as made (invalid pod spec, auth, quota, arrears);
 * - `forbidden`: the Kubernetes API refused the caller (401/403). Its own kind because the functions act on it
 *   differently from a failure of the pod: a namespace not enabled for the virtual node (podSync's notEnabled);
 * - `invalid`: the Kubernetes API or the queue refused the request as malformed (400/415/422, a body over the size
 *   limit). Its own kind because it is the bridge's fault, not the pod's: the pod is retried (bounded by its
 *   attempts), never marked Failed for it.
 */
export type ErrorKind = 'notFound' | 'conflict' | 'retryable' | 'capacity' | 'permanent' | 'forbidden' | 'invalid';

const ERROR_KINDS: ReadonlySet<string> = new Set<ErrorKind>(['notFound', 'conflict', 'retryable', 'capacity', 'permanent', 'forbidden', 'invalid']);

/** The service whose answer (or silence) an adapter error reports. */
export type ErrorService = 'eci' | 'kubernetes' | 'queue' | 'bss' | 'fc';

/** An error of the vocabulary. */
export interface KindedError extends Error {
  readonly kind: ErrorKind;
  /** set by the adapters; errors of the use-cases themselves carry none */
  readonly service?: ErrorService;
}

/** The error's own kind (not its causes'), when it carries one. */
export function ownKind(e: Error): ErrorKind | undefined {
  const k = (e as { kind?: unknown }).kind;
  return typeof k === 'string' && ERROR_KINDS.has(k) ? (k as ErrorKind) : undefined;
}

/** The first kind on the cause chain: the outermost error that says what it is. */
export function errorKind(err: unknown): ErrorKind | undefined {
  const hit = findCause(err, (e): e is KindedError => ownKind(e) !== undefined);
  return hit ? hit.kind : undefined;
}

/** Some error on the cause chain is of `kind` (e.g. a NotFound wrapped by a use-case error). */
export function hasKind(err: unknown, kind: ErrorKind): boolean {
  return findCause(err, (e): e is KindedError => ownKind(e) === kind) !== undefined;
}
