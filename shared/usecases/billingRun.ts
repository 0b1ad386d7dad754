/**
 * One run of the billing function (functions/billing): the period named by the timer payload (a complete UTC hour,
 * else the hour before now), the run of the billing use-case, and the summary the invocation returns. A report that
 * could not be stored fails the invocation, kept visible: the next run or a manual re-run of the period stores it,
 * and `eci-bridge cost` computes unstored hours live meanwhile.
 */
import { z } from 'zod';
import { hourPeriod, type Period, periodId } from '../domain/billing.js';
import { BridgeError } from '../errors.js';
import type { BillingRunResult } from './billing.js';

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

/** A timer payload as JSON (an empty or plain-text payload, e.g. "hourly", is `{}`), checked against `schema`. */
export function timerPayload<T>(payload: string | undefined, schema: z.ZodType<T>): T | undefined {
  let value: unknown;
  try {
    value = payload && payload.trim() !== '' ? JSON.parse(payload) : {};
  } catch {
    value = {}; // a plain-text payload names nothing
  }
  const res = schema.safeParse(value);
  return res.success ? res.data : undefined;
}

/** The period to report: the payload's `period` (a complete UTC hour), else the hour before `now`. */
export function periodOf(payload: string | undefined, now: number): Period {
  const text = timerPayload(payload, PayloadSchema)?.period;
  if (text === undefined) return hourPeriod(now, -1);
  if (!PERIOD_RE.test(text)) throw new BillingRunError(`payload period '${text}' must be a UTC hour, e.g. 2024-05-01T10:00Z`, 'permanent');
  const p = hourPeriod(Date.parse(text));
  if (p.end > now) throw new BillingRunError(`payload period ${periodId(p)} is not complete yet`, 'permanent');
  return p;
}

/** Runs billing for the payload's period and summarises the result; a report not stored is a retryable failure. */
export async function runBillingPeriod(
  /** built after the period is checked, as the handler always did */
  billing: () => { run(period: Period): Promise<BillingRunResult> },
  timer: { triggerName: string; payload?: string | undefined },
  now: number,
): Promise<BillingSummary> {
  const period = periodOf(timer.payload, now);
  const r = await billing().run(period);
  if (r.stored === 'failed') throw new BillingRunError(`the report of ${r.report.id} could not be stored`, 'retryable');
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
}
