/**
 * `eci-bridge cost` in-process: offline estimates and the VNode charge from the list prices, and the cluster mode
 * over in-memory fakes of the ports. China: 2-4Gi = 0.441072 CNY/h; international VNode = 0.083088 USD/h.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TAG_CLUSTER, TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID } from '../../../shared/domain/names.js';
import { parseConfig } from '../../../shared/domain/config.js';
import { Billing, billingSettingsFromConfig } from '../../../shared/usecases/billing.js';
import { type CostIo, main } from '../../../scripts/commands/cost.js';
import { FakeCluster, FakeGroups, memLogger } from '../usecases/billing-fakes.js';

function io(files: Record<string, string> = {}, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const written = new Map<string, string>();
  const x: CostIo = {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    readFile: (p) => {
      const t = files[p];
      if (t === undefined) throw new Error('ENOENT');
      return t;
    },
    writeFile: (p, t) => written.set(p, t),
    env,
    tty: false,
  };
  return { io: x, out: () => out.join(''), err: () => err.join(''), written };
}

const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  template:
    spec:
      containers: [{name: a, image: nginx, resources: {limits: {cpu: 1500m, memory: 3Gi}}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    metadata: {annotations: {k8s.aliyun.com/eci-use-specs: ecs.gn6i-c4g1.xlarge}}
    spec: {containers: [{name: t, image: x, resources: {limits: {nvidia.com/gpu: 1}}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: spotty, annotations: {k8s.aliyun.com/eci-spot-strategy: SpotAsPriceGo}}
spec: {containers: [{name: a, image: x}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec: {template: {spec: {containers: [{name: a, image: x}]}}}
`;

describe('eci-bridge cost --estimate', () => {
  it('prices each workload at its billed size, times its replicas, per hour and for H hours', async () => {
    const t = io({ 'm.yaml': MANIFEST });
    const code = await main(['--estimate', '-f', 'm.yaml', '--hours', '10', '--format', 'json'], t.io);
    assert.equal(code, 0);
    const r = JSON.parse(t.out());
    assert.equal(r.currency, 'CNY');
    const web = r.pods.find((p: { workload: string }) => p.workload === 'Deployment/web');
    // 1.5 vCPU / 3 GiB → 2-4Gi: 0.441072 CNY/h × 3 replicas = 1.323216; × 10 h = 13.23216
    assert.equal(web.size, '2-4Gi');
    assert.equal(web.perHour, '1.323216');
    assert.equal(web.forHours, '13.232160');
    // default 2-4Gi spot: 0.441072 × 0.3 = 0.1323216 → 0.132322 shown
    const spotty = r.pods.find((p: { workload: string }) => p.workload === 'Pod/spotty');
    assert.equal(spotty.spot, true);
    assert.equal(spotty.perHour, '0.132322');
    // GPU type: no list price offline → unpriced, with a warning; the total leaves it out
    const train = r.pods.find((p: { workload: string }) => p.workload === 'Job/train');
    assert.match(train.unpriced, /ecs\.gn6i-c4g1\.xlarge/);
    assert.match(t.err(), /warning: Job\/train/);
    // 1.323216 + 0.1323216 = 1.4555376 → 1.455538
    assert.equal(r.total.perHour, '1.455538');
    assert.ok(r.notes.some((n: string) => /DaemonSet agent/.test(n)));
  });

  it('prices GPU types from BILLING_PRICE_TABLES, and international regions in USD', async () => {
    const tables = JSON.stringify([{ name: 'mine', currency: 'CNY', regions: ['cn-*'], vcpu: '0.000049/s', memoryGiB: '0.00000613/s', instanceTypes: { 'ecs.gn6i-c4g1.xlarge': '8.5/h' } }, { name: 'intl', currency: 'USD', regions: ['*'], vcpu: '0.0000077/s', memoryGiB: '0.00000096/s' }]);
    const t = io({ 'm.yaml': MANIFEST }, { BILLING_PRICE_TABLES: tables });
    assert.equal(await main(['--estimate', '-f', 'm.yaml', '--format', 'json'], t.io), 0);
    const train = JSON.parse(t.out()).pods.find((p: { workload: string }) => p.workload === 'Job/train');
    assert.equal(train.perHour, '8.500000');
    const u = io({ 'm.yaml': MANIFEST });
    assert.equal(await main(['--estimate', '-f', 'm.yaml', '--region', 'eu-central-1', '--format', 'json'], u.io), 0);
    const r = JSON.parse(u.out());
    assert.equal(r.currency, 'USD');
    // 2 × 0.02772 + 4 × 0.003456 = 0.069264 USD/h × 3 = 0.207792
    assert.equal(r.pods.find((p: { workload: string }) => p.workload === 'Deployment/web').perHour, '0.207792');
  });

  it('refuses bad usage with exit code 2', async () => {
    assert.equal(await main(['--estimate'], io().io), 2);
    assert.equal(await main(['--estimate', '-f', 'missing.yaml'], io().io), 2);
    assert.equal(await main(['--vnode', '--format', 'xml'], io().io), 2);
    assert.equal(await main(['--vnode', '--hours', '-1'], io().io), 2);
    assert.equal(await main(['--bogus'], io().io), 2);
    const bad = io({}, { BILLING_PRICE_TABLES: '[{"name":"x"}]' });
    assert.equal(await main(['--vnode'], bad.io), 1);
    assert.match(bad.err(), /BILLING_PRICE_TABLES is invalid/);
  });
});

describe('eci-bridge cost --vnode', () => {
  it('prints the ECI VNode formula as a comparison, not a charge: (2 × vCPU + 8 × GiB price) × hours', async () => {
    const t = io();
    assert.equal(await main(['--vnode', '--region', 'ap-southeast-1', '--hours', '24', '--format', 'json'], t.io), 0);
    const r = JSON.parse(t.out());
    // 2 × 0.0000077 + 8 × 0.00000096 = 0.00002308 USD/s = 0.083088/h; × 24 = 1.994112
    assert.deepEqual([r.kind, r.currency, r.perHour, r.forHours], ['comparison', 'USD', '0.083088', '1.994112']);
    const table = io();
    assert.equal(await main(['--vnode', '--region', 'ap-southeast-1'], table.io), 0);
    assert.match(table.out(), /^Comparison, not a charge: an ECI VNode .* would cost/);
  });
});

describe('eci-bridge cost (cluster)', () => {
  const T0 = Date.parse('2024-05-01T09:00:00Z');
  const HOUR = 3_600_000;

  function setup() {
    const cluster = new FakeCluster();
    const groups = new FakeGroups();
    cluster.nodes.set('eci-bridge-vnode', { metadata: { name: 'eci-bridge-vnode', creationTimestamp: new Date(T0 - 24 * HOUR).toISOString() } });
    const tag = (ns: string, name: string, uid: string) => [
      { Key: TAG_CLUSTER, Value: 'default-cluster' },
      { Key: TAG_NAMESPACE, Value: ns },
      { Key: TAG_POD_NAME, Value: name },
      { Key: TAG_POD_UID, Value: uid },
    ];
    // shop/web: 2-4Gi running since 09:00; jobs/batch: 1-2Gi 09:00 → 09:30 (0.00006126 CNY/s × 1800 s = 0.110268)
    groups.groups.push(
      { ContainerGroupId: 'eci-1', Status: 'Running', Cpu: 2, Memory: 4, CreationTime: new Date(T0).toISOString(), Events: [{ Reason: 'Pulling', FirstTimestamp: new Date(T0).toISOString() }], Tags: tag('shop', 'web', 'u1') },
      { ContainerGroupId: 'eci-2', Status: 'Succeeded', Cpu: 1, Memory: 2, CreationTime: new Date(T0).toISOString(), SucceededTime: new Date(T0 + HOUR / 2).toISOString(), Containers: [{ Name: 'a', CurrentState: { StartTime: new Date(T0).toISOString() } }], Tags: tag('jobs', 'batch', 'u2') },
    );
    groups.prices.set('2-4', 0.441072);
    groups.prices.set('1-2', 0.220536);
    return { cluster, groups };
  }

  it('sums stored reports and live hours by namespace, and writes the HTML page', async () => {
    const { cluster, groups } = setup();
    const config = parseConfig({});
    let now = T0 + HOUR + 60_000;
    const clock = { now: () => now };
    // the billing timer stored 09:00-10:00
    await new Billing({ cluster, groups, clock, logger: memLogger([]) }, billingSettingsFromConfig(config)).run();
    now = T0 + 2 * HOUR; // 10:00-11:00 is computed live
    const t = io();
    const code = await main(['--since', '2h', '--format', 'json', '--html', 'out.html'], t.io, async () => ({ cluster, groups, clock }));
    assert.equal(code, 0, t.err());
    const r = JSON.parse(t.out());
    assert.deepEqual(r.liveHours, ['2024-05-01T10:00Z']);
    // shop: 2 h × 0.441072 = 0.882144; jobs: 0.110268; total 0.992412; the ECI VNode comparison (2 h × 0.529344 =
    // 1.058688) is apart and not in the total
    assert.deepEqual(r.rows, [
      { key: 'jobs', cost: '0.110268', pods: 1, label: 'estimate' },
      { key: 'shop', cost: '0.882144', pods: 1, label: 'estimate' },
    ]);
    assert.equal(r.total, '0.992412');
    assert.deepEqual([r.vnodeComparison.kind, r.vnodeComparison.label, r.vnodeComparison.cost], ['comparison', 'comparison', '1.058688']);
    assert.match(t.err(), /reading stored reports: 2024-05-01/);
    const html = t.written.get('out.html') ?? '';
    assert.match(html, /<svg id="chart"/);
    assert.equal((html.match(/<rect class="bar"/g) ?? []).length, 2); // one day × (jobs, shop); the VNode line is a note
    assert.match(html, /comparison, not a charge: an ECI VNode would cost 1\.058688 CNY/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);

    const c = io();
    assert.equal(await main(['--since', '2h', '--by', 'owner', '--format', 'csv'], c.io, async () => ({ cluster, groups, clock })), 0);
    // every CSV line carries its label: the rows and the total are estimates, the ECI VNode line a comparison
    assert.equal(
      c.out(),
      'owner,pods,cost_cny,label\njobs/Pod/batch,1,0.110268,estimate\nshop/Pod/web,1,0.882144,estimate\ntotal,,0.992412,estimate\n(an ECI VNode would cost),,1.058688,comparison\n',
    );
  });

  it('--by tag:<key> totals by the value of a cost tag (VNODE_TAGS on the groups), untagged apart', async () => {
    const { cluster, groups } = setup();
    // the web group was created by a node with VNODE_TAGS cost-center=cc-42; the batch group before that
    groups.groups[0]?.Tags?.push({ Key: 'cost-center', Value: 'cc-42' });
    const clock = { now: () => T0 + 2 * HOUR };
    const t = io({}, { VNODE_TAGS: 'cost-center=cc-42' });
    const code = await main(['--since', '2h', '--by', 'tag:cost-center', '--format', 'json'], t.io, async () => ({ cluster, groups, clock }));
    assert.equal(code, 0, t.err());
    const r = JSON.parse(t.out());
    // shop/web: 2 h × 0.441072 = 0.882144 under cc-42; jobs/batch: 0.110268 untagged
    assert.deepEqual(r.rows, [
      { key: '(untagged)', cost: '0.110268', pods: 1, label: 'estimate' },
      { key: 'cc-42', cost: '0.882144', pods: 1, label: 'estimate' },
    ]);
    assert.equal(r.total, '0.992412');
    const bad = io();
    assert.equal(await main(['--by', 'tag:'], bad.io, async () => ({ cluster, groups, clock })), 2);
    assert.match(bad.err(), /tag:<key>/);
  });

  it('says that the cluster mode needs a cluster when none can be reached', async () => {
    const t = io();
    const code = await main(['--since', '1d'], t.io, async () => {
      throw new Error('the composition root is not wired');
    });
    assert.equal(code, 1);
    assert.match(t.err(), /not wired/);
  });
});
