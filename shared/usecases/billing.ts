/**
 * The billing function (timer, hourly): gathers this cluster's container groups (by cluster tag, finished ones
 * too) and the virtual node's pods (whose final statuses status-sync captured before ECI forgot their groups),
 * computes the report of the last complete hour, stores it idempotently (one ConfigMap per day in the bridge
 * namespace, one key per hour, written once), annotates each pod with its billed size and cost so far, checks the
 * price table against DescribeContainerGroupPrice for the sizes in use, and evaluates namespace budgets (Events at
 * 80 % and 100 %; a state ConfigMap the admission webhook reads).
 */
import { z } from 'zod';
import {
  ANNOTATION_BILLED_SIZE,
  ANNOTATION_COST,
  ANNOTATION_INSTANCE_SPEC,
  ANNOTATION_MONTHLY_BUDGET,
  admitUnderBudget,
  type AdmissionDecision,
  type BilledSize,
  type BillingItem,
  type BudgetEnforcement,
  type BudgetLevel,
  budgetEvents,
  budgetLevel,
  buildReport,
  type CostReport,
  CostReportSchema,
  costOf,
  dayOf,
  describeSize,
  formatMoney,
  groupSize,
  groupSpot,
  groupWindow,
  hourPeriod,
  instanceRate,
  type Money,
  monthOf,
  moneyOf,
  overlapMs,
  type Period,
  parseBudget,
  parseMoney,
  podOwner,
  podSize,
  podSpot,
  podWindow,
  periodId,
  type VNodeItem,
} from '../domain/billing.js';
import type { Config } from '../domain/config.js';
import { applyLearned, LEARNED_CONFIGMAP, LEARNED_KEY, readLearned } from '../domain/learned.js';
import type { EciContainerGroup, EciKeyValue } from '../domain/eci.js';
import type { ConfigMap, Pod } from '../domain/k8s.js';
import { TAG_CLUSTER, TAG_NAMESPACE, TAG_OWNER_KIND, TAG_OWNER_NAME, TAG_POD_NAME, TAG_POD_UID, TAG_VNODE } from '../domain/names.js';
import {
  type CpuMemSpec,
  DEFAULT_PRICE_TABLES,
  type PriceTable,
  PriceTablesSchema,
  parseScaledDecimal,
  parseSpec,
  priceTableFor,
} from '../domain/prices.js';
import type { Clock, Cluster, ClusterStore, ContainerGroups, Logger } from '../ports/index.js';
import { describeError, isConflict, isNotFound } from './errors.js';

export interface BillingSettings {
  clusterName: string;
  /** the virtual nodes of this bridge (pods are listed per node; each one gets the ECI-VNode comparison line) */
  vnodeNames: readonly string[];
  bridgeNamespace: string;
  region: string;
  tables: readonly PriceTable[];
  extraSpecs?: readonly CpuMemSpec[];
  /** show the ECI-VNode comparison line (BILLING_VNODE_CHARGE) */
  vnodeCharge: boolean;
  /** the virtual node's cost tags (VNODE_TAGS): the attribution of pods whose group is gone */
  vnodeTags?: readonly EciKeyValue[];
  budgetEnforcement: BudgetEnforcement;
  /** relative tolerance of the price check, in basis points (default 50 = 0.5 %) */
  priceToleranceBp?: number;
  /** use the prices learned from the bill (BILLING_LEARNED_PRICES; the reconcile function keeps them) */
  learnedPrices?: boolean;
}

/** The ports billing uses: a narrow slice of Cluster plus ClusterStore, ContainerGroups, Clock, Logger. */
export interface BillingPorts {
  cluster: Pick<Cluster, 'listPods' | 'getNode' | 'patchPodMetadata' | 'recordEvent' | 'getConfigMap'> & ClusterStore;
  groups: Pick<ContainerGroups, 'list' | 'price'>;
  clock: Pick<Clock, 'now'>;
  logger: Logger;
}

