/**
 * How EventBridge feeds an FC 3.0 "MNS queue trigger" (FC MNS queue triggers, EventBridge retry and dead letters: docs/architecture.md#sources): the CloudEvents it builds
 * from queue messages, its push retry policies, and the consume → batch → push → retry → dead-letter loop.
 * Shared by the EventBridge delivery simulator (emulators/eventbridge, over HTTP against the MNS emulator) and the
 * embedded delivery of `npm start` (shared/adapters/queue), so both hand a handler the same Buffer.
 * No I/O of its own: the queue, the push, time, sleep and ids are injected.
 */
import { textFromBase64 } from '../domain/messages-codec.js';

/** One element of the JSON array an MNS queue trigger delivers (event-streaming mode, CloudEvents schema). */
export interface MnsCloudEvent {
  id: string;
  source: string;
  specversion: '1.0';
  type: 'mns:Queue:SendMessage';
  datacontenttype: 'application/json; charset=utf-8';
  subject: string;
  time: string;
  aliyunpublishtime: string;
  aliyunaccountid: string;
  aliyunoriginalaccountid: string;
  aliyuneventbusname: string;
  aliyunregionid: string;
  aliyunpublishaddr: string;
  data: { requestId: string; messageId: string; messageBody: string };
}

export interface MnsSourceInfo {
  region: string;
  accountId: string;
  queueName: string;
  /** `MNS-<function>-<trigger>` for an FC trigger */
  source: string;
  /** defaults to `source` */
  eventBusName?: string;
  /** the publisher address EventBridge reports */
  publishAddr?: string;
}

export interface SourceMessage {
  messageId: string;
  body: string;
  receiptHandle: string;
  /** epoch ms */
  enqueueTime: number;
  /** epoch ms, when the receive that returned it expires (0 = unknown) */
  nextVisibleTime: number;
  /** the MNS request id of the receive that returned it */
  requestId?: string;
}

/** EventBridge's IsBase64Decode: decode the body when it is base64 of UTF-8 text, else pass it on as is. */
function decodeIfBase64(body: string): string {
  try {
    return textFromBase64(body);
  } catch {
    return body;
  }
}

/** Builds the CloudEvents for a batch of queue messages, exactly one event per message, in order. */
export function buildMnsCloudEvents(
  messages: readonly Pick<SourceMessage, 'messageId' | 'body' | 'enqueueTime' | 'requestId'>[],
  info: MnsSourceInfo,
  opts: { base64Decode: boolean; now: number; newId: () => string },
): MnsCloudEvent[] {
  const publish = new Date(opts.now).toISOString();
  return messages.map((m) => ({
    id: opts.newId(),
    source: info.source,
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    datacontenttype: 'application/json; charset=utf-8',
    subject: `acs:mns:${info.region}:${info.accountId}:queues/${info.queueName}`,
    time: new Date(m.enqueueTime).toISOString(),
    aliyunpublishtime: publish,
    aliyunaccountid: info.accountId,
    aliyunoriginalaccountid: info.accountId,
    aliyuneventbusname: info.eventBusName ?? info.source,
    aliyunregionid: info.region,
    aliyunpublishaddr: info.publishAddr ?? '127.0.0.1',
    data: {
      requestId: m.requestId ?? '',
      messageId: m.messageId,
      messageBody: opts.base64Decode ? decodeIfBase64(m.body) : m.body,
    },
  }));
}

/** The event as FC's runtime hands it over: the UTF-8 bytes of the JSON array (the caller wraps it in a Buffer). */
export function serializeEvents(events: readonly MnsCloudEvent[]): string {
  return JSON.stringify(events);
}

// ---------------------------------------------------------------- retry policy

export type PushRetryStrategy = 'BACKOFF_RETRY' | 'EXPONENTIAL_DECAY_RETRY';

export const RETRY_POLICIES = {
  /** 3 retries, each after a random 10–20 s */
  BACKOFF_RETRY: { retries: 3 },
  /** 176 retries, 1 s doubling up to 512 s, about one day in total */
  EXPONENTIAL_DECAY_RETRY: { retries: 176 },
} as const;

