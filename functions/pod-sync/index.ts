/**
 * pod-sync (FC 3.0, MNS queue trigger through EventBridge): parse the CloudEvents batch → converge each nudged pod
 * and describe the ticked pods in batches → heartbeat. Malformed messages go to the dead-letter queue with their
 * reason; a failing pod is retried on its own (a delayed re-nudge); the batch always resolves, so EventBridge never
 * repeats the good messages.
 */
import { fcHandler } from '../../shared/adapters/fc/middy.js';
import type { FcContextLike, FcEventHandler } from '../../shared/sim/fc.js';
import { type BridgeProvider, bridgeOf, fcEntry, heartbeat, queueRecordsOf } from '../../shared/handlers.js';
import type { Logger } from '../../shared/ports/index.js';
import { type BatchReport, processQueueBatch } from '../../shared/usecases/queueBatch.js';

export type { BridgeProvider };

export function createHandler(bridges: BridgeProvider, logger: () => Logger): FcEventHandler {
  const run = async (event: Buffer, context: FcContextLike): Promise<BatchReport> => {
    const bridge = bridgeOf(bridges, context);
    const { podSync, statusSync, deadLetter } = bridge;
    const log = bridge.logger.child({ requestId: context.requestId });
    return processQueueBatch(queueRecordsOf(event, context), { podSync, statusSync, deadLetter, logger: log, now: () => bridge.clock.now() });
  };
  return fcHandler('pod-sync', run, { logger, middlewares: [heartbeat('pod-sync', { throttle: true, failures: false })] });
}

export const handler: FcEventHandler = fcEntry('pod-sync', createHandler);
