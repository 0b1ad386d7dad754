/**
 * Reconciliation of one billing day (pure; docs/billing-reconciliation.md explains how to read it): the actual bill
 * lines (bill.ts) against the bridge's own hourly estimates of the same period, per container group.
 *
 * - **Match**: a group's ECI bill line (InstanceID = ContainerGroupId) beside the bridge's estimate for the day (the
 *   sum of the hourly reports' per-instance fees), the difference, and its most likely cause: `rounding` (within half
 *   a cent per hourly fee), `duration` (the bill's service period differs from the window the bridge counted),
 *   `spot price` (a spot group billed at another ratio than the table's), `price table` (billed at another hourly
 *   price than the table's), `not billed` (estimated, no line: the bill lags or the group was free).
 * - **Leaks**: an ECI line carrying this cluster's tag whose group the bridge does not know (no hourly report names
 *   it) or whose group is still there without a pod.
 * - **Totals** per dimension (namespace, owner, node, and any tag: `tagDimension`), as the hourly reports do.
 * - **Learned**: the hourly price observed per billed size (on-demand groups) and the effective spot ratio.
 * - **The bridge's own cost**: the FC and MNS lines tagged with this cluster.
 * Every amount carries a label: `real charge` (from the bill), `estimate` (the bridge's computation), `comparison`.
 *
 * Over 400 lines: matching, causes, leaks and totals are one pass over the same joined billing day.
 */
import { z } from 'zod';
import { type BillLine, PRODUCT_ECI, PRODUCT_FC, PRODUCT_MNS } from './bill.js';
import {
  costOf,
  formatMoney,
  instanceRate,
  type BilledSize,
  LABEL_COMPARISON,
  LABEL_ESTIMATE,
  LABEL_REAL,
  MONEY_SCALE, type Money, parseMoney, type Period, vnodeRate } from './billing.js';
import { type BridgeModel, MODEL_CURRENCY, predictBridgeDay } from './bridge-cost.js';
import { type PriceTable, parseSpec } from './prices.js';

export { LABEL_COMPARISON, LABEL_ESTIMATE, LABEL_REAL } from './billing.js';

export type Cause = 'match' | 'rounding' | 'duration' | 'spot price' | 'price table' | 'not billed' | 'not estimated';

/** The bridge's estimate of one container group over the billing day (summed from its hourly reports). */
export interface GroupEstimate {
  groupId: string;
  uid: string;
  namespace: string;
  pod: string;
  /** `namespace/Kind/name` (billing.ts ownerKey) */
  owner: string;
  node: string;
  /** billing.ts describeSize: `2-4Gi`, `ecs.c6.large`, `1-2Gi (economy)` */
  size: string;
  spot: boolean;
  billedMs: number;
  /** unrounded cost */
  cost: Money;
  /** the sum of the hourly fees (each rounded half-up to 0.01, as ECI settles hourly) */
  fee: Money;
  /** how many hourly fees were summed */
  hours: number;
}

/** What ECI shows of a group now (the reconciliation runs a day later: finished groups may be gone). */
export interface LiveGroup {
  id: string;
  status: string;
  /** a pod with the group's pod-uid tag exists */
  hasPod: boolean;
}

export type Dimension = { name: string; keyOf: (g: ReconciledGroup) => string | undefined };

/** A totals dimension over a tag of the bill line (e.g. a VNode cost tag). */
export function tagDimension(key: string, name = `tag:${key}`): Dimension {
  return { name, keyOf: (g) => g.tags[key] };
}

export const DEFAULT_DIMENSIONS: readonly Dimension[] = [
  { name: 'namespace', keyOf: (g) => g.namespace || undefined },
  { name: 'owner', keyOf: (g) => g.owner || undefined },
  { name: 'node', keyOf: (g) => g.node || undefined },
];

const Amount = z.string().regex(/^-?\d+\.\d{9}$/);
const Totals = z.strictObject({ billed: Amount, estimated: Amount, difference: Amount, groups: z.number().int().nonnegative() });

