/**
 * reconcile (FC 3.0 timer, daily at 02:30 UTC = 10:30 UTC+8): the latest billing day whose bill has settled
 * (BILLING_SETTLE_HOURS after its end, in the bill's time zone BILLING_DAY_UTC_OFFSET_HOURS) reconciled against the
 * hourly reports — per container group billed vs estimated, the cause of each difference, leaks (an Event on the
 * virtual node, handed to gc), learned prices, the bridge's own FC and MNS cost (docs/billing-reconciliation.md).
 * Then the heartbeat.
 *
 * The timer payload may name another settled day (`{"day":"2024-05-01"}`, e.g. through `eci-bridge invoke
 * reconcile`): a day is reconciled once; running it again changes nothing (shared/usecases/reconcileRun.ts).
 */
import { reconcileOf } from '../../shared/compose-reconcile.js';
import type { FcEventHandler } from '../../shared/sim/fc.js';
import { type BridgeProvider, fcEntry, timerHandler } from '../../shared/handlers.js';
import type { Logger } from '../../shared/ports/index.js';
import { runReconcileDay } from '../../shared/usecases/reconcileRun.js';

export { dayOf, type ReconcileSummary } from '../../shared/usecases/reconcileRun.js';

export function createHandler(bridges: BridgeProvider, logger: () => Logger): FcEventHandler {
  return timerHandler('reconcile', bridges, logger, (bridge, timer, context) =>
    runReconcileDay(() => reconcileOf(bridge, context.credentials), timer),
  );
}

export const handler: FcEventHandler = fcEntry('reconcile', createHandler);
