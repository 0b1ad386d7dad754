/**
 * `PodQueue` in process, for `npm start` and tests: the same semantics as MNS because it is the same model
 * (shared/sim/queue-model.ts, also behind the MNS emulator) — delay, visibility timeout, redelivery with
 * DequeueCount + 1 and a new receipt handle per receive, priority, a dead letter after `maxReceiveCount` receives
 * into a queue you can inspect, long-poll receive. The clock is injectable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { MNS_LIMITS, type MessageView, type QueueCounts, QueueModel } from '../../sim/queue-model.js';
import type { Clock, OutgoingMessage, PodQueue, ReceivedMessage } from '../../ports/index.js';
import { QueueInvalidRequestError, QueueMessageTooLargeError, QueueReceiptHandleError } from './errors.js';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, { signal });
  },
};

export interface EmbeddedQueueOptions {
  name?: string;
  /** seconds (default 30) */
  visibilityTimeout?: number;
  /** seconds (default 0) */
  delaySeconds?: number;
  /** bytes (default 65536) */
  maximumMessageSize?: number;
  /** seconds (default 345600) */
  messageRetentionPeriod?: number;
  /** DLQ policy: after this many receives the message moves to `deadLetter` (or is dropped without one) */
  maxReceiveCount?: number;
  deadLetter?: EmbeddedQueue;
  clock?: Clock;
}

export interface EmbeddedQueueStats extends QueueCounts {
  messages: number;
  sent: number;
  received: number;
  deleted: number;
  deadLettered: number;
}

/** A receive result with the fields the delivery loop needs beyond the port's. */
export interface EmbeddedReceived extends ReceivedMessage {
  nextVisibleTime: number;
  priority: number;
}

const idPrefix = randomBytes(8).toString('hex').toUpperCase();
let idCounter = 0;
const nextHex = (): string => (++idCounter).toString(16).toUpperCase().padStart(16, '0');
const md5Hex = (body: string): string => createHash('md5').update(body, 'utf8').digest('hex').toUpperCase();

export class EmbeddedQueue implements PodQueue {
  readonly name: string;
  readonly #model: QueueModel;
  readonly #clock: Clock;
  readonly #waiters = new Set<() => void>();
  readonly #counters = { sent: 0, received: 0, deleted: 0, deadLettered: 0 };
  #closed = false;

