/**
 * pod-sync (FC 3.0, MNS queue trigger through EventBridge): parse the CloudEvents batch → converge each nudged pod
 * and describe the ticked pods in batches → heartbeat. Malformed messages go to the dead-letter queue with their
 * reason; a failing pod is retried on its own (a delayed re-nudge); the batch always resolves, so EventBridge never
 * repeats the good messages.
 */
import { FcEventError, parseQueueEvent, type QueueRecord } from '../../shared/adapters/fc/events.js';
import { fcHandler } from '../../shared/adapters/fc/middy.js';
import { type Bridge, bridgeFactory, createLogger } from '../../shared/compose.js';
import { loadConfig } from '../../shared/config.js';
import type { FcCredentials, FcEventHandler } from '../../shared/sim/fc.js';
import type { Logger } from '../../shared/ports/index.js';
import { runOutcome } from '../../shared/usecases/heartbeat.js';
import { type BatchReport, processQueueBatch } from '../../shared/usecases/queueBatch.js';

export type BridgeProvider = (credentials?: FcCredentials, accountId?: string) => Bridge;

export function createHandler(bridges: BridgeProvider, logger: () => Logger): FcEventHandler {
  return fcHandler(
    'pod-sync',
    async (event, context): Promise<BatchReport> => {
      const bridge = bridges(context.credentials, context.accountId);
      let items: QueueRecord[];
      try {
        items = parseQueueEvent(event);
      } catch (err) {
        // Not even an envelope: nothing to isolate; dead-letter the whole event as one malformed message. Parsing is
        // deterministic, so any failure here (not only FcEventError) would fail again on every retry of the batch.
        const detail = err instanceof FcEventError ? err.message : 'the event could not be parsed';
        items = [{ ok: false, messageId: context.requestId, reason: 'envelope', detail, body: event.toString('utf8') }];
      }
      const report = await processQueueBatch(items, {
        podSync: bridge.podSync,
        statusSync: bridge.statusSync,
        deadLetter: bridge.deadLetter,
        logger: bridge.logger.child({ requestId: context.requestId }),
        now: () => bridge.clock.now(),
      });
      await bridge.heartbeat.record({ ...runOutcome('pod-sync', true, bridge.takeEciTally()), throttle: true });
      return report;
    },
    { logger },
  );
}

let log: Logger | undefined;
const lazyLogger = (): Logger => {
  log ??= createLogger(loadConfig(), { fn: 'pod-sync' });
  return log;
};

export const handler: FcEventHandler = createHandler(bridgeFactory(() => loadConfig(), () => ({ logger: lazyLogger() })), lazyLogger);
