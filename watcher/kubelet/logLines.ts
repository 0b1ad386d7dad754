/**
 * Log lines as ECI returns them with `Timestamps=true` (`<RFC 3339 time> <text>`), pure: parsing, the exact
 * kubelet filters applied locally (since, tail, limitBytes, timestamps on/off), and the follow cursor that makes
 * repeated DescribeContainerLog polls lose and repeat nothing.
 *
 * Why a cursor with a multiset: ECI has no "follow" and no "after this line" parameter; the only way forward is
 * `StartTime`, which is to the second. So each poll asks from the cursor's second again and receives that second's
 * lines a second time. A line is new when it is later than the cursor's second, or within it but not yet seen —
 * counted as a multiset of (time, text), because a program may print the same text twice in the same nanosecond.
 */

export interface LogLine {
  /** nanoseconds since the epoch (0 when the line had no timestamp) */
  ns: bigint;
  /** the timestamp as ECI wrote it */
  stamp: string;
  text: string;
}

const NS_PER_SECOND = 1_000_000_000n;

/** RFC 3339 (any number of fraction digits) → ns since the epoch; undefined when not a timestamp. */
export function parseStamp(stamp: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(stamp);
  if (!m) return undefined;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(whole)) return undefined;
  return BigInt(whole) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Splits ECI's content into lines (a trailing partial line counts as a line). */
export function parseContent(content: string): LogLine[] {
  if (content === '') return [];
  const raw = content.endsWith('\n') ? content.slice(0, -1) : content;
  return raw.split('\n').map((l) => {
    const sp = l.indexOf(' ');
    const stamp = sp > 0 ? l.slice(0, sp) : l;
    const ns = parseStamp(stamp);
    return ns === undefined ? { ns: 0n, stamp: '', text: l } : { ns, stamp, text: l.slice(sp + 1) };
  });
}

/** RFC 3339 to the second (ECI's StartTime), rounded down. */
export function startTimeOf(ns: bigint): string {
  const s = ns / NS_PER_SECOND;
  return new Date(Number(s) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const msToNs = (ms: number): bigint => BigInt(Math.floor(ms)) * 1_000_000n;

export function formatLine(l: LogLine, timestamps: boolean): string {
  return timestamps && l.stamp ? `${l.stamp} ${l.text}\n` : `${l.text}\n`;
}

/** The kubelet's selection: lines at or after `sinceNs`, then the last `tail`. */
export function selectLines(lines: readonly LogLine[], opts: { sinceNs?: bigint; tail?: number }): LogLine[] {
  let out = opts.sinceNs === undefined ? [...lines] : lines.filter((l) => l.ns === 0n || l.ns >= (opts.sinceNs as bigint));
  if (opts.tail !== undefined) out = out.slice(Math.max(0, out.length - opts.tail));
  return out;
}

/** Counts bytes written and cuts at the limit (the kubelet's LimitWriter: the first N bytes). */
export class ByteLimit {
  #left: number;

  constructor(limit: number | undefined) {
    this.#left = limit ?? Number.POSITIVE_INFINITY;
  }

  get reached(): boolean {
    return this.#left <= 0;
  }

  /** The part of `chunk` still within the limit. */
  take(chunk: string): string {
    if (this.#left <= 0) return '';
    const buf = Buffer.from(chunk);
    if (buf.length <= this.#left) {
      this.#left -= buf.length;
      return chunk;
    }
    const cut = buf.subarray(0, this.#left).toString();
    this.#left = 0;
    return cut;
  }
}

const keyOf = (l: LogLine): string => `${l.ns}\u0000${l.text}`;

/** The follow cursor: which lines of a page (from `startTime()`) were not delivered yet. */
export class LineCursor {
  /** start of the cursor's second, ns; lines before it were all delivered */
  #second: bigint | undefined;
  /** (time, text) → how many times delivered, for lines within the cursor's second */
  #seen = new Map<string, number>();

  constructor(startNs?: bigint) {
    if (startNs !== undefined) this.#second = (startNs / NS_PER_SECOND) * NS_PER_SECOND;
  }

  /** StartTime of the next poll (undefined before any line: the caller picks one). */
  startTime(): string | undefined {
    return this.#second === undefined ? undefined : startTimeOf(this.#second);
  }

  /** The lines of `page` not delivered yet, in order; records them as delivered. */
  accept(page: readonly LogLine[]): LogLine[] {
    const budget = new Map(this.#seen);
    // the threshold is the cursor as the page was asked for: a page may interleave streams slightly out of order
    const floor = this.#second;
    const out: LogLine[] = [];
    for (const l of page) {
      if (l.ns === 0n) {
        out.push(l);
        continue;
      }
      if (floor !== undefined && l.ns < floor) continue;
      const k = keyOf(l);
      const left = budget.get(k) ?? 0;
      if (left > 0) {
        budget.set(k, left - 1);
        continue;
      }
      out.push(l);
      this.#record(l);
    }
    return out;
  }

  #record(l: LogLine): void {
    const second = (l.ns / NS_PER_SECOND) * NS_PER_SECOND;
    if (this.#second === undefined || second > this.#second) {
      this.#second = second;
      this.#seen = new Map();
    }
    if (second === this.#second) {
      const k = keyOf(l);
      this.#seen.set(k, (this.#seen.get(k) ?? 0) + 1);
    }
  }
}
