/**
 * gc (FC 3.0 timer, every few minutes): deletes orphan container groups (no pod with their UID) older than the
 * grace and logs one report line each; re-nudges bound pods left without a group; an Event for pods stuck on
 * repeated errors. Then the heartbeat.
 */
import { parseTimerEvent } from '../../shared/adapters/fc/events.js';
import { fcHandler } from '../../shared/adapters/fc/middy.js';
import { type Bridge, bridgeFactory, createLogger } from '../../shared/compose.js';
import { loadConfig } from '../../shared/config.js';
import type { FcCredentials, FcEventHandler } from '../../shared/sim/fc.js';
import type { Logger } from '../../shared/ports/index.js';
import type { GcReport } from '../../shared/usecases/gc.js';
import { runOutcome } from '../../shared/usecases/heartbeat.js';

export function createHandler(bridges: (c?: FcCredentials, a?: string) => Bridge, logger: () => Logger): FcEventHandler {
  return fcHandler(
    'gc',
    async (event, context): Promise<GcReport & { trigger: string }> => {
      const timer = parseTimerEvent(event);
      const bridge = bridges(context.credentials, context.accountId);
      try {
        const report = await bridge.gc.run();
        await bridge.heartbeat.record(runOutcome('gc', true, bridge.takeEciTally()));
        return { ...report, trigger: timer.triggerName };
      } catch (err) {
        await bridge.heartbeat.record(runOutcome('gc', false, bridge.takeEciTally()));
        throw err;
      }
    },
    { logger },
  );
}

let log: Logger | undefined;
const lazyLogger = (): Logger => {
  log ??= createLogger(loadConfig(), { fn: 'gc' });
  return log;
};

export const handler: FcEventHandler = createHandler(bridgeFactory(() => loadConfig(), () => ({ logger: lazyLogger() })), lazyLogger);
