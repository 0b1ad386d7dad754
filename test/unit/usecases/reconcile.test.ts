/**
 * The reconcile use-case's storage over in-memory fakes: a day too large for one ConfigMap is sharded (each well
 * under Kubernetes' 1 MiB), read back whole, and never rewritten; an unsettled day is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { billingDayPeriod } from '../../../shared/domain/bill.js';
import { parseMoney } from '../../../shared/domain/billing.js';
import { defaultPriceTables, priceTableFor } from '../../../shared/domain/prices.js';
import { reconcileDay } from '../../../shared/domain/reconcile.js';
import type { BillReader } from '../../../shared/ports/index.js';
import { Reconcile, ReconcileError, reconcileConfigMapName } from '../../../shared/usecases/reconcile.js';
import { FakeCluster, FakeGroups, memLogger } from './billing-fakes.js';

const DAY = '2024-05-01';
const bills: BillReader = { instanceBill: async () => [] };

function subject(now: number) {
  const cluster = new FakeCluster();
  const settings = {
    clusterName: 'c1',
    vnodeName: 'vnode',
    bridgeNamespace: 'eci-bridge',
    offsetHours: 8,
    settleHours: 24,
    billing: { clusterName: 'c1', vnodeNames: ['vnode'], bridgeNamespace: 'eci-bridge', region: 'cn-hangzhou', tables: defaultPriceTables(), vnodeCharge: false, budgetEnforcement: 'off' as const },
  };
  const rec = new Reconcile({ cluster: cluster as never, groups: new FakeGroups() as never, bills, clock: { now: () => now }, logger: memLogger([]) }, settings);
  return { cluster, rec };
}

function bigDay(n: number) {
  const ids = Array.from({ length: n }, (_, i) => `eci-${String(i).padStart(6, '0')}`);
  return reconcileDay({
    day: DAY,
    timeZone: 'UTC+08:00',
    period: billingDayPeriod(DAY, 8),
    clusterTag: 'c1',
    clusterTagKey: 'eci-bridge.io/cluster',
    table: priceTableFor('cn-hangzhou', defaultPriceTables()),
    lines: ids.map((id) => ({ instanceId: id, productCode: 'eci', billingDate: DAY, amount: parseMoney('0.45'), currency: 'CNY', tags: { 'eci-bridge.io/cluster': 'c1', team: 'a-team-with-a-long-name' } })),
    estimates: ids.map((id) => ({ groupId: id, uid: `uid-${id}`, namespace: 'batch-jobs', pod: `job-${id}-abcde`, owner: `batch-jobs/Job/job-${id}`, node: 'vnode', size: '2-4Gi', spot: false, billedMs: 3_600_000, cost: parseMoney('0.441'), fee: parseMoney('0.44'), hours: 1 })),
    live: [],
    hourlyReports: 24,
    recomputedHours: [],
  });
}

describe('Reconcile storage', () => {
  it('shards a day larger than a ConfigMap, reads it back whole, and never rewrites it', async () => {
    const { cluster, rec } = subject(Date.parse('2024-05-04T00:00:00Z'));
    const r = bigDay(6000);
    assert.ok(JSON.stringify(r).length > 1024 * 1024, 'the day is over 1 MiB');
    assert.equal(await rec.store(r), 'created');
    const names = [...cluster.configMaps.keys()].sort();
    assert.ok(names.length >= 3, `sharded: ${names.join(', ')}`);
    for (const cm of cluster.configMaps.values()) {
      const bytes = Object.values(cm.data ?? {}).reduce((a, v) => a + Buffer.byteLength(v), 0);
      assert.ok(bytes < 900 * 1024, `${cm.metadata.name}: ${bytes} bytes`);
    }
    const summary = JSON.parse(cluster.configMaps.get(`eci-bridge/${reconcileConfigMapName(DAY)}`)?.data?.['reconciliation.json'] ?? '{}');
    assert.deepEqual(summary.groups, [], 'the summary keeps the totals; the rows live in the shards it names');
    assert.equal(summary.detail.configMaps.length, names.length - 1);
    const back = await rec.read(DAY);
    assert.deepEqual(back?.groups, r.groups);
    assert.deepEqual({ ...back, groups: [], detail: r.detail }, { ...r, groups: [] });
    const writes = cluster.writes;
    assert.equal((await rec.run(DAY)).stored, 'unchanged');
    assert.equal(cluster.writes, writes, 'a re-run writes nothing');
  });

  it('refuses a day whose bill has not settled', async () => {
    const { rec } = subject(Date.parse('2024-05-02T10:00:00Z'));
    await assert.rejects(rec.run(DAY), (err: unknown) => err instanceof ReconcileError && err.kind === 'permanent' && /has not settled/.test(err.message));
  });
});
