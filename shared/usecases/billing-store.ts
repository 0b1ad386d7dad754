/**
 * The hourly reports' storage (part of the billing use-case, billing.ts): one ConfigMap per UTC day in the bridge
 * namespace (`eci-bridge-cost-<day>`), one key per hour, written once. A report that would push the day's ConfigMap
 * past the 1 MiB object limit is stored without its per-pod rows (aggregates only).
 */
import { type CostReport, CostReportSchema, dayOf, labelReport } from '../domain/billing.js';
import type { ConfigMap } from '../domain/k8s.js';
import type { Cluster, ClusterStore, Logger } from '../ports/index.js';
import { isConflict, unlessNotFound } from './errors.js';

export const REPORT_LABEL = 'eci-bridge.io/cost-report';
/** Leave headroom under Kubernetes' 1 MiB object limit. */
const MAX_CONFIGMAP_BYTES = 900 * 1024;

export function reportConfigMapName(periodStart: number): string {
  return `eci-bridge-cost-${dayOf(periodStart)}`;
}
export function reportKey(report: { id: string }): string {
  return `${report.id.replace(/:/g, '-')}.json`;
}

export type StoreOutcome = 'created' | 'unchanged' | 'kept-existing' | 'failed';

export function safeJson(text: string): unknown {
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

/** A ConfigMap of the bridge namespace, or undefined when there is none. */
export function getBridgeConfigMap(cluster: Pick<Cluster, 'getConfigMap'>, namespace: string, name: string): Promise<ConfigMap | undefined> {
  return unlessNotFound(() => cluster.getConfigMap(namespace, name));
}

export class ReportStore {
  constructor(
    private readonly ports: { cluster: Pick<Cluster, 'getConfigMap'> & ClusterStore; logger: Logger },
    private readonly namespace: string,
  ) {}

  /** Stored reports whose period starts in [from, to), oldest first, every line labelled (labelReport). */
  async storedReports(from: number, to: number, onDay?: (day: string) => void): Promise<CostReport[]> {
    const out: CostReport[] = [];
    const dayMs = 86_400_000;
    for (let d = Math.floor(from / dayMs) * dayMs; d < to; d += dayMs) {
      onDay?.(dayOf(d));
      const cm = await getBridgeConfigMap(this.ports.cluster, this.namespace, reportConfigMapName(d));
      for (const [key, text] of Object.entries(cm?.data ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
        const res = CostReportSchema.safeParse(safeJson(text));
        if (!res.success) {
          this.ports.logger.warn({ configMap: reportConfigMapName(d), key }, 'billing: ignoring an unreadable stored report');
          continue;
        }
        const start = Date.parse(res.data.period.start);
        if (start >= from && start < to) out.push(labelReport(res.data));
      }
    }
    return out;
  }

  /**
   * Stores a complete period's report: written once. Running a period again finds the key; an identical report is
   * `unchanged`; a different one (e.g. ECI has forgotten groups since) keeps the stored one and logs the
   * difference, so a period is never counted twice nor rewritten with less data.
   */
  async store(report: CostReport): Promise<StoreOutcome> {
    const { cluster, logger } = this.ports;
    const name = reportConfigMapName(Date.parse(report.period.start));
    const key = reportKey(report);
    let text = JSON.stringify(report);
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await getBridgeConfigMap(cluster, this.namespace, name);
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
          await cluster.replaceConfigMap(this.namespace, {
            metadata: { ...existing.metadata },
            data: { ...(existing.data ?? {}), [key]: text },
          });
        } else {
          await cluster.createConfigMap(this.namespace, {
            metadata: { name, namespace: this.namespace, labels: { [REPORT_LABEL]: 'true' } },
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
}
