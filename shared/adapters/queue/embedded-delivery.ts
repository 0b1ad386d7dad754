/**
 * The embedded equivalent of an FC 3.0 MNS queue trigger, for `npm start`: consumes an EmbeddedQueue and calls an
 * FC-style handler with the same CloudEvents Buffer EventBridge delivers, with the same batching, retry policy and
 * dead-letter/drop behaviour. The loop and event builder are shared/sim/eventbridge.ts — the very code the
 * EventBridge simulator (emulators/eventbridge) runs against the MNS emulator.
 */
import type { StreamEvent, StreamHandle, StreamOptions } from '../../sim/eventbridge.js';
import type { FcCredentials, FcEventHandler } from '../../sim/fc.js';
import { runFcTrigger } from '../../sim/fc-trigger.js';
import type { Clock } from '../../ports/index.js';
import { type EmbeddedQueue, systemClock } from './embedded.js';

export interface EmbeddedDeliveryOptions
  extends Pick<StreamOptions, 'batchSize' | 'batchWindowSeconds' | 'base64Decode' | 'retryStrategy' | 'errorsTolerance' | 'timeScale' | 'pollWaitSeconds'> {
  queue: EmbeddedQueue;
  handler: FcEventHandler;
  /** EventBridge's dead-letter target (runOptions.deadLetterQueue); without one, exhausted batches are dropped */
  deadLetter?: EmbeddedQueue;
  accountId?: string;
  region?: string;
  functionName?: string;
  triggerName?: string;
  maximumTasks?: number;
  /** `context.credentials` for the handler (locally: whatever the composition root has, e.g. env keys) */
  functionCredentials?: FcCredentials;
  clock?: Clock;
  onEvent?(ev: StreamEvent): void;
}

export function startEmbeddedDelivery(opts: EmbeddedDeliveryOptions): StreamHandle {
  const clock = opts.clock ?? systemClock;
  const region = opts.region ?? 'local';
  const accountId = opts.accountId ?? 'local';
  const functionName = opts.functionName ?? 'pod-sync';
  const credentials: FcCredentials = opts.functionCredentials ?? { accessKeyId: '', accessKeySecret: '', securityToken: '' };
  const q = opts.queue;
  const dlq = opts.deadLetter;

  // the trigger settings go through under the same names (batchSize, retryStrategy, maximumTasks, …)
  return runFcTrigger(
    { ...opts, queueName: q.name, region, accountId, functionName, credentials },
    {
      queue: {
        receive: (max, wait, signal) => q.receive(max, wait, signal),
        delete: async (handles) => {
          await q.deleteMany(handles);
        },
        changeVisibility: (handle, seconds) => q.changeVisibilityDetailed(handle, seconds),
      },
      deadLetter: dlq ? (bodies) => dlq.send(bodies.map((body) => ({ body }))) : undefined,
      now: () => clock.now(),
      sleep: (ms, signal) => clock.sleep(ms, signal),
      onEvent: opts.onEvent,
    },
  );
}
