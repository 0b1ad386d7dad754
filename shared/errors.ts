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