const ReconciledGroupSchema = z.strictObject({
  groupId: z.string(),
  namespace: z.string(),
  pod: z.string(),
  owner: z.string(),
  node: z.string(),
  size: z.string(),
  spot: z.boolean(),
  /** real charge; null: no bill line */
  billed: Amount.nullable(),
  /** estimate (sum of hourly fees); null: the bridge has no estimate */
  estimated: Amount.nullable(),
  difference: Amount,
  cause: z.enum(['match', 'rounding', 'duration', 'spot price', 'price table', 'not billed', 'not estimated']),
  explanation: z.string(),
  tags: z.record(z.string(), z.string()),
});
export type ReconciledGroup = z.infer<typeof ReconciledGroupSchema>;

const LeakSchema = z.strictObject({
  groupId: z.string(),
  reason: z.enum(['unknown', 'no-pod']),
  billed: Amount,
  /** ECI's status now, or `gone` */
  status: z.string(),
  explanation: z.string(),
  tags: z.record(z.string(), z.string()),
});
export type Leak = z.infer<typeof LeakSchema>;

export const ReconciliationSchema = z.strictObject({
  v: z.literal(1),
  day: z.string(),
  timeZone: z.string(),
  period: z.strictObject({ start: z.string(), end: z.string() }),
  cluster: z.string(),
  currency: z.string(),
  priceTable: z.string(),
  sources: z.strictObject({
    billLines: z.number().int().nonnegative(),
    hourlyReports: z.number().int().nonnegative(),
    /** hours with no stored report, computed from what ECI and the cluster know at reconciliation time */
    recomputedHours: z.array(z.string()),
  }),
  groups: z.array(ReconciledGroupSchema),
  leaks: z.array(LeakSchema),
  totals: z.strictObject({
    label: z.string(),
    billed: Amount,
    estimated: Amount,
    difference: Amount,
    byCause: z.record(z.string(), z.strictObject({ difference: Amount, groups: z.number().int().nonnegative() })),
    byDimension: z.record(z.string(), z.record(z.string(), Totals)),
  }),
  learned: z.strictObject({
    unitPrices: z.array(
      z.strictObject({ size: z.string(), observedPerHour: Amount, tablePerHour: Amount.nullable(), groups: z.number().int().positive() }),
    ),
    spotRatio: z.strictObject({ observed: z.string(), assumed: z.string(), groups: z.number().int().positive() }).nullable(),
  }),
  bridge: z.strictObject({
    label: z.string(),
    billed: Amount,
    byProduct: z.record(z.string(), Amount),
    resources: z.number().int().nonnegative(),
    /** the cost model's prediction of the same day (an estimate); null when the model cannot price it */
    predicted: Amount.nullable(),
    /** how the prediction was made (bridge-cost.ts predictBridgeDay): idle for the day + per-pod overhead × pods */
    prediction: z
      .strictObject({ label: z.string(), idle: Amount, perPod: Amount, pods: z.number().int().nonnegative(), text: z.string() })
      .nullable()
      .optional(),
  }),
  vnodeComparison: z.strictObject({ label: z.string(), text: z.string(), amount: Amount }),
  /** where the per-group rows live when they do not fit in the summary ConfigMap */
  detail: z.strictObject({ configMaps: z.array(z.string()) }),
});
export type Reconciliation = z.infer<typeof ReconciliationSchema>;

export function amountText(m: Money): string {
  return formatMoney(m, 9);
}
export function amountMoney(text: string): Money {
  return text.startsWith('-') ? -parseMoney(text.slice(1)) : parseMoney(text);
}
const abs = (m: Money): Money => (m < 0n ? -m : m);
const CENT = MONEY_SCALE / 100n;
const HALF_CENT = CENT / 2n;

/** `2-4Gi (economy)` / `ecs.c6.large` → the billed size (undefined when unreadable). */
export function sizeOfLabel(label: string): BilledSize | undefined {
  if (label.startsWith('ecs.')) return { kind: 'type', instanceType: label };
  const economy = label.endsWith(' (economy)');
  const spec = parseSpec(economy ? label.slice(0, -' (economy)'.length) : label);
  return spec ? { kind: 'spec', spec, ...(economy ? { economy } : {}) } : undefined;
}

/** Money per hour of `m` spent over `ms`. */
function perHour(m: Money, ms: number): Money {
  return ms > 0 ? (m * 3_600_000n) / BigInt(ms) : 0n;
}

function ratioText(num: Money, den: Money): string {
  if (den <= 0n) return '0';
  const bp = (num * 10_000n + den / 2n) / den;
  return `${bp / 10_000n}.${String(bp % 10_000n).padStart(4, '0')}`;
}

