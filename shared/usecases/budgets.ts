/**
 * Namespace budgets (part of the billing use-case, billing.ts): month-to-date cost per namespace from the stored
 * hourly reports, Events at 80 % and 100 % of a namespace's monthly budget (once per month and threshold), the
 * budget state ConfigMap (`eci-bridge-budgets`), and the admission check the webhook makes from that state.
 */
import { z } from 'zod';
import {
  ANNOTATION_MONTHLY_BUDGET,
  type AdmissionDecision,
  admitUnderBudget,
  type BudgetEnforcement,
  type BudgetLevel,
  budgetEvents,
  budgetLevel,
  type CostReport,
  formatMoney,
  type Money,
  moneyOf,
  monthOf,
  parseBudget,
  parseMoney,
} from '../domain/billing.js';
import type { ConfigMap, Pod } from '../domain/k8s.js';
import type { Clock, Cluster, ClusterStore, Logger } from '../ports/index.js';
import { getBridgeConfigMap, type ReportStore, safeJson } from './billing-store.js';
import { describeError, isNotFound } from './errors.js';

export const BUDGET_STATE_NAME = 'eci-bridge-budgets';
const BUDGET_STATE_KEY = 'state.json';

const BudgetStateSchema = z.strictObject({
  month: z.string(),
  currency: z.string(),
  namespaces: z.record(
    z.string(),
    z.strictObject({ budget: z.string(), spent: z.string(), level: z.union([z.literal(0), z.literal(80), z.literal(100)]) }),
  ),
});
export type BudgetState = z.infer<typeof BudgetStateSchema>;

export function readBudgetState(cm: ConfigMap | undefined): BudgetState | undefined {
  const res = BudgetStateSchema.safeParse(safeJson(cm?.data?.[BUDGET_STATE_KEY] ?? ''));
  return res.success ? res.data : undefined;
}

export class Budgets {
  constructor(
    private readonly ports: { cluster: Pick<Cluster, 'getConfigMap' | 'recordEvent'> & ClusterStore; clock: Pick<Clock, 'now'>; logger: Logger },
    private readonly reports: ReportStore,
    private readonly namespace: string,
  ) {}

  /** Month-to-date cost per namespace from the stored reports of the month (plus `extra` not stored yet). */
  async monthToDate(now: number, extra: readonly CostReport[] = []): Promise<Map<string, Money>> {
    const monthStart = Date.parse(`${monthOf(now)}-01T00:00:00Z`);
    const reports = await this.reports.storedReports(monthStart, now + 1);
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
  async evaluate(currency: string, extra: readonly CostReport[] = []): Promise<number> {
    const { cluster, logger } = this.ports;
    const now = this.ports.clock.now();
    const month = monthOf(now);
    const namespaces = await cluster.listNamespaces();
    const budgets = new Map<string, Money>();
    for (const ns of namespaces) {
      const text = ns.metadata.annotations?.[ANNOTATION_MONTHLY_BUDGET];
      if (!text || !ns.metadata.name) continue;
      try {
        budgets.set(ns.metadata.name, parseBudget(text, currency));
      } catch (err) {
        logger.warn({ namespace: ns.metadata.name, err: describeError(err) }, 'billing: ignoring a malformed budget');
      }
    }
    const spent = await this.monthToDate(now, extra);
    const existing = await getBridgeConfigMap(cluster, this.namespace, BUDGET_STATE_NAME);
    const prev = readBudgetState(existing);
    const state: BudgetState = { month, currency, namespaces: {} };
    let events = 0;
    for (const [ns, budget] of [...budgets].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const s = spent.get(ns) ?? 0n;
      const level = budgetLevel(s, budget);
      const before: BudgetLevel = prev?.month === month ? (prev.namespaces[ns]?.level ?? 0) : 0;
      for (const ev of budgetEvents(ns, before, level, s, budget, currency)) {
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
        await cluster.replaceConfigMap(this.namespace, { metadata: { ...existing.metadata }, data: { [BUDGET_STATE_KEY]: text } });
      } else {
        await cluster.createConfigMap(this.namespace, {
          metadata: { name: BUDGET_STATE_NAME, namespace: this.namespace },
          data: { [BUDGET_STATE_KEY]: text },
        });
      }
    }
    return events;
  }
}

/**
 * The admission decision for a new virtual-node pod in `namespace`, from the budget state the billing function
 * stored (the webhook reads the `eci-bridge-budgets` ConfigMap and calls this). No state, or a state of another
 * month, admits.
 */
export function budgetAdmission(state: BudgetState | undefined, namespace: string, mode: BudgetEnforcement, now: number): AdmissionDecision {
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
