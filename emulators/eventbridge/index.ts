/**
 * The EventBridge → FC delivery of an FC 3.0 MNS queue trigger, simulated (FC MNS queue triggers, docs/architecture.md#sources): consumes an
 * MNS queue over HTTP (against the MNS emulator, as EventBridge would against MNS), batches by count and time
 * window, and calls a handler `(event: Buffer, context)` with the CloudEvents JSON array FC delivers (bodies
 * base64-decoded when IsBase64Decode, the default). A rejection fails the whole batch, which is retried per the
 * push retry policy (BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY, waits multiplied by `timeScale`), then dead-lettered
 * to an MNS queue or dropped (errorsTolerance ALL), or the stream blocks (NONE).
 * The loop and the event builder are shared/sim/eventbridge.ts, shared with the embedded delivery of `npm start`.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type MnsCloudEvent,
  type PushRetryStrategy,
  runEventStream,
  type StreamEvent,
  type StreamStats,
  serializeEvents,
} from '../../shared/sim/eventbridge.js';
import type { FcContextLike, FcCredentials, FcEventHandler } from '../../shared/sim/fc.js';
import { MnsRestClient } from '../mns/client.js';

export interface EventBridgeDeliveryOptions {
  /** the MNS service to consume (the emulator's endpoint) and the keys EventBridge's role would use */
  mns: { endpoint: string; accessKeyId: string; accessKeySecret: string; securityToken?: string };
  queueName: string;
  accountId: string;
  region?: string;
  functionName?: string;
  triggerName?: string;
  handler: FcEventHandler;
  /** CountBasedWindow 1–10000 (default 10) */
  batchSize?: number;
  /** TimeBasedWindow seconds 0–15 (default 0) */
  batchWindowSeconds?: number;
  /** IsBase64Decode (default true) */
  base64Decode?: boolean;
  retryStrategy?: PushRetryStrategy;
  errorsTolerance?: 'ALL' | 'NONE';
  /** runOptions.deadLetterQueue: a queue on the same MNS service */
  deadLetterQueue?: string;
  /** multiplies EventBridge's waits (retry delays, batch window); e.g. 0.001 in tests (default 1) */
  timeScale?: number;
  /** long-poll seconds per idle receive (default 1) */
  pollWaitSeconds?: number;
  /** runOptions.maximumTasks (default 1) */
  maximumTasks?: number;
  /** the function role's credentials handed to the handler in `context.credentials` (default: the MNS keys) */
  functionCredentials?: FcCredentials;
  onEvent?(ev: StreamEvent): void;
}

export interface EventBridgeDelivery {
  stats(): StreamStats;
  /** Stops consuming: aborts the long poll and retry waits, lets a push in flight finish. Unfinished batches stay on the queue. */
  stop(): Promise<void>;
}

async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal });
}

export function startEventBridgeDelivery(opts: EventBridgeDeliveryOptions): EventBridgeDelivery {
  const region = opts.region ?? 'cn-hangzhou';
  const functionName = opts.functionName ?? 'pod-sync';
  const source = `MNS-${functionName}-${opts.triggerName ?? 'mns-trigger'}`;
  const client = new MnsRestClient(opts.mns);
  const credentials: FcCredentials = opts.functionCredentials ?? {
    accessKeyId: opts.mns.accessKeyId,
    accessKeySecret: opts.mns.accessKeySecret,
    securityToken: opts.mns.securityToken ?? '',
  };
  const dlq = opts.deadLetterQueue;

  const push = (events: MnsCloudEvent[]): Promise<unknown> => {
    const context: FcContextLike = {
      requestId: randomUUID(),
      credentials: { ...credentials },
      function: { name: functionName, handler: 'index.handler', memory: 512, timeout: 60 },
      region,
      accountId: opts.accountId,
    };
    return opts.handler(Buffer.from(serializeEvents(events), 'utf8'), context);
  };

  const stream = runEventStream(
    {
      info: { region, accountId: opts.accountId, queueName: opts.queueName, source },
      batchSize: opts.batchSize,
      batchWindowSeconds: opts.batchWindowSeconds,
      base64Decode: opts.base64Decode,
      retryStrategy: opts.retryStrategy,
      errorsTolerance: opts.errorsTolerance,
      timeScale: opts.timeScale,
      pollWaitSeconds: opts.pollWaitSeconds,
      tasks: opts.maximumTasks,
    },
    {
      queue: {
        receive: (max, wait, signal) => client.receive(opts.queueName, max, wait, signal),
        delete: async (handles) => {
          await client.delete(opts.queueName, handles);
        },
        changeVisibility: (handle, seconds) => client.changeVisibility(opts.queueName, handle, seconds),
      },
      push,
      deadLetter: dlq ? (bodies) => client.send(dlq, bodies) : undefined,
      now: () => Date.now(),
      sleep,
      newId: () => randomUUID(),
      random: () => Math.random(),
      onEvent: opts.onEvent,
    },
  );

  return {
    stats: () => stream.stats(),
    async stop() {
      await stream.stop();
      client.close();
    },
  };
}
