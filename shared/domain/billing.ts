/**
 * Billing maths (ECI billing, docs/architecture.md#sources): exact, pure, deterministic.
 *
 * **Money** is a bigint count of 1 / 3.6e18 of the currency unit (`MONEY_SCALE`). Why that unit: prices are integer
 * nano-currency per hour (prices.ts), quantities integer milli-vCPU / milli-GiB, durations integer milliseconds,
 * and nano × milli × (1 ms = 1 / 3.6e6 h) = 1 / 3.6e18. Every cost is therefore an exact integer product, sums are
 * exact, and a window split at any millisecond gives two parts that add up to the whole. A per-second price
 * (0.000049 CNY/s) and an hourly one (11.89 CNY/h for an instance type, whose per-second price 0.0033027… has no
 * finite decimal form) are both exact in this unit, which no decimal micro-unit is. bigint, not number: one
 * 64-vCPU pod for a month is ≈ 2.9e22 units, beyond 2^53.
 *
 * Rounding happens only at the edges: the **fee** of one instance for one hourly bill is rounded half-up to 0.01
 * (ECI: "fees below 0.01 are rounded: ≥ 0.005 → 0.01"; bills are per second, settled hourly), and amounts shown
 * to people are rounded half-up to a fixed number of decimals.
 *
 * Over 400 lines: the exact money arithmetic and the window splitting it serves rely on one unit and stay together.
 */
import { z } from 'zod';
import type { EciContainerGroup } from './eci.js';
import type { Container, Pod } from './k8s.js';
import { ANNOTATION_USE_SPECS } from './annotations.js';
import type { Owner } from './names.js';
import {
  type CpuMemSpec,
  DEFAULT_SPEC,
  formatSpec,
  type PriceTable,
  parseScaledDecimal,
  parseSpec,
  roundUpSpec,
} from './prices.js';
import { containerSize, podSize as resourcesPodSize } from './resources.js';

const GIB = 1024 ** 3;

// ---------------------------------------------------------------- money

export type Money = bigint;
/** Money units per currency unit: 1e9 (nano price) × 1e3 (milli quantity) × 3.6e6 (ms per hour). */
export const MONEY_SCALE = 3_600_000_000_000_000_000n;
const MS_PER_HOUR = 3_600_000;

export class BillingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BillingError';
  }
}

function divRoundHalfUp(n: bigint, d: bigint): bigint {
  if (n < 0n) return -divRoundHalfUp(-n, d);
  return (n + d / 2n) / d;
}

