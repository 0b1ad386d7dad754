/**
 * The reconcile function (timer, daily, once the previous billing day's bill has settled; re-runnable for any past
 * day): reads the day's bill lines (BSS DescribeInstanceBill, DAILY, products eci, fc, mns), the bridge's hourly
 * reports of the same 24 UTC hours (stored ones; missing hours recomputed from what ECI and the cluster know now),
 * and reconciles them per container group (shared/domain/reconcile.ts). Then, only when the reconciliation is new:
 * stores it (written once: re-running a day changes nothing), records an Event on the virtual node per leaked group,
 * hands the leaks to gc (`eci-bridge-leaks`), logs the leak metric and keeps the learned prices.
 *
 * Storage: ConfigMap `eci-bridge-reconcile-<day>` (key `reconciliation.json`) holds the summary; when the per-group
 * rows would make it larger than 800 KiB they go to `eci-bridge-reconcile-<day>-<n>` shards (key `groups.json`),
 * listed in the summary's `detail.configMaps`. Shards are written first, the summary last (it is the commit mark).
 */
import { BILL_PRODUCTS, type BillLine, billLineOf, billingDayPeriod, isSettled, lastSettledDay, mergeLines, utcOffsetText } from '../domain/bill.js';
import type { BridgeModel } from '../domain/bridge-cost.js';
import { type CostReport, hourPeriod, moneyOf, ownerKey } from '../domain/billing.js';
import type { ConfigMap } from '../domain/k8s.js';
import { LEARNED_CONFIGMAP, LEARNED_KEY, type LearnedPrices, learnedFrom, mergeLearned, readLearned } from '../domain/learned.js';
import { LEAKS_CONFIGMAP, type LeakRecord } from '../domain/leaks.js';
import { TAG_CLUSTER, TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID, tagValue } from '../domain/names.js';
import { type GroupEstimate, type LiveGroup, type Reconciliation, ReconciliationSchema, reconcileDay } from '../domain/reconcile.js';
import type { BillReader, Cluster, ClusterStore } from '../ports/index.js';
import { Billing, type BillingPorts, type BillingSettings } from './billing.js';
import { getBridgeConfigMap } from './billing-store.js';
import { describeError, isConflict } from './errors.js';
import { BridgeError } from '../errors.js';

export class ReconcileError extends BridgeError {
  constructor(
    message: string,
    readonly kind: 'permanent' | 'retryable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ReconcileSettings {
  clusterName: string;
  vnodeName: string;
  bridgeNamespace: string;
  offsetHours: number;
  settleHours: number;
  billing: BillingSettings;
  /** the cost model that predicts the bridge's own FC + MNS cost (BILLING_BRIDGE_MODEL; none: no prediction) */
  bridgeModel?: BridgeModel;
}

export interface ReconcilePorts extends BillingPorts {
  cluster: BillingPorts['cluster'] & Pick<Cluster, 'recordEvent'> & ClusterStore;
  bills: BillReader;
}

export const RECONCILE_KEY = 'reconciliation.json';
export const SHARD_KEY = 'groups.json';
const MAX_CONFIGMAP_BYTES = 800 * 1024;

export function reconcileConfigMapName(day: string): string {
  return `eci-bridge-reconcile-${day}`;
}

export interface ReconcileRunResult {
  reconciliation: Reconciliation;
  stored: 'created' | 'unchanged' | 'kept-existing';
  leakEvents: number;
  leaksHandedToGc: number;
  /** bill lines that could not be read, with the reason */
  unreadableLines: number;
}

export class Reconcile {
  readonly billing: Billing;
  constructor(
    private readonly ports: ReconcilePorts,
    private readonly settings: ReconcileSettings,
  ) {
    this.billing = new Billing(ports, settings.billing);
  }

  /** The day the timer reconciles at `now`: the latest settled one. */
  defaultDay(now: number): string {
    return lastSettledDay(now, this.settings.offsetHours, this.settings.settleHours);
  }

