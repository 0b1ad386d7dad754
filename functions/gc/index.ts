/**
 * gc (FC 3.0 timer, every few minutes): deletes orphan container groups (no pod with their UID) older than the
 * grace and logs one report line each; re-nudges bound pods left without a group; an Event for pods stuck on
 * repeated errors. Then the heartbeat.
 */
import type { FcEventHandler } from '../../shared/sim/fc.js';
import { type BridgeProvider, fcEntry, timerHandler } from '../../shared/handlers.js';
import type { Logger } from '../../shared/ports/index.js';

export function createHandler(bridges: BridgeProvider, logger: () => Logger): FcEventHandler {
  return timerHandler('gc', bridges, logger, async (bridge, timer) => ({ ...(await bridge.gc.run()), trigger: timer.triggerName }));
}

export const handler: FcEventHandler = fcEntry('gc', createHandler);