/** A decimal string of `m` rounded half-up to `decimals` places (default 6). */
export function formatMoney(m: Money, decimals = 6): string {
  const q = divRoundHalfUp(m * 10n ** BigInt(decimals), MONEY_SCALE);
  const neg = q < 0n;
  const s = (neg ? -q : q).toString().padStart(decimals + 1, '0');
  const out = decimals === 0 ? s : `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
  return neg ? `-${out}` : out;
}

/** Parses a decimal amount of currency ("12.5") into Money exactly (≤ 9 decimals). */
export function parseMoney(text: string): Money {
  try {
    return parseScaledDecimal(text, 9) * (MONEY_SCALE / 1_000_000_000n);
  } catch (err) {
    throw new BillingError(`not an amount of money: '${text}'`, { cause: err });
  }
}

/** ECI's fee rounding for one instance in one bill: half-up to 0.01 (0.005 → 0.01, 0.0049… → 0). */
export function roundFee(m: Money): Money {
  const cent = MONEY_SCALE / 100n;
  return divRoundHalfUp(m, cent) * cent;
}

// ---------------------------------------------------------------- billed size and rates

/** What ECI bills a group at: a (rounded-up) vCPU/memory spec, or an ECS instance type. */
export type BilledSize =
  | { kind: 'spec'; spec: CpuMemSpec; economy?: boolean }
  | { kind: 'type'; instanceType: string };

export interface SpotTerms {
  /** NoSpot | SpotAsPriceGo | SpotWithPriceLimit */
  strategy: string;
  /** Hourly cap per instance, in currency (SpotWithPriceLimit). */
  priceLimit?: number;
}

export function isSpot(spot: SpotTerms | undefined): boolean {
  return !!spot && spot.strategy !== '' && spot.strategy !== 'NoSpot';
}

export function describeSize(size: BilledSize): string {
  return size.kind === 'spec' ? `${formatSpec(size.spec)}${size.economy ? ' (economy)' : ''}` : size.instanceType;
}

/** An instance's hourly rate in pico-currency (1e-12) per hour: Money for `ms` milliseconds is `rate × ms`. */
export type Rate = { ok: true; picoPerHour: bigint } | { ok: false; reason: string };

/**
 * The hourly rate of one instance: `vCPU × vCPU price + GiB × memory price`, or the instance-type price; for spot,
 * the pay-as-you-go rate × the table's spot ratio (rounded half-up to a pico-currency per hour), capped by the
 * group's hourly price limit.
 */
export function instanceRate(size: BilledSize, table: PriceTable, spot?: SpotTerms): Rate {
  let rate: bigint;
  if (size.kind === 'spec') {
    const vcpu = BigInt(size.economy && table.economyVcpu !== undefined ? table.economyVcpu : table.vcpu);
    rate = vcpu * BigInt(size.spec.cpuMilli) + BigInt(table.memoryGiB) * BigInt(size.spec.memoryMilliGiB);
  } else {
    const p = table.instanceTypes[size.instanceType];
    if (p === undefined) {
      return { ok: false, reason: `no price for instance type ${size.instanceType} in table '${table.name}'` };
    }
    rate = BigInt(p) * 1000n;
  }
  if (isSpot(spot)) {
    rate = divRoundHalfUp(rate * BigInt(table.spotRatio), 10_000n);
    if (spot?.strategy === 'SpotWithPriceLimit' && spot.priceLimit !== undefined && spot.priceLimit > 0) {
      const cap = parseScaledDecimal(spot.priceLimit.toFixed(6), 12);
      if (cap < rate) rate = cap;
    }
  }
  return { ok: true, picoPerHour: rate };
}

/** Cost of `ms` milliseconds at `rate`. */
export function costOf(rate: bigint, ms: number): Money {
  if (!Number.isInteger(ms) || ms < 0) throw new BillingError(`duration must be a non-negative integer ms: ${ms}`);
  return rate * BigInt(ms);
}

/**
 * The VNode formula: ECI's own virtual node for a self-managed cluster is billed as a resident 2 vCPU / 8 GiB ECI,
 * `(2 × vCPU price + 8 × GiB price) × run time` (ECI virtual-node billing, docs/architecture.md#sources). eci-bridge's virtual node is not billed that way
 * (it is the watcher Deployment and the functions): reports show this as a comparison, never as a charge.
 */
export function vnodeRate(table: PriceTable): bigint {
  return BigInt(table.vcpu) * 2000n + BigInt(table.memoryGiB) * 8000n;
}

export function hourlyAmount(rate: bigint): Money {
  return costOf(rate, MS_PER_HOUR);
}

// ---------------------------------------------------------------- windows and periods

/** A billing window `[start, end)` in epoch ms; `end` null while the instance is still billed. */
export interface Window {
  start: number;
  end: number | null;
}
export interface Period {
  start: number;
  end: number;
}

/** Milliseconds of `w` inside `p` (an open window runs to `min(p.end, now)`). */
export function overlapMs(w: Window, p: Period, now = Number.POSITIVE_INFINITY): number {
  const end = Math.min(w.end ?? Number.POSITIVE_INFINITY, p.end, now);
  const start = Math.max(w.start, p.start);
  return end > start ? end - start : 0;
}

/** The UTC hour containing `t`, or the one before (`offset = -1`). */
export function hourPeriod(t: number, offset = 0): Period {
  const start = Math.floor(t / MS_PER_HOUR) * MS_PER_HOUR + offset * MS_PER_HOUR;
  return { start, end: start + MS_PER_HOUR };
}

/** A report id is its period start, e.g. `2024-05-01T10:00Z`. */
export function periodId(p: Period): string {
  return `${new Date(p.start).toISOString().slice(0, 16)}Z`;
}

const BILLED_STATUSES = new Set(['Pending', 'Running', 'Restarting', 'Updating', 'Terminating']);
const TERMINAL_TIME: Record<string, keyof EciContainerGroup> = {
  Succeeded: 'SucceededTime',
  Failed: 'FailedTime',
  Expired: 'ExpiredTime',
};

function ts(s: unknown): number | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

function minDefined(xs: (number | undefined)[]): number | undefined {
  const d = xs.filter((x): x is number => x !== undefined);
  return d.length ? Math.min(...d) : undefined;
}
function maxDefined(xs: (number | undefined)[]): number | undefined {
  const d = xs.filter((x): x is number => x !== undefined);
  return d.length ? Math.max(...d) : undefined;
}

/**
 * The billing window of a container group. ECI starts billing when image pulling starts and stops when the group
 * enters Succeeded or Failed (Expired for spot); ECI publishes no pull-start time, so the start is approximated by,
 * in order: the first `Pulling` event; the earliest container start (under-counts the pull); the creation time
 * when the group is in a billed status (over-counts the scheduling time). The end is the terminal time of the
 * status, else the latest container finish time. A group that never reached a billed status has no window.
 */
export function groupWindow(g: EciContainerGroup): Window | undefined {
  const containers = [...(g.Containers ?? []), ...(g.InitContainers ?? [])];
  const pulling = minDefined((g.Events ?? []).filter((e) => e.Reason === 'Pulling').map((e) => ts(e.FirstTimestamp)));
  const firstStart = minDefined(
    containers.flatMap((c) => [ts(c.CurrentState?.StartTime), ts(c.PreviousState?.StartTime)]),
  );
  const lastFinish = maxDefined(
    containers.flatMap((c) => [ts(c.CurrentState?.FinishTime), ts(c.PreviousState?.FinishTime)]),
  );
  const terminalKey = TERMINAL_TIME[g.Status];
  let start = pulling ?? firstStart;
  if (start === undefined && (BILLED_STATUSES.has(g.Status) || terminalKey)) {
    // only a group that ran (has a terminal time or a billed status) falls back to its creation time
    if (BILLED_STATUSES.has(g.Status) || (terminalKey && lastFinish !== undefined)) start = ts(g.CreationTime);
  }
  if (start === undefined) return undefined;
  if (terminalKey) {
    const end = ts(g[terminalKey]) ?? lastFinish ?? start;
    return { start, end: Math.max(start, end) };
  }
  if (BILLED_STATUSES.has(g.Status)) return { start, end: null };
  // ScheduleFailed, StartingFailed, ...: billed only if it ran, up to its last finish
  return lastFinish !== undefined ? { start, end: Math.max(start, lastFinish) } : undefined;
}

/**
 * The window of a pod whose group ECI has already forgotten (terminal groups are purged after 1 h): the earliest
 * container start (or `status.startTime`) to the latest container finish of a terminal pod; open otherwise.
 */
export function podWindow(pod: Pod): Window | undefined {
  const st = pod.status;
  if (!st) return undefined;
  const statuses = [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? [])];
  const starts = statuses.flatMap((c) => [
    ts(c.state?.running?.startedAt),
    ts(c.state?.terminated?.startedAt),
    ts(c.lastState?.terminated?.startedAt),
  ]);
  const start = minDefined(starts) ?? ts(st.startTime);
  if (start === undefined) return undefined;
  if (st.phase === 'Succeeded' || st.phase === 'Failed') {
    const end = maxDefined(statuses.map((c) => ts(c.state?.terminated?.finishedAt))) ?? start;
    return { start, end: Math.max(start, end) };
  }
  return { start, end: null };
}

// ---------------------------------------------------------------- pod size (offline)

export const ANNOTATION_SPOT_STRATEGY = 'k8s.aliyun.com/eci-spot-strategy';
export const ANNOTATION_SPOT_PRICE_LIMIT = 'k8s.aliyun.com/eci-spot-price-limit';
export const ANNOTATION_COMPUTE_CATEGORY = 'k8s.aliyun.com/eci-compute-category';
/** Written by ECI after scheduling: the billed spec (`2.0-4.0Gi` or `ecs.c6.large`). */
export const ANNOTATION_INSTANCE_SPEC = 'k8s.aliyun.com/eci-instance-spec';
/** Written by the billing function: the billed size and the cost so far (like EKS Fargate's CapacityProvisioned). */
export const ANNOTATION_BILLED_SIZE = 'eci-bridge.io/billed-size';
export const ANNOTATION_COST = 'eci-bridge.io/cost';
/** Namespace annotation: the monthly budget, e.g. `"500"` or `"500 CNY"`. */
export const ANNOTATION_MONTHLY_BUDGET = 'eci-bridge.io/monthly-budget';

export type PodSize = { ok: true; size: BilledSize; requested: string } | { ok: false; reason: string };

/**
 * What ECI would bill a pod at, offline. The first entry of `k8s.aliyun.com/eci-use-specs` when present (ECI tries
 * the list in order): a `c-mGi` spec, rounded up, or an ECS instance type. Otherwise the translation domain's
 * resource rule (resources.ts: per container the limit, else the request; app containers summed, init containers
 * by their maximum; ECI's default 2 vCPU / 4 GiB when nothing is set), rounded up to a supported spec. GPU limits
 * without an instance type cannot be priced (ECI needs a GPU instance type).
 */
export function podSize(pod: Pod, extraSpecs: readonly CpuMemSpec[] = []): PodSize {
  const ann = pod.metadata.annotations ?? {};
  const economy = ann[ANNOTATION_COMPUTE_CATEGORY]?.split(',')[0]?.trim() === 'economy';
  const first = ann[ANNOTATION_USE_SPECS]?.split(',')[0]?.trim();
  if (first) {
    if (first.startsWith('ecs.')) return { ok: true, size: { kind: 'type', instanceType: first }, requested: first };
    const spec = parseSpec(first);
    if (!spec) return { ok: false, reason: `cannot read ${ANNOTATION_USE_SPECS} entry '${first}'` };
    const r = roundUpSpec({ cpuMilli: spec.cpuMilli, memoryBytes: (spec.memoryMilliGiB * GIB) / 1000 }, extraSpecs);
    if (!r) return { ok: false, reason: `no ECI spec holds ${first}` };
    return { ok: true, size: { kind: 'spec', spec: r, economy }, requested: first };
  }
  const sizes = (cs: readonly Container[] | undefined, path: string) =>
    (cs ?? []).map((c, i) => containerSize(c, `${path}[${i}]`));
  const app = sizes(pod.spec.containers, 'spec.containers');
  const init = sizes(pod.spec.initContainers, 'spec.initContainers');
  const bad = [...app, ...init].flatMap((x) => x.violations).find((v) => v.code === 'InvalidResource');
  if (bad) return { ok: false, reason: `${bad.field}: ${bad.message}` };
  const { size, violations } = resourcesPodSize(
    app.map((x) => x.size),
    init.map((x) => x.size),
    undefined,
    `metadata.annotations.${ANNOTATION_USE_SPECS}`,
  );
  const gpu = violations.find((v) => v.code === 'GpuRequiresInstanceType');
  if (gpu) return { ok: false, reason: gpu.message };
  if (size.Cpu === undefined && size.Memory === undefined) {
    return { ok: true, size: { kind: 'spec', spec: DEFAULT_SPEC, economy }, requested: 'nothing (ECI default)' };
  }
  const cpu = size.Cpu ?? 0;
  const mem = size.Memory ?? 0;
  const requested = `${cpu} vCPU / ${mem} GiB`;
  const r = roundUpSpec({ cpuMilli: Math.round(cpu * 1000), memoryBytes: Math.ceil(mem * GIB) }, extraSpecs);
  if (!r) return { ok: false, reason: `no ECI spec holds ${requested}` };
  return { ok: true, size: { kind: 'spec', spec: r, economy }, requested };
}

export function podSpot(pod: Pod): SpotTerms | undefined {
  const ann = pod.metadata.annotations ?? {};
  const strategy = ann[ANNOTATION_SPOT_STRATEGY];
  if (!strategy || strategy === 'NoSpot') return undefined;
  const limit = Number(ann[ANNOTATION_SPOT_PRICE_LIMIT]);
  return { strategy, ...(Number.isFinite(limit) && limit > 0 ? { priceLimit: limit } : {}) };
}

/** The size ECI reports for a group: its instance type, else its Cpu/Memory (already a supported spec). */
export function groupSize(g: EciContainerGroup): BilledSize | undefined {
  if (g.InstanceType && g.InstanceType.trim() !== '') {
    const t = g.InstanceType.split(',')[0]?.trim();
    if (t?.startsWith('ecs.')) return { kind: 'type', instanceType: t };
  }
  if (typeof g.Cpu === 'number' && typeof g.Memory === 'number' && g.Cpu > 0) {
    return { kind: 'spec', spec: { cpuMilli: Math.round(g.Cpu * 1000), memoryMilliGiB: Math.round(g.Memory * 1000) } };
  }
  return undefined;
}

export function groupSpot(g: EciContainerGroup): SpotTerms | undefined {
  if (!g.SpotStrategy || g.SpotStrategy === 'NoSpot') return undefined;
  return { strategy: g.SpotStrategy, ...(g.SpotPriceLimit ? { priceLimit: g.SpotPriceLimit } : {}) };
}

// ---------------------------------------------------------------- owners and cost tags

// The owner rule and the cost tags live in names.ts (the translation tags groups with them); re-exported here.
export { COST_TAG_KEYS, costTags, type Owner, podOwner } from './names.js';

// ---------------------------------------------------------------- the period report

/** One billable pod, resolved from its group (or, once ECI forgot the group, from the pod). */
export interface BillingItem {
  namespace: string;
  name: string;
  uid: string;
  owner?: Owner;
  node: string;
  groupId?: string;
  size: BilledSize;
  spot?: SpotTerms;
  window: Window;
  /**
   * Cost tags for attribution (`byTag`, `cost --by tag:<key>`): the group's tags outside the bridge's own
   * `eci-bridge.io/` keys (VNODE_TAGS, custom tags), or the virtual node's tags for a pod whose group is gone.
   */
  tags?: Readonly<Record<string, string>>;
}

export interface VNodeItem {
  name: string;
  /** When the virtual node started to exist (epoch ms), and when it stopped (null: still there). */
  window: Window;
}

/**
 * Every amount of a report says what it is: a `real charge` (from the bill: the reconciliation), an `estimate` (the
 * bridge's own computation: list price × billed size × run time) or a `comparison` (what something else would cost,
 * e.g. an ECI VNode). The hourly reports hold estimates and the VNode comparison; reports stored before the labels
 * were added read as if labelled (`labelReport`).
 */
export const LABEL_REAL = 'real charge';
export const LABEL_ESTIMATE = 'estimate';
export const LABEL_COMPARISON = 'comparison';
const Label = z.enum([LABEL_REAL, LABEL_ESTIMATE, LABEL_COMPARISON]);
export type CostLabel = z.infer<typeof Label>;

const MoneyJson = z.strictObject({ amount: z.string(), units: z.string().regex(/^\d+$/) });
export type MoneyJson = z.infer<typeof MoneyJson>;

const Aggregate = z.strictObject({ label: Label.optional(), cost: MoneyJson, fee: MoneyJson, pods: z.number().int().nonnegative() });

export const CostReportSchema = z.strictObject({
  v: z.literal(1),
  /** = period start, `YYYY-MM-DDTHH:MMZ` */
  id: z.string(),
  cluster: z.string(),
  region: z.string(),
  currency: z.string(),
  priceTable: z.string(),
  period: z.strictObject({ start: z.string(), end: z.string() }),
  /** false while the period is still running (open windows are cut at `now`) */
  complete: z.boolean(),
  pods: z.array(
    z.strictObject({
      label: Label.optional(),
      namespace: z.string(),
      name: z.string(),
      uid: z.string(),
      owner: z.strictObject({ kind: z.string(), name: z.string() }).nullable(),
      node: z.string(),
      groupId: z.string().nullable(),
      size: z.string(),
      spot: z.boolean(),
      start: z.string(),
      end: z.string().nullable(),
      /** milliseconds billed inside the period */
      billedMs: z.number().int().nonnegative(),
      cost: MoneyJson,
      /** the ECI fee for this instance's hourly bill: cost rounded half-up to 0.01 */
      fee: MoneyJson,
      unpriced: z.string().optional(),
      /** cost tags (BillingItem.tags) */
      tags: z.record(z.string(), z.string()).optional(),
    }),
  ),
  /**
   * A comparison, not a charge: what ECI's own virtual node (a resident 2 vCPU / 8 GiB instance) would cost for the
   * same time. eci-bridge's virtual node is not billed; these lines are not in `totals.all` nor `totals.fee`.
   */
  vnodes: z.array(
    z.strictObject({
      label: Label.optional(),
      name: z.string(),
      billedMs: z.number().int().nonnegative(),
      cost: MoneyJson,
      fee: MoneyJson,
      kind: z.literal('comparison').optional(),
    }),
  ),
  byNamespace: z.record(z.string(), Aggregate),
  byOwner: z.record(z.string(), Aggregate),
  /** per node; `vnode` is the comparison figure above, not part of `cost` */
  byNode: z.record(z.string(), Aggregate.extend({ vnode: MoneyJson, vnodeLabel: Label.optional() })),
  /** per cost tag, keyed `key=value` (pods without a tag key are not in that key's rows) */
  byTag: z.record(z.string(), Aggregate).optional(),
  /** `all` = the pods' estimated cost; `vnodes` = the comparison, apart (reports before it counted it in `all`) */
  /** `label` is that of `pods`, `all` and `fee`; `vnodesLabel` that of `vnodes` */
  totals: z.strictObject({ label: Label.optional(), pods: MoneyJson, vnodes: MoneyJson, vnodesLabel: Label.optional(), all: MoneyJson, fee: MoneyJson }),
});
export type CostReport = z.infer<typeof CostReportSchema>;

export function moneyJson(m: Money): MoneyJson {
  return { amount: formatMoney(m, 9), units: m.toString() };
}
export function moneyOf(j: MoneyJson): Money {
  return BigInt(j.units);
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

/** The owner key of the report: `namespace/Kind/name`, or `namespace/Pod/name` for a bare pod. */
export function ownerKey(ns: string, owner: Owner | undefined, podName: string): string {
  return owner ? `${ns}/${owner.kind}/${owner.name}` : `${ns}/Pod/${podName}`;
}

function sortedRecord<T>(m: Map<string, T>): Record<string, T> {
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The cost report of one period: pure and deterministic (same inputs → byte-identical JSON; no clock reads, pods
 * sorted, maps sorted), so running a period again gives the same report. Pods without a window inside the period
 * are left out; a pod whose size has no price is listed with `unpriced` and zero cost.
 */
export function buildReport(input: {
  cluster: string;
  region: string;
  table: PriceTable;
  period: Period;
  now: number;
  items: readonly BillingItem[];
  vnodes: readonly VNodeItem[];
}): CostReport {
  const { table, period, now } = input;
  const byUid = new Map<string, BillingItem>();
  for (const it of input.items) if (!byUid.has(it.uid)) byUid.set(it.uid, it); // one entry per pod UID
  const items = [...byUid.values()].sort(
    (a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name) || cmp(a.uid, b.uid),
  );
  const pods: CostReport['pods'] = [];
  type Acc = { cost: Money; fee: Money; pods: number; vnode: Money };
  const byNs = new Map<string, Acc>();
  const byOwner = new Map<string, Acc>();
  const byNode = new Map<string, Acc>();
  const byTag = new Map<string, Acc>();
  const acc = (m: Map<string, Acc>, k: string): Acc => {
    let a = m.get(k);
    if (!a) {
      a = { cost: 0n, fee: 0n, pods: 0, vnode: 0n };
      m.set(k, a);
    }
    return a;
  };
  let podsTotal = 0n;
  let feeTotal = 0n;
  for (const it of items) {
    const ms = overlapMs(it.window, period, now);
    if (ms === 0) continue;
    const rate = instanceRate(it.size, table, it.spot);
    const cost = rate.ok ? costOf(rate.picoPerHour, ms) : 0n;
    const fee = roundFee(cost);
    pods.push({
      label: LABEL_ESTIMATE,
      namespace: it.namespace,
      name: it.name,
      uid: it.uid,
      owner: it.owner ? { kind: it.owner.kind, name: it.owner.name } : null,
      node: it.node,
      groupId: it.groupId ?? null,
      size: describeSize(it.size),
      spot: isSpot(it.spot),
      start: iso(it.window.start),
      end: it.window.end === null ? null : iso(it.window.end),
      billedMs: ms,
      cost: moneyJson(cost),
      fee: moneyJson(fee),
      ...(rate.ok ? {} : { unpriced: rate.reason }),
      ...(it.tags && Object.keys(it.tags).length > 0 ? { tags: sortedRecord(new Map(Object.entries(it.tags))) } : {}),
    });
    podsTotal += cost;
    feeTotal += fee;
    for (const a of [
      acc(byNs, it.namespace),
      acc(byOwner, ownerKey(it.namespace, it.owner, it.name)),
      acc(byNode, it.node),
      ...Object.entries(it.tags ?? {}).map(([k, v]) => acc(byTag, `${k}=${v}`)),
    ]) {
      a.cost += cost;
      a.fee += fee;
      a.pods += 1;
    }
  }
  const vnodes: CostReport['vnodes'] = [];
  let vnodesTotal = 0n;
  const vrate = vnodeRate(table);
  for (const v of [...input.vnodes].sort((a, b) => cmp(a.name, b.name))) {
    const ms = overlapMs(v.window, period, now);
    if (ms === 0) continue;
    const cost = costOf(vrate, ms);
    const fee = roundFee(cost);
    vnodes.push({ label: LABEL_COMPARISON, name: v.name, billedMs: ms, cost: moneyJson(cost), fee: moneyJson(fee), kind: 'comparison' });
    vnodesTotal += cost;
    acc(byNode, v.name).vnode += cost;
  }
  const agg = (m: Map<string, Acc>): Record<string, z.infer<typeof Aggregate>> =>
    sortedRecord(
      new Map([...m].map(([k, a]) => [k, { label: LABEL_ESTIMATE, cost: moneyJson(a.cost), fee: moneyJson(a.fee), pods: a.pods }])),
    );
  return {
    v: 1,
    id: periodId(period),
    cluster: input.cluster,
    region: input.region,
    currency: table.currency,
    priceTable: table.name,
    period: { start: iso(period.start), end: iso(period.end) },
    complete: period.end <= now,
    pods,
    vnodes,
    byNamespace: agg(byNs),
    byOwner: agg(byOwner),
    byNode: sortedRecord(
      new Map(
        [...byNode].map(([k, a]) => [
          k,
          { label: LABEL_ESTIMATE, cost: moneyJson(a.cost), fee: moneyJson(a.fee), pods: a.pods, vnode: moneyJson(a.vnode), vnodeLabel: LABEL_COMPARISON },
        ]),
      ),
    ),
    byTag: agg(byTag),
    totals: {
      label: LABEL_ESTIMATE,
      pods: moneyJson(podsTotal),
      vnodes: moneyJson(vnodesTotal),
      vnodesLabel: LABEL_COMPARISON,
      all: moneyJson(podsTotal),
      fee: moneyJson(feeTotal),
    },
  };
}

/** A stored report with every line labelled (reports stored before the labels existed get them here). */
export function labelReport(r: CostReport): CostReport {
  const est = <T extends object>(rec: Record<string, T>): Record<string, T & { label: CostLabel }> =>
    Object.fromEntries(Object.entries(rec).map(([k, a]) => [k, { label: LABEL_ESTIMATE, ...a }]));
  return {
    ...r,
    pods: r.pods.map((p) => ({ label: LABEL_ESTIMATE, ...p })),
    vnodes: r.vnodes.map((v) => ({ label: LABEL_COMPARISON, ...v })),
    byNamespace: est(r.byNamespace),
    byOwner: est(r.byOwner),
    byNode: Object.fromEntries(Object.entries(r.byNode).map(([k, a]) => [k, { label: LABEL_ESTIMATE, ...a, vnodeLabel: a.vnodeLabel ?? LABEL_COMPARISON }])),
    ...(r.byTag ? { byTag: est(r.byTag) } : {}),
    totals: { label: LABEL_ESTIMATE, ...r.totals, vnodesLabel: r.totals.vnodesLabel ?? LABEL_COMPARISON },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------- budgets

export type BudgetLevel = 0 | 80 | 100;

/** Parses a monthly budget annotation (`"500"` or `"500 CNY"`); a currency other than the table's is refused. */
export function parseBudget(text: string, currency: string): Money {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]{3})?\s*$/.exec(text);
  if (!m?.[1]) throw new BillingError(`budget '${text}' must be an amount, e.g. "500" or "500 ${currency}"`);
  if (m[2] && m[2].toUpperCase() !== currency) {
    throw new BillingError(`budget '${text}' is in ${m[2].toUpperCase()}, but prices are in ${currency}`);
  }
  return parseMoney(m[1]);
}

/** 100 when spent ≥ budget, 80 when spent ≥ 80 % of it, else 0. A zero budget is exceeded by any spend. */
export function budgetLevel(spent: Money, budget: Money): BudgetLevel {
  if (spent >= budget && (budget > 0n || spent > 0n)) return 100;
  if (spent * 100n >= budget * 80n && budget > 0n) return 80;
  return 0;
}

export interface BudgetEvent {
  type: 'Normal' | 'Warning';
  reason: 'BudgetThreshold' | 'BudgetExceeded';
  message: string;
}

/**
 * The Events to record when a namespace's month-to-date spend moves from `previous` to `current` level: one per
 * threshold newly crossed (80 % → Warning BudgetThreshold, 100 % → Warning BudgetExceeded); none when the level did
 * not rise (so running again never repeats an Event).
 */
export function budgetEvents(
  ns: string,
  previous: BudgetLevel,
  current: BudgetLevel,
  spent: Money,
  budget: Money,
  currency: string,
): BudgetEvent[] {
  const out: BudgetEvent[] = [];
  const s = `${formatMoney(spent, 2)} ${currency}`;
  const b = `${formatMoney(budget, 2)} ${currency}`;
  if (previous < 80 && current >= 80) {
    out.push({
      type: 'Warning',
      reason: 'BudgetThreshold',
      message: `namespace ${ns} has spent ${s} of its monthly ECI budget of ${b} (80% threshold reached)`,
    });
  }
  if (previous < 100 && current >= 100) {
    out.push({
      type: 'Warning',
      reason: 'BudgetExceeded',
      message: `namespace ${ns} has spent ${s}, over its monthly ECI budget of ${b}`,
    });
  }
  return out;
}

export type BudgetEnforcement = 'refuse' | 'warn' | 'off';

export interface AdmissionDecision {
  allowed: boolean;
  /** admission warnings (shown by kubectl) */
  warnings: string[];
  /** the refusal message when not allowed */
  message?: string;
}

/** Admission of a new virtual-node pod in a namespace with a budget: refused or warned when over budget. */
export function admitUnderBudget(
  ns: string,
  spent: Money,
  budget: Money | undefined,
  currency: string,
  mode: BudgetEnforcement,
): AdmissionDecision {
  if (budget === undefined || mode === 'off' || budgetLevel(spent, budget) < 100) return { allowed: true, warnings: [] };
  const msg =
    `namespace ${ns} is over its monthly ECI budget: spent ${formatMoney(spent, 2)} ${currency} of ` +
    `${formatMoney(budget, 2)} ${currency} (annotation ${ANNOTATION_MONTHLY_BUDGET}); raise the budget or wait for next month`;
  return mode === 'refuse' ? { allowed: false, warnings: [], message: msg } : { allowed: true, warnings: [msg] };
}

/** The month (`YYYY-MM`, UTC) of a time, and the day (`YYYY-MM-DD`). */
export function monthOf(t: number): string {
  return new Date(t).toISOString().slice(0, 7);
}
export function dayOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}
