/**
 * status-sync (FC 3.0 timer, every minute): one sweep over every container group of this cluster and virtual node
 * (tag-filtered, 20 per page) and every pod of the node; patches only the pods whose status changed, turns ECI events
 * into Kubernetes Events, and writes the final status of finished groups before ECI forgets them. Then the heartbeat.
 */
import type { FcEventHandler } from '../../shared/sim/fc.js';
import { type BridgeProvider, fcEntry, timerHandler } from '../../shared/handlers.js';
import type { Logger } from '../../shared/ports/index.js';

export function createHandler(bridges: BridgeProvider, logger: () => Logger): FcEventHandler {
  return timerHandler('status-sync', bridges, logger, async (bridge, timer) => ({
    ...(await bridge.statusSync.sweep()),
    trigger: timer.triggerName,
  }));
}

export const handler: FcEventHandler = fcEntry('status-sync', createHandler);