/** The number of retries after the first attempt. */
export function maxRetries(strategy: PushRetryStrategy): number {
  return RETRY_POLICIES[strategy].retries;
}

/** The wait before retry number `retry` (1-based), in ms; `random` returns [0, 1). */
export function retryDelayMs(strategy: PushRetryStrategy, retry: number, random: () => number): number {
  if (strategy === 'BACKOFF_RETRY') return 10_000 + Math.floor(random() * 10_000);
  return Math.min(512, 2 ** Math.max(0, retry - 1)) * 1000;
}

// ---------------------------------------------------------------- the event stream

export interface StreamQueue {
  /** Up to `max` (<= 16) messages, long-polling up to `waitSeconds`; [] when empty. */
  receive(max: number, waitSeconds: number, signal: AbortSignal): Promise<SourceMessage[]>;
  /** Deletes by receipt handle; stale handles may be reported but must not throw. */
  delete(handles: readonly string[]): Promise<void>;
  /** Extends a message's invisibility, returning the new handle (keeps a batch hidden while it is retried). */
  changeVisibility?(handle: string, seconds: number): Promise<{ receiptHandle: string; nextVisibleTime: number }>;
}

export interface StreamOptions {
  info: MnsSourceInfo;
  /** CountBasedWindow: 1–10000 (default 10) */
  batchSize?: number;
  /** TimeBasedWindow, seconds: 0–15 (default 0) */
  batchWindowSeconds?: number;
  /** IsBase64Decode (default true) */
  base64Decode?: boolean;
  retryStrategy?: PushRetryStrategy;
  /** ALL: after the retries, dead-letter (if a target is set) or drop, and go on. NONE: stop (the stream blocks). */
  errorsTolerance?: 'ALL' | 'NONE';
  /** multiplies every EventBridge wait (retry delays, batch window); e.g. 0.001 in tests */
  timeScale?: number;
  /** long-poll seconds per receive while idle (default 1) */
  pollWaitSeconds?: number;
  /** maximumTasks: parallel consumers (default 1) */
  tasks?: number;
}

export interface StreamDeps {
  queue: StreamQueue;
  /** the push (an FC invocation); a rejection fails the whole batch */
  push(events: MnsCloudEvent[], attempt: number): Promise<unknown>;
  /** dead-letter target: receives the original bodies of an exhausted batch */
  deadLetter?(bodies: string[]): Promise<void>;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  newId(): string;
  random(): number;
  /** observations: a failed attempt, a batch given up */
  onEvent?(ev: StreamEvent): void;
}

export type StreamEvent =
  | { type: 'attempt-failed'; attempt: number; error: unknown; size: number }
  | { type: 'delivered'; size: number; attempts: number }
  | { type: 'dead-lettered'; size: number }
  | { type: 'dropped'; size: number }
  | { type: 'blocked'; size: number }
  | { type: 'queue-error'; error: unknown };

export interface StreamStats {
  batches: number;
  attempts: number;
  failures: number;
  delivered: number;
  deadLettered: number;
  dropped: number;
  blocked: boolean;
}

export interface StreamHandle {
  stats(): StreamStats;
  /** Stops receiving, aborts waits, lets the push in flight finish; unfinished batches stay on the queue. */
  stop(): Promise<void>;
}

function isAbort(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err instanceof Error && err.name === 'AbortError');
}

