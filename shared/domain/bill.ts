/**
 * The actual bill (BSS OpenAPI 2017-12-14, `DescribeInstanceBill` with `Granularity=DAILY`; docs/billing-reconciliation.md
 * lists the fields relied on and their sources): bill lines parsed from the wire, the billing day and its time zone.
 * Pure (zod only).
 *
 * **Billing day.** Alibaba Cloud's bills are in China Standard Time (UTC+8): the daily bill `BillingDate=2024-05-01`
 * covers 2024-04-30T16:00Z to 2024-05-01T16:00Z. The offset is configurable (`BILLING_DAY_UTC_OFFSET_HOURS`) and a
 * whole number of hours, so a billing day is exactly 24 of the hourly reports' UTC hours.
 */
import { z } from 'zod';
import { BillingError, type Money, type Period, parseMoney } from './billing.js';

/** The ProductCode of the bill lines the bridge reads. */
export const PRODUCT_ECI = 'eci';
export const PRODUCT_FC = 'fc';
export const PRODUCT_MNS = 'mns';
export const BILL_PRODUCTS = [PRODUCT_ECI, PRODUCT_FC, PRODUCT_MNS] as const;

/** Tag on the bridge's own resources (FC functions, MNS queues; s.yaml and deploy/aliyun/queues.ros.yaml) beside the cluster tag. */
export const TAG_BRIDGE_PART = 'eci-bridge.io/part';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function isDay(text: string): boolean {
  return DAY_RE.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
}

/** The UTC period of billing day `day` in a time zone `offsetHours` east of UTC. */
export function billingDayPeriod(day: string, offsetHours: number): Period {
  if (!isDay(day)) throw new BillingError(`'${day}' is not a day (YYYY-MM-DD)`);
  const start = Date.parse(`${day}T00:00:00Z`) - offsetHours * HOUR;
  return { start, end: start + DAY };
}

/** The billing day (`YYYY-MM-DD`) containing instant `t`. */
export function billingDayOf(t: number, offsetHours: number): string {
  return new Date(t + offsetHours * HOUR).toISOString().slice(0, 10);
}

/** The latest billing day whose bill has settled at `now`: its end is at least `settleHours` ago. */
export function lastSettledDay(now: number, offsetHours: number, settleHours: number): string {
  return billingDayOf(now - settleHours * HOUR - DAY, offsetHours);
}

export function isSettled(day: string, now: number, offsetHours: number, settleHours: number): boolean {
  return billingDayPeriod(day, offsetHours).end + settleHours * HOUR <= now;
}

/** `+08:00` */
export function utcOffsetText(offsetHours: number): string {
  const sign = offsetHours < 0 ? '-' : '+';
  return `UTC${sign}${String(Math.abs(offsetHours)).padStart(2, '0')}:00`;
}

// ---------------------------------------------------------------- bill lines

/**
 * The `Tag` of a bill line. The API reference shows `key:testKey value:testValue; key:testKey1 value:testValues1`;
 * the bill file format documents `key1:value1;key2:value2`. Both are read (a value may contain `:`; entries are
 * separated by `;`).
 */
export function parseBillTags(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of (text ?? '').split(';')) {
    const entry = raw.trim();
    if (!entry) continue;
    const kv = /^key:(.*?)\s+value:(.*)$/.exec(entry);
    if (kv?.[1] !== undefined && kv[2] !== undefined) {
      out[kv[1].trim()] = kv[2].trim();
      continue;
    }
    const i = entry.indexOf(':');
    if (i > 0) out[entry.slice(0, i).trim()] = entry.slice(i + 1).trim();
  }
  return out;
}

/** Renders tags the way the API reference shows them (what the emulator answers). */
export function formatBillTags(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `key:${k} value:${v}`)
    .join('; ');
}

/** A float amount from the wire → Money (exact to 1e-9; amounts on bills have at most a few decimals). */
export function amountOf(n: number): Money {
  if (!Number.isFinite(n)) throw new BillingError(`not an amount: ${n}`);
  const neg = n < 0;
  const m = parseMoney(Math.abs(n).toFixed(9));
  return neg ? -m : m;
}

/** One item of `Data.Items` of DescribeInstanceBill, as the SDK's `toMap()` gives it (wire names); loose: fields grow. */
export const BillLineWireSchema = z.looseObject({
  InstanceID: z.string().default(''),
  ProductCode: z.string().default(''),
  BillingDate: z.string().optional(),
  PretaxAmount: z.number().default(0),
  Currency: z.string().default(''),
  Tag: z.string().optional(),
  InstanceSpec: z.string().optional(),
  ServicePeriod: z.string().optional(),
  ServicePeriodUnit: z.string().optional(),
  SubscriptionType: z.string().optional(),
  Item: z.string().optional(),
});

export interface BillLine {
  instanceId: string;
  productCode: string;
  billingDate: string;
  /** PretaxAmount: what is charged before tax, after discounts (the real charge) */
  amount: Money;
  currency: string;
  tags: Record<string, string>;
  instanceSpec?: string;
  /** ServicePeriod in seconds, when its unit says seconds (or hours) */
  servicePeriodSeconds?: number;
  subscriptionType?: string;
}

export class BillLineError extends BillingError {}

/** Parses one wire item; a line without an instance id or with an unreadable amount is refused with the reason. */
export function billLineOf(wire: unknown, day: string): BillLine {
  const res = BillLineWireSchema.safeParse(wire);
  if (!res.success) throw new BillLineError(`unreadable bill line:\n${z.prettifyError(res.error)}`, { cause: res.error });
  const w = res.data;
  if (!w.InstanceID) throw new BillLineError('bill line without an InstanceID');
  const unit = (w.ServicePeriodUnit ?? '').toLowerCase();
  const period = Number(w.ServicePeriod);
  const factor = unit.startsWith('sec') || unit === '秒' ? 1 : unit.startsWith('hour') || unit === '小时' ? 3600 : undefined;
  return {
    instanceId: w.InstanceID,
    productCode: w.ProductCode.toLowerCase(),
    billingDate: w.BillingDate ?? day,
    amount: amountOf(w.PretaxAmount),
    currency: w.Currency,
    tags: parseBillTags(w.Tag),
    ...(w.InstanceSpec ? { instanceSpec: w.InstanceSpec } : {}),
    ...(factor !== undefined && Number.isFinite(period) ? { servicePeriodSeconds: period * factor } : {}),
    ...(w.SubscriptionType ? { subscriptionType: w.SubscriptionType } : {}),
  };
}

/**
 * Lines of the same instance on the same day (a bill may split an instance's day into several lines: billable
 * items, adjustments) summed into one; service periods add up.
 */
export function mergeLines(lines: readonly BillLine[]): BillLine[] {
  const by = new Map<string, BillLine>();
  for (const l of lines) {
    const key = `${l.productCode}\u0000${l.instanceId}`;
    const cur = by.get(key);
    if (!cur) {
      by.set(key, { ...l, tags: { ...l.tags } });
      continue;
    }
    cur.amount += l.amount;
    Object.assign(cur.tags, l.tags);
    if (l.servicePeriodSeconds !== undefined) cur.servicePeriodSeconds = (cur.servicePeriodSeconds ?? 0) + l.servicePeriodSeconds;
  }
  return [...by.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
}
