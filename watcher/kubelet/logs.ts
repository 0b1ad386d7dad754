/**
 * containerLogs over ECI's DescribeContainerLog: one-shot reads, and `follow` by polling with the timestamp cursor
 * of logLines.ts — one shared poller per container however many followers, stopped after a final poll once the
 * container has terminated.
 *
 * ECI's quota (500 DescribeContainerLog calls per minute per account) is shared with everything else, so this
 * replica spends at most `callsPerMinute` of it (a token bucket): a one-shot read that finds the bucket empty gets
 * 429 with a clear message; pollers slow down instead (each poller's interval is at least its fair share of the
 * budget, at least `minIntervalMs`, and grows while nothing new arrives, up to `maxIntervalMs`).
 *
 * A full page (ECI returns at most 2000 lines) means lines may have been skipped between two polls (ECI's Tail
 * keeps the newest): the poller polls again at once and counts the gap (`gaps`).
 */
import { errorKind } from '../../shared/errors.js';
import type { ContainerGroups, EciLogOptions, Logger } from '../../shared/ports/index.js';
import { LogBudgetError } from './errors.js';
import { LineCursor, type LogLine, msToNs, parseContent, startTimeOf } from './logLines.js';

export const ECI_MAX_TAIL = 2000;
export const ECI_MAX_BYTES = 1024 * 1024;

export interface LogBudgetOptions {
  callsPerMinute: number;
  now: () => number;
}

/** A non-waiting token bucket over the replica's share of ECI's log quota. */
export class LogBudget {
  #tokens: number;
  #last: number;

  constructor(private readonly o: LogBudgetOptions) {
    this.#tokens = Math.max(1, Math.floor(o.callsPerMinute / 6));
    this.#last = o.now();
  }

  get perMinute(): number {
    return this.o.callsPerMinute;
  }

  #refill(): void {
    const now = this.o.now();
    const burst = Math.max(1, Math.floor(this.o.callsPerMinute / 6));
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#last) / 60_000) * this.o.callsPerMinute);
    this.#last = now;
  }

  /** Takes a call, or throws LogBudgetError saying when to retry. */
  take(): void {
    this.#refill();
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return;
    }
    const wait = Math.ceil(((1 - this.#tokens) / this.o.callsPerMinute) * 60);
    throw new LogBudgetError(
      `the watcher's share of ECI's DescribeContainerLog quota (${this.o.callsPerMinute} calls/min of ECI's 500/min per account, ` +
        `KUBELET_LOG_CALLS_PER_MINUTE) is spent; retry in ${wait}s`,
      wait,
    );
  }

  /** ms until a call is available (0 when one is). */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.o.callsPerMinute) * 60_000);
  }
}

export interface LogTarget {
  groupId: string;
  container: string;
}

/** Fetches lines (always with timestamps) through the budget. */
export async function fetchLines(
  eci: Pick<ContainerGroups, 'logs'>,
  budget: LogBudget,
  t: LogTarget,
  opts: Omit<EciLogOptions, 'timestamps'>,
): Promise<LogLine[]> {
  budget.take();
  const content = await eci.logs(t.groupId, t.container, { ...opts, timestamps: true });
  return parseContent(content);
}

export interface FollowerSink {
  /** new lines, in order */
  lines(lines: LogLine[]): void;
  /** the stream is over (container terminated, group gone, or an error) */
  end(reason: string): void;
}

export interface PollerDeps {
  eci: Pick<ContainerGroups, 'logs'>;
  budget: LogBudget;
  log: Logger;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  minIntervalMs: number;
  maxIntervalMs: number;
}

export interface PollerStats {
  polls: number;
  gaps: number;
  throttled: number;
}

/** One container's poller, shared by its followers. */
class Poller {
  readonly #sinks = new Set<FollowerSink>();
  readonly #abort = new AbortController();
  readonly #cursor: LineCursor;