/** Runs the EventBridge event stream: consume, batch by count and window, push, retry per policy, then DLQ/drop. */
export function runEventStream(opts: StreamOptions, deps: StreamDeps): StreamHandle {
  const batchSize = opts.batchSize ?? 10;
  const windowMs = (opts.batchWindowSeconds ?? 0) * 1000 * (opts.timeScale ?? 1);
  const scale = opts.timeScale ?? 1;
  const strategy = opts.retryStrategy ?? 'BACKOFF_RETRY';
  const tolerance = opts.errorsTolerance ?? 'ALL';
  const pollWait = opts.pollWaitSeconds ?? 1;
  const base64Decode = opts.base64Decode ?? true;
  const ctl = new AbortController();
  const signal = ctl.signal;
  const stats: StreamStats = {
    batches: 0,
    attempts: 0,
    failures: 0,
    delivered: 0,
    deadLettered: 0,
    dropped: 0,
    blocked: false,
  };
  const emit = (ev: StreamEvent): void => deps.onEvent?.(ev);

  async function collect(): Promise<SourceMessage[]> {
    const batch: SourceMessage[] = [];
    let deadline = Number.POSITIVE_INFINITY;
    while (!signal.aborted && batch.length < batchSize) {
      const want = Math.min(16, batchSize - batch.length);
      const wait = batch.length === 0 ? pollWait : 0;
      let got: SourceMessage[];
      try {
        got = await deps.queue.receive(want, wait, signal);
      } catch (err) {
        if (isAbort(err, signal)) break;
        emit({ type: 'queue-error', error: err });
        await deps.sleep(Math.max(1, 1000 * scale), signal).catch(() => undefined);
        continue;
      }
      if (got.length > 0 && batch.length === 0) deadline = deps.now() + windowMs;
      batch.push(...got);
      if (batch.length === 0) continue;
      const left = deadline - deps.now();
      if (left <= 0) break;
      if (got.length === 0) await deps.sleep(Math.min(left, 50), signal).catch(() => undefined);
    }
    return batch;
  }

  /** Keeps the batch hidden for the next `ms`, renewing receipt handles where needed. */
  async function keepHidden(batch: SourceMessage[], ms: number): Promise<void> {
    const change = deps.queue.changeVisibility;
    if (!change) return;
    const need = deps.now() + ms + 5000;
    for (const m of batch) {
      if (m.nextVisibleTime === 0 || m.nextVisibleTime >= need) continue;
      try {
        const r = await change.call(deps.queue, m.receiptHandle, Math.min(43200, Math.ceil((ms + 30_000) / 1000)));
        m.receiptHandle = r.receiptHandle;
        m.nextVisibleTime = r.nextVisibleTime;
      } catch (err) {
        emit({ type: 'queue-error', error: err });
      }
    }
  }

  async function settle(batch: SourceMessage[]): Promise<void> {
    try {
      await deps.queue.delete(batch.map((m) => m.receiptHandle));
    } catch (err) {
      emit({ type: 'queue-error', error: err });
    }
  }

  /** Pushes one batch with retries. Returns false when the stream must stop (blocked or stopping). */
  async function deliver(batch: SourceMessage[]): Promise<boolean> {
    stats.batches++;
    const events = buildMnsCloudEvents(batch, opts.info, { base64Decode, now: deps.now(), newId: deps.newId });
    const retries = maxRetries(strategy);
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      stats.attempts++;
      try {
        await deps.push(events, attempt);
        stats.delivered += batch.length;
        emit({ type: 'delivered', size: batch.length, attempts: attempt });
        await settle(batch);
        return true;
      } catch (error) {
        stats.failures++;
        emit({ type: 'attempt-failed', attempt, error, size: batch.length });
      }
      if (attempt > retries || signal.aborted) break;
      const delay = retryDelayMs(strategy, attempt, deps.random) * scale;
      await keepHidden(batch, delay);
      try {
        await deps.sleep(delay, signal);
      } catch {
        return false;
      }
      if (signal.aborted) return false;
    }
    if (signal.aborted) return false;
    if (tolerance === 'NONE') {
      stats.blocked = true;
      emit({ type: 'blocked', size: batch.length });
      return false;
    }
    if (deps.deadLetter) {
      try {
        await deps.deadLetter(batch.map((m) => m.body));
        stats.deadLettered += batch.length;
        emit({ type: 'dead-lettered', size: batch.length });
      } catch (err) {
        emit({ type: 'queue-error', error: err });
        return true; // not deleted: the queue redelivers it later
      }
    } else {
      stats.dropped += batch.length;
      emit({ type: 'dropped', size: batch.length });
    }
    await settle(batch);
    return true;
  }

  async function task(): Promise<void> {
    while (!signal.aborted && !stats.blocked) {
      const batch = await collect();
      if (batch.length === 0) continue;
      if (!(await deliver(batch))) break;
    }
  }

  const running = Promise.all(Array.from({ length: Math.max(1, opts.tasks ?? 1) }, () => task()));
  return {
    stats: () => ({ ...stats }),
    async stop() {
      ctl.abort();
      await running;
    },
  };
}