export class BillingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BillingError';
  }
}

/** Billing settings from the one config object; BILLING_PRICE_TABLES (JSON) replaces the default tables. */
export function billingSettingsFromConfig(config: Config): BillingSettings {
  let tables: PriceTable[];
  try {
    const raw: unknown = config.BILLING_PRICE_TABLES ? JSON.parse(config.BILLING_PRICE_TABLES) : DEFAULT_PRICE_TABLES;
    const res = PriceTablesSchema.safeParse(raw);
    if (!res.success) throw new BillingError(`BILLING_PRICE_TABLES is invalid:\n${z.prettifyError(res.error)}`);
    tables = res.data;
  } catch (err) {
    if (err instanceof BillingError) throw err;
    throw new BillingError('BILLING_PRICE_TABLES is not JSON', { cause: err });
  }
  return {
    clusterName: config.CLUSTER_NAME,
    vnodeNames: [config.VNODE_NAME],
    bridgeNamespace: config.BRIDGE_NAMESPACE,
    region: config.ECI_REGION,
    tables,
    vnodeCharge: config.BILLING_VNODE_CHARGE,
    vnodeTags: config.VNODE_TAGS,
    budgetEnforcement: config.BILLING_BUDGET_ENFORCEMENT,
    learnedPrices: config.BILLING_LEARNED_PRICES,
  };
}

/** A group's tags minus the bridge's own `eci-bridge.io/` identity and cost keys (those have their own rows). */
function costAttributionTags(tags: readonly EciKeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (!t.Key.startsWith('eci-bridge.io/')) out[t.Key] = t.Value;
  return out;
}

export const REPORT_LABEL = 'eci-bridge.io/cost-report';
export const BUDGET_STATE_NAME = 'eci-bridge-budgets';
const BUDGET_STATE_KEY = 'state.json';
/** Leave headroom under Kubernetes' 1 MiB object limit. */
const MAX_CONFIGMAP_BYTES = 900 * 1024;

export function reportConfigMapName(periodStart: number): string {
  return `eci-bridge-cost-${dayOf(periodStart)}`;
}
export function reportKey(report: { id: string }): string {
  return `${report.id.replace(/:/g, '-')}.json`;
}

const BudgetStateSchema = z.strictObject({
  month: z.string(),
  currency: z.string(),
  namespaces: z.record(
    z.string(),
    z.strictObject({ budget: z.string(), spent: z.string(), level: z.union([z.literal(0), z.literal(80), z.literal(100)]) }),
  ),
});
export type BudgetState = z.infer<typeof BudgetStateSchema>;

export interface GatherResult {
  items: BillingItem[];
  vnodes: VNodeItem[];
  pods: Pod[];
  groups: EciContainerGroup[];
  /** pods or groups that could not be billed, with the reason */
  skipped: { key: string; reason: string }[];
}

export interface PriceCheck {
  size: string;
  ours: string;
  theirs: string;
  currency: string;
  ok: boolean;
}

export interface BillingRunResult {
  report: CostReport;
  stored: 'created' | 'unchanged' | 'kept-existing' | 'failed';
  annotated: number;
  priceChecks: PriceCheck[];
  budgetEvents: number;
}

function tag(g: EciContainerGroup, key: string): string | undefined {
  return g.Tags?.find((t) => t.Key === key)?.Value;
}

export class Billing {
  private readonly table: PriceTable;
  constructor(
    private readonly ports: BillingPorts,
    private readonly settings: BillingSettings,
  ) {
    this.table = structuredClone(priceTableFor(settings.region, settings.tables));
  }

  get currency(): string {
    return this.table.currency;
  }

  /** The price table in use (with instance-type prices learned from DescribeContainerGroupPrice). */
  get priceTable(): PriceTable {
    return this.table;
  }

  // ---------------------------------------------------------------- gathering

