/**
 * The billing function (timer, hourly): gathers this cluster's container groups (by cluster tag, finished ones
 * too) and the virtual node's pods (whose final statuses status-sync captured before ECI forgot their groups),
 * computes the report of the last complete hour, stores it idempotently (one ConfigMap per day in the bridge
 * namespace, one key per hour, written once), annotates each pod with its billed size and cost so far, checks the
 * price table against DescribeContainerGroupPrice for the sizes in use, and evaluates namespace budgets (Events at
 * 80 % and 100 %; a state ConfigMap the admission webhook reads).
 *
 * This file gathers, reports and runs; the concerns live beside it: storage (billing-store.ts), the price check
 * (billing-prices.ts), pod annotations (billing-annotate.ts), budgets and their admission check (budgets.ts).
 */
import { z } from 'zod';
import {
  ANNOTATION_INSTANCE_SPEC,
  type BilledSize,
  type BillingItem,
  type BudgetEnforcement,
  buildReport,
  type CostReport,
  type Money,
  groupSize,
  groupSpot,
  groupWindow,
  hourPeriod,
  type Period,
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
import type { Pod } from '../domain/k8s.js';
import { TAG_CLUSTER, TAG_NAMESPACE, TAG_OWNER_KIND, TAG_OWNER_NAME, TAG_POD_NAME, TAG_POD_UID, TAG_VNODE } from '../domain/names.js';
import { type CpuMemSpec, DEFAULT_PRICE_TABLES, type PriceTable, PriceTablesSchema, parseSpec, priceTableFor } from '../domain/prices.js';
import type { Clock, Cluster, ClusterStore, ContainerGroups, Logger } from '../ports/index.js';
import { annotatePods } from './billing-annotate.js';
import { checkPrices, type PriceCheck } from './billing-prices.js';
import { getBridgeConfigMap, ReportStore, type StoreOutcome } from './billing-store.js';
import { Budgets } from './budgets.js';
import { describeError, isNotFound } from './errors.js';

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

export interface GatherResult {
  items: BillingItem[];
  vnodes: VNodeItem[];
  pods: Pod[];
  groups: EciContainerGroup[];
  /** pods or groups that could not be billed, with the reason */
  skipped: { key: string; reason: string }[];
}

export interface BillingRunResult {
  report: CostReport;
  stored: StoreOutcome;
  annotated: number;
  priceChecks: PriceCheck[];
  budgetEvents: number;
}

function tag(g: EciContainerGroup, key: string): string | undefined {
  return g.Tags?.find((t) => t.Key === key)?.Value;
}

export class Billing {
  private readonly table: PriceTable;
  private readonly reports: ReportStore;
  private readonly budgets: Budgets;
  constructor(
    private readonly ports: BillingPorts,
    private readonly settings: BillingSettings,
  ) {
    this.table = structuredClone(priceTableFor(settings.region, settings.tables));
    this.reports = new ReportStore(ports, settings.bridgeNamespace);
    this.budgets = new Budgets(ports, this.reports, settings.bridgeNamespace);
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

  /** Stored reports whose period starts in [from, to), oldest first (billing-store.ts). */
  storedReports(from: number, to: number, onDay?: (day: string) => void): Promise<CostReport[]> {
    return this.reports.storedReports(from, to, onDay);
  }

  /** Stores a complete period's report, written once (billing-store.ts). */
  store(report: CostReport): Promise<StoreOutcome> {
    return this.reports.store(report);
  }

  /** DescribeContainerGroupPrice for every size in use against the table (billing-prices.ts). */
  checkPrices(sizes: readonly BilledSize[]): Promise<PriceCheck[]> {
    return checkPrices(this.ports, this.table, sizes, this.settings.priceToleranceBp);
  }

  /** Annotates each pod with its billed size and its cost so far; only when changed (billing-annotate.ts). */
  annotatePods(g: GatherResult): Promise<number> {
    return annotatePods(this.ports, this.table, g.pods, g.items, this.ports.clock.now());
  }

  /** Month-to-date cost per namespace from the stored reports of the month, plus `extra` (budgets.ts). */
  monthToDate(now: number, extra: readonly CostReport[] = []): Promise<Map<string, Money>> {
    return this.budgets.monthToDate(now, extra);
  }

  /** Events per newly crossed budget threshold and the budget state the webhook reads (budgets.ts). */
  evaluateBudgets(extra: readonly CostReport[] = []): Promise<number> {
    return this.budgets.evaluate(this.table.currency, extra);
  }

  // ---------------------------------------------------------------- the timer

  /** Applies the prices learned from the bill (instance types, spot ratio) to the table; returns whether any were. */
  async useLearnedPrices(): Promise<boolean> {
    const learned = readLearned((await getBridgeConfigMap(this.ports.cluster, this.settings.bridgeNamespace, LEARNED_CONFIGMAP))?.data?.[LEARNED_KEY]);
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