/** The on-demand list cost (no spot ratio) of `ms` at `size`; undefined when the table has no price. */
function listCost(size: string, ms: number, table: PriceTable): Money | undefined {
  const s = sizeOfLabel(size);
  if (!s) return undefined;
  const r = instanceRate(s, table);
  return r.ok ? costOf(r.picoPerHour, ms) : undefined;
}

/** The cause of a group's difference and the sentence that says it. */
export function explain(line: BillLine, est: GroupEstimate, table: PriceTable): { cause: Cause; explanation: string } {
  const cur = table.currency;
  const b = line.amount;
  const diff = b - est.fee;
  const money = (m: Money) => `${formatMoney(m, 2)} ${cur}`;
  if (diff === 0n) return { cause: 'match', explanation: `billed ${money(b)}, as estimated` };
  if (abs(b - est.cost) <= HALF_CENT * BigInt(Math.max(1, est.hours))) {
    return {
      cause: 'rounding',
      explanation: `billed ${money(b)}, estimated ${money(est.fee)}: within the rounding of ${est.hours} hourly fee(s) to 0.01 (unrounded estimate ${formatMoney(est.cost, 4)})`,
    };
  }
  const billedS = line.servicePeriodSeconds;
  const oursS = est.billedMs / 1000;
  if (billedS !== undefined && Math.abs(billedS - oursS) > Math.max(1, oursS * 0.01)) {
    return {
      cause: 'duration',
      explanation: `billed for ${billedS} s, the bridge counted ${oursS.toFixed(0)} s (the billing window starts at the image pull and ends at Succeeded/Failed; the bridge approximates both from events and container times)`,
    };
  }
  const list = listCost(est.size, est.billedMs, table);
  if (est.spot && list !== undefined && list > 0n) {
    return {
      cause: 'spot price',
      explanation: `spot group billed at ${ratioText(b, list)} of the on-demand price, the table assumes ${ratioText(BigInt(table.spotRatio), 10_000n)} (set spotRatio, or BILLING_LEARNED_PRICES=true)`,
    };
  }
  return {
    cause: 'price table',
    explanation: `${est.size} billed at ${formatMoney(perHour(b, est.billedMs), 4)} ${cur}/h, the price table '${table.name}' says ${formatMoney(perHour(est.cost, est.billedMs), 4)} ${cur}/h`,
  };
}

export interface ReconcileInput {
  day: string;
  timeZone: string;
  period: Period;
  /** the cluster tag value (names.ts tagValue of CLUSTER_NAME) */
  clusterTag: string;
  clusterTagKey: string;
  /** the tag key of the pod UID the bridge puts on its groups (names.ts TAG_POD_UID), and of the pod's namespace and name */
  podTagKeys?: { uid: string; namespace: string; name: string };
  table: PriceTable;
  lines: readonly BillLine[];
  estimates: readonly GroupEstimate[];
  live: readonly LiveGroup[];
  hourlyReports: number;
  recomputedHours: readonly string[];
  dimensions?: readonly Dimension[];
  /** the cost model (bridge-cost.ts) that predicts the bridge's own cost for the day; none: no prediction */
  bridgeModel?: BridgeModel;
}

