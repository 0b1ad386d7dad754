/**
 * A list+watch loop that keeps a consumer's view equal to the server's, forever.
 *
 * client-node 1.4.0's informer takes no field selector and stops on the first error, so the adapter runs its own:
 * list (paged) → deliver the differences against what the consumer already has → watch from the list's
 * resourceVersion with bookmarks and a server timeout → on a normal end, watch again from the last resourceVersion;
 * on 410 (an ERROR event with a Status code 410 on an HTTP 200 stream, or an HTTP 410), relist at once; on any other
 * failure, back off exponentially with jitter and try again. The source and the sleep are injected, so the loop
 * runs against the real API server in integration tests and against scripted sources in unit tests.
 */
import { errorFromStatus, GoneError, isGone, KubeError, type StatusBody, toKubeError } from './errors.js';

export interface WatchedObject {
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface ViewEvent<T> {
  type: WatchEventType;
  object: T;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchSource<T> {
  /** A full (paged) list; rejects with a KubeError. */
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /**
   * Streams events from `resourceVersion` to `onEvent` (types ADDED, MODIFIED, DELETED, BOOKMARK, ERROR; objects
   * already normalised, ERROR carries a Status). Resolves when the stream ends normally, rejects with a KubeError.
   */
  watch(resourceVersion: string, onEvent: (type: string, object: unknown) => void, signal: AbortSignal): Promise<void>;
}

export interface BackoffOptions {
  /** First retry delay (ms). Default 500. */
  baseMs: number;
  /** Cap (ms). Default 30 000. */
  maxMs: number;
}

export interface ListWatchOptions {
  backoff?: Partial<BackoffOptions>;
  /** Injectable delay; must reject or resolve early when `signal` aborts. Default: a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Injectable randomness in [0, 1) for jitter. Default Math.random. */
  random?: () => number;
  /** Injectable clock (epoch ms). Default Date.now. */
  now?: () => number;
  /**
   * Keep only each object's identity (name, namespace, uid, resourceVersion) in the view, not the whole object:
   * a large saving for many objects. Events still carry whole objects, except a DELETED found by a relist, which
   * then carries the identity only. Default false.
   */
  slimView?: boolean;
}

/** The identity of an object, all a view needs to diff a relist (objects are plain JSON, so a shallow copy is exact). */
export function identityOf<T extends WatchedObject>(o: T): T {
  const m = o.metadata;
  // the view holds partial objects by design (slimView); their type stays T for the callers
  return { metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion } } as unknown as T;
}

export interface ListWatchHandle {
  /** Resolves once the first list has been delivered; rejects if stopped before that. */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export function objectKey(o: WatchedObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

/**
 * Delay before retry number `attempt` (0-based): base·2^attempt capped at max, with "equal jitter" — uniformly in
 * [d/2, d) — so that many watchers restarting together spread out but never retry immediately.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(exp / 2 + (exp / 2) * random());
}

/**
 * The events that turn the consumer's view `known` into the fresh list: DELETED for vanished keys (with the last
 * object the consumer saw), ADDED for new keys, MODIFIED for a changed resourceVersion, and DELETED + ADDED when
 * a name now belongs to a different object (new UID). Unchanged objects produce nothing.
 */
export function diffRelist<T extends WatchedObject>(known: ReadonlyMap<string, T>, fresh: readonly T[]): ViewEvent<T>[] {
  const events: ViewEvent<T>[] = [];
  const freshKeys = new Set(fresh.map(objectKey));
  for (const [key, old] of known) {
    if (!freshKeys.has(key)) events.push({ type: 'DELETED', object: old });
  }
  for (const obj of fresh) {
    const old = known.get(objectKey(obj));
    if (!old) events.push({ type: 'ADDED', object: obj });
    else if (old.metadata.uid !== obj.metadata.uid) {
      events.push({ type: 'DELETED', object: old }, { type: 'ADDED', object: obj });
    } else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) {
      events.push({ type: 'MODIFIED', object: obj });
    }
  }
  return events;
}

/**
 * Applies one event to the view and returns the event to deliver (or undefined when it would be a duplicate):
 * an ADDED for a known key is a MODIFIED, a MODIFIED for an unknown key is an ADDED, an event with the
 * resourceVersion already seen is dropped, a DELETED for an unknown key is dropped.
 */
export function applyWatchEvent<T extends WatchedObject>(
  view: Map<string, T>,
  ev: ViewEvent<T>,
  keep: (o: T) => T = (o) => o,
): ViewEvent<T> | undefined {
  const key = objectKey(ev.object);
  const old = view.get(key);
  if (ev.type === 'DELETED') {
    if (!old) return undefined;
    view.delete(key);
    return ev;
  }
  view.set(key, keep(ev.object));
  if (!old) return { type: 'ADDED', object: ev.object };
  if (old.metadata.uid === ev.object.metadata.uid && old.metadata.resourceVersion === ev.object.metadata.resourceVersion) {
    return undefined;
  }
  return { type: 'MODIFIED', object: ev.object };
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Settles with `p`, or rejects as soon as `signal` aborts (a stuck request must not hold up stop()). */
function untilAborted<R>(p: Promise<R>, signal: AbortSignal): Promise<R> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<R>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** A watch that ended normally this quickly without any event counts as a failure (no hot reconnect loop). */
const MIN_HEALTHY_WATCH_MS = 1000;

export function startListWatch<T extends WatchedObject>(
  source: WatchSource<T>,
  what: string,
  onEvent: (ev: ViewEvent<T>) => void,
  onError: (err: Error) => void = () => {},
  opts: ListWatchOptions = {},
): ListWatchHandle {
  const backoff: BackoffOptions = { baseMs: opts.backoff?.baseMs ?? 500, maxMs: opts.backoff?.maxMs ?? 30_000 };
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const abort = new AbortController();
  const view = new Map<string, T>();
  const keep = opts.slimView ? identityOf<T> : (o: T) => o;
  let stopped = false;
  let resourceVersion: string | undefined;

  let resolveSynced: () => void = () => {};
  let rejectSynced: (e: Error) => void = () => {};
  const synced = new Promise<void>((res, rej) => {
    resolveSynced = res;
    rejectSynced = rej;
  });
  synced.catch(() => {}); // stop() before the first list is not an unhandled rejection
  let isSynced = false;

  const report = (err: Error) => {
    try {
      onError(err);
    } catch {
      /* a throwing error handler must not end the loop */
    }
  };
  const deliver = (ev: ViewEvent<T> | undefined) => {
    if (!ev || stopped) return;
    try {
      onEvent(ev);
    } catch (err) {
      report(new KubeError(`${what}: the event handler threw`, {}, { cause: err }));
    }
  };

  async function relist(): Promise<void> {
    const list = await untilAborted(source.list(abort.signal), abort.signal);
    if (stopped) return;
    const events = diffRelist(view, list.items);
    view.clear();
    for (const o of list.items) view.set(objectKey(o), keep(o));
    for (const ev of events) deliver(ev);
    resourceVersion = list.resourceVersion;
    if (!isSynced) {
      isSynced = true;
      resolveSynced();
    }
  }

  async function watchOnce(rv: string): Promise<{ gone: boolean; sawEvent: boolean }> {
    let gone = false;
    let sawEvent = false;
    let streamError: KubeError | undefined;
    await source.watch(
      rv,
      (type, object) => {
        if (stopped || gone || streamError) return;
        if (type === 'BOOKMARK') {
          const brv = (object as WatchedObject).metadata?.resourceVersion;
          if (brv) resourceVersion = brv;
          sawEvent = true;
          return;
        }
        if (type === 'ERROR') {
          const st = object as StatusBody;
          const err = errorFromStatus(`${what}: watch`, st.code ?? 500, st);
          if (err instanceof GoneError) gone = true;
          else streamError = err;
          return;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        const obj = object as T;
        if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
        sawEvent = true;
        deliver(applyWatchEvent(view, { type, object: obj }, keep));
      },
      abort.signal,
    );
    if (streamError) throw streamError;
    return { gone, sawEvent };
  }

  async function loop(): Promise<void> {
    let attempt = 0;
    while (!stopped) {
      try {
        if (resourceVersion === undefined) {
          await relist();
          attempt = 0;
          continue;
        }
        const started = now();
        const { gone, sawEvent } = await untilAborted(watchOnce(resourceVersion), abort.signal);
        if (stopped) break;
        if (gone) {
          report(new GoneError(`${what}: resourceVersion ${resourceVersion} is too old; relisting`, { status: 410, reason: 'Expired' }));
          resourceVersion = undefined;
          continue;
        }
        if (sawEvent || now() - started >= MIN_HEALTHY_WATCH_MS) {
          attempt = 0;
          continue;
        }
        await sleep(backoffDelay(attempt++, backoff, random), abort.signal);
      } catch (err) {
        if (stopped) break;
        const e = toKubeError(err, what);
        report(e);
        if (isGone(e)) {
          resourceVersion = undefined;
          continue;
        }
        await sleep(backoffDelay(attempt++, backoff, random), abort.signal);
      }
    }
  }

  const done = loop().catch((err: unknown) => report(toKubeError(err, what)));

  return {
    synced,
    async stop() {
      if (stopped) return done;
      stopped = true;
      abort.abort();
      if (!isSynced) rejectSynced(new KubeError(`${what}: stopped before the first list`));
      await done;
    },
  };
}
