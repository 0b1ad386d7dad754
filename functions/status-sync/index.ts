/**
 * status-sync (FC 3.0 timer, every minute): one sweep over every container group of this cluster and virtual node
 * (tag-filtered, 20 per page) and every pod of the node; patches only the pods whose status changed, turns ECI events
 * into Kubernetes Events, and writes the final status of finished groups before ECI forgets them. Then the heartbeat.
 */
import { parseTimerEvent } from '../../shared/adapters/fc/events.js';
import { fcHandler } from '../../shared/adapters/fc/middy.js';
import { type Bridge, bridgeFactory, createLogger } from '../../shared/compose.js';
import { loadConfig } from '../../shared/config.js';
import type { FcCredentials, FcEventHandler } from '../../shared/sim/fc.js';
import type { Logger } from '../../shared/ports/index.js';
import { runOutcome } from '../../shared/usecases/heartbeat.js';
import type { StatusReport } from '../../shared/usecases/statusSync.js';

export function createHandler(bridges: (c?: FcCredentials, a?: string) => Bridge, logger: () => Logger): FcEventHandler {
  return fcHandler(
    'status-sync',
    async (event, context): Promise<StatusReport & { trigger: string }> => {
      const timer = parseTimerEvent(event);
      const bridge = bridges(context.credentials, context.accountId);
      try {
        const report = await bridge.statusSync.sweep();
        await bridge.heartbeat.record(runOutcome('status-sync', true, bridge.takeEciTally()));
        return { ...report, trigger: timer.triggerName };
      } catch (err) {
        await bridge.heartbeat.record(runOutcome('status-sync', false, bridge.takeEciTally()));
        throw err;
      }
    },
    { logger },
  );
}

let log: Logger | undefined;
const lazyLogger = (): Logger => {
  log ??= createLogger(loadConfig(), { fn: 'status-sync' });
  return log;
};

export const handler: FcEventHandler = createHandler(bridgeFactory(() => loadConfig(), () => ({ logger: lazyLogger() })), lazyLogger);
