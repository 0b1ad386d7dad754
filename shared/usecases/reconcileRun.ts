/**
 * One run of the reconcile function (functions/reconcile): the day named by the timer payload (`{"day":"YYYY-MM-DD"}`,
 * else the latest settled day), the run of the reconcile use-case, and the summary the invocation returns.
 */
import { z } from 'zod';
import { isDay } from '../domain/bill.js';
import { timerPayload } from './billingRun.js';
import { ReconcileError, type ReconcileRunResult } from './reconcile.js';

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
  const day = timerPayload(payload, PayloadSchema)?.day;
  if (day !== undefined && !isDay(day)) throw new ReconcileError(`payload day '${day}' must be a date, e.g. 2024-05-01`, 'permanent');
  return day;
}

/** Reconciles the payload's day and summarises the result (the use-case is built first, as the handler always did). */
export async function runReconcileDay(
  reconcile: () => { run(day?: string): Promise<ReconcileRunResult> },
  timer: { triggerName: string; payload?: string | undefined },
): Promise<ReconcileSummary> {
  const useCase = reconcile();
  const r = await useCase.run(dayOf(timer.payload));
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
}