  /**
   * Every group tagged with this cluster (all statuses, all pages) and every pod on the virtual nodes, joined by pod
   * UID. A group gives the size and window; a pod whose group ECI has forgotten is billed from its own status (the
   * final container times status-sync wrote) and its `eci-instance-spec` annotation, else its resources.
   */
  async gather(): Promise<GatherResult> {
    const { cluster, groups } = this.ports;
    const s = this.settings;
    const [allGroups, podLists, nodes] = await Promise.all([
      groups.list({ tags: [{ Key: TAG_CLUSTER, Value: s.clusterName }] }),
      Promise.all(s.vnodeNames.map((n) => cluster.listPods({ nodeName: n }))),
      Promise.all(s.vnodeNames.map((n) => cluster.getNode(n).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err))))),
    ]);
    const pods = podLists.flat();
    const podByUid = new Map(pods.filter((p) => p.metadata.uid).map((p) => [p.metadata.uid as string, p]));
    const items: BillingItem[] = [];
    const skipped: GatherResult['skipped'] = [];
    const seen = new Set<string>();
    for (const g of allGroups) {
      const uid = tag(g, TAG_POD_UID);
      if (!uid) {
        skipped.push({ key: g.ContainerGroupId, reason: 'group has no pod-uid tag' });
        continue;
      }
      const pod = podByUid.get(uid);
      const window = groupWindow(g);
      if (!window) continue; // never billed (Scheduling, ScheduleFailed before running)
      const size = groupSize(g) ?? (pod ? this.sizeOfPod(pod) : undefined);
      if (!size) {
        skipped.push({ key: g.ContainerGroupId, reason: 'group has neither Cpu/Memory nor InstanceType' });
        continue;
      }
      seen.add(uid);
      const ownerKind = tag(g, TAG_OWNER_KIND);
      const ownerName = tag(g, TAG_OWNER_NAME);
      const spot = groupSpot(g);
      const owner = pod ? podOwner(pod) : ownerKind && ownerName ? { kind: ownerKind, name: ownerName } : undefined;
      items.push({
        namespace: pod?.metadata.namespace ?? tag(g, TAG_NAMESPACE) ?? '',
        name: pod?.metadata.name ?? tag(g, TAG_POD_NAME) ?? g.ContainerGroupName ?? g.ContainerGroupId,
        uid,
        ...(owner ? { owner } : {}),
        node: pod?.spec.nodeName ?? tag(g, TAG_VNODE) ?? s.vnodeNames[0] ?? '',
        groupId: g.ContainerGroupId,
        size,
        ...(spot ? { spot } : {}),
        window,
        tags: costAttributionTags(g.Tags),
      });
    }
    for (const pod of pods) {
      const uid = pod.metadata.uid;
      if (!uid || seen.has(uid)) continue;
      const window = podWindow(pod);
      if (!window) continue;
      const size = this.sizeOfPod(pod);
      if (!size) {
        skipped.push({ key: `${pod.metadata.namespace}/${pod.metadata.name}`, reason: 'size unknown' });
        continue;
      }
      const owner = podOwner(pod);
      const spot = podSpot(pod);
      items.push({
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name ?? '',
        uid,
        ...(owner ? { owner } : {}),
        node: pod.spec.nodeName ?? '',
        size,
        ...(spot ? { spot } : {}),
        window,
        tags: costAttributionTags(s.vnodeTags),
      });
    }
    const vnodes: VNodeItem[] = [];
    if (s.vnodeCharge) {
      s.vnodeNames.forEach((name, i) => {
        const created = nodes[i]?.metadata.creationTimestamp;
        const start = created ? Date.parse(created) : Number.NaN;
        if (!Number.isNaN(start)) vnodes.push({ name, window: { start, end: null } });
      });
    }
    return { items, vnodes, pods, groups: allGroups, skipped };
  }

  /** The billed size of a pod without a group: ECI's `eci-instance-spec` annotation, else its resources. */
  private sizeOfPod(pod: Pod): BilledSize | undefined {
    const recorded = pod.metadata.annotations?.[ANNOTATION_INSTANCE_SPEC];
    if (recorded) {
      if (recorded.startsWith('ecs.')) return { kind: 'type', instanceType: recorded };
      const spec = parseSpec(recorded);
      if (spec) return { kind: 'spec', spec };
    }
    const ps = podSize(pod, this.settings.extraSpecs);
    return ps.ok ? ps.size : undefined;
  }

  // ---------------------------------------------------------------- reports

  /** The report of `period` from what ECI and the cluster know now. */
  report(g: GatherResult, period: Period): CostReport {
    return buildReport({
      cluster: this.settings.clusterName,
      region: this.settings.region,
      table: this.table,
      period,
      now: this.ports.clock.now(),
      items: g.items,
      vnodes: g.vnodes,
    });
  }

  /** Stored reports whose period starts in [from, to), oldest first. */
  async storedReports(from: number, to: number, onDay?: (day: string) => void): Promise<CostReport[]> {
    const out: CostReport[] = [];
    const dayMs = 86_400_000;
    for (let d = Math.floor(from / dayMs) * dayMs; d < to; d += dayMs) {
      onDay?.(dayOf(d));
      const cm = await this.getConfigMap(reportConfigMapName(d));
      for (const [key, text] of Object.entries(cm?.data ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
        const res = CostReportSchema.safeParse(safeJson(text));
        if (!res.success) {
          this.ports.logger.warn({ configMap: reportConfigMapName(d), key }, 'billing: ignoring an unreadable stored report');
          continue;
        }
        const start = Date.parse(res.data.period.start);
        if (start >= from && start < to) out.push(res.data);
      }
    }
    return out;
  }

  /**
   * Stores a complete period's report: written once. Running a period again finds the key; an identical report is
   * `unchanged`; a different one (e.g. ECI has forgotten groups since) keeps the stored one and logs the
   * difference, so a period is never counted twice nor rewritten with less data.
   */
  async store(report: CostReport): Promise<BillingRunResult['stored']> {
    const { cluster, logger } = this.ports;
    const name = reportConfigMapName(Date.parse(report.period.start));
    const key = reportKey(report);
    let text = JSON.stringify(report);
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.getConfigMap(name);
      const old = existing?.data?.[key];
      if (old !== undefined) {
        if (old === text) return 'unchanged';
        logger.warn({ period: report.id, stored: totalOf(old), computed: report.totals.all.amount }, 'billing: period already reported; keeping the stored report');
        return 'kept-existing';
      }
      const size = Object.values(existing?.data ?? {}).reduce((a, v) => a + v.length, 0);
      if (size + text.length > MAX_CONFIGMAP_BYTES && report.pods.length > 0) {
        logger.warn({ period: report.id, pods: report.pods.length }, 'billing: report too large for the day ConfigMap; storing aggregates only');
        text = JSON.stringify({ ...report, pods: [] });
      }
      try {
        if (existing) {
          await cluster.replaceConfigMap(this.settings.bridgeNamespace, {
            metadata: { ...existing.metadata },
            data: { ...(existing.data ?? {}), [key]: text },
          });
        } else {
          await cluster.createConfigMap(this.settings.bridgeNamespace, {
            metadata: { name, namespace: this.settings.bridgeNamespace, labels: { [REPORT_LABEL]: 'true' } },
            data: { [key]: text },
          });
        }
        return 'created';
      } catch (err) {
        if (!isConflict(err)) throw err;
        // someone else wrote the ConfigMap in between (or created it): read again and retry
      }
    }
    return 'failed';
  }

  private async getConfigMap(name: string): Promise<ConfigMap | undefined> {
    try {
      return await this.ports.cluster.getConfigMap(this.settings.bridgeNamespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  // ---------------------------------------------------------------- price check

  /**
   * Asks DescribeContainerGroupPrice for every size in use and compares with the table (pay-as-you-go, hourly):
   * mismatches beyond the tolerance are logged; instance types missing from the table are priced from the answer
   * (so GPU pods get a price) and logged. The port's price is per hour (ECI's API reference does not state the unit, so it is unverified:
   * a mismatch by a factor of 3600 is called out).
   */
  async checkPrices(sizes: readonly BilledSize[]): Promise<PriceCheck[]> {
    const { groups, logger } = this.ports;
    const distinct = new Map(sizes.map((s) => [describeSize({ ...s, ...(s.kind === 'spec' ? { economy: false } : {}) }), s]));
    const out: PriceCheck[] = [];
    for (const [label, size] of [...distinct].sort(([a], [b]) => (a < b ? -1 : 1))) {
      let answer: { tradePrice: number; currency: string };
      try {
        answer = await groups.price(
          size.kind === 'spec'
            ? { cpu: size.spec.cpuMilli / 1000, memory: size.spec.memoryMilliGiB / 1000 }
            : { instanceType: size.instanceType },
        );
      } catch (err) {
        logger.warn({ size: label, err: describeError(err) }, 'billing: price check failed');
        continue;
      }
      const theirs = parseScaledDecimal(answer.tradePrice.toFixed(9), 9) * 1000n; // pico per hour
      if (size.kind === 'type' && this.table.instanceTypes[size.instanceType] === undefined) {
        this.table.instanceTypes[size.instanceType] = Number(theirs / 1000n);
        logger.info({ size: label, hourly: answer.tradePrice, currency: answer.currency }, 'billing: priced an instance type from DescribeContainerGroupPrice');
      }
      const rate = instanceRate(size, this.table);
      if (!rate.ok) continue;
      const ours = rate.picoPerHour;
      const tol = BigInt(this.settings.priceToleranceBp ?? 50);
      const diff = ours > theirs ? ours - theirs : theirs - ours;
      const ok = answer.currency === this.table.currency && diff * 10_000n <= ours * tol;
      const check = {
        size: label,
        ours: formatMoney(costOf(ours, 3_600_000), 6),
        theirs: formatMoney(costOf(theirs, 3_600_000), 6),
        currency: answer.currency,
        ok,
      };
      out.push(check);
      if (!ok) {
        const perSecond = theirs * 3600n;
        const hint = (perSecond > ours ? perSecond - ours : ours - perSecond) * 100n <= ours ? ' (the API price looks per second)' : '';
        logger.warn({ ...check, table: this.table.name }, `billing: price table differs from DescribeContainerGroupPrice${hint}`);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- pod annotations

  /** Annotates each pod with its billed size and its cost so far (whole window up to now); only when changed. */
  async annotatePods(g: GatherResult): Promise<number> {
    const now = this.ports.clock.now();
    const byUid = new Map(g.items.map((i) => [i.uid, i]));
    let n = 0;
    for (const pod of g.pods) {
      const item = pod.metadata.uid ? byUid.get(pod.metadata.uid) : undefined;
      if (!item) continue;
      const rate = instanceRate(item.size, this.table, item.spot);
      const ms = overlapMs(item.window, { start: item.window.start, end: now }, now);
      const size = describeSize(item.size) + (item.spot ? ' (spot)' : '');
      const cost = rate.ok ? `${formatMoney(costOf(rate.picoPerHour, ms), 6)} ${this.table.currency}` : 'unpriced';
      const ann = pod.metadata.annotations ?? {};
      if (ann[ANNOTATION_BILLED_SIZE] === size && ann[ANNOTATION_COST] === cost) continue;
      try {
        await this.ports.cluster.patchPodMetadata(pod.metadata.namespace ?? '', pod.metadata.name ?? '', {
          annotations: { [ANNOTATION_BILLED_SIZE]: size, [ANNOTATION_COST]: cost },
        });
        n++;
      } catch (err) {
        if (!isNotFound(err)) {
          this.ports.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: describeError(err) }, 'billing: annotate failed');
        }
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- budgets

  /** Month-to-date cost per namespace from the stored reports of the month (plus `extra` not stored yet). */
  async monthToDate(now: number, extra: readonly CostReport[] = []): Promise<Map<string, Money>> {
    const monthStart = Date.parse(`${monthOf(now)}-01T00:00:00Z`);
    const reports = await this.storedReports(monthStart, now + 1);
    const ids = new Set(reports.map((r) => r.id));
    const spent = new Map<string, Money>();
    for (const r of [...reports, ...extra.filter((e) => !ids.has(e.id) && Date.parse(e.period.start) >= monthStart)]) {
      for (const [ns, a] of Object.entries(r.byNamespace)) spent.set(ns, (spent.get(ns) ?? 0n) + moneyOf(a.cost));
    }
    return spent;
  }

  /**
   * Evaluates every namespace with a monthly budget annotation: records an Event per newly crossed threshold
   * (80 %, 100 %; remembered per month in the budget state ConfigMap, so repeats emit nothing) and stores the state
   * the admission webhook reads. Returns the number of Events recorded.
   */
  async evaluateBudgets(extra: readonly CostReport[] = []): Promise<number> {
    const { cluster, logger } = this.ports;
    const now = this.ports.clock.now();
    const month = monthOf(now);
    const namespaces = await cluster.listNamespaces();
    const budgets = new Map<string, Money>();
    for (const ns of namespaces) {
      const text = ns.metadata.annotations?.[ANNOTATION_MONTHLY_BUDGET];
      if (!text || !ns.metadata.name) continue;
      try {
        budgets.set(ns.metadata.name, parseBudget(text, this.table.currency));
      } catch (err) {
        logger.warn({ namespace: ns.metadata.name, err: describeError(err) }, 'billing: ignoring a malformed budget');
      }
    }
    const spent = await this.monthToDate(now, extra);
    const existing = await this.getConfigMap(BUDGET_STATE_NAME);
    const prev = readBudgetState(existing);
    const state: BudgetState = { month, currency: this.table.currency, namespaces: {} };
    let events = 0;
    for (const [ns, budget] of [...budgets].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const s = spent.get(ns) ?? 0n;
      const level = budgetLevel(s, budget);
      const before: BudgetLevel = prev?.month === month ? (prev.namespaces[ns]?.level ?? 0) : 0;
      for (const ev of budgetEvents(ns, before, level, s, budget, this.table.currency)) {
        await cluster.recordEvent({
          // recorded in the namespace itself (`kubectl get events -n <ns>` shows it to the team that owns the budget)
          involvedObject: { kind: 'Namespace', name: ns, namespace: ns, apiVersion: 'v1' },
          reason: ev.reason,
          message: ev.message,
          type: ev.type,
          source: { component: 'eci-bridge-billing' },
        });
        events++;
      }
      state.namespaces[ns] = { budget: formatMoney(budget, 9), spent: formatMoney(s, 9), level: Math.max(level, before) as BudgetLevel };
    }
    const text = JSON.stringify(state);
    if (existing?.data?.[BUDGET_STATE_KEY] !== text) {
      if (existing) {
        await cluster.replaceConfigMap(this.settings.bridgeNamespace, { metadata: { ...existing.metadata }, data: { [BUDGET_STATE_KEY]: text } });
      } else {
        await cluster.createConfigMap(this.settings.bridgeNamespace, {
          metadata: { name: BUDGET_STATE_NAME, namespace: this.settings.bridgeNamespace },
          data: { [BUDGET_STATE_KEY]: text },
        });
      }
    }
    return events;
  }

  // ---------------------------------------------------------------- the timer

  /** Applies the prices learned from the bill (instance types, spot ratio) to the table; returns whether any were. */
  async useLearnedPrices(): Promise<boolean> {
    const learned = readLearned((await this.getConfigMap(LEARNED_CONFIGMAP))?.data?.[LEARNED_KEY]);
    if (!learned) return false;
    Object.assign(this.table, applyLearned(this.table, learned));
    return true;
  }

  /** One run of the billing function: the previous complete hour (or `period`). */
  async run(period?: Period): Promise<BillingRunResult> {
    const { logger } = this.ports;
    if (this.settings.learnedPrices && (await this.useLearnedPrices())) logger.info({ table: this.table.name }, 'billing: using the prices learned from the bill');
    const now = this.ports.clock.now();
    const p = period ?? hourPeriod(now, -1);
    const g = await this.gather();
    for (const s of g.skipped) logger.warn(s, 'billing: not billed');
    const priceChecks = await this.checkPrices(g.items.map((i) => i.size));
    const report = this.report(g, p);
    let stored: BillingRunResult['stored'];
    try {
      stored = report.complete ? await this.store(report) : 'failed';
    } catch (err) {
      logger.error({ period: report.id, err: describeError(err) }, 'billing: storing the report failed');
      stored = 'failed';
    }
    const annotated = await this.annotatePods(g);
    let events = 0;
    try {
      events = await this.evaluateBudgets(stored === 'failed' ? [report] : []);
    } catch (err) {
      logger.error({ err: describeError(err) }, 'billing: budget evaluation failed');
    }
    logger.info(
      { period: periodId(p), stored, pods: report.pods.length, total: `${report.totals.all.amount} ${report.currency}`, annotated, budgetEvents: events },
      'billing: period reported',
    );
    return { report, stored, annotated, priceChecks, budgetEvents: events };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function totalOf(text: string): string | undefined {
  const r = CostReportSchema.safeParse(safeJson(text));
  return r.success ? r.data.totals.all.amount : undefined;
}

export function readBudgetState(cm: ConfigMap | undefined): BudgetState | undefined {
  const res = BudgetStateSchema.safeParse(safeJson(cm?.data?.[BUDGET_STATE_KEY] ?? ''));
  return res.success ? res.data : undefined;
}

/**
 * The admission decision for a new virtual-node pod in `namespace`, from the budget state the billing function
 * stored (the webhook reads the `eci-bridge-budgets` ConfigMap and calls this). No state, or a state of another
 * month, admits.
 */
export function budgetAdmission(
  state: BudgetState | undefined,
  namespace: string,
  mode: BudgetEnforcement,
  now: number,
): AdmissionDecision {
  const ns = state?.month === monthOf(now) ? state.namespaces[namespace] : undefined;
  if (!state || !ns) return { allowed: true, warnings: [] };
  return admitUnderBudget(namespace, parseMoney(ns.spent), parseMoney(ns.budget), state.currency, mode);
}

/**
 * The budget check for the admission webhook (`AdmissionDeps.extraPodCheck`): reads the budget state the billing
 * function stored (cached for `cacheMs`, default 30 s) and refuses or warns for a pod in a namespace over budget.
 */
export function budgetPodCheck(
  deps: { cluster: Pick<Cluster, 'getConfigMap'>; clock: Pick<Clock, 'now'> },
  bridgeNamespace: string,
  mode: BudgetEnforcement,
  cacheMs = 30_000,
): (pod: Pod) => Promise<{ refuse?: string; warn?: string } | undefined> {
  let cached: { at: number; state: BudgetState | undefined } | undefined;
  return async (pod) => {
    if (mode === 'off' || !pod.metadata.namespace) return undefined;
    const now = deps.clock.now();
    if (!cached || now - cached.at >= cacheMs) {
      let cm: ConfigMap | undefined;
      try {
        cm = await deps.cluster.getConfigMap(bridgeNamespace, BUDGET_STATE_NAME);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      cached = { at: now, state: readBudgetState(cm) };
    }
    const d = budgetAdmission(cached.state, pod.metadata.namespace, mode, now);
    if (!d.allowed) return { refuse: d.message ?? 'over budget' };
    return d.warnings.length ? { warn: d.warnings.join('; ') } : undefined;
  };
}
