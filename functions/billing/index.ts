/**
 * billing (FC 3.0 timer, hourly at minute 5 UTC): the cost report of the last complete hour — every container group
 * of this cluster (by tag, finished ones too) and every pod of the virtual node, priced from the price table — stored
 * once in a day ConfigMap of the bridge namespace; pods annotated with their billed size and cost so far; namespace
 * budgets evaluated (Events at 80 % and 100 %, the state the admission webhook reads). Then the heartbeat.
 *
 * The timer payload may name another complete hour to report (`{"period":"2024-05-01T10:00Z"}`, e.g. through
 * `eci-bridge invoke billing`): running a period again never changes what was stored for it
 * (shared/usecases/billingRun.ts).
 */
import { billingOf } from '../../shared/compose.js';
import type { FcEventHandler } from '../../shared/sim/fc.js';
import { type BridgeProvider, fcEntry, timerHandler } from '../../shared/handlers.js';
import type { Logger } from '../../shared/ports/index.js';
import { runBillingPeriod } from '../../shared/usecases/billingRun.js';

export { BillingRunError, type BillingSummary, periodOf } from '../../shared/usecases/billingRun.js';

export function createHandler(bridges: BridgeProvider, logger: () => Logger): FcEventHandler {
  return timerHandler('billing', bridges, logger, (bridge, timer) => runBillingPeriod(() => billingOf(bridge), timer, bridge.clock.now()));
}

export const handler: FcEventHandler = fcEntry('billing', createHandler);