/** The reconciliation of one day: deterministic (sorted; same inputs → byte-identical JSON). */
export function reconcileDay(input: ReconcileInput): Reconciliation {
  const { table } = input;
  const ours = input.lines.filter((l) => l.tags[input.clusterTagKey] === input.clusterTag);
  const eciLines = new Map(ours.filter((l) => l.productCode === PRODUCT_ECI).map((l) => [l.instanceId, l]));
  const estimates = new Map(input.estimates.map((e) => [e.groupId, e]));
  const live = new Map(input.live.map((g) => [g.id, g]));
  const groups: ReconciledGroup[] = [];
  const leaks: Leak[] = [];
  for (const id of [...new Set([...eciLines.keys(), ...estimates.keys()])].sort()) {
    const line = eciLines.get(id);
    const est = estimates.get(id);
    const now = live.get(id);
    const podUid = line && input.podTagKeys ? line.tags[input.podTagKeys.uid] : undefined;
    if (line && !est && podUid && !now) {
      // the bridge made it for a pod (pod-uid tag); pod and group were deleted between two hourly runs, so no report
      // counted it: a gap of the estimate, not a leak (nothing is running)
      const keys = input.podTagKeys;
      groups.push({
        groupId: id,
        namespace: (keys && line.tags[keys.namespace]) ?? '',
        pod: (keys && line.tags[keys.name]) ?? '',
        owner: '',
        node: '',
        size: line.instanceSpec ?? '',
        spot: false,
        billed: amountText(line.amount),
        estimated: null,
        difference: amountText(line.amount),
        cause: 'not estimated',
        explanation: `billed ${formatMoney(line.amount, 2)} ${table.currency} for pod uid ${podUid}, but no hourly report counted it: the pod and its group were deleted between two hourly billing runs (no longer in ECI)`,
        tags: line.tags,
      });
      continue;
    }
    if (line && !est) {
      leaks.push({
        groupId: id,
        reason: 'unknown',
        billed: amountText(line.amount),
        status: now?.status ?? 'gone',
        explanation: `billed ${formatMoney(line.amount, 2)} ${table.currency} under this cluster's tag, but no hourly report of the day knows the group${now ? ` (still in ECI: ${now.status})` : ' (no longer in ECI)'}`,
        tags: line.tags,
      });
      continue;
    }
    if (!est) continue;
    if (line && now && !now.hasPod && !FINISHED.has(now.status)) {
      leaks.push({
        groupId: id,
        reason: 'no-pod',
        billed: amountText(line.amount),
        status: now.status,
        explanation: `still ${now.status} in ECI with no pod for it (pod ${est.namespace}/${est.pod} is gone)`,
        tags: line.tags,
      });
    }
    const e = line ? explain(line, est, table) : { cause: 'not billed' as const, explanation: 'estimated, but no bill line: the bill lags, or ECI charged nothing' };
    groups.push({
      groupId: id,
      namespace: est.namespace,
      pod: est.pod,
      owner: est.owner,
      node: est.node,
      size: est.size,
      spot: est.spot,
      billed: line ? amountText(line.amount) : null,
      estimated: amountText(est.fee),
      difference: amountText((line?.amount ?? 0n) - est.fee),
      ...e,
      tags: line?.tags ?? {},
    });
  }
  // totals
  const sum = (xs: readonly (string | null)[]): Money => xs.reduce<Money>((a, x) => a + (x === null ? 0n : amountMoney(x)), 0n);
  // a no-pod leak is also its group's row: only the unknown ones add to what was billed
  const unknown = leaks.filter((l) => l.reason === 'unknown');
  const billed = sum(groups.map((g) => g.billed)) + sum(unknown.map((l) => l.billed));
  const estimated = sum(groups.map((g) => g.estimated));
  const byCause: Reconciliation['totals']['byCause'] = {};
  for (const g of groups) {
    const c = byCause[g.cause] ?? { difference: amountText(0n), groups: 0 };
    byCause[g.cause] = { difference: amountText(amountMoney(c.difference) + amountMoney(g.difference)), groups: c.groups + 1 };
  }
  if (leaks.length) byCause.leak = { difference: amountText(sum(unknown.map((l) => l.billed))), groups: leaks.length };
  const byDimension: Reconciliation['totals']['byDimension'] = {};
  for (const d of input.dimensions ?? DEFAULT_DIMENSIONS) {
    const m = new Map<string, { b: Money; e: Money; n: number }>();
    for (const g of groups) {
      const k = d.keyOf(g);
      if (k === undefined) continue;
      const a = m.get(k) ?? { b: 0n, e: 0n, n: 0 };
      a.b += g.billed === null ? 0n : amountMoney(g.billed);
      a.e += g.estimated === null ? 0n : amountMoney(g.estimated);
      a.n++;
      m.set(k, a);
    }
    byDimension[d.name] = Object.fromEntries(
      [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, a]) => [k, { billed: amountText(a.b), estimated: amountText(a.e), difference: amountText(a.b - a.e), groups: a.n }]),
    );
  }
  // bridge's own resources
  const own = ours.filter((l) => l.productCode === PRODUCT_FC || l.productCode === PRODUCT_MNS);
  const byProduct: Record<string, string> = {};
  for (const p of [PRODUCT_FC, PRODUCT_MNS]) {
    const lines = own.filter((l) => l.productCode === p);
    if (lines.length) byProduct[p] = amountText(lines.reduce((a, l) => a + l.amount, 0n));
  }
  const vcost = costOf(vnodeRate(table), input.period.end - input.period.start);
  return {
    v: 1,
    day: input.day,
    timeZone: input.timeZone,
    period: { start: new Date(input.period.start).toISOString(), end: new Date(input.period.end).toISOString() },
    cluster: input.clusterTag,
    currency: table.currency,
    priceTable: table.name,
    sources: { billLines: input.lines.length, hourlyReports: input.hourlyReports, recomputedHours: [...input.recomputedHours] },
    groups,
    leaks,
    totals: { label: LABEL_REAL, billed: amountText(billed), estimated: amountText(estimated), difference: amountText(billed - estimated), byCause, byDimension },
    learned: learn(groups, input.estimates, table),
    bridge: {
      label: LABEL_REAL,
      billed: amountText(own.reduce((a, l) => a + l.amount, 0n)),
      byProduct,
      resources: own.length,
      ...bridgePrediction(input.bridgeModel, groups.length, table.currency),
    },
    vnodeComparison: {
      label: LABEL_COMPARISON,
      text: `an ECI VNode (2 vCPU / 8 GiB resident, how ECI's own virtual node bills) would cost ${formatMoney(vcost, 2)} ${table.currency} for this day; eci-bridge's virtual node is not billed`,
      amount: amountText(vcost),
    },
    detail: { configMaps: [] },
  };
}