  isSettled(day: string): boolean {
    return isSettled(day, this.ports.clock.now(), this.settings.offsetHours, this.settings.settleHours);
  }

  /** Reads the bill of `day` (all products the bridge reconciles, all pages). */
  async billLines(day: string): Promise<{ lines: BillLine[]; unreadable: number }> {
    const lines: BillLine[] = [];
    let unreadable = 0;
    for (const productCode of BILL_PRODUCTS) {
      for (const wire of await this.ports.bills.instanceBill({ billingDate: day, productCode })) {
        try {
          lines.push(billLineOf(wire, day));
        } catch (err) {
          unreadable++;
          this.ports.logger.warn({ day, productCode, err: describeError(err) }, 'reconcile: unreadable bill line skipped');
        }
      }
    }
    return { lines: mergeLines(lines), unreadable };
  }

  /** The reconciliation of `day`, computed now (nothing stored). */
  async compute(day: string): Promise<{ reconciliation: Reconciliation; unreadable: number }> {
    const s = this.settings;
    const period = billingDayPeriod(day, s.offsetHours);
    const { lines, unreadable } = await this.billLines(day);
    const stored = await this.billing.storedReports(period.start, period.end);
    const g = await this.billing.gather();
    const complete = new Set(stored.filter((r) => r.pods.length > 0 || moneyOf(r.totals.pods) === 0n).map((r) => r.id));
    const recomputed: CostReport[] = [];
    for (let p = hourPeriod(period.start); p.start < period.end; p = hourPeriod(p.end)) {
      const r = this.billing.report(g, p);
      if (!complete.has(r.id) && r.pods.length > 0) recomputed.push(r);
    }
    const reports = [...stored.filter((r) => complete.has(r.id)), ...recomputed];
    const podUids = new Set(g.pods.map((p) => p.metadata.uid ?? ''));
    const live: LiveGroup[] = g.groups.map((x) => {
      const uid = x.Tags?.find((t) => t.Key === TAG_POD_UID)?.Value;
      return { id: x.ContainerGroupId, status: x.Status, hasPod: !!uid && podUids.has(uid) };
    });
    const reconciliation = reconcileDay({
      day,
      timeZone: utcOffsetText(s.offsetHours),
      period,
      clusterTag: tagValue(s.clusterName),
      clusterTagKey: TAG_CLUSTER,
      podTagKeys: { uid: TAG_POD_UID, namespace: TAG_NAMESPACE, name: TAG_POD_NAME },
      table: this.billing.priceTable,
      lines,
      estimates: estimatesOf(reports),
      live,
      hourlyReports: reports.length,
      recomputedHours: recomputed.map((r) => r.id).sort(),
      ...(s.bridgeModel ? { bridgeModel: s.bridgeModel } : {}),
    });
    return { reconciliation, unreadable };
  }

  /** One run: the latest settled day (or `day`, which must have settled). */
  async run(day?: string): Promise<ReconcileRunResult> {
    const { logger } = this.ports;
    const d = day ?? this.defaultDay(this.ports.clock.now());
    if (!this.isSettled(d)) {
      throw new ReconcileError(`the bill of ${d} (${utcOffsetText(this.settings.offsetHours)}) has not settled yet (BILLING_SETTLE_HOURS=${this.settings.settleHours})`, 'permanent');
    }
    const existing = await this.read(d);
    if (existing) {
      // written once: a re-run reports what is stored and changes nothing
      logger.info({ day: d }, 'reconcile: day already reconciled; nothing changed');
      return { reconciliation: existing, stored: 'unchanged', leakEvents: 0, leaksHandedToGc: 0, unreadableLines: 0 };
    }
    const { reconciliation, unreadable } = await this.compute(d);
    const stored = await this.store(reconciliation);
    let leakEvents = 0;
    let handed = 0;
    if (stored === 'created') {
      leakEvents = await this.leakEvents(reconciliation);
      handed = await this.handLeaksToGc(reconciliation);
      await this.keepLearned(reconciliation);
    }
    logger.info(
      { metric: 'eci_bridge_billing_leaks', value: reconciliation.leaks.length, day: d, billed: reconciliation.totals.billed, estimated: reconciliation.totals.estimated },
      `reconcile: ${d}: ${reconciliation.groups.length} groups, ${reconciliation.leaks.length} leaked, difference ${reconciliation.totals.difference} ${reconciliation.currency}`,
    );
    return { reconciliation, stored, leakEvents, leaksHandedToGc: handed, unreadableLines: unreadable };
  }

