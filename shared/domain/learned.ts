/**
 * Prices learned from the bill (reconcile.ts `learned`), kept in a ConfigMap by the reconcile function and used by
 * the hourly estimator when the user opts in (`BILLING_LEARNED_PRICES=true`): the observed hourly price of each ECS
 * instance type billed on demand and the effective spot ratio replace the table's. vCPU/memory specs keep the
 * table's per-unit prices (one observed price per spec does not separate the vCPU and the memory price). Pure.
 */
import { z } from 'zod';
import type { PriceTable } from './prices.js';
import type { Reconciliation } from './reconcile.js';

/** The ConfigMap (bridge namespace) and key the reconcile function keeps them in. */
export const LEARNED_CONFIGMAP = 'eci-bridge-learned-prices';
export const LEARNED_KEY = 'learned.json';

export const LearnedPricesSchema = z.strictObject({
  v: z.literal(1),
  /** the billing day they were observed on */
  day: z.string(),
  currency: z.string(),
  /** ECS instance type → observed price per hour (decimal string) */
  instanceTypes: z.record(z.string(), z.string().regex(/^\d+\.\d+$/)),
  /** observed spot price / on-demand price, 4 decimals */
  spotRatio: z.string().regex(/^[01]\.\d{4}$/).nullable(),
});
export type LearnedPrices = z.infer<typeof LearnedPricesSchema>;

/** Reads the stored form; undefined when absent or unreadable. */
export function readLearned(text: string | undefined): LearnedPrices | undefined {
  if (text === undefined) return undefined;
  try {
    const r = LearnedPricesSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** What a reconciliation teaches (instance types only; null when it observed nothing). */
export function learnedFrom(r: Reconciliation): LearnedPrices | null {
  const instanceTypes: Record<string, string> = {};
  for (const u of r.learned.unitPrices) if (u.size.startsWith('ecs.')) instanceTypes[u.size] = u.observedPerHour;
  const spotRatio = r.learned.spotRatio?.observed ?? null;
  if (!Object.keys(instanceTypes).length && spotRatio === null) return null;
  return { v: 1, day: r.day, currency: r.currency, instanceTypes, spotRatio };
}

/** Merges newer observations over older ones (a day without spot groups keeps the last known ratio). */
export function mergeLearned(older: LearnedPrices | undefined, newer: LearnedPrices): LearnedPrices {
  if (!older || older.currency !== newer.currency) return newer;
  const [base, top] = older.day > newer.day ? [newer, older] : [older, newer]; // a re-run of an old day never overrides a newer one
  return {
    v: 1,
    day: top.day,
    currency: top.currency,
    instanceTypes: { ...base.instanceTypes, ...top.instanceTypes },
    spotRatio: top.spotRatio ?? base.spotRatio,
  };
}

/** The table with the learned prices applied (same currency only). Prices: nano-currency per hour; ratio: basis points. */
export function applyLearned(table: PriceTable, learned: LearnedPrices | undefined): PriceTable {
  if (!learned || learned.currency !== table.currency) return table;
  const instanceTypes = { ...table.instanceTypes };
  for (const [type, perHour] of Object.entries(learned.instanceTypes)) instanceTypes[type] = Number(nano(perHour));
  const spotRatio = learned.spotRatio === null ? table.spotRatio : Number(learned.spotRatio.replace('.', ''));
  return { ...table, instanceTypes, spotRatio };
}

function nano(decimal: string): bigint {
  const [int = '0', frac = ''] = decimal.split('.');
  return BigInt(int) * 1_000_000_000n + BigInt((frac.slice(0, 9) || '0').padEnd(9, '0'));
}