/** Money of a currency amount given as a number (rounded to 1e-9). */
function moneyOfNumber(n: number): Money {
  return BigInt(Math.round(n * 1e9)) * (MONEY_SCALE / 1_000_000_000n);
}

/**
 * The cost model's prediction of the bridge's own FC + MNS cost for the day (an estimate), with `pods` pod
 * lifecycles (the day's container groups); none when no model is given or the bill is not in the model's currency.
 */
export function bridgePrediction(model: BridgeModel | undefined, pods: number, currency: string): Pick<Reconciliation['bridge'], 'predicted' | 'prediction'> {
  if (!model || currency !== MODEL_CURRENCY) return { predicted: null };
  const p = predictBridgeDay(model, pods);
  const idle = moneyOfNumber(p.idleCny);
  const perPod = moneyOfNumber(p.perPodCny);
  return {
    predicted: amountText(idle + perPod * BigInt(pods)),
    prediction: {
      label: LABEL_ESTIMATE,
      idle: amountText(idle),
      perPod: amountText(perPod),
      pods,
      text: `the cost model (docs/performance.md) predicts ${formatMoney(idle, 4)} ${currency} idle for the day + ${pods} pod(s) × ${formatMoney(perPod, 6)} ${currency} per pod lifecycle`,
    },
  };
}

const FINISHED = new Set(['Succeeded', 'Failed', 'Expired', 'ScheduleFailed', 'StartingFailed']);

/** Observed hourly price per on-demand size and the effective spot ratio, from groups with a bill line. */
function learn(groups: readonly ReconciledGroup[], estimates: readonly GroupEstimate[], table: PriceTable): Reconciliation['learned'] {
  const est = new Map(estimates.map((e) => [e.groupId, e]));
  const sizes = new Map<string, { b: Money; ms: number; n: number; table?: Money }>();
  let spotBilled = 0n;
  let spotList = 0n;
  let spotGroups = 0;
  for (const g of groups) {
    const e = est.get(g.groupId);
    if (g.billed === null || !e || e.billedMs <= 0 || g.cause === 'duration') continue;
    const b = amountMoney(g.billed);
    if (g.spot) {
      const l = listCost(g.size, e.billedMs, table);
      if (l !== undefined && l > 0n) {
        spotBilled += b;
        spotList += l;
        spotGroups++;
      }
      continue;
    }
    const a = sizes.get(g.size) ?? { b: 0n, ms: 0, n: 0 };
    a.b += b;
    a.ms += e.billedMs;
    a.n++;
    const l = listCost(g.size, 3_600_000, table);
    if (l !== undefined) a.table = l;
    sizes.set(g.size, a);
  }
  return {
    unitPrices: [...sizes]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([size, a]) => ({ size, observedPerHour: amountText(perHour(a.b, a.ms)), tablePerHour: a.table === undefined ? null : amountText(a.table), groups: a.n })),
    spotRatio: spotGroups ? { observed: ratioText(spotBilled, spotList), assumed: ratioText(BigInt(table.spotRatio), 10_000n), groups: spotGroups } : null,
  };
}
