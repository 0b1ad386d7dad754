/**
 * What every function handler shares, so `functions/<name>/index.ts` holds only its own step:
 * - `heartbeat`: the middy middleware that writes the functions heartbeat after the run (ok) or when it failed;
 * - `timerHandler`: a timer-triggered function — parse the timer event, the bridge of the invocation's credentials,
 *   the run, the heartbeat;
 * - `fcEntry`: the exported `handler` of a bundle — a lazily built logger and the memoised bridge factory over the
 *   configuration parsed once (shared/config.ts).
 */
import { FcEventError, parseQueueEvent, parseTimerEvent, type QueueRecord, type TimerEvent } from './adapters/fc/events.js';
import { type FcMiddleware, fcHandler } from './adapters/fc/middy.js';
import { type Bridge, bridgeFactory, createLogger } from './compose.js';
import { loadConfig } from './config.js';
import type { FcContextLike, FcCredentials, FcEventHandler } from './sim/fc.js';
import type { Logger } from './ports/index.js';
import { runOutcome } from './usecases/heartbeat.js';

export type BridgeProvider = (credentials?: FcCredentials, accountId?: string) => Bridge;

/** The bridge an invocation built, for the heartbeat middleware (middy hands the same context object around). */
const invocationBridges = new WeakMap<FcContextLike, Bridge>();

/** The bridge for this invocation's credentials, remembered for the heartbeat middleware. */
export function bridgeOf(bridges: BridgeProvider, context: FcContextLike): Bridge {
  const bridge = bridges(context.credentials, context.accountId);
  invocationBridges.set(context, bridge);
  return bridge;
}

/**
 * Writes the functions heartbeat after the run with the ECI tally of the invocation: `ok` after a run that returned,
 * failed after one that threw (unless `failures: false`). Nothing is written when the run failed before its bridge
 * was built (no cluster to write to). `throttle`: see HeartbeatWriter (pod-sync's frequent runs).
 */
export function heartbeat(fn: string, opts: { throttle?: boolean; failures?: boolean } = {}): FcMiddleware {
  const record = async (context: FcContextLike, ok: boolean): Promise<void> => {
    const bridge = invocationBridges.get(context);
    if (!bridge) return;
    invocationBridges.delete(context); // a context object reused by a caller must not reach an old bridge
    await bridge.heartbeat.record({ ...runOutcome(fn, ok, bridge.takeEciTally()), ...(opts.throttle ? { throttle: true } : {}) });
  };
  return {
    after: function heartbeatAfter(request) {
      return record(request.context, true);
    },
    onError: function heartbeatOnError(request) {
      return opts.failures === false ? undefined : record(request.context, false);
    },
  };
}

/** A timer-triggered function: the timer event parsed, then `run` with the invocation's bridge, then the heartbeat. */
export function timerHandler<R>(
  fn: string,
  bridges: BridgeProvider,
  logger: () => Logger,
  run: (bridge: Bridge, timer: TimerEvent, context: FcContextLike) => Promise<R>,
): FcEventHandler {
  return fcHandler(
    fn,
    async (event, context) => {
      const timer = parseTimerEvent(event);
      return run(bridgeOf(bridges, context), timer, context);
    },
    { logger, middlewares: [heartbeat(fn)] },
  );
}

/**
 * The records of a queue-triggered invocation. Not even an envelope: nothing to isolate; the whole event becomes one
 * malformed message (dead-lettered with its reason). Parsing is deterministic, so any failure here (not only
 * FcEventError) would fail again on every retry of the batch.
 */
export function queueRecordsOf(event: Buffer, context: FcContextLike): QueueRecord[] {
  try {
    return parseQueueEvent(event);
  } catch (err) {
    const detail = err instanceof FcEventError ? err.message : 'the event could not be parsed';
    return [{ ok: false, messageId: context.requestId, reason: 'envelope', detail, body: event.toString('utf8') }];
  }
}

/** The bundle's exported handler: `create` given the memoised bridge factory and a lazily built logger. */
export function fcEntry(fn: string, create: (bridges: BridgeProvider, logger: () => Logger) => FcEventHandler): FcEventHandler {
  let log: Logger | undefined;
  const lazyLogger = (): Logger => {
    log ??= createLogger(loadConfig(), { fn });
    return log;
  };
  return create(
    bridgeFactory(
      () => loadConfig(),
      () => ({ logger: lazyLogger() }),
    ),
    lazyLogger,
  );
}
