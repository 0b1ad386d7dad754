/**
 * Billing arithmetic against hand-computed examples. Unit prices (ECI billing, docs/architecture.md#sources):
 *   China:         vCPU 0.000049 CNY/s, memory 0.00000613 CNY/GiB/s, economy vCPU 0.000027 CNY/s
 *   International: vCPU 0.0000077 USD/s, memory 0.00000096 USD/GiB/s
 * The arithmetic of every expected value is written beside it.
 *
 * Over 400 lines: one suite for shared/domain/billing.ts, case by case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  admitUnderBudget,
  type BillingItem,
  budgetEvents,
  budgetLevel,
  buildReport,
  CostReportSchema,
  costOf,
  costTags,
  formatMoney,
  groupWindow,
  hourPeriod,
  instanceRate,
  type Money,
  moneyOf,
  overlapMs,
  parseBudget,
  parseMoney,
  podOwner,
  podSize,
  podWindow,
  roundFee,
  vnodeRate,
} from '../../../shared/domain/billing.js';
import type { EciContainerGroup } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import {
  defaultPriceTables,
  formatSpec,
  type PriceTable,
  PriceTableSchema,
  priceTableFor,
  roundUpSpec,
} from '../../../shared/domain/prices.js';

const [china, intl] = defaultPriceTables() as [PriceTable, PriceTable];
const GiB = 1024 ** 3;
const T0 = Date.parse('2024-05-01T09:00:00Z');
const MIN = 60_000;
const HOUR = 3_600_000;

function rate(r: ReturnType<typeof instanceRate>): bigint {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.picoPerHour;
}
const spec = (cpu: number, mem: number) => ({ kind: 'spec' as const, spec: { cpuMilli: cpu * 1000, memoryMilliGiB: mem * 1000 } });
const amount = (m: Money, d = 6) => formatMoney(m, d);

describe('price tables', () => {
  it('holds the list prices exactly as nano-currency per hour', () => {
    assert.equal(china.vcpu, 176_400_000); // 0.000049 × 3600 = 0.1764 CNY/h
    assert.equal(china.memoryGiB, 22_068_000); // 0.00000613 × 3600 = 0.022068 CNY/h
    assert.equal(china.economyVcpu, 97_200_000); // 0.000027 × 3600 = 0.0972 CNY/h
    assert.equal(intl.vcpu, 27_720_000); // 0.0000077 × 3600 = 0.02772 USD/h
    assert.equal(intl.memoryGiB, 3_456_000); // 0.00000096 × 3600 = 0.003456 USD/h
    assert.equal(china.spotRatio, 3000); // 0.3 in basis points
  });

  it('picks the table by region glob, China first', () => {
    assert.equal(priceTableFor('cn-hangzhou', defaultPriceTables()).currency, 'CNY');
    assert.equal(priceTableFor('ap-southeast-1', defaultPriceTables()).currency, 'USD');
  });

  it('refuses prices it cannot hold exactly, and malformed ones', () => {
    assert.equal(PriceTableSchema.safeParse({ ...tableInput(), vcpu: '0.000000000001/s' }).success, false); // 12 dp/s
    assert.equal(PriceTableSchema.safeParse({ ...tableInput(), vcpu: '0.1234567891/h' }).success, false); // 10 dp/h
    assert.equal(PriceTableSchema.safeParse({ ...tableInput(), vcpu: 'cheap' }).success, false);
    assert.equal(PriceTableSchema.safeParse({ ...tableInput(), spotRatio: '1.5' }).success, false);
    // a number means per hour; 1e-7 must not be read through its exponent form
    assert.equal(PriceTableSchema.parse({ ...tableInput(), vcpu: 1e-7 }).vcpu, 100); // 1e-7 × 1e9
  });
});

function tableInput() {
  return { name: 't', currency: 'CNY', regions: ['*'], vcpu: '0.000049/s', memoryGiB: '0.00000613/s' };
}

describe('spec rounding', () => {
  const fmt = (s: ReturnType<typeof roundUpSpec>) => (s ? formatSpec(s) : 'none');
  const cases: [cpuMilli: number, memGiB: number, expected: string | undefined][] = [
    [1500, 3, '2-4Gi'], // 1.5 vCPU → 2; 3 GiB → 4 (2 vCPU offers 1,2,4,8,16)
    [7000, 13, '8-16Gi'], // ECI's own example, all-regions table (8 vCPU offers 4,8,16,32,64)
    [300, 0.6, '0.5-1Gi'], // 0.3 → 0.5; 0.6 → 1
    [250, 0.5, '0.25-0.5Gi'], // exact fit stays
    [2000, 20, '4-32Gi'], // 2 vCPU tops out at 16 GiB → 4 vCPU / 32 GiB
    [100, 10, '2-16Gi'], // 1 vCPU tops out at 8 GiB → 2 / 16
    [64000, 600, undefined], // larger than any spec
  ];
  for (const [cpu, mem, want] of cases) {
    it(`${cpu}m / ${mem} GiB → ${want ?? 'none'}`, () => {
      const r = roundUpSpec({ cpuMilli: cpu, memoryBytes: Math.ceil(mem * GiB) });
      assert.equal(r && formatSpec(r), want);
    });
  }

  it('uses regional extra specs (cn-hangzhou rounds 7/13 to 8/14)', () => {
    const r = roundUpSpec({ cpuMilli: 7000, memoryBytes: 13 * GiB }, [{ cpuMilli: 8000, memoryMilliGiB: 14000 }]);
    assert.equal(r && formatSpec(r), '8-14Gi');
  });

  it('compares memory exactly at the byte: 4 GiB + 1 byte no longer fits 4 GiB', () => {
    assert.equal(fmt(roundUpSpec({ cpuMilli: 2000, memoryBytes: 4 * GiB })), '2-4Gi');
    assert.equal(fmt(roundUpSpec({ cpuMilli: 2000, memoryBytes: 4 * GiB + 1 })), '2-8Gi');
  });
});

describe('instance cost', () => {
  it('2 vCPU / 4 GiB for 10 minutes in China', () => {
    // per second: 2 × 0.000049 + 4 × 0.00000613 = 0.000098 + 0.00002452 = 0.00012252 CNY
    // per hour: 0.441072 CNY; 600 s: 0.073512 CNY → fee 0.07
    const r = rate(instanceRate(spec(2, 4), china));
    assert.equal(amount(costOf(r, HOUR)), '0.441072');
    const c = costOf(r, 10 * MIN);
    assert.equal(amount(c), '0.073512');
    assert.equal(amount(roundFee(c), 2), '0.07');
  });

  it('economy vCPU price', () => {
    // 2 × 0.000027 + 4 × 0.00000613 = 0.00007852 CNY/s; 100 s = 0.007852
    const r = rate(instanceRate({ ...spec(2, 4), economy: true }, china));
    assert.equal(amount(costOf(r, 100_000), 7), '0.0078520');
  });

  it('spot: ratio of the pay-as-you-go rate, capped by the hourly price limit', () => {
    // 0.441072 CNY/h × 0.3 = 0.1323216 CNY/h
    const r = rate(instanceRate(spec(2, 4), china, { strategy: 'SpotAsPriceGo' }));
    assert.equal(amount(costOf(r, HOUR), 7), '0.1323216');
    // SpotWithPriceLimit 0.1/h < 0.1323216 → 0.1 CNY per hour; 30 min = 0.05
    const capped = rate(instanceRate(spec(2, 4), china, { strategy: 'SpotWithPriceLimit', priceLimit: 0.1 }));
    assert.equal(amount(costOf(capped, 30 * MIN)), '0.050000');
    // a limit above the market rate changes nothing
    const loose = rate(instanceRate(spec(2, 4), china, { strategy: 'SpotWithPriceLimit', priceLimit: 1 }));
    assert.equal(loose, r);
  });

  it('GPU instance type from the table; unpriced when the table lacks it', () => {
    const gpu = PriceTableSchema.parse({ ...tableInput(), instanceTypes: { 'ecs.gn6i-c4g1.xlarge': '8.5/h' } });
    // 8.5 CNY/h × 1.5 h = 12.75 CNY
    const r = rate(instanceRate({ kind: 'type', instanceType: 'ecs.gn6i-c4g1.xlarge' }, gpu));
    assert.equal(amount(costOf(r, 90 * MIN), 2), '12.75');
    // spot GPU: 8.5 × 0.3 = 2.55 CNY/h
    const s = rate(instanceRate({ kind: 'type', instanceType: 'ecs.gn6i-c4g1.xlarge' }, gpu, { strategy: 'SpotAsPriceGo' }));
    assert.equal(amount(costOf(s, HOUR), 2), '2.55');
    const missing = instanceRate({ kind: 'type', instanceType: 'ecs.gn7i-c8g1.2xlarge' }, china);
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? '' : missing.reason, /ecs\.gn7i-c8g1\.2xlarge/);
  });

  it('fee rounding: below 0.005 is free, 0.005 and above is 0.01', () => {
    // 0.25 vCPU / 0.5 GiB: 0.25 × 0.000049 + 0.5 × 0.00000613 = 0.00001225 + 0.000003065 = 0.000015315 CNY/s
    const r = rate(instanceRate({ kind: 'spec', spec: { cpuMilli: 250, memoryMilliGiB: 500 } }, china));
    assert.equal(amount(costOf(r, 326_000), 8), '0.00499269'); // 326 s
    assert.equal(amount(roundFee(costOf(r, 326_000)), 2), '0.00');
    assert.equal(amount(costOf(r, 327_000), 9), '0.005008005'); // 327 s
    assert.equal(amount(roundFee(costOf(r, 327_000)), 2), '0.01');
    assert.equal(amount(roundFee(parseMoney('0.005')), 2), '0.01');
    assert.equal(amount(roundFee(parseMoney('0.0149')), 2), '0.01');
    assert.equal(amount(roundFee(parseMoney('0.015')), 2), '0.02');
  });

  it('the VNode formula: (2 × vCPU price + 8 × GiB price) × run time', () => {
    // international: 2 × 0.0000077 + 8 × 0.00000096 = 0.0000154 + 0.00000768 = 0.00002308 USD/s = 0.083088 USD/h
    assert.equal(amount(costOf(vnodeRate(intl), HOUR)), '0.083088');
    // 24 h: 1.994112 USD
    assert.equal(amount(costOf(vnodeRate(intl), 24 * HOUR)), '1.994112');
    // China: 2 × 0.000049 + 8 × 0.00000613 = 0.00014704 CNY/s = 0.529344 CNY/h
    assert.equal(amount(costOf(vnodeRate(china), HOUR)), '0.529344');
  });
});

describe('windows and periods', () => {
  it('a pod spanning two periods splits exactly and the parts add up to the whole', () => {
    // 09:40 → 10:25, 2-4Gi China: 1200 s × 0.00012252 = 0.147024; 1500 s → 0.18378; 2700 s → 0.330804
    const w = { start: T0 + 40 * MIN, end: T0 + 85 * MIN };
    const r = rate(instanceRate(spec(2, 4), china));
    const p1 = hourPeriod(T0);
    const p2 = hourPeriod(T0 + HOUR);
    const c1 = costOf(r, overlapMs(w, p1));
    const c2 = costOf(r, overlapMs(w, p2));
    assert.equal(amount(c1), '0.147024');
    assert.equal(amount(c2), '0.183780');
    assert.equal(c1 + c2, costOf(r, 45 * MIN));
    assert.equal(amount(c1 + c2), '0.330804');
    // and at an awkward split point (odd milliseconds) the sum is still exact
    const odd = { start: T0 + 1, end: T0 + 2 * HOUR - 7 };
    assert.equal(costOf(r, overlapMs(odd, p1)) + costOf(r, overlapMs(odd, p2)), costOf(r, 2 * HOUR - 8));
  });

  it('an open window runs to the period end, or to now inside the running period', () => {
    const w = { start: T0 + 30 * MIN, end: null };
    assert.equal(overlapMs(w, hourPeriod(T0)), 30 * MIN);
    assert.equal(overlapMs(w, hourPeriod(T0), T0 + 45 * MIN), 15 * MIN);
    assert.equal(overlapMs(w, hourPeriod(T0 - HOUR)), 0);
  });

  const at = (m: number) => new Date(T0 + m * MIN).toISOString();
  const group = (g: Partial<EciContainerGroup>): EciContainerGroup => ({ ContainerGroupId: 'eci-1', Status: 'Running', ...g });

  it('starts at the Pulling event, ends at the terminal time', () => {
    const g = group({
      Status: 'Succeeded',
      CreationTime: at(0),
      SucceededTime: at(10),
      Events: [{ Reason: 'Scheduled', FirstTimestamp: at(0) }, { Reason: 'Pulling', FirstTimestamp: at(2) }],
      Containers: [{ Name: 'a', CurrentState: { State: 'Terminated', StartTime: at(3), FinishTime: at(9) } }],
    });
    assert.deepEqual(groupWindow(g), { start: T0 + 2 * MIN, end: T0 + 10 * MIN });
  });

  it('falls back to the first container start, then to the creation time of a billed group', () => {
    const started = group({ CreationTime: at(0), Containers: [{ Name: 'a', CurrentState: { State: 'Running', StartTime: at(4) } }] });
    assert.deepEqual(groupWindow(started), { start: T0 + 4 * MIN, end: null });
    assert.deepEqual(groupWindow(group({ Status: 'Pending', CreationTime: at(1) })), { start: T0 + MIN, end: null });
  });

  it('has no window while Scheduling or after a failed schedule that never ran', () => {
    assert.equal(groupWindow(group({ Status: 'Scheduling', CreationTime: at(0) })), undefined);
    assert.equal(groupWindow(group({ Status: 'ScheduleFailed', CreationTime: at(0) })), undefined);
  });

  it('reads the window of a pod whose group is gone from its container statuses', () => {
    const pod: Pod = {
      metadata: { name: 'p' },
      spec: { containers: [] },
      status: {
        phase: 'Succeeded',
        startTime: at(0),
        containerStatuses: [
          { name: 'a', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 0, startedAt: at(1), finishedAt: at(5) } } },
          { name: 'b', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 0, startedAt: at(2), finishedAt: at(7) } } },
        ],
      },
    };
    assert.deepEqual(podWindow(pod), { start: T0 + MIN, end: T0 + 7 * MIN });
  });
});

describe('pod size (offline)', () => {
  const pod = (p: Partial<Pod['spec']>, annotations?: Record<string, string>): Pod => ({
    metadata: { name: 'p', namespace: 'ns', ...(annotations ? { annotations } : {}) },
    spec: { containers: [], ...p },
  });

  it('sums app containers (limit, else request), takes the max init container, rounds up', () => {
    // app: 500m + 250m = 750m, 512Mi + 256Mi = 768Mi; init max: 1 vCPU, 1Gi → max per resource: 1 vCPU / 1 GiB
    // → 1 vCPU offers 2, 4, 8 GiB → 1-2Gi
    const s = podSize(
      pod({
        containers: [
          { name: 'a', resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m' } } },
          { name: 'b', resources: { requests: { cpu: '250m', memory: '256Mi' } } },
        ],
        initContainers: [{ name: 'i', resources: { limits: { cpu: 1, memory: '1Gi' } } }],
      }),
    );
    assert.ok(s.ok);
    assert.equal(s.ok && formatSpec(s.size.kind === 'spec' ? s.size.spec : { cpuMilli: 0, memoryMilliGiB: 0 }), '1-2Gi');
  });

  it('takes ECI default 2-4Gi when nothing is set, eci-use-specs when present', () => {
    const none = podSize(pod({ containers: [{ name: 'a' }] }));
    assert.deepEqual(none.ok && none.size, { kind: 'spec', spec: { cpuMilli: 2000, memoryMilliGiB: 4000 }, economy: false });
    const typed = podSize(pod({ containers: [{ name: 'a' }] }, { 'k8s.aliyun.com/eci-use-specs': 'ecs.gn6i-c4g1.xlarge,2-4Gi' }));
    assert.deepEqual(typed.ok && typed.size, { kind: 'type', instanceType: 'ecs.gn6i-c4g1.xlarge' });
    const odd = podSize(pod({ containers: [{ name: 'a' }] }, { 'k8s.aliyun.com/eci-use-specs': '1.5-3Gi' }));
    assert.deepEqual(odd.ok && odd.size, { kind: 'spec', spec: { cpuMilli: 2000, memoryMilliGiB: 4000 }, economy: false });
  });

  it('cannot price a GPU pod without an instance type, nor a malformed quantity', () => {
    const s = podSize(pod({ containers: [{ name: 'a', resources: { limits: { 'nvidia.com/gpu': 1 } } }] }));
    assert.equal(s.ok, false);
    const bad = podSize(pod({ containers: [{ name: 'a', resources: { limits: { cpu: 'lots' } } }] }));
    assert.match(bad.ok ? '' : bad.reason, /spec\.containers\[0\]\.resources\.limits\.cpu/);
  });
});

describe('owners and cost tags', () => {
  it('lifts a ReplicaSet owner to its Deployment and tags namespace, owner and team labels', () => {
    const pod: Pod = {
      metadata: {
        name: 'web-7d4b9c-x',
        namespace: 'shop',
        labels: { 'pod-template-hash': '7d4b9c', team: 'payments' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c', uid: 'u', controller: true }],
      },
      spec: { containers: [] },
    };
    assert.deepEqual(podOwner(pod), { kind: 'Deployment', name: 'web' });
    assert.deepEqual(costTags(pod, ['team', 'cost-center']), [
      { Key: 'eci-bridge.io/namespace', Value: 'shop' },
      { Key: 'eci-bridge.io/owner-kind', Value: 'Deployment' },
      { Key: 'eci-bridge.io/owner-name', Value: 'web' },
      { Key: 'team', Value: 'payments' },
    ]);
  });
});

describe('period report: cost tags', () => {
  const period = hourPeriod(T0);
  it('totals by tag: each pod under its tag values, pods without a key left out of that key', () => {
    const whole = { start: T0, end: T0 + HOUR };
    const items: BillingItem[] = [
      // 2-4Gi for the hour: 0.441072 each
      { namespace: 'a', name: 'p1', uid: 'u1', node: 'vn', size: spec(2, 4), window: whole, tags: { 'cost-center': 'cc-1', env: 'prod' } },
      { namespace: 'a', name: 'p2', uid: 'u2', node: 'vn', size: spec(2, 4), window: whole, tags: { 'cost-center': 'cc-1' } },
      // 1-2Gi for the hour: 0.220536
      { namespace: 'b', name: 'p3', uid: 'u3', node: 'vn', size: spec(1, 2), window: whole, tags: { 'cost-center': 'cc-2', env: 'prod' } },
      { namespace: 'b', name: 'p4', uid: 'u4', node: 'vn', size: spec(1, 2), window: whole },
    ];
    const r = buildReport({ cluster: 'c1', region: 'cn-hangzhou', table: PriceTableSchema.parse(tableInput()), period, now: T0 + 2 * HOUR, items, vnodes: [] });
    const rows = Object.fromEntries(Object.entries(r.byTag ?? {}).map(([k, a]) => [k, [a.cost.amount, a.pods]]));
    assert.deepEqual(rows, {
      'cost-center=cc-1': ['0.882144000', 2],
      'cost-center=cc-2': ['0.220536000', 1],
      'env=prod': ['0.661608000', 2],
    });
    // every pod with the key is under exactly one of its values: those rows plus the untagged pod make the total
    const cc = Object.entries(r.byTag ?? {}).filter(([k]) => k.startsWith('cost-center='));
    assert.equal(cc.reduce((a, [, x]) => a + moneyOf(x.cost), 0n) + moneyOf(r.pods[3]?.cost ?? { amount: '0', units: '0' }), moneyOf(r.totals.all));
    assert.deepEqual(r.pods.map((p) => p.tags ?? null), [{ 'cost-center': 'cc-1', env: 'prod' }, { 'cost-center': 'cc-1' }, { 'cost-center': 'cc-2', env: 'prod' }, null]);
    assert.doesNotThrow(() => CostReportSchema.parse(r));
  });
});

describe('period report', () => {
  const gpuTable = PriceTableSchema.parse({ ...tableInput(), name: 'china', instanceTypes: { 'ecs.gn6i-c4g1.xlarge': '8.5/h' } });
  const period = hourPeriod(T0);
  const items: BillingItem[] = [
    // web-1: 2-4Gi, 09:00 → open: 3600 s × 0.00012252 = 0.441072
    { namespace: 'shop', name: 'web-1', uid: 'u1', owner: { kind: 'Deployment', name: 'web' }, node: 'vn', size: spec(2, 4), window: { start: T0 - HOUR, end: null } },
    // web-2: 2-4Gi, 09:30 → 09:45 = 900 s → 0.110268
    { namespace: 'shop', name: 'web-2', uid: 'u2', owner: { kind: 'Deployment', name: 'web' }, node: 'vn', size: spec(2, 4), window: { start: T0 + 30 * MIN, end: T0 + 45 * MIN } },
    // batch: spot 1-2Gi: (0.000049 + 2 × 0.00000613) × 0.3 = 0.00006126 × 0.3 = 0.000018378 CNY/s × 1200 s = 0.0220536
    { namespace: 'jobs', name: 'batch-x', uid: 'u3', owner: { kind: 'Job', name: 'batch' }, node: 'vn', size: spec(1, 2), spot: { strategy: 'SpotAsPriceGo' }, window: { start: T0 + 40 * MIN, end: T0 + 80 * MIN } },
    // gpu: 8.5 CNY/h × 0.5 h = 4.25
    { namespace: 'ml', name: 'train', uid: 'u4', node: 'vn', size: { kind: 'type', instanceType: 'ecs.gn6i-c4g1.xlarge' }, window: { start: T0 + 30 * MIN, end: T0 + 60 * MIN } },
    // finished before the period: not in the report
    { namespace: 'shop', name: 'old', uid: 'u5', node: 'vn', size: spec(2, 4), window: { start: T0 - 2 * HOUR, end: T0 - HOUR } },
  ];
  // vnode: whole hour: 0.529344
  const vnodes = [{ name: 'vn', window: { start: T0 - 10 * HOUR, end: null } }];
  const build = (its: BillingItem[]) =>
    buildReport({ cluster: 'c1', region: 'cn-hangzhou', table: gpuTable, period, now: T0 + 2 * HOUR, items: its, vnodes });

  it('computes per pod, per namespace, per owner, per node, and the VNode formula apart as a comparison', () => {
    const r = build(items);
    assert.equal(r.id, '2024-05-01T09:00Z');
    assert.equal(r.complete, true);
    assert.deepEqual(r.pods.map((p) => [p.name, p.cost.amount]), [
      ['batch-x', '0.022053600'],
      ['train', '4.250000000'],
      ['web-1', '0.441072000'],
      ['web-2', '0.110268000'],
    ]);
    assert.equal(r.byNamespace.shop?.cost.amount, '0.551340000'); // 0.441072 + 0.110268
    assert.equal(r.byNamespace.shop?.fee.amount, '0.550000000'); // 0.44 + 0.11
    assert.equal(r.byOwner['shop/Deployment/web']?.pods, 2);
    assert.equal(r.byOwner['ml/Pod/train']?.cost.amount, '4.250000000');
    assert.equal(r.vnodes[0]?.cost.amount, '0.529344000');
    // 0.0220536 + 4.25 + 0.441072 + 0.110268 = 4.8233936 pods; the VNode line (0.529344) is not a charge
    assert.equal(r.vnodes[0]?.kind, 'comparison');
    assert.equal(r.totals.pods.amount, '4.823393600');
    assert.equal(r.totals.all.amount, '4.823393600');
    assert.equal(r.totals.vnodes.amount, '0.529344000');
    // fees: 0.02 + 4.25 + 0.44 + 0.11, no VNode fee
    assert.equal(r.totals.fee.amount, '4.820000000');
    assert.equal(r.byNode.vn?.vnode.amount, '0.529344000');
    assert.equal(r.byNode.vn?.cost.amount, '4.823393600');
    assert.doesNotThrow(() => CostReportSchema.parse(r));
  });

  it('is deterministic and idempotent: same inputs in any order, duplicates included → identical JSON', () => {
    const a = JSON.stringify(build(items));
    const b = JSON.stringify(build([...items].reverse().concat(items[0] as BillingItem)));
    assert.equal(b, a);
  });

  it('a pod spanning two periods is charged once in each, summing to its whole window', () => {
    const next = buildReport({ cluster: 'c1', region: 'cn-hangzhou', table: gpuTable, period: hourPeriod(T0 + HOUR), now: T0 + 3 * HOUR, items, vnodes });
    const first = build(items);
    const part = (r: typeof first) => moneyOf(r.pods.find((p) => p.uid === 'u3')?.cost ?? { amount: '0', units: '0' });
    // batch: 20 min in each hour → 0.0220536 + 0.0220536 = 0.0441072 (2400 s × 0.000018378)
    assert.equal(formatMoney(part(first) + part(next), 7), '0.0441072');
  });

  it('lists an unpriced pod with zero cost and the reason', () => {
    const r = buildReport({ cluster: 'c1', region: 'cn-hangzhou', table: china, period, now: T0 + 2 * HOUR, items, vnodes: [] });
    const train = r.pods.find((p) => p.name === 'train');
    assert.equal(train?.cost.units, '0');
    assert.match(train?.unpriced ?? '', /no price for instance type/);
  });
});

describe('budgets', () => {
  const budget = parseBudget('100', 'CNY');

  it('reaches 80 % and 100 % at the thresholds', () => {
    assert.equal(budgetLevel(parseMoney('79.999'), budget), 0);
    assert.equal(budgetLevel(parseMoney('80'), budget), 80);
    assert.equal(budgetLevel(parseMoney('99.99'), budget), 80);
    assert.equal(budgetLevel(parseMoney('100'), budget), 100);
  });

  it('emits one Event per newly crossed threshold, none on a repeat', () => {
    assert.deepEqual(budgetEvents('a', 0, 100, parseMoney('120'), budget, 'CNY').map((e) => e.reason), ['BudgetThreshold', 'BudgetExceeded']);
    assert.deepEqual(budgetEvents('a', 80, 80, parseMoney('85'), budget, 'CNY'), []);
    const [e] = budgetEvents('a', 0, 80, parseMoney('85'), budget, 'CNY');
    assert.match(e?.message ?? '', /85\.00 CNY of its monthly ECI budget of 100\.00 CNY/);
  });

  it('refuses or warns over budget, per configuration', () => {
    const over = parseMoney('100.01');
    const refused = admitUnderBudget('a', over, budget, 'CNY', 'refuse');
    assert.equal(refused.allowed, false);
    assert.match(refused.message ?? '', /over its monthly ECI budget: spent 100\.01 CNY of 100\.00 CNY/);
    const warned = admitUnderBudget('a', over, budget, 'CNY', 'warn');
    assert.equal(warned.allowed, true);
    assert.equal(warned.warnings.length, 1);
    assert.equal(admitUnderBudget('a', parseMoney('99'), budget, 'CNY', 'refuse').allowed, true);
    assert.equal(admitUnderBudget('a', over, undefined, 'CNY', 'refuse').allowed, true);
  });

  it('parses budgets in the table currency only', () => {
    assert.equal(formatMoney(parseBudget('500 CNY', 'CNY'), 2), '500.00');
    assert.throws(() => parseBudget('500 USD', 'CNY'), /in USD, but prices are in CNY/);
    assert.throws(() => parseBudget('lots', 'CNY'));
  });
});