  constructor(
    private readonly d: PollerDeps,
    private readonly target: LogTarget,
    private readonly terminated: () => Promise<boolean>,
    private readonly stats: PollerStats,
    private readonly activePollers: () => number,
    private readonly onIdle: () => void,
  ) {
    // 2 s back: a follower's first read ended just before this poller started; its cursor drops what it has
    this.#cursor = new LineCursor(msToNs(d.now() - 2000));
  }

  add(sink: FollowerSink): void {
    this.#sinks.add(sink);
  }

  remove(sink: FollowerSink): void {
    this.#sinks.delete(sink);
    if (this.#sinks.size === 0) this.stop();
  }

  stop(): void {
    if (!this.#abort.signal.aborted) this.#abort.abort();
    this.onIdle();
  }

  #end(reason: string): void {
    for (const s of this.#sinks) s.end(reason);
    this.#sinks.clear();
    this.stop();
  }

  async run(): Promise<void> {
    const signal = this.#abort.signal;
    let interval = this.d.minIntervalMs;
    while (!signal.aborted) {
      const fair = (60_000 * this.activePollers()) / this.d.budget.perMinute;
      const wait = Math.max(interval, fair, this.d.budget.waitMs());
      try {
        await this.d.sleep(wait, signal);
      } catch {
        return;
      }
      if (signal.aborted) return;
      // read the state first: lines written before the container ended are in the poll that follows
      let done = false;
      try {
        done = await this.terminated();
      } catch (err) {
        this.d.log.warn({ err: (err as Error).message }, 'log follow: could not read the pod; polling on');
      }
      let page: LogLine[];
      try {
        page = await fetchLines(this.d.eci, this.d.budget, this.target, { startTime: this.#cursor.startTime(), tail: ECI_MAX_TAIL });
        this.stats.polls++;
      } catch (err) {
        const e = err as Error & { code?: string };
        if (errorKind(err) === 'notFound') {
          this.#end('the container group is gone');
          return;
        }
        if (e.name === 'LogBudgetError' || e.code?.startsWith('Throttling')) {
          this.stats.throttled++;
          interval = Math.min(this.d.maxIntervalMs * 2, Math.max(interval * 2, 5000));
          this.d.log.warn({ err: e.message, container: this.target.container }, 'log follow: ECI log quota reached; slowing down');
          continue;
        }
        this.d.log.warn({ err: e.message, container: this.target.container }, 'log follow: DescribeContainerLog failed; retrying');
        interval = Math.min(this.d.maxIntervalMs, interval * 2);
        continue;
      }
      const fresh = this.#cursor.accept(page);
      if (fresh.length > 0) for (const s of this.#sinks) s.lines(fresh);
      if (done) {
        this.#end('the container terminated');
        return;
      }
      if (page.length >= ECI_MAX_TAIL) {
        this.stats.gaps++;
        interval = 0;
        continue;
      }
      interval = fresh.length > 0 ? this.d.minIntervalMs : Math.min(this.d.maxIntervalMs, Math.max(this.d.minIntervalMs, interval * 1.5));
    }
  }
}

/** The pollers of this replica, one per container. */
export class LogFollowers {
  readonly #pollers = new Map<string, Poller>();
  readonly stats: PollerStats = { polls: 0, gaps: 0, throttled: 0 };

  constructor(private readonly d: PollerDeps) {}

  get active(): number {
    return this.#pollers.size;
  }

  /** Subscribes `sink` to the container's poller (started on the first follower); returns the unsubscribe. */
  follow(target: LogTarget, sink: FollowerSink, terminated: () => Promise<boolean>): () => void {
    const key = `${target.groupId}/${target.container}`;
    let p = this.#pollers.get(key);
    if (!p) {
      const poller = new Poller(this.d, target, terminated, this.stats, () => this.#pollers.size, () => {
        if (this.#pollers.get(key) === poller) this.#pollers.delete(key);
      });
      p = poller;
      this.#pollers.set(key, poller);
      poller.run().catch((err: unknown) => this.d.log.error({ err: (err as Error).message }, 'log poller failed'));
    }
    p.add(sink);
    const owner = p;
    return () => owner.remove(sink);
  }

  stopAll(): void {
    for (const p of [...this.#pollers.values()]) p.stop();
  }
}

export { startTimeOf };