  // ---------------------------------------------------------------- storage

  /** The stored reconciliation of `day` with its detail shards reassembled; undefined when there is none. */
  async read(day: string): Promise<Reconciliation | undefined> {
    const cm = await this.get(reconcileConfigMapName(day));
    const text = cm?.data?.[RECONCILE_KEY];
    if (text === undefined) return undefined;
    const r = ReconciliationSchema.parse(JSON.parse(text));
    for (const name of r.detail.configMaps) {
      const shard = await this.get(name);
      const rows = JSON.parse(shard?.data?.[SHARD_KEY] ?? '[]') as unknown[];
      r.groups.push(...ReconciliationSchema.shape.groups.parse(rows));
    }
    return r;
  }

  async store(r: Reconciliation): Promise<ReconcileRunResult['stored']> {
    const name = reconcileConfigMapName(r.day);
    let summary = r;
    const full = JSON.stringify(r);
    if (full.length > MAX_CONFIGMAP_BYTES) {
      const shards: Reconciliation['groups'][] = [[]];
      let size = 0;
      for (const row of r.groups) {
        const n = JSON.stringify(row).length + 1;
        if (size + n > MAX_CONFIGMAP_BYTES && (shards.at(-1)?.length ?? 0) > 0) {
          shards.push([]);
          size = 0;
        }
        shards.at(-1)?.push(row);
        size += n;
      }
      const names = shards.map((_, i) => `${name}-${i + 1}`);
      for (const [i, rows] of shards.entries()) await this.put(names[i] as string, SHARD_KEY, JSON.stringify(rows), true);
      summary = { ...r, groups: [], detail: { configMaps: names } };
    }
    return this.put(name, RECONCILE_KEY, JSON.stringify(summary), false);
  }

