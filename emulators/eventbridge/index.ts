/**
 * The EventBridge → FC delivery of an FC 3.0 MNS queue trigger, simulated (FC MNS queue triggers, docs/architecture.md#sources): consumes an
 * MNS queue over HTTP (against the MNS emulator, as EventBridge would against MNS), batches by count and time
 * window, and calls a handler `(event: Buffer, context)` with the CloudEvents JSON array FC delivers (bodies
 * base64-decoded when IsBase64Decode, the default). A rejection fails the whole batch, which is retried per the
 * push retry policy (BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY, waits multiplied by `timeScale`), then dead-lettered
 * to an MNS queue or dropped (errorsTolerance ALL), or the stream blocks (NONE).
 * The loop, the event builder and the FC push are shared/sim (eventbridge.ts, fc-trigger.ts), shared with the embedded
 * delivery of `npm start`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { PushRetryStrategy, StreamEvent, StreamStats } from '../../shared/sim/eventbridge.js';
import type { FcCredentials, FcEventHandler } from '../../shared/sim/fc.js';
import { runFcTrigger } from '../../shared/sim/fc-trigger.js';
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
  const client = new MnsRestClient(opts.mns);
  const credentials: FcCredentials = opts.functionCredentials ?? {
    accessKeyId: opts.mns.accessKeyId,
    accessKeySecret: opts.mns.accessKeySecret,
    securityToken: opts.mns.securityToken ?? '',
  };
  const dlq = opts.deadLetterQueue;

  // the trigger settings go through under the same names (batchSize, retryStrategy, maximumTasks, …)
  const stream = runFcTrigger(
    { ...opts, region, functionName, credentials },
    {
      queue: {
        receive: (max, wait, signal) => client.receive(opts.queueName, max, wait, signal),
        delete: async (handles) => {
          await client.delete(opts.queueName, handles);
        },
        changeVisibility: (handle, seconds) => client.changeVisibility(opts.queueName, handle, seconds),
      },
      deadLetter: dlq ? (bodies) => client.send(dlq, bodies) : undefined,
      now: () => Date.now(),
      sleep,
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
