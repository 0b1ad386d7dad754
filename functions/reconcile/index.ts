/**
 * reconcile (FC 3.0 timer, daily at 02:30 UTC = 10:30 UTC+8): the latest billing day whose bill has settled
 * (BILLING_SETTLE_HOURS after its end, in the bill's time zone BILLING_DAY_UTC_OFFSET_HOURS) reconciled against the
 * hourly reports — per container group billed vs estimated, the cause of each difference, leaks (an Event on the
 * virtual node, handed to gc), learned prices, the bridge's own FC and MNS cost (docs/billing-reconciliation.md).
 * Then the heartbeat.
 *
 * The timer payload may name another settled day (`{"day":"2024-05-01"}`, e.g. through `eci-bridge invoke
 * reconcile`): a day is reconciled once; running it again changes nothing.
 */
import { z } from 'zod';
import { parseTimerEvent } from '../../shared/adapters/fc/events.js';
import { fcHandler } from '../../shared/adapters/fc/middy.js';
import { type Bridge, bridgeFactory, createLogger } from '../../shared/compose.js';
import { reconcileOf } from '../../shared/compose-reconcile.js';
import { loadConfig } from '../../shared/config.js';
import { isDay } from '../../shared/domain/bill.js';
import type { FcCredentials, FcEventHandler } from '../../shared/sim/fc.js';
import type { Logger } from '../../shared/ports/index.js';
import { runOutcome } from '../../shared/usecases/heartbeat.js';
import { ReconcileError, type ReconcileRunResult } from '../../shared/usecases/reconcile.js';

export interface ReconcileSummary {
  trigger: string;
  day: string;
  stored: ReconcileRunResult['stored'];
  groups: number;
  leaks: string[];
  billed: string;
  estimated: string;
  difference: string;
  bridge: string;
  currency: string;
  byCause: Record<string, number>;
}

const PayloadSchema = z.looseObject({ day: z.string().optional() });

/** The day named by the payload (`{"day":"YYYY-MM-DD"}`), else undefined (the latest settled day). */
export function dayOf(payload: string | undefined): string | undefined {
  let value: unknown;
  try {
    value = payload && payload.trim() !== '' ? JSON.parse(payload) : {};
  } catch {
    value = {}; // a plain-text payload names no day
  }
  const res = PayloadSchema.safeParse(value);
  const day = res.success ? res.data.day : undefined;
  if (day !== undefined && !isDay(day)) throw new ReconcileError(`payload day '${day}' must be a date, e.g. 2024-05-01`, 'permanent');
  return day;
}

export function createHandler(bridges: (c?: FcCredentials, a?: string) => Bridge, logger: () => Logger): FcEventHandler {
  return fcHandler(
    'reconcile',
    async (event, context): Promise<ReconcileSummary> => {
      const timer = parseTimerEvent(event);
      const bridge = bridges(context.credentials, context.accountId);
      try {
        const r = await reconcileOf(bridge, context.credentials).run(dayOf(timer.payload));
        await bridge.heartbeat.record(runOutcome('reconcile', true, bridge.takeEciTally()));
        const rec = r.reconciliation;
        return {
          trigger: timer.triggerName,
          day: rec.day,
          stored: r.stored,
          groups: rec.groups.length,
          leaks: rec.leaks.map((l) => l.groupId),
          billed: rec.totals.billed,
          estimated: rec.totals.estimated,
          difference: rec.totals.difference,
          bridge: rec.bridge.billed,
          currency: rec.currency,
          byCause: Object.fromEntries(Object.entries(rec.totals.byCause).map(([k, v]) => [k, v.groups])),
        };
      } catch (err) {
        await bridge.heartbeat.record(runOutcome('reconcile', false, bridge.takeEciTally()));
        throw err;
      }
    },
    { logger },
  );
}

let log: Logger | undefined;
const lazyLogger = (): Logger => {
  log ??= createLogger(loadConfig(), { fn: 'reconcile' });
  return log;
};

export const handler: FcEventHandler = createHandler(bridgeFactory(() => loadConfig(), () => ({ logger: lazyLogger() })), lazyLogger);
