/**
 * An FC 3.0 MNS queue trigger on top of the event stream (shared/sim/eventbridge.ts): every batch is handed to an
 * FC-style handler as the CloudEvents Buffer with the invocation context FC builds. The EventBridge simulator
 * (emulators/eventbridge, over HTTP) and the embedded delivery of `npm start` (shared/adapters/queue) both run
 * their trigger through here, so the context, the event source name and the option mapping cannot drift apart.
 * No I/O of its own: the queue, time and sleep are injected, as for the stream; ids and jitter default to
 * node:crypto's UUIDs and Math.random, what both deliveries use.
 */
import { randomUUID } from 'node:crypto';
import { type MnsCloudEvent, runEventStream, type StreamDeps, type StreamHandle, type StreamOptions, serializeEvents } from './eventbridge.js';
import type { FcContextLike, FcCredentials, FcEventHandler } from './fc.js';

export interface FcTriggerOptions extends Omit<StreamOptions, 'info' | 'tasks'> {
  queueName: string;
  region: string;
  accountId: string;
  functionName: string;
  /** the trigger's name, part of the events' `source` (default `mns-trigger`) */
  triggerName?: string;
  /** runOptions.maximumTasks: parallel consumers (default 1) */
  maximumTasks?: number;
  handler: FcEventHandler;
  /** the function role's credentials, copied into each invocation's `context.credentials` */
  credentials: FcCredentials;
}

/** What the stream needs besides the push, which the trigger builds; `newId` and `random` may be left to the defaults. */
export type FcTriggerDeps = Omit<StreamDeps, 'push' | 'newId' | 'random'> & Partial<Pick<StreamDeps, 'newId' | 'random'>>;

/** Runs the stream, pushing each batch to `opts.handler` as FC invokes a function for an MNS queue trigger. */
export function runFcTrigger(opts: FcTriggerOptions, deps: FcTriggerDeps): StreamHandle {
  const { region, accountId, functionName } = opts;
  const newId = deps.newId ?? (() => randomUUID());
  const push = (events: MnsCloudEvent[]): Promise<unknown> => {
    const context: FcContextLike = {
      requestId: newId(),
      credentials: { ...opts.credentials },
      function: { name: functionName, handler: 'index.handler', memory: 512, timeout: 60 },
      region,
      accountId,
    };
    return opts.handler(Buffer.from(serializeEvents(events), 'utf8'), context);
  };
  return runEventStream(
    {
      info: { region, accountId, queueName: opts.queueName, source: `MNS-${functionName}-${opts.triggerName ?? 'mns-trigger'}` },
      batchSize: opts.batchSize,
      batchWindowSeconds: opts.batchWindowSeconds,
      base64Decode: opts.base64Decode,
      retryStrategy: opts.retryStrategy,
      errorsTolerance: opts.errorsTolerance,
      timeScale: opts.timeScale,
      pollWaitSeconds: opts.pollWaitSeconds,
      tasks: opts.maximumTasks,
    },
    { random: () => Math.random(), ...deps, newId, push },
  );
}
