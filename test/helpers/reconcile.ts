/**
 * Fixtures for the reconciliation of one billing day (shared/domain/reconcile.ts), shared by the tests of the maths
 * (test/unit/domain/reconcile.test.ts), the bridge's cost prediction (bridge-cost.test.ts) and the HTML page
 * (test/unit/cli/cost-html.test.ts): the day 2024-05-01 in UTC+8 for cluster `c1`, a bill line, a group's estimate.
 * Each test passes what it is about (lines, estimates, table, overrides); the rest is the same ordinary day.
 */
import { type BillLine, billingDayPeriod } from '../../shared/domain/bill.js';
import { parseMoney } from '../../shared/domain/billing.js';
import type { GroupEstimate, ReconcileInput } from '../../shared/domain/reconcile.js';

export const RECONCILE_DAY = '2024-05-01';
/** the documented cluster tag key; its value is `c1` on every fixture */
export const CLUSTER_TAG_KEY = 'eci-bridge.io/cluster';

/** An ECI bill line of `amount` CNY for instance `id` on the day, tagged with cluster c1. */
export function billLine(id: string, amount: string, extra: Partial<BillLine> = {}): BillLine {
  return { instanceId: id, productCode: 'eci', billingDate: RECONCILE_DAY, amount: parseMoney(amount), currency: 'CNY', tags: { [CLUSTER_TAG_KEY]: 'c1' }, ...extra };
}

/** The estimate of one on-demand 2-4Gi group `id` that ran one hour at `fee` (cost = fee), a pod of shop/Deployment/web. */
export function groupEstimate(id: string, fee: string, extra: Partial<GroupEstimate> = {}): GroupEstimate {
  return {
    groupId: id,
    uid: `uid-${id}`,
    namespace: 'shop',
    pod: `pod-${id}`,
    owner: 'shop/Deployment/web',
    node: 'vnode',
    size: '2-4Gi',
    spot: false,
    billedMs: 3_600_000,
    cost: parseMoney(fee),
    fee: parseMoney(fee),
    hours: 1,
    ...extra,
  };
}

/** The input of reconcileDay for the day, with all 24 hourly reports in and nothing live unless given. */
export function reconcileInput(given: Pick<ReconcileInput, 'table' | 'lines' | 'estimates'> & Partial<ReconcileInput>): ReconcileInput {
  return {
    day: RECONCILE_DAY,
    timeZone: 'UTC+08:00',
    period: billingDayPeriod(RECONCILE_DAY, 8),
    clusterTag: 'c1',
    clusterTagKey: CLUSTER_TAG_KEY,
    live: [],
    hourlyReports: 24,
    recomputedHours: [],
    ...given,
  };
}
