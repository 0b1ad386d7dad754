/**
 * billing (FC 3.0 timer, hourly at minute 5 UTC): the cost report of the last complete hour — every container group
 * of this cluster (by tag, finished ones too) and every pod of the virtual node, priced from the price table — stored
 * once in a day ConfigMap of the bridge namespace; pods annotated with their billed size and cost so far; namespace
 * budgets evaluated (Events at 80 % and 100 %, the state the admission webhook reads). Then the heartbeat.
 *
 * The timer payload may name another complete hour to report (`{"period":"2024-05-01T10:00Z"}`, e.g. through
 * `eci-bridge invoke billing`): running a period again never changes what was stored for it.
 */
import { z } from 'zod';
import { parseTimerEvent } from '../../shared/adapters/fc/events.js';
import { fcHandler } from '../../shared/adapters/fc/middy.js';
import { type Bridge, billingOf, bridgeFactory, createLogger } from '../../shared/compose.js';
import { loadConfig } from '../../shared/config.js';
import { hourPeriod, type Period, periodId } from '../../shared/domain/billing.js';
import type { FcCredentials, FcEventHandler } from '../../shared/sim/fc.js';
import { BridgeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/ports/index.js';
import type { BillingRunResult } from '../../shared/usecases/billing.js';
import { runOutcome } from '../../shared/usecases/heartbeat.js';

/** The billing run failed in a way the next hourly run does not repair by itself (bad payload, report not stored). */
export class BillingRunError extends BridgeError {
  constructor(
    message: string,
    readonly kind: 'permanent' | 'retryable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface BillingSummary {
  trigger: string;
  period: string;
  stored: BillingRunResult['stored'];
  pods: number;
  total: string;
  /** what an ECI VNode would cost for the period: a comparison, not in `total` */
  vnodeComparison: string;
  currency: string;
  annotated: number;
  budgetEvents: number;
  priceMismatches: string[];
}

const PayloadSchema = z.looseObject({ period: z.string().optional() });
const PERIOD_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:00(?::00(?:\.000)?)?Z$/;

/** The period to report: the payload's `period` (a complete UTC hour), else the hour before `now`. */
export function periodOf(payload: string | undefined, now: number): Period {
  let value: unknown;
  try {
    value = payload && payload.trim() !== '' ? JSON.parse(payload) : {};
  } catch {
    value = {}; // a plain-text payload (e.g. "hourly") names no period
  }
  const res = PayloadSchema.safeParse(value);
  const text = res.success ? res.data.period : undefined;
  if (text === undefined) return hourPeriod(now, -1);
  if (!PERIOD_RE.test(text)) throw new BillingRunError(`payload period '${text}' must be a UTC hour, e.g. 2024-05-01T10:00Z`, 'permanent');
  const p = hourPeriod(Date.parse(text));
  if (p.end > now) throw new BillingRunError(`payload period ${periodId(p)} is not complete yet`, 'permanent');
  return p;
}

export function createHandler(bridges: (c?: FcCredentials, a?: string) => Bridge, logger: () => Logger): FcEventHandler {
  return fcHandler(
    'billing',
    async (event, context): Promise<BillingSummary> => {
      const timer = parseTimerEvent(event);
      const bridge = bridges(context.credentials, context.accountId);
      try {
        const period = periodOf(timer.payload, bridge.clock.now());
        const r = await billingOf(bridge).run(period);
        if (r.stored === 'failed') {
          // kept visible: the invocation fails (and is logged as failed); the next run or a manual re-run of the
          // period stores it, and `eci-bridge cost` computes unstored hours live meanwhile
          throw new BillingRunError(`the report of ${r.report.id} could not be stored`, 'retryable');
        }
        await bridge.heartbeat.record(runOutcome('billing', true, bridge.takeEciTally()));
        return {
          trigger: timer.triggerName,
          period: r.report.id,
          stored: r.stored,
          pods: r.report.pods.length,
          total: r.report.totals.all.amount,
          vnodeComparison: r.report.totals.vnodes.amount,
          currency: r.report.currency,
          annotated: r.annotated,
          budgetEvents: r.budgetEvents,
          priceMismatches: r.priceChecks.filter((c) => !c.ok).map((c) => c.size),
        };
      } catch (err) {
        await bridge.heartbeat.record(runOutcome('billing', false, bridge.takeEciTally()));
        throw err;
      }
    },
    { logger },
  );
}

let log: Logger | undefined;
const lazyLogger = (): Logger => {
  log ??= createLogger(loadConfig(), { fn: 'billing' });
  return log;
};

export const handler: FcEventHandler = createHandler(bridgeFactory(() => loadConfig(), () => ({ logger: lazyLogger() })), lazyLogger);
