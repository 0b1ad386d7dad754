/**
 * The send side: a bounded buffer of nudges drained in batches of <= 16 through the QueueSender port, retried
 * with exponential backoff and full jitter while the queue is down. When the buffer is full the oldest nudge is
 * dropped (counted, logged); the resync repairs it once the queue is back. Status ticks are never buffered:
 * a tick missed while the queue is down is replaced by the next one a second later.
 */
import type { QueueMessage } from '../shared/domain/messages.js';
import { encodeMessage, priorityOf } from '../shared/domain/messages.js';
import { asError } from '../shared/errors.js';
import type { Clock, Logger, QueueSender } from '../shared/ports/index.js';
import type { PendingNudge } from './forwarder.js';
import type { WatcherMetrics } from './metrics.js';

export const BATCH_SIZE = 16;
/** Batches sent concurrently per round (one write-ahead checkpoint covers the whole round). */
export const PARALLEL_BATCHES = 4;

export interface SenderOptions {
  queue: QueueSender;
  clock: Clock;
  log: Logger;
  metrics: WatcherMetrics;
  maxBuffer: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Called before a batch is sent with the highest resourceVersion in it (write-ahead checkpoint). */
  beforeSend?: (maxRv: bigint | undefined) => Promise<void>;
  /** Called once the queue works again after nudges were dropped. */
  onRecoveredAfterDrop?: () => void;
  /** Called after every successful nudge send (tests, benchmarks). */
  onSent?: (nudges: readonly PendingNudge[]) => void;
  random?: () => number;
}

export class Sender {
  readonly #buf: PendingNudge[] = [];
  #head = 0;
  #running = false;
  #wake?: () => void;
  #loop?: Promise<void>;
  #abort = new AbortController();
  #failing = false;
  #droppedSinceHealthy = 0;
  #inFlight: PendingNudge[] = [];

  constructor(private readonly o: SenderOptions) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#loop = this.#run();
  }

  get size(): number {
    return this.#buf.length - this.#head;
  }

  get failing(): boolean {
    return this.#failing;
  }

  enqueue(p: PendingNudge): void {
    if (this.size >= this.o.maxBuffer) {
      this.#head++;
      this.#droppedSinceHealthy++;
      this.o.metrics.nudgesDropped.inc();
      if (this.#droppedSinceHealthy === 1 || this.#droppedSinceHealthy % 1000 === 0) {
        this.o.log.warn({ dropped: this.#droppedSinceHealthy, buffer: this.o.maxBuffer }, 'send buffer full: dropping the oldest nudges (resync repairs them)');
      }
    }
    this.#buf.push(p);
    this.#compact();
    this.o.metrics.sendBuffer.set(this.size);
    this.#wake?.();
  }

  /** Lowest resourceVersion not yet sent (buffered or in flight), for the checkpoint. */
  minRv(): bigint | undefined {
    let min: bigint | undefined;
    const consider = (p: PendingNudge): void => {
      if (p.firstRv !== undefined && (min === undefined || p.firstRv < min)) min = p.firstRv;
    };
    for (let i = this.#head; i < this.#buf.length; i++) consider(this.#buf[i] as PendingNudge);
    for (const p of this.#inFlight) consider(p);
    return min;
  }

  /** Best effort, unbuffered (status ticks, sent with their kind's priority). Skipped while the queue is failing. */
  async sendNow(messages: readonly QueueMessage[]): Promise<boolean> {
    if (this.#failing || messages.length === 0) return false;
    try {
      for (let i = 0; i < messages.length; i += BATCH_SIZE) {
        await this.o.queue.send(messages.slice(i, i + BATCH_SIZE).map((m) => ({ body: encodeMessage(m), priority: priorityOf(m) })));
      }
      return true;
    } catch (err) {
      this.o.metrics.sendErrors.inc();
      this.o.log.warn({ err: asError(err).message }, 'status tick not sent');
      return false;
    }
  }

  /** Waits until the buffer is empty or `timeoutMs` passes; returns whether everything was sent. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.o.clock.now() + timeoutMs;
    while ((this.size > 0 || this.#inFlight.length > 0) && this.o.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.size === 0 && this.#inFlight.length === 0;
  }

  /** Stops the loop; buffered nudges stay (call drain first to flush them). */
  async stop(): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
  }

  /** Forgets everything buffered (losing leadership). */
  clear(): void {
    this.#buf.length = 0;
    this.#head = 0;
    this.o.metrics.sendBuffer.set(0);
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#buf.length) {
      this.#buf.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #take(max: number): PendingNudge[] {
    const n = Math.min(max, this.size);
    const batch = this.#buf.slice(this.#head, this.#head + n);
    this.#head += n;
    this.#compact();
    return batch;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    const base = this.o.backoffBaseMs ?? 200;
    const max = this.o.backoffMaxMs ?? 30_000;
    const random = this.o.random ?? Math.random;
    while (this.#running) {
      if (this.size === 0) {
        await new Promise<void>((r) => {
          this.#wake = r;
        });
        this.#wake = undefined;
        continue;
      }
      const round = this.#take(BATCH_SIZE * PARALLEL_BATCHES);
      this.#inFlight = round;
      let maxRv: bigint | undefined;
      for (const p of round) {
        const rv = p.lastRv ?? p.firstRv;
        if (rv !== undefined && (maxRv === undefined || rv > maxRv)) maxRv = rv;
      }
      try {
        if (this.o.beforeSend) await this.o.beforeSend(maxRv);
        const chunks: PendingNudge[][] = [];
        for (let i = 0; i < round.length; i += BATCH_SIZE) chunks.push(round.slice(i, i + BATCH_SIZE));
        const results = await Promise.allSettled(chunks.map((c) => this.o.queue.send(c.map((p) => ({ body: encodeMessage(p.nudge) })))));
        const failed: PendingNudge[] = [];
        let firstError: unknown;
        results.forEach((r, i) => {
          const chunk = chunks[i] ?? [];
          if (r.status === 'rejected') {
            failed.push(...chunk);
            firstError ??= r.reason;
            return;
          }
          for (const p of chunk) this.o.metrics.nudgesSent.inc({ reason: p.nudge.reason });
          this.o.onSent?.(chunk);
        });
        if (failed.length > 0) {
          this.#inFlight = failed;
          throw firstError;
        }
        this.#inFlight = [];
        this.o.metrics.sendBuffer.set(this.size);
        if (this.#failing) {
          this.#failing = false;
          this.o.log.info({ attempts: attempt }, 'queue send recovered');
          if (this.#droppedSinceHealthy > 0) this.o.onRecoveredAfterDrop?.();
        }
        this.#droppedSinceHealthy = 0;
        attempt = 0;
      } catch (err) {
        // put what was not sent back at the head, in order, and back off
        this.#buf.splice(this.#head, 0, ...this.#inFlight);
        this.#inFlight = [];
        this.o.metrics.sendErrors.inc();
        attempt++;
        const delay = Math.floor(random() * Math.min(max, base * 2 ** Math.min(attempt, 20)));
        if (!this.#failing || attempt % 10 === 0) {
          this.o.log.error({ err: asError(err).message, attempt, retryInMs: delay, buffered: this.size }, 'queue send failed');
        }
        this.#failing = true;
        try {
          await this.o.clock.sleep(delay, this.#abort.signal);
        } catch {
          // aborted: stopping
        }
      }
    }
  }
}