  constructor(opts: EmbeddedQueueOptions = {}) {
    this.name = opts.name ?? 'embedded';
    this.#clock = opts.clock ?? systemClock;
    const dlq = opts.deadLetter;
    if (dlq === this) throw new RangeError('a queue cannot be its own dead-letter queue');
    this.#model = new QueueModel(
      this.name,
      {
        delaySeconds: opts.delaySeconds ?? 0,
        visibilityTimeout: opts.visibilityTimeout ?? 30,
        maximumMessageSize: opts.maximumMessageSize ?? MNS_LIMITS.maxMessageBytes,
        messageRetentionPeriod: opts.messageRetentionPeriod ?? 345600,
        pollingWaitSeconds: 0,
        maxReceiveCount: opts.maxReceiveCount,
      },
      {
        now: () => this.#clock.now(),
        newMessageId: () => `${idPrefix}${nextHex()}`,
        newReceiptHandle: () => `0-${idPrefix}-${nextHex()}`,
        md5Hex,
        onDeadLetter: (m) => {
          this.#counters.deadLettered++;
          dlq?.adopt(m);
        },
      },
    );
  }

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const max = this.#model.settings.maximumMessageSize;
    for (const m of messages) {
      const bytes = Buffer.byteLength(m.body, 'utf8');
      if (bytes > max) throw new QueueMessageTooLargeError(bytes, max, { code: 'MessageTooLarge', operation: 'SendMessage' });
      if (bytes === 0) throw new QueueInvalidRequestError('message body is empty', { code: 'InvalidArgument', operation: 'SendMessage' });
      const p = m.priority ?? MNS_LIMITS.defaultPriority;
      const d = m.delaySeconds ?? 0;
      if (!Number.isInteger(p) || p < MNS_LIMITS.minPriority || p > MNS_LIMITS.maxPriority || !Number.isInteger(d) || d < 0 || d > MNS_LIMITS.maxDelaySeconds) {
        throw new QueueInvalidRequestError('priority must be 1–16 and delaySeconds 0–604800', { code: 'InvalidArgument', operation: 'SendMessage' });
      }
    }
    for (const m of messages) {
      const input: { body: string; delaySeconds?: number; priority?: number } = { body: m.body };
      if (m.delaySeconds !== undefined) input.delaySeconds = m.delaySeconds;
      if (m.priority !== undefined) input.priority = m.priority;
      this.#model.send(input);
    }
    this.#counters.sent += messages.length;
    this.#wake();
  }

  /** Up to `max` (<= 16) messages, waiting up to `waitSeconds` for the first one; [] when none came. */
  async receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<EmbeddedReceived[]> {
    const n = Math.min(MNS_LIMITS.maxBatch, Math.max(1, Math.floor(max)));
    const deadline = this.#clock.now() + Math.min(MNS_LIMITS.maxWaitSeconds, Math.max(0, waitSeconds)) * 1000;
    for (;;) {
      const got = this.#model.receive(n);
      if (got.length > 0) {
        this.#counters.received += got.length;
        return got.map(toReceived);
      }
      const left = deadline - this.#clock.now();
      if (left <= 0 || this.#closed || signal?.aborted) return [];
      await this.#waitForChange(Math.min(left, 100), signal);
    }
  }

  async delete(receiptHandle: string): Promise<void> {
    if (!this.#model.delete(receiptHandle).ok) {
      throw new QueueReceiptHandleError(`queue ${this.name}: stale or unknown receipt handle`, {
        code: 'ReceiptHandleError',
        operation: 'DeleteMessage',
      });
    }
    this.#counters.deleted++;
  }

  /** Deletes several; returns the refused (stale) handles without throwing. */
  async deleteMany(receiptHandles: readonly string[]): Promise<string[]> {
    const refused: string[] = [];
    for (const h of receiptHandles) {
      if (this.#model.delete(h).ok) this.#counters.deleted++;
      else refused.push(h);
    }
    return refused;
  }

  async changeVisibility(receiptHandle: string, seconds: number): Promise<string> {
    return (await this.changeVisibilityDetailed(receiptHandle, seconds)).receiptHandle;
  }

  async changeVisibilityDetailed(receiptHandle: string, seconds: number): Promise<{ receiptHandle: string; nextVisibleTime: number }> {
    if (!Number.isInteger(seconds) || seconds < MNS_LIMITS.minVisibilityTimeout || seconds > MNS_LIMITS.maxVisibilityTimeout) {
      throw new QueueInvalidRequestError('visibility timeout must be 1–43200 s', { code: 'InvalidArgument', operation: 'ChangeMessageVisibility' });
    }
    const r = this.#model.changeVisibility(receiptHandle, seconds);
    if (!r.ok) {
      throw new QueueReceiptHandleError(`queue ${this.name}: stale or unknown receipt handle`, {
        code: 'MessageNotExist',
        operation: 'ChangeMessageVisibility',
      });
    }
    return r.value;
  }

  peek(max: number): MessageView[] {
    return this.#model.peek(max);
  }

  /** Every stored message (inspect a dead-letter queue). */
  messages(): MessageView[] {
    return this.#model.all();
  }

  stats(): EmbeddedQueueStats {
    return { ...this.#model.counts(), messages: this.#model.size, ...this.#counters };
  }

  /** Takes a dead-lettered message from another queue. */
  adopt(m: Parameters<QueueModel['adopt']>[0]): void {
    this.#model.adopt(m);
    this.#counters.sent++;
    this.#wake();
  }

  /** Releases waiting receivers (they return []). */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  async #waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    this.#waiters.add(wake);
    try {
      await Promise.race([woken, this.#clock.sleep(ms, ctl.signal).catch(() => undefined)]);
    } finally {
      this.#waiters.delete(wake);
      ctl.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function toReceived(m: MessageView): EmbeddedReceived {
  return {
    messageId: m.messageId,
    body: m.body,
    receiptHandle: m.receiptHandle ?? '',
    dequeueCount: m.dequeueCount,
    enqueueTime: m.enqueueTime,
    firstDequeueTime: m.firstDequeueTime,
    nextVisibleTime: m.nextVisibleTime,
    priority: m.priority,
  };
}