  /** Creates the ConfigMap with one key; an existing one is kept (`overwrite` false) or replaced (shards). */
  private async put(name: string, key: string, text: string, overwrite: boolean): Promise<ReconcileRunResult['stored']> {
    const ns = this.settings.bridgeNamespace;
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.get(name);
      if (existing?.data?.[key] !== undefined && !overwrite) return existing.data[key] === text ? 'unchanged' : 'kept-existing';
      try {
        if (existing) await this.ports.cluster.replaceConfigMap(ns, { metadata: { ...existing.metadata }, data: { [key]: text } });
        else await this.ports.cluster.createConfigMap(ns, { metadata: { name, namespace: ns, labels: { 'eci-bridge.io/reconciliation': 'true' } }, data: { [key]: text } });
        return 'created';
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    throw new ReconcileError(`could not write ConfigMap ${name}: conflicts`, 'retryable');
  }

  private get(name: string): Promise<ConfigMap | undefined> {
    return getBridgeConfigMap(this.ports.cluster, this.settings.bridgeNamespace, name);
  }

  // ---------------------------------------------------------------- leaks, learned prices

  private async leakEvents(r: Reconciliation): Promise<number> {
    let n = 0;
    for (const l of r.leaks) {
      try {
        await this.ports.cluster.recordEvent({
          involvedObject: { kind: 'Node', name: this.settings.vnodeName, apiVersion: 'v1' },
          reason: 'BilledGroupLeak',
          message: `container group ${l.groupId} was billed ${l.billed} ${r.currency} on ${r.day} (${r.timeZone}) under cluster tag ${r.cluster}: ${l.explanation}; handed to gc`,
          type: 'Warning',
          source: { component: 'eci-bridge-reconcile' },
        });
        n++;
      } catch (err) {
        this.ports.logger.warn({ group: l.groupId, err: describeError(err) }, 'reconcile: leak Event not recorded');
      }
    }
    return n;
  }

  /** Adds a `reported` record per leak not yet known to gc (existing records are never reset). */
  private async handLeaksToGc(r: Reconciliation): Promise<number> {
    if (!r.leaks.length) return 0;
    const now = new Date(this.ports.clock.now()).toISOString();
    for (let attempt = 0; attempt < 5; attempt++) {
      const cm = await this.get(LEAKS_CONFIGMAP);
      const data = { ...(cm?.data ?? {}) };
      let added = 0;
      for (const l of r.leaks) {
        if (data[l.groupId] !== undefined) continue;
        const rec: LeakRecord = { day: r.day, reason: l.reason, billed: l.billed, currency: r.currency, state: 'reported', at: now };
        data[l.groupId] = JSON.stringify(rec);
        added++;
      }
      if (!added) return 0;
      try {
        const ns = this.settings.bridgeNamespace;
        if (cm) await this.ports.cluster.replaceConfigMap(ns, { metadata: { ...cm.metadata }, data });
        else await this.ports.cluster.createConfigMap(ns, { metadata: { name: LEAKS_CONFIGMAP, namespace: ns }, data });
        return added;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    throw new ReconcileError('could not hand the leaks to gc: conflicts', 'retryable');
  }

  /** The learned prices, for the estimator (BILLING_LEARNED_PRICES=true). */
  async learned(): Promise<LearnedPrices | undefined> {
    return readLearned((await this.get(LEARNED_CONFIGMAP))?.data?.[LEARNED_KEY]);
  }

  private async keepLearned(r: Reconciliation): Promise<void> {
    const fresh = learnedFrom(r);
    if (!fresh) return;
    const cm = await this.get(LEARNED_CONFIGMAP);
    const text = JSON.stringify(mergeLearned(readLearned(cm?.data?.[LEARNED_KEY]), fresh));
    if (cm?.data?.[LEARNED_KEY] === text) return;
    const ns = this.settings.bridgeNamespace;
    try {
      if (cm) await this.ports.cluster.replaceConfigMap(ns, { metadata: { ...cm.metadata }, data: { [LEARNED_KEY]: text } });
      else await this.ports.cluster.createConfigMap(ns, { metadata: { name: LEARNED_CONFIGMAP, namespace: ns }, data: { [LEARNED_KEY]: text } });
    } catch (err) {
      this.ports.logger.warn({ err: describeError(err) }, 'reconcile: learned prices not stored');
    }
  }
}

/** Per container group: the hourly reports' rows of that group summed over the day. */
export function estimatesOf(reports: readonly CostReport[]): GroupEstimate[] {
  const by = new Map<string, GroupEstimate>();
  for (const r of reports) {
    for (const p of r.pods) {
      if (!p.groupId) continue;
      const cur =
        by.get(p.groupId) ??
        ({
          groupId: p.groupId,
          uid: p.uid,
          namespace: p.namespace,
          pod: p.name,
          owner: ownerKey(p.namespace, p.owner ?? undefined, p.name),
          node: p.node,
          size: p.size,
          spot: p.spot,
          billedMs: 0,
          cost: 0n,
          fee: 0n,
          hours: 0,
        } satisfies GroupEstimate);
      cur.billedMs += p.billedMs;
      cur.cost += moneyOf(p.cost);
      cur.fee += moneyOf(p.fee);
      cur.hours++;
      by.set(p.groupId, cur);
    }
  }
  return [...by.values()];
}
