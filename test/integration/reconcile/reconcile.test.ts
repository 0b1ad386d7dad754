/**
 * Reconciliation end to end (issue 19's "done when"), through the real composition: a real kube-apiserver, the ECI
 * emulator and the BSS emulator (fed by the ECI emulator's groups) through the real SDKs, pods driven by the
 * pod-sync and status-sync handlers, the billing handler for the hours they ran in, then the reconcile handler with
 * a clock two days later (the bill has settled) and gc.
 *
 * The day: an on-demand Job, a spot Job (billed at 0.2 of on-demand; the table assumes 0.3), a Job on an instance
 * type the bill charges 9000/h while the table says 7200/h, and a group carrying only the cluster tag that no pod
 * owns (a leak gc cannot see by itself); FC and MNS lines of the bridge's own resources. Prices are large (1 CNY per
 * vCPU-second) so seconds of emulated running give amounts the 0.01 rounding cannot hide.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { type BssEmulator, startBssEmulator } from '../../../emulators/bss/index.js';
import { DEFAULT_CREDENTIAL, type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { createHandler as createBilling } from '../../../functions/billing/index.js';
import { createHandler as createGc } from '../../../functions/gc/index.js';
import { createHandler as createPodSync } from '../../../functions/pod-sync/index.js';
import { type ReconcileSummary, createHandler as createReconcile } from '../../../functions/reconcile/index.js';
import { createHandler as createStatusSync } from '../../../functions/status-sync/index.js';
import { main as costMain } from '../../../scripts/commands/cost.js';
import { createEciContainerGroups } from '../../../shared/adapters/eci/index.js';
import { connectReconcile } from '../../../shared/compose-reconcile.js';
import { type BridgeOverrides, billingOf, bridgeFactory } from '../../../shared/compose.js';
import { billingDayOf, billingDayPeriod } from '../../../shared/domain/bill.js';
import { BridgeModelSchema, predictBridgeDay } from '../../../shared/domain/bridge-cost.js';
import { type Config, parseConfig } from '../../../shared/domain/config.js';
import { LEAKS_CONFIGMAP, readLeakRecord } from '../../../shared/domain/leaks.js';
import { encodeMessage } from '../../../shared/domain/messages.js';
import { TAG_CLUSTER, TAG_POD_UID } from '../../../shared/domain/names.js';
import { reconcileConfigMapName, RECONCILE_KEY } from '../../../shared/usecases/reconcile.js';
import { ReconciliationSchema } from '../../../shared/domain/reconcile.js';
import { fcContext, queueEvent, RecordingQueue, silentLogger as silent, timerEvent } from '../../helpers/fc.js';
import { createTestNamespace, kubeConnectionEnv, loadKubeConfig, NO_KUBECONFIG, podManifest, type TestNamespace, testKubeconfig, uniqueName, waitUntil } from '../../helpers/kube.js';

const kubeconfig = testKubeconfig();
const HOUR = 3_600_000;
const LATER = 2 * 86_400_000;
type Wire = Record<string, unknown>;

describe('reconciliation end to end (real apiserver, ECI and BSS emulators, real SDKs)', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  let bridgeNs: TestNamespace;
  let teamNs: TestNamespace;
  let eci: EciEmulator;
  let bss: BssEmulator;
  let core: CoreV1Api;
  let config: Config;
  let env: Record<string, string | undefined>;
  let overrides: BridgeOverrides;
  const vnode = uniqueName('vnode');
  const clusterName = uniqueName('recon');
  const pods: Record<'plain' | 'spot' | 'typed', V1Pod> = {} as Record<'plain' | 'spot' | 'typed', V1Pod>;
  let leakedId = '';
  let day = '';
  const ctx = (fn: string) => fcContext(fn, { memory: 512, timeout: 300 });
  const at = (now: () => number) => bridgeFactory(config, { ...overrides, clock: { now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } });
  const groupOf = (p: V1Pod): Wire | undefined =>
    eci.groups().find((g) => ((g.Tags as { Key: string; Value: string }[]) ?? []).some((t) => t.Key === TAG_POD_UID && t.Value === p.metadata?.uid));

  before(async () => {
    // not across a billing-day boundary (UTC+8 midnight): wait it out when it is less than 2 minutes away
    const toBoundary = billingDayPeriod(billingDayOf(Date.now(), 8), 8).end - Date.now();
    if (toBoundary < 120_000) await new Promise((r) => setTimeout(r, toBoundary + 1000));
    day = billingDayOf(Date.now(), 8);
    const kcPath = kubeconfig ?? '';
    bridgeNs = await createTestNamespace(kcPath, 'recon-bridge');
    teamNs = await createTestNamespace(kcPath, 'recon-team');
    const kc = loadKubeConfig(kcPath);
    core = kc.makeApiClient((await import('@kubernetes/client-node')).CoreV1Api);
    eci = await startEciEmulator({ timeScale: 0.02, scenario: { seed: 19 }, retainFinishedMs: 10 * 60_000 });
    const own = { [TAG_CLUSTER]: clusterName, 'eci-bridge.io/part': 'bridge' };
    bss = await startBssEmulator({
      scenario: {
        prices: { currency: 'CNY', vcpuPerHour: 3600, memoryGiBPerHour: 360, instanceTypes: { 'ecs.c6.large': 7200 } },
        spotRatio: 0.2,
        actualPrices: { 'ecs.c6.large': 9000 },
        lagMs: 24 * HOUR,
        extraLines: [
          { instanceId: `${clusterName};pod-sync`, productCode: 'fc', billingDate: day, amount: 1.23, tags: own },
          { instanceId: `${clusterName};gc`, productCode: 'fc', billingDate: day, amount: 0.1, tags: own },
          { instanceId: 'eci-bridge-pods', productCode: 'mns', billingDate: day, amount: 0.05, tags: own },
          { instanceId: 'someone-elses-fn', productCode: 'fc', billingDate: day, amount: 9.99, tags: { team: 'other' } },
        ],
      },
      source: () => eci.groups(),
      billClock: () => Date.now() + LATER,
    });
    await core.createNode({ body: { metadata: { name: vnode, labels: { type: 'virtual-kubelet' } } } });
    env = {
      CLUSTER_NAME: clusterName,
      VNODE_NAME: vnode,
      BRIDGE_NAMESPACE: bridgeNs.name,
      ECI_ENDPOINT: eci.endpoint,
      ECI_PROTOCOL: 'http',
      ECI_VSWITCH_IDS: 'vsw-test-a',
      ECI_SECURITY_GROUP_ID: 'sg-test',
      BSS_ENDPOINT: bss.endpoint,
      BSS_PROTOCOL: 'http',
      BILLING_PRICE_TABLES: JSON.stringify([
        { name: 'test', currency: 'CNY', regions: ['*'], vcpu: '3600/h', memoryGiB: '360/h', instanceTypes: { 'ecs.c6.large': '7200/h' }, spotRatio: '0.3' },
      ]),
      BILLING_VNODE_CHARGE: 'false',
      // the cost model the bridge's own cost is predicted with: one queue, the rest as measured
      BILLING_BRIDGE_MODEL: JSON.stringify({ queues: 1 }),
      GC_ORPHAN_GRACE_SECONDS: '0',
      ...kubeConnectionEnv(kc),
      QUEUE_KIND: 'embedded',
      LOG_LEVEL: 'silent',
    };
    config = parseConfig(env);
    overrides = { queue: new RecordingQueue(), deadLetter: new RecordingQueue(), logger: silent };
  });

  after(async () => {
    await bss?.close();
    await eci?.close();
    await core?.deleteNode({ name: vnode }).catch(() => undefined);
    await teamNs?.cleanup();
    await bridgeNs?.cleanup();
  });

  it('a day: an on-demand, a spot and an instance-type Job run and succeed; a group nobody owns runs too; the hours are reported', async () => {
    const bridges = bridgeFactory(config, overrides);
    const podSync = createPodSync(bridges, () => silent);
    const statusSync = createStatusSync(bridges, () => silent);
    const job = (name: string, extra: { annotations?: Record<string, string>; cpu?: string; memory?: string }) =>
      core.createNamespacedPod({
        namespace: teamNs.name,
        body: podManifest(uniqueName(name), vnode, {
          metadata: { annotations: extra.annotations ?? {} },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'main',
                image: 'registry.example/job:1',
                command: ['/bin/sh', '-c', 'true # eci-sim: sleep 200; exit 0'],
                ...(extra.cpu ? { resources: { limits: { cpu: extra.cpu, memory: extra.memory ?? '2Gi' } } } : {}),
              },
            ],
          },
        }),
      });
    pods.plain = await job('plain', { cpu: '1', memory: '2Gi' });
    pods.spot = await job('spot', { cpu: '1', memory: '2Gi', annotations: { 'k8s.aliyun.com/eci-spot-strategy': 'SpotAsPriceGo' } });
    pods.typed = await job('typed', { annotations: { 'k8s.aliyun.com/eci-use-specs': 'ecs.c6.large' } });
    // the leak: a group with this cluster's tag (created by hand, or by a bridge that lost its pod), no vnode/pod tags
    const groups = createEciContainerGroups(config, DEFAULT_CREDENTIAL, { logger: silent });
    leakedId = (
      await groups.create({
        RegionId: 'cn-hangzhou',
        ContainerGroupName: uniqueName('stray'),
        Cpu: 2,
        Memory: 4,
        Tag: [{ Key: TAG_CLUSTER, Value: clusterName }],
        Container: [{ Name: 'main', Image: 'registry.example/app:1' }],
      } as never)
    ).containerGroupId;
    const all = Object.values(pods);
    const ref = (p: V1Pod) => ({ namespace: teamNs.name, name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' });
    await podSync(queueEvent(all.map((p) => encodeMessage({ v: 1, kind: 'pod', ...ref(p), reason: 'bound' }))), fcContext('pod-sync'));
    await waitUntil(
      'the three Jobs Succeeded',
      async () => {
        const tick = encodeMessage({ v: 1, kind: 'status-tick', at: new Date().toISOString(), pods: all.map(ref) });
        await podSync(queueEvent([tick]), fcContext('pod-sync'));
        await statusSync(timerEvent('every-minute'), fcContext('status-sync'));
        const phases = await Promise.all(all.map(async (p) => (await core.readNamespacedPod({ namespace: teamNs.name, name: p.metadata?.name ?? '' })).status?.phase));
        return phases.every((x) => x === 'Succeeded');
      },
      60_000,
    );
    assert.equal(groupOf(pods.spot)?.SpotStrategy, 'SpotAsPriceGo');
    assert.equal(String(groupOf(pods.typed)?.InstanceType), 'ecs.c6.large');
    // the billing timer for every hour the Jobs ran in (as it runs five minutes after each)
    const starts = all.map((p) => Date.parse(String(groupOf(p)?.CreationTime)));
    for (let h = Math.floor(Math.min(...starts) / HOUR) * HOUR; h < Date.now(); h += HOUR) {
      const billing = createBilling(at(() => Math.max(Date.now(), h + HOUR + 1000)), () => silent);
      const r = (await billing(timerEvent('hourly', JSON.stringify({ period: new Date(h).toISOString() })), ctx('billing'))) as { stored: string };
      assert.equal(r.stored, 'created');
    }
  });

  let first: ReconcileSummary;
  it('reconciles the settled day: each difference named with its cause, the leak found, the bridge’s own cost measured', async () => {
    const reconcile = createReconcile(at(() => Date.now() + LATER), () => silent);
    first = (await reconcile(timerEvent('daily', JSON.stringify({ day })), ctx('reconcile'))) as ReconcileSummary;
    assert.equal(first.stored, 'created');
    const cm = await core.readNamespacedConfigMap({ namespace: bridgeNs.name, name: reconcileConfigMapName(day) });
    const rec = ReconciliationSchema.parse(JSON.parse(cm.data?.[RECONCILE_KEY] ?? ''));
    assert.equal(rec.timeZone, 'UTC+08:00');
    const row = (p: V1Pod) => rec.groups.find((g) => g.groupId === groupOf(p)?.ContainerGroupId);
    assert.equal(row(pods.plain)?.cause, 'match', row(pods.plain)?.explanation);
    assert.equal(row(pods.plain)?.difference, '0.000000000');
    assert.equal(row(pods.spot)?.cause, 'spot price');
    assert.match(row(pods.spot)?.explanation ?? '', /billed at 0\.2\d* of the on-demand price, the table assumes 0\.3000/);
    assert.equal(row(pods.typed)?.cause, 'price table');
    assert.match(row(pods.typed)?.explanation ?? '', /ecs\.c6\.large billed at 9\d{3}\.\d{4} CNY\/h, the price table 'test' says 7200\.0000 CNY\/h/);
    assert.ok(Number(row(pods.spot)?.difference) < 0 && Number(row(pods.typed)?.difference) > 0);
    // the leak
    assert.deepEqual(rec.leaks.map((l) => [l.groupId, l.reason]), [[leakedId, 'unknown']]);
    assert.match(rec.leaks[0]?.explanation ?? '', /no hourly report of the day knows the group \(still in ECI: Running\)/);
    // learned: the spot ratio and the instance type's price
    assert.match(rec.learned.spotRatio?.observed ?? '', /^0\.(19|20)\d\d$/);
    const typed = rec.learned.unitPrices.find((u) => u.size === 'ecs.c6.large');
    assert.ok(typed && Math.abs(Number(typed.observedPerHour) - 9000) < 90, `observed ${typed?.observedPerHour}`);
    // the bridge's own resources (tagged), not someone else's
    assert.equal(rec.bridge.billed, '1.380000000');
    assert.deepEqual(rec.bridge.byProduct, { fc: '1.330000000', mns: '0.050000000' });
    assert.equal(rec.bridge.label, 'real charge');
    assert.equal(rec.vnodeComparison.label, 'comparison');
    // totals per namespace (a dimension as in the hourly reports)
    assert.equal(rec.totals.byDimension.namespace?.[teamNs.name]?.groups, 3);
    // the Event on the virtual node, and the leak handed to gc
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${vnode},reason=BilledGroupLeak` });
    assert.equal(events.items.length, 1);
    assert.match(events.items[0]?.message ?? '', new RegExp(leakedId));
    const leaks = await core.readNamespacedConfigMap({ namespace: bridgeNs.name, name: LEAKS_CONFIGMAP });
    assert.equal(readLeakRecord(leaks.data?.[leakedId] ?? '')?.state, 'reported');
  });

  it('re-running the day changes nothing', async () => {
    const before = await core.readNamespacedConfigMap({ namespace: bridgeNs.name, name: reconcileConfigMapName(day) });
    const reconcile = createReconcile(at(() => Date.now() + LATER), () => silent);
    const again = (await reconcile(timerEvent('daily', JSON.stringify({ day })), ctx('reconcile'))) as ReconcileSummary;
    assert.equal(again.stored, 'unchanged');
    assert.deepEqual({ ...again, trigger: '' }, { ...first, stored: 'unchanged', trigger: '' });
    const afterCm = await core.readNamespacedConfigMap({ namespace: bridgeNs.name, name: reconcileConfigMapName(day) });
    assert.equal(afterCm.metadata?.resourceVersion, before.metadata?.resourceVersion);
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${vnode},reason=BilledGroupLeak` });
    assert.equal(events.items[0]?.count ?? 1, 1, 'no second Event');
  });

  it('`cost --reconcile --day` shows the stored reconciliation in every format, each amount labelled', async () => {
    const out: string[] = [];
    const io = {
      out: (x: string) => out.push(x),
      err: () => undefined,
      readFile: () => '',
      writeFile: () => undefined,
      env: { ...env, ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_CREDENTIAL.accessKeySecret },
      tty: false,
    };
    const run = async (format: string): Promise<string> => {
      out.length = 0;
      const code = await costMain(['--reconcile', '--day', day, '--format', format], io, undefined, connectReconcile);
      assert.equal(code, 0);
      return out.join('');
    };
    const json = JSON.parse(await run('json')) as { source: string; leaks: { groupId: string }[] };
    assert.match(json.source, /^stored by the reconcile function/);
    assert.deepEqual(json.leaks.map((l) => l.groupId), [leakedId]);
    const text = await run('table');
    assert.match(text, /billed = real charge \(the bill\); estimated = estimate/);
    assert.match(text, new RegExp(`LEAK ${leakedId}`));
    assert.match(text, /spot price: 1 group/);
    assert.match(text, /price table: 1 group/);
    // measured beside predicted: the cost model's figure for the configured model (one queue) and the day's three groups
    const predicted = predictBridgeDay(BridgeModelSchema.parse({ queues: 1 }), 3);
    const own = /The bridge's own cost \(real charge, FC \+ MNS, 3 tagged resource\(s\)\): 1\.38 CNY; fc 1\.33; mns 0\.05; predicted: (\d+\.\d\d) CNY\n/.exec(text);
    assert.ok(own, text);
    assert.ok(Math.abs(Number(own[1]) - predicted.totalCny) <= 0.005, `printed ${own[1]}, the model says ${predicted.totalCny}`);
    assert.match(text, /predicted \(estimate\): the cost model \(docs\/performance\.md\) predicts \d+\.\d{4} CNY idle for the day \+ 3 pod\(s\) × \d\.\d{6} CNY per pod lifecycle; measured − predicted -?\d+\.\d\d CNY/);
    assert.match(text, /comparison: an ECI VNode/);
    const csvText = await run('csv');
    assert.equal(csvText.trim().split('\n').length, 1 + 3 + 1 + 1, 'header, three groups, one leak, the bridge');
    const html = await run('html');
    assert.equal((html.match(/<rect class="bar" data-kind="billed"/g) ?? []).length, 3, 'the namespace, the leak, the bridge');
    assert.equal((html.match(/<rect class="bar" data-kind="estimated"/g) ?? []).length, 2, "the namespace, and the bridge's predicted cost beside its bill");
  });

  it('gc deletes the leaked group once; the next gc run does not delete it again', async () => {
    const gc = createGc(bridgeFactory(config, overrides), () => silent);
    const deletesBefore = eci.calls().byAction.DeleteContainerGroup ?? 0;
    const r1 = (await gc(timerEvent('gc'), fcContext('gc'))) as { leaks: { groupId: string; state: string }[] };
    assert.deepEqual(r1.leaks, [{ groupId: leakedId, state: 'deleted' }]);
    const r2 = (await gc(timerEvent('gc'), fcContext('gc'))) as { leaks: unknown[] };
    assert.deepEqual(r2.leaks, []);
    assert.equal((eci.calls().byAction.DeleteContainerGroup ?? 0) - deletesBefore, 1, 'one delete in all');
    const leaks = await core.readNamespacedConfigMap({ namespace: bridgeNs.name, name: LEAKS_CONFIGMAP });
    assert.equal(readLeakRecord(leaks.data?.[leakedId] ?? '')?.state, 'deleted');
  });

  it('with BILLING_LEARNED_PRICES=true the estimator uses the learned instance-type price and spot ratio', async () => {
    const bridge = bridgeFactory(parseConfig({ ...env, BILLING_LEARNED_PRICES: 'true' }), overrides)(fcContext('billing').credentials);
    const billing = billingOf(bridge);
    assert.equal(billing.priceTable.spotRatio, 3000);
    await billing.run({ start: Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR, end: Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR });
    assert.ok(billing.priceTable.spotRatio >= 1900 && billing.priceTable.spotRatio <= 2100, `spot ratio ${billing.priceTable.spotRatio}`);
    assert.ok(Math.abs((billing.priceTable.instanceTypes['ecs.c6.large'] ?? 0) / 1e9 - 9000) < 90);
  });
});
