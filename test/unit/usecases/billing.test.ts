/**
 * The billing use-case against in-memory fakes of its ports. Prices: the China list prices
 * (2-4Gi = 2 × 0.000049 + 4 × 0.00000613 = 0.00012252 CNY/s = 0.441072 CNY/h; VNode 0.529344 CNY/h).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANNOTATION_BILLED_SIZE, ANNOTATION_COST, type CostReport, moneyOf } from '../../../shared/domain/billing.js';
import type { EciKeyValue } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { TAG_CLUSTER, TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID, TAG_VNODE } from '../../../shared/domain/names.js';
import { defaultPriceTables } from '../../../shared/domain/prices.js';
import { Billing, type BillingPorts, type BillingSettings } from '../../../shared/usecases/billing.js';
import { reportConfigMapName } from '../../../shared/usecases/billing-store.js';
import { BUDGET_STATE_NAME, budgetAdmission, budgetPodCheck, readBudgetState } from '../../../shared/usecases/budgets.js';
import { FakeCluster, FakeGroups, type LogLine, memLogger } from './billing-fakes.js';

const T0 = Date.parse('2024-05-01T09:00:00Z');
const MIN = 60_000;
const HOUR = 3_600_000;
const at = (m: number) => new Date(T0 + m * MIN).toISOString();

function tags(ns: string, name: string, uid: string): EciKeyValue[] {
  return [
    { Key: TAG_CLUSTER, Value: 'c1' },
    { Key: TAG_VNODE, Value: 'vn' },
    { Key: TAG_NAMESPACE, Value: ns },
    { Key: TAG_POD_NAME, Value: name },
    { Key: TAG_POD_UID, Value: uid },
  ];
}

function pod(ns: string, name: string, uid: string, extra: Partial<Pod['metadata']> = {}, status?: Pod['status']): Pod {
  return { metadata: { namespace: ns, name, uid, ...extra }, spec: { nodeName: 'vn', containers: [{ name: 'a' }] }, ...(status ? { status } : {}) };
}

function world() {
  const cluster = new FakeCluster();
  const groups = new FakeGroups();
  const logs: LogLine[] = [];
  let now = T0 + HOUR + 5 * MIN; // 10:05: the timer reports 09:00-10:00
  const ports: BillingPorts = { cluster, groups, clock: { now: () => now }, logger: memLogger(logs) };
  const settings: BillingSettings = {
    clusterName: 'c1',
    vnodeNames: ['vn'],
    bridgeNamespace: 'eci-bridge',
    region: 'cn-hangzhou',
    tables: defaultPriceTables(),
    vnodeCharge: true,
    budgetEnforcement: 'refuse',
  };
  cluster.nodes.set('vn', { metadata: { name: 'vn', creationTimestamp: new Date(T0 - 24 * HOUR).toISOString() } });
  // web: Running 2-4Gi since 08:30 (Pulling event) → 3600 s in the hour = 0.441072
  cluster.pods.push(pod('shop', 'web-1', 'u1'));
  groups.groups.push({
    ContainerGroupId: 'eci-1',
    Status: 'Running',
    Cpu: 2,
    Memory: 4,
    CreationTime: at(-31),
    Events: [{ Reason: 'Pulling', FirstTimestamp: at(-30) }],
    Tags: tags('shop', 'web-1', 'u1'),
  });
  // job: Succeeded 1-2Gi 09:10 → 09:40 = 1800 s × (0.000049 + 2 × 0.00000613 = 0.00006126) = 0.110268
  groups.groups.push({
    ContainerGroupId: 'eci-2',
    Status: 'Succeeded',
    Cpu: 1,
    Memory: 2,
    CreationTime: at(9),
    SucceededTime: at(40),
    Containers: [{ Name: 'a', CurrentState: { State: 'Terminated', StartTime: at(10), FinishTime: at(40) } }],
    Tags: tags('jobs', 'batch-1', 'u2'),
  });
  // another cluster's group: ignored
  groups.groups.push({ ContainerGroupId: 'eci-x', Status: 'Running', Cpu: 64, Memory: 128, CreationTime: at(0), Tags: [{ Key: TAG_CLUSTER, Value: 'other' }] });
  groups.prices.set('2-4', 0.441072);
  groups.prices.set('1-2', 0.220536);
  return {
    cluster,
    groups,
    logs,
    billing: () => new Billing(ports, settings),
    setNow: (t: number) => {
      now = t;
    },
    settings,
    ports,
  };
}

describe('billing use-case', () => {
  it('reports the previous hour: per-pod costs, the VNode comparison apart, stored in the day ConfigMap', async () => {
    // Prepare
    const w = world();
    // Act
    const res = await w.billing().run();
    // Assess
    assert.equal(res.report.id, '2024-05-01T09:00Z');
    assert.equal(res.stored, 'created');
    assert.deepEqual(res.report.pods.map((p) => [p.namespace, p.name, p.cost.amount]), [
      ['jobs', 'batch-1', '0.110268000'],
      ['shop', 'web-1', '0.441072000'],
    ]);
    // the ECI-VNode formula is reported apart, as a comparison: not in the total
    assert.equal(res.report.totals.vnodes.amount, '0.529344000');
    assert.equal(res.report.vnodes[0]?.kind, 'comparison');
    // 0.110268 + 0.441072 = 0.55134
    assert.equal(res.report.totals.all.amount, '0.551340000');
    const sum = res.report.pods.reduce((a, p) => a + moneyOf(p.cost), 0n);
    assert.equal(moneyOf(res.report.totals.all), sum);
    const cm = w.cluster.configMaps.get(`eci-bridge/${reportConfigMapName(T0)}`);
    assert.equal(cm?.metadata.name, 'eci-bridge-cost-2024-05-01');
    assert.deepEqual(Object.keys(cm?.data ?? {}), ['2024-05-01T09-00Z.json']);
    assert.deepEqual(JSON.parse(cm?.data?.['2024-05-01T09-00Z.json'] ?? '{}'), res.report);
  });

  it('labels every line of the stored report: the pods, aggregates and totals are estimates, the VNode lines comparisons', async () => {
    const w = world();
    await w.billing().run();
    const stored = JSON.parse(w.cluster.configMaps.get(`eci-bridge/${reportConfigMapName(T0)}`)?.data?.['2024-05-01T09-00Z.json'] ?? '{}') as CostReport;
    assert.ok(stored.pods.length === 2 && stored.vnodes.length === 1);
    for (const p of stored.pods) assert.equal(p.label, 'estimate', `pod ${p.name}`);
    for (const v of stored.vnodes) assert.equal(v.label, 'comparison', `vnode ${v.name}`);
    for (const dim of ['byNamespace', 'byOwner', 'byNode'] as const) {
      const rows = Object.entries(stored[dim]);
      assert.ok(rows.length > 0, dim);
      for (const [k, a] of rows) assert.equal(a.label, 'estimate', `${dim} ${k}`);
    }
    for (const [k, a] of Object.entries(stored.byNode)) assert.equal(a.vnodeLabel, 'comparison', `byNode ${k} vnode`);
    assert.deepEqual([stored.totals.label, stored.totals.vnodesLabel], ['estimate', 'comparison']);
    // a report stored before the labels existed reads labelled
    const old = structuredClone(stored) as Record<string, unknown> & CostReport;
    for (const p of old.pods) delete p.label;
    for (const v of old.vnodes) delete v.label;
    for (const a of Object.values(old.byNamespace)) delete a.label;
    delete old.totals.label;
    delete old.totals.vnodesLabel;
    w.cluster.configMaps.set(`eci-bridge/${reportConfigMapName(T0)}`, { metadata: { name: reportConfigMapName(T0), namespace: 'eci-bridge' }, data: { 'old.json': JSON.stringify(old) } });
    const [read] = await w.billing().storedReports(T0, T0 + HOUR);
    assert.deepEqual(read, stored);
  });

  it('is idempotent: running the period again changes nothing, even after ECI forgot a group', async () => {
    const w = world();
    const first = await w.billing().run();
    const writes = w.cluster.writes;
    const again = await w.billing().run();
    assert.equal(again.stored, 'unchanged');
    assert.equal(w.cluster.writes, writes, 'no ConfigMap write on a repeat');
    // ECI purges the finished group; a later run of the same period keeps the stored report
    w.groups.groups = w.groups.groups.filter((g) => g.ContainerGroupId !== 'eci-2');
    w.setNow(T0 + 3 * HOUR);
    const later = await w.billing().run({ start: T0, end: T0 + HOUR });
    assert.equal(later.stored, 'kept-existing');
    const stored = w.cluster.configMaps.get(`eci-bridge/${reportConfigMapName(T0)}`)?.data?.['2024-05-01T09-00Z.json'];
    assert.equal(stored, JSON.stringify(first.report));
  });

  it('adds the next hour to the same day ConfigMap, retrying over a concurrent create', async () => {
    const w = world();
    await w.billing().run();
    w.setNow(T0 + 2 * HOUR + MIN);
    const next = await w.billing().run();
    assert.equal(next.report.id, '2024-05-01T10:00Z');
    assert.deepEqual(Object.keys(w.cluster.configMaps.get('eci-bridge/eci-bridge-cost-2024-05-01')?.data ?? {}).sort(), [
      '2024-05-01T09-00Z.json',
      '2024-05-01T10-00Z.json',
    ]);
    // first hour of the next day: someone creates the ConfigMap between our read and our create
    w.cluster.raceOnCreate = true;
    const b = w.billing();
    w.setNow(Date.parse('2024-05-02T01:00:00Z'));
    const r = await b.run();
    assert.equal(r.stored, 'created');
    assert.ok(w.cluster.configMaps.get('eci-bridge/eci-bridge-cost-2024-05-02')?.data?.['2024-05-02T00-00Z.json']);
  });

  it('bills a pod whose group ECI has forgotten from its final status and recorded spec', async () => {
    const w = world();
    w.cluster.pods.push(
      pod('ml', 'old', 'u9', { annotations: { 'k8s.aliyun.com/eci-instance-spec': '4.0-8.0Gi' } }, {
        phase: 'Succeeded',
        containerStatuses: [
          { name: 'a', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 0, startedAt: at(50), finishedAt: at(55) } } },
        ],
      }),
    );
    const r = await w.billing().run();
    const old = r.report.pods.find((p) => p.name === 'old');
    // 4 × 0.000049 + 8 × 0.00000613 = 0.00024504 CNY/s × 300 s = 0.073512
    assert.equal(old?.size, '4-8Gi');
    assert.equal(old?.cost.amount, '0.073512000');
    assert.equal(old?.groupId, null);
  });

  it('annotates pods with billed size and cost so far, only when it changed', async () => {
    const w = world();
    await w.billing().run();
    const web = w.cluster.pods.find((p) => p.metadata.name === 'web-1');
    assert.equal(web?.metadata.annotations?.[ANNOTATION_BILLED_SIZE], '2-4Gi');
    // 08:30 → 10:05 = 95 min = 5700 s × 0.00012252 = 0.698364
    assert.equal(web?.metadata.annotations?.[ANNOTATION_COST], '0.698364 CNY');
    const patches = w.cluster.patches;
    await w.billing().run();
    assert.equal(w.cluster.patches, patches);
  });

  it('checks prices against DescribeContainerGroupPrice and logs mismatches', async () => {
    const w = world();
    w.groups.prices.set('1-2', 0.3); // table says 0.220536
    const r = await w.billing().run();
    assert.deepEqual(r.priceChecks.map((c) => [c.size, c.ok]), [
      ['1-2Gi', false],
      ['2-4Gi', true],
    ]);
    const warn = w.logs.find((l) => l.level === 'warn' && /price table differs/.test(l.msg ?? ''));
    assert.equal(warn?.obj.size, '1-2Gi');
    assert.equal(warn?.obj.theirs, '0.300000');
  });

  it('prices an instance type missing from the table from the API', async () => {
    const w = world();
    w.groups.groups.push({
      ContainerGroupId: 'eci-gpu',
      Status: 'Running',
      InstanceType: 'ecs.gn6i-c4g1.xlarge',
      CreationTime: at(29),
      Events: [{ Reason: 'Pulling', FirstTimestamp: at(30) }],
      Tags: tags('ml', 'train', 'u7'),
    });
    w.groups.prices.set('ecs.gn6i-c4g1.xlarge', 8.5);
    const r = await w.billing().run();
    // 8.5 CNY/h × 30 min = 4.25
    assert.equal(r.report.pods.find((p) => p.name === 'train')?.cost.amount, '4.250000000');
  });

  it('budgets: Events at 80 % and 100 % once, and a state the webhook refuses from', async () => {
    const w = world();
    // shop spends 0.441072 in the hour: 0.5 budget → 88 % (threshold); jobs spends 0.110268 of 0.1 → exceeded
    w.cluster.namespaces = [
      { metadata: { name: 'shop', annotations: { 'eci-bridge.io/monthly-budget': '0.5' } } },
      { metadata: { name: 'jobs', annotations: { 'eci-bridge.io/monthly-budget': '0.1 CNY' } } },
      { metadata: { name: 'free' } },
    ];
    const r = await w.billing().run();
    assert.equal(r.budgetEvents, 3);
    assert.deepEqual(
      w.cluster.events.map((e) => [e.involvedObject.name, e.reason]),
      [
        ['jobs', 'BudgetThreshold'],
        ['jobs', 'BudgetExceeded'],
        ['shop', 'BudgetThreshold'],
      ],
    );
    const again = await w.billing().run();
    assert.equal(again.budgetEvents, 0);
    const state = readBudgetState(w.cluster.configMaps.get(`eci-bridge/${BUDGET_STATE_NAME}`));
    const now = T0 + HOUR + 5 * MIN;
    const refused = budgetAdmission(state, 'jobs', 'refuse', now);
    assert.equal(refused.allowed, false);
    assert.match(refused.message ?? '', /namespace jobs is over its monthly ECI budget: spent 0\.11 CNY of 0\.10 CNY/);
    assert.equal(budgetAdmission(state, 'jobs', 'warn', now).allowed, true);
    assert.equal(budgetAdmission(state, 'shop', 'refuse', now).allowed, true);
    // next month: the state no longer applies
    assert.equal(budgetAdmission(state, 'jobs', 'refuse', Date.parse('2024-06-01T00:00:00Z')).allowed, true);
  });

  it('gives the admission webhook a cached budget check for pods', async () => {
    const w = world();
    w.cluster.namespaces = [{ metadata: { name: 'jobs', annotations: { 'eci-bridge.io/monthly-budget': '0.1' } } }];
    let now = T0;
    const check = budgetPodCheck({ cluster: w.cluster, clock: { now: () => now } }, 'eci-bridge', 'refuse');
    const jobsPod = pod('jobs', 'next', 'u100');
    assert.equal(await check(jobsPod), undefined, 'no state yet: admitted');
    await w.billing().run();
    now = T0 + 10_000; // still cached
    assert.equal(await check(jobsPod), undefined);
    now = T0 + HOUR + 10 * MIN;
    assert.match((await check(jobsPod))?.refuse ?? '', /namespace jobs is over its monthly ECI budget/);
    const warn = budgetPodCheck({ cluster: w.cluster, clock: { now: () => now } }, 'eci-bridge', 'warn');
    assert.match((await warn(jobsPod))?.warn ?? '', /over its monthly ECI budget/);
    assert.equal(await check(pod('shop', 'x', 'u101')), undefined);
  });
});
