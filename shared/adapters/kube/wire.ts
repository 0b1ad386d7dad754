/**
 * What both Kubernetes clients — the client-node adapter (cluster.ts: watcher, CLI) and the dependency-free one over
 * node:https (lite.ts: the functions) — share on the wire, so list paging, watch streams and their decoding behave
 * the same in both: the paged list, one watch stream's lifetime (random server timeout, client-side guard, abort),
 * the decoding of watch lines and frames. Errors of both are normalised by errors.ts (`toKubeError`,
 * `errorFromStatus`). No client-node import here: the function bundles carry this file.
 */
import { toKubeError } from './errors.js';
import { toPlain } from './normalize.js';
import type { ListResult } from './watch.js';

/** Objects per list page (`limit`); the server hands a `continue` token for the next. */
export const LIST_PAGE = 500;

/** One page as either client reads it (client-node names the token `_continue`, the wire `continue`). */
export interface ListPage {
  items?: readonly unknown[];
  resourceVersion?: string | undefined;
  continue?: string | undefined;
}

/** Every page of a list, objects normalised, with the resourceVersion of the last page. */
export async function listAllPages<T>(page: (cont: string | undefined) => Promise<ListPage>): Promise<ListResult<T>> {
  const items: T[] = [];
  let cont: string | undefined;
  let resourceVersion = '';
  do {
    const p = await page(cont);
    for (const o of p.items ?? []) items.push(toPlain<T>(o));
    resourceVersion = p.resourceVersion ?? resourceVersion;
    cont = p.continue || undefined;
  } while (cont);
  return { items, resourceVersion };
}

/** A watch frame's object as the list-watch loop takes it: normalised, except an ERROR's Status, kept as is. */
export function watchObject(type: string, object: unknown): unknown {
  return type === 'ERROR' ? object : toPlain(object);
}

/** Decodes one line of a watch response (`{type, object}` JSON) to `onRaw`; blank lines are skipped. */
export function decodeWatchLine(line: string, onRaw: (type: string, object: unknown) => void): void {
  if (!line.trim()) return;
  const ev = JSON.parse(line) as { type?: unknown; object?: unknown };
  const type = typeof ev.type === 'string' ? ev.type : '';
  onRaw(type, watchObject(type, ev.object));
}

export interface WatchStreamSpec {
  /** for error messages: `watch pods (spec.nodeName=…)` */
  what: string;
  /** the server timeout is base + a random part of base, so that many watchers do not reopen together */
  baseTimeoutSeconds: number;
  random: () => number;
  /** the list-watch loop's signal: aborting it ends the stream quietly */
  signal: AbortSignal;
  /**
   * Opens the stream with `timeoutSeconds`; calls `finish()` at its normal end or `finish(err)` on failure, and returns
   * (or resolves to) what aborts it.
   */
  open(timeoutSeconds: number, finish: (err?: unknown) => void): AbortController | Promise<AbortController>;
}

/**
 * One watch stream's lifetime: resolves when it ends normally, is aborted, or stays silent past the server timeout
 * plus 30 s (a dead peer: dropped, and the loop reopens it); rejects with the typed error of a failure.
 */
export function watchStream(spec: WatchStreamSpec): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const { signal } = spec;
    const timeoutSeconds = spec.baseTimeoutSeconds + Math.floor(spec.random() * spec.baseTimeoutSeconds);
    let settled = false;
    let timedOut = false;
    let controller: AbortController | undefined;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      controller?.abort();
      if (err && !signal.aborted && !timedOut) reject(toKubeError(err, spec.what));
      else resolve();
    };
    const onAbort = (): void => finish();
    // Client-side guard: a stream silent past the server's timeout (a dead peer) is dropped and reopened.
    const timer = setTimeout(
      () => {
        timedOut = true;
        finish();
      },
      (timeoutSeconds + 30) * 1000,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    let opened: AbortController | Promise<AbortController>;
    try {
      opened = spec.open(timeoutSeconds, finish);
    } catch (err) {
      finish(err);
      return;
    }
    if (opened instanceof AbortController) {
      controller = opened;
      if (settled) opened.abort();
      return;
    }
    opened.then(
      (c) => {
        controller = c;
        if (settled) c.abort();
      },
      (err: unknown) => finish(err),
    );
  });
}
