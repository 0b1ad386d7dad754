/**
 * Billing end to end (the sandbox proof of issue 8): a real kube-apiserver, the ECI emulator with a fast clock
 * through the real SDK and ECI adapter, pods driven to Running / Succeeded by the pod-sync and status-sync handlers
 * (FC-shaped events, as test/integration/functions does), then the billing handler for the hour they ran in.
 *
 * The expected charges are computed here, independently of shared/domain/billing.ts: from the times the emulator
 * recorded for each group (ECI bills from the first image pull to the terminal time, ECI billing, docs/architecture.md#sources), the group's
 * billed vCPU/memory, and the list prices written out below in pico-CNY per millisecond.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { DEFAULT_CREDENTIAL, type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { type BillingSummary, createHandler as createBilling } from '../../../functions/billing/index.js';
import { createHandler as createPodSync } from '../../../functions/pod-sync/index.js';
import { createHandler as createStatusSync } from '../../../functions/status-sync/index.js';
import { type BridgeOverrides, bridgeFactory, translateDefaults } from '../../../shared/compose.js';
import { type CostReport, CostReportSchema, formatMoney } from '../../../shared/domain/billing.js';
import { type Config, parseConfig } from '../../../shared/domain/config.js';
import type { FcEventHandler } from '../../../shared/sim/fc.js';
import { FUNCTIONS_HEARTBEAT_NAME, leaseToHeartbeat } from '../../../shared/domain/heartbeat.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { encodeMessage } from '../../../shared/domain/messages.js';
import { TAG_OWNER_KIND, TAG_OWNER_NAME, TAG_POD_UID } from '../../../shared/domain/names.js';
import { validatePod } from '../../../shared/domain/validate.js';
import { type AdmissionDeps, validatePodAdmission } from '../../../shared/usecases/admission.js';
import { reportConfigMapName, reportKey } from '../../../shared/usecases/billing-store.js';
import { budgetPodCheck } from '../../../shared/usecases/budgets.js';
import {
  kubeConnectionEnv,
  createTestNamespace,
  loadKubeConfig,
  NO_KUBECONFIG,
  podManifest,
  type TestNamespace,
  testKubeconfig,
  uniqueName,
  waitUntil,
} from '../../helpers/kube.js';
import { fcContext, queueEvent, RecordingQueue, silentLogger as silent, timerEvent } from '../../helpers/fc.js';

const kubeconfig = testKubeconfig();
const HOUR = 3_600_000;

/** List prices of the 'china' table (cn-*), in pico-CNY per millisecond: 0.000049 CNY/s per vCPU, 0.00000613 per GiB. */
const PICO_PER_MS_VCPU = 49_000n;
const PICO_PER_MS_GIB = 6_130n;
/** Default spot price ratio of the table: 0.3. */
const SPOT_NUM = 3n;
const SPOT_DEN = 10n;
/** The report's money unit is 1 / 3.6e18 CNY, i.e. 3.6e6 units per pico-CNY. */
const UNITS_PER_PICO = 3_600_000n;

type Wire = Record<string, unknown>;
const tagsOf = (g: Wire): { Key: string; Value: string }[] => (g.Tags as { Key: string; Value: string }[] | undefined) ?? [];

/** ECI's billing window of a group, read off the emulator's record: first image pull → terminal time (open while running). */
function recordedWindow(g: Wire): { start: number; end: number | null } {
  const pulls = ((g.Events as { Reason?: string; FirstTimestamp?: string }[] | undefined) ?? [])
    .filter((e) => e.Reason === 'Pulling')
    .map((e) => Date.parse(e.FirstTimestamp ?? ''));
  assert.ok(pulls.length > 0, `group ${String(g.ContainerGroupId)} recorded no image pull`);
  const start = Math.min(...pulls);
  const terminal = (g.SucceededTime ?? g.FailedTime) as string | undefined;
  return { start, end: terminal ? Date.parse(terminal) : null };
}

/** The hourly rate of the group's billed size (the emulator's Cpu/Memory), in pico-CNY per ms; spot at the ratio. */
function recordedRate(g: Wire): bigint {
  const milli = (x: unknown): bigint => BigInt(Math.round(Number(x) * 1000));
  let rate = (milli(g.Cpu) * PICO_PER_MS_VCPU + milli(g.Memory) * PICO_PER_MS_GIB) / 1000n;
  assert.equal((milli(g.Cpu) * PICO_PER_MS_VCPU + milli(g.Memory) * PICO_PER_MS_GIB) % 1000n, 0n, 'sizes are whole milli-units');
  if (g.SpotStrategy && g.SpotStrategy !== 'NoSpot') {
    assert.equal((rate * SPOT_NUM) % SPOT_DEN, 0n);
    rate = (rate * SPOT_NUM) / SPOT_DEN;
  }
  return rate;
}

function overlapMs(w: { start: number; end: number | null }, p: { start: number; end: number }): bigint {
  const end = Math.min(w.end ?? Number.POSITIVE_INFINITY, p.end);
  const start = Math.max(w.start, p.start);
  return BigInt(Math.max(0, end - start));
}

describe('billing end to end (real apiserver, ECI emulator with a fast clock, FC-shaped events)', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  let bridgeNs: TestNamespace;
  let teamNs: TestNamespace;
  let emu: EciEmulator;
  let core: CoreV1Api;
  let kc: KubeConfig;
  let config: Config;
  let overrides: BridgeOverrides;
  let queue: RecordingQueue;
  let podSync: FcEventHandler;
  let statusSync: FcEventHandler;
  const vnode = uniqueName('vnode');
  const clusterName = uniqueName('cluster');
  let nodeCreated = 0;
  const pods: Record<'web' | 'big' | 'spot' | 'job', V1Pod> = {} as Record<'web' | 'big' | 'spot' | 'job', V1Pod>;
  /** The hour reported, the billing function's clock for it, and what it stored. */
  let period = { start: 0, end: 0 };
  let stored: { report: CostReport; text: string; resourceVersion: string };

  /** The billing handler with its own clock (the functions' clock is the system's). */
  const billingAt = (now: () => number): FcEventHandler =>
    createBilling(bridgeFactory(config, { ...overrides, clock: { now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } }), () => silent);

  before(async () => {
    const kcPath = kubeconfig ?? '';
    bridgeNs = await createTestNamespace(kcPath, 'bill-bridge');
    teamNs = await createTestNamespace(kcPath, 'bill-team');
    kc = loadKubeConfig(kcPath);
    core = kc.makeApiClient((await import('@kubernetes/client-node')).CoreV1Api);
    // 0.02: 50 simulated seconds pass in one real second; finished groups are kept for the whole test
    emu = await startEciEmulator({ timeScale: 0.02, scenario: { seed: 11 }, retainFinishedMs: 10 * 60_000 });
    // The virtual node (the watcher registers it in a cluster): its creation time starts the VNode charge.
    const node = await core.createNode({ body: { metadata: { name: vnode, labels: { type: 'virtual-kubelet' } } } });
    nodeCreated = Date.parse(String(node.metadata?.creationTimestamp));
    config = parseConfig({
      CLUSTER_NAME: clusterName,
      VNODE_NAME: vnode,
      BRIDGE_NAMESPACE: bridgeNs.name,
      ECI_ENDPOINT: emu.endpoint,
      ECI_PROTOCOL: 'http',
      ECI_VSWITCH_IDS: 'vsw-test-a,vsw-test-b',
      ECI_SECURITY_GROUP_ID: 'sg-test',
      ...kubeConnectionEnv(kc),
      QUEUE_KIND: 'embedded',
      BILLING_TEAM_LABELS: 'team',
      VNODE_TAGS: 'cost-center=cc-int',
      LOG_LEVEL: 'silent',
    });
    queue = new RecordingQueue();
    overrides = { queue, deadLetter: new RecordingQueue(), logger: silent };
    const bridges = bridgeFactory(config, overrides);
    podSync = createPodSync(bridges, () => silent);
    statusSync = createStatusSync(bridges, () => silent);
  });

  after(async () => {
    await emu?.close();
    await core?.deleteNode({ name: vnode }).catch(() => undefined);
    await teamNs?.cleanup();
    await bridgeNs?.cleanup();
  });

  const read = (p: V1Pod) => core.readNamespacedPod({ namespace: teamNs.name, name: p.metadata?.name ?? '' });
  const groupOf = (p: V1Pod): Wire | undefined =>
    emu.groups().find((g) => tagsOf(g).some((t) => t.Key === TAG_POD_UID && t.Value === p.metadata?.uid));

  async function readStored(): Promise<{ report: CostReport; text: string; resourceVersion: string }> {
    const cm = await core.readNamespacedConfigMap({ namespace: bridgeNs.name, name: reportConfigMapName(period.start) });
    const id = `${new Date(period.start).toISOString().slice(0, 16)}Z`;
    const text = cm.data?.[reportKey({ id })];
    assert.ok(text, `no stored report ${id}`);
    return { report: CostReportSchema.parse(JSON.parse(text)), text, resourceVersion: cm.metadata?.resourceVersion ?? '' };
  }

  it('pods of different sizes (one spot, one Job that succeeds quickly) run on ECI through pod-sync and status-sync', async () => {
    const limits = (cpu: string, memory: string) => ({ resources: { limits: { cpu, memory } } });
    const mk = async (name: string, extra: Partial<V1Pod>): Promise<V1Pod> =>
      core.createNamespacedPod({ namespace: teamNs.name, body: podManifest(name, vnode, extra) });
    const sleeper = (r: ReturnType<typeof limits>) => [{ name: 'main', image: 'registry.example/app:1', command: ['sleep', '3600'], ...r }];
    // a Deployment's pod: its ReplicaSet is web-<hash>, and it carries the team label. The ReplicaSet exists (the
    // garbage collector deletes a pod whose owner does not); it scales nothing (0 replicas, a selector that does
    // not match), and a non-controller reference keeps its controller from adopting or releasing the pod.
    const rs = await kc.makeApiClient(AppsV1Api).createNamespacedReplicaSet({
      namespace: teamNs.name,
      body: {
        metadata: { name: 'web-5f7c9d' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'web-template-only' } },
          template: { metadata: { labels: { app: 'web-template-only' } }, spec: { containers: [{ name: 'main', image: 'registry.example/app:1' }] } },
        },
      },
    });
    pods.web = await mk(uniqueName('web'), {
      metadata: {
        labels: { app: 'web', team: 'payments', 'pod-template-hash': '5f7c9d' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5f7c9d', uid: rs.metadata?.uid ?? '', controller: false }],
      },
      spec: { containers: sleeper(limits('500m', '1Gi')) },
    });
    pods.big = await mk(uniqueName('big'), { spec: { containers: sleeper(limits('2', '8Gi')) } });
    pods.spot = await mk(uniqueName('spot'), {
      metadata: { annotations: { 'k8s.aliyun.com/eci-spot-strategy': 'SpotAsPriceGo' } },
      spec: { containers: sleeper(limits('1', '2Gi')) },
    });
    pods.job = await mk(uniqueName('job'), {
      spec: {
        restartPolicy: 'Never',
        containers: [
          { name: 'main', image: 'registry.example/busybox:1', command: ['/bin/sh', '-c', 'true # eci-sim: sleep 150; exit 0'], ...limits('250m', '512Mi') },
        ],
      },
    });
    const all = Object.values(pods);
    const nudges = all.map((p) =>
      encodeMessage({ v: 1, kind: 'pod', namespace: teamNs.name, name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '', reason: 'bound' }),
    );
    await podSync(queueEvent(nudges), fcContext('pod-sync'));
    const tick = encodeMessage({
      v: 1,
      kind: 'status-tick',
      at: new Date().toISOString(),
      pods: all.map((p) => ({ namespace: teamNs.name, name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' })),
    });
    await waitUntil('three pods Running and the Job Succeeded', async () => {
      await podSync(queueEvent([tick, ...queue.take().map((m) => m.body)]), fcContext('pod-sync'));
      await statusSync(timerEvent('every-minute'), fcContext('status-sync'));
      const phases = await Promise.all(all.map(async (p) => (await read(p)).status?.phase));
      return phases.join(',') === 'Running,Running,Running,Succeeded';
    }, 30_000);
    // cost tags: the group carries the Deployment (not its ReplicaSet) and the team label
    const tags = Object.fromEntries(tagsOf(groupOf(pods.web) ?? {}).map((t) => [t.Key, t.Value]));
    assert.equal(tags[TAG_OWNER_KIND], 'Deployment');
    assert.equal(tags[TAG_OWNER_NAME], 'web');
    assert.equal(tags.team, 'payments');
    assert.equal(groupOf(pods.spot)?.SpotStrategy, 'SpotAsPriceGo');
  });

  it("the hour's report: per-pod costs from the recorded times and the price table; totals = their sum + the VNode charge", async () => {
    // Prepare: report the hour the pods ran in, as the timer does five minutes after it ends
    const hourStart = Math.floor(Date.now() / HOUR) * HOUR;
    period = { start: hourStart, end: hourStart + HOUR };
    const billing = billingAt(() => period.end + 5 * 60_000);
    // Act
    const summary = (await billing(timerEvent('hourly', '{"mode":"hourly"}'), fcContext('billing', { memory: 512, timeout: 300 }))) as BillingSummary;
    // Assess
    assert.equal(summary.stored, 'created');
    assert.equal(summary.period, `${new Date(period.start).toISOString().slice(0, 16)}Z`);
    stored = await readStored();
    const { report } = stored;
    assert.equal(report.complete, true);
    assert.equal(report.currency, 'CNY');
    const expected = new Map<string, bigint>();
    for (const p of Object.values(pods)) {
      const g = groupOf(p);
      assert.ok(g, `no group for ${p.metadata?.name}`);
      const ms = overlapMs(recordedWindow(g), period);
      if (ms > 0n) expected.set(p.metadata?.uid ?? '', recordedRate(g) * ms * UNITS_PER_PICO);
    }
    assert.ok(expected.size >= 3, 'the running pods are billed in the hour');
    const job = report.pods.find((p) => p.uid === pods.job.metadata?.uid);
    assert.ok(job?.end, 'the Job is billed up to its terminal time, not to the end of the hour');
    assert.deepEqual(report.pods.map((p) => p.uid).sort(), [...expected.keys()].sort(), 'exactly the pods that ran in the hour');
    for (const p of report.pods) assert.equal(BigInt(p.cost.units), expected.get(p.uid), `cost of ${p.name}`);
    const vnodeExpected = 147_040n /* 2 vCPU + 8 GiB, pico-CNY/ms */ * overlapMs({ start: nodeCreated, end: null }, period) * UNITS_PER_PICO;
    assert.equal(BigInt(report.totals.vnodes.units), vnodeExpected, 'the ECI VNode comparison');
    assert.ok(report.vnodes.every((v) => v.kind === 'comparison'), 'the VNode formula is labelled a comparison');
    // every line of the stored report says what it is: an estimate, or (the VNode formula) a comparison
    assert.ok(report.pods.every((p) => p.label === 'estimate') && report.vnodes.every((v) => v.label === 'comparison'));
    const aggregates = [report.byNamespace, report.byOwner, report.byNode, report.byTag ?? {}].flatMap((r) => Object.values(r));
    assert.ok(Object.keys(report.byTag ?? {}).length > 0, 'cost tags (the team label) have rows');
    assert.ok(aggregates.every((a) => a.label === 'estimate'), 'every aggregate row is an estimate');
    assert.ok(Object.values(report.byNode).every((a) => a.vnodeLabel === 'comparison'));
    assert.deepEqual([report.totals.label, report.totals.vnodesLabel], ['estimate', 'comparison']);
    const podSum = report.pods.reduce((a, p) => a + BigInt(p.cost.units), 0n);
    assert.equal(podSum, [...expected.values()].reduce((a, b) => a + b, 0n));
    assert.equal(BigInt(report.totals.pods.units), podSum);
    assert.equal(BigInt(report.totals.all.units), podSum, 'total = Σ per-pod (the VNode comparison is not a charge)');
    // every group the bridge created carries the node's cost tag (VNODE_TAGS): the tag's row is the whole cost
    assert.equal(report.byTag?.['cost-center=cc-int']?.cost.units, podSum.toString(), 'the cost-center row');
    assert.equal(report.byTag?.['cost-center=cc-int']?.pods, report.pods.length);
    assert.ok(report.pods.every((p) => p.tags?.['cost-center'] === 'cc-int'));
    // the report speaks of the Deployment, like the group's tags
    assert.deepEqual(report.pods.find((p) => p.uid === pods.web.metadata?.uid)?.owner, { kind: 'Deployment', name: 'web' });
    assert.equal(report.byNamespace[teamNs.name]?.cost.units, podSum.toString());
    // each pod is annotated with its billed size and cost so far; the heartbeat names billing
    const web = await read(pods.web);
    assert.equal(web.metadata?.annotations?.['eci-bridge.io/billed-size'], '0.5-1Gi');
    assert.match(web.metadata?.annotations?.['eci-bridge.io/cost'] ?? '', /^\d+\.\d{6} CNY$/);
    const lease = await loadKubeConfig(kubeconfig ?? '')
      .makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api)
      .readNamespacedLease({ namespace: bridgeNs.name, name: FUNCTIONS_HEARTBEAT_NAME });
    assert.equal(leaseToHeartbeat({ metadata: { annotations: lease.metadata?.annotations ?? {} } })?.lastFunction, 'billing');
  });

  it('running the period again changes nothing, even after ECI has forgotten a group', async () => {
    const billing = billingAt(() => period.end + 5 * 60_000);
    // Act: the same hour again (a timer repeat), then by name (a manual re-run)
    const again = (await billing(timerEvent('hourly'), fcContext('billing', { memory: 512, timeout: 300 }))) as BillingSummary;
    const byName = (await billing(timerEvent('manual', JSON.stringify({ period: new Date(period.start).toISOString() })), fcContext('billing', { memory: 512, timeout: 300 }))) as BillingSummary;
    // Assess
    assert.equal(again.stored, 'unchanged');
    assert.equal(byName.stored, 'unchanged');
    assert.deepEqual(await readStored(), stored, 'the stored report is byte-identical, the ConfigMap not rewritten');

    // Now the data changes: the big pod is deleted and its group goes; the stored hour is kept, not recounted
    const big = groupOf(pods.big);
    await core.deleteNamespacedPod({ namespace: teamNs.name, name: pods.big.metadata?.name ?? '', gracePeriodSeconds: 0 });
    const { createEciContainerGroups } = await import('../../../shared/adapters/eci/index.js');
    await createEciContainerGroups(config, { ...DEFAULT_CREDENTIAL }, { logger: silent }).delete(String(big?.ContainerGroupId));
    await waitUntil('the big group stopped', () => {
      const g = groupOf(pods.big);
      return g === undefined || !['Running', 'Terminating', 'Pending', 'Restarting', 'Updating'].includes(String(g.Status));
    });
    const changed = (await billing(timerEvent('hourly'), fcContext('billing', { memory: 512, timeout: 300 }))) as BillingSummary;
    assert.equal(changed.stored, 'kept-existing');
    assert.notEqual(changed.total, stored.report.totals.all.amount, 'the live computation did differ');
    assert.deepEqual(await readStored(), stored);
  });

  it('a namespace over its monthly budget gets a BudgetExceeded Event, and a new virtual-node pod there is refused', async () => {
    // Prepare: a tiny budget on the team namespace
    await core.patchNamespace({
      name: teamNs.name,
      body: [{ op: 'add', path: '/metadata/annotations', value: { 'eci-bridge.io/monthly-budget': '0.000001 CNY' } }],
    });
    // Act: the billing run of the real present (its month holds the hour stored above)
    const billing = billingAt(() => Date.now());
    const first = (await billing(timerEvent('hourly'), fcContext('billing', { memory: 512, timeout: 300 }))) as BillingSummary;
    const second = (await billing(timerEvent('hourly'), fcContext('billing', { memory: 512, timeout: 300 }))) as BillingSummary;
    // Assess (a): the Events, once
    assert.equal(first.budgetEvents, 2, '80 % and 100 % crossed at once');
    assert.equal(second.budgetEvents, 0, 'a threshold is announced once a month');
    const events = await core.listNamespacedEvent({ namespace: teamNs.name, fieldSelector: 'involvedObject.kind=Namespace' });
    const exceeded = events.items.filter((e) => e.reason === 'BudgetExceeded');
    assert.equal(exceeded.length, 1);
    assert.equal(exceeded[0]?.type, 'Warning');
    assert.equal(exceeded[0]?.involvedObject.name, teamNs.name);
    assert.match(exceeded[0]?.message ?? '', /over its monthly ECI budget/);
    // nothing double-counts: the month-to-date spend is each stored hour once, however often it was run
    const state = JSON.parse(
      (await core.readNamespacedConfigMap({ namespace: bridgeNs.name, name: 'eci-bridge-budgets' })).data?.['state.json'] ?? '{}',
    ) as { namespaces: Record<string, { spent: string }> };
    const reports = await core.listNamespacedConfigMap({ namespace: bridgeNs.name, labelSelector: 'eci-bridge.io/cost-report=true' });
    const month = new Date().toISOString().slice(0, 7);
    const hours = reports.items.flatMap((cm) => Object.values(cm.data ?? {}).map((t) => CostReportSchema.parse(JSON.parse(t))));
    assert.equal(hours.filter((r) => r.id === stored.report.id).length, 1);
    const spent = hours
      .filter((r) => r.period.start.startsWith(month))
      .reduce((a, r) => a + BigInt(r.byNamespace[teamNs.name]?.cost.units ?? '0'), 0n);
    assert.equal(state.namespaces[teamNs.name]?.spent, formatMoney(spent, 9));
    // Assess (b): admission through the webhook's use-case with the budget check
    const defaults = translateDefaults(config);
    const bridge = bridgeFactory(config, overrides)(fcContext('webhook').credentials);
    const deps: AdmissionDeps = {
      vnode: { nodeName: vnode, labels: {}, taint: { key: 'virtual-kubelet.io/provider', value: 'eci-bridge', effect: 'NoSchedule' }, exclusiveLabels: {} },
      profile: () => ({ selectors: [] }),
      excludedNamespaces: new Set(['kube-system']),
      namespaceLabels: async () => ({}),
      validatePod: (pod: Pod) => validatePod(pod, defaults),
      virtualPodsMatch: async () => false,
      extraPodCheck: budgetPodCheck({ cluster: bridge.cluster, clock: { now: () => Date.now() } }, bridgeNs.name, config.BILLING_BUDGET_ENFORCEMENT),
    };
    const admit = (namespace: string, nodeName: string | undefined) =>
      validatePodAdmission(
        {
          uid: randomUUID(),
          kind: { group: '', version: 'v1', kind: 'Pod' },
          namespace,
          operation: 'CREATE',
          object: { ...podManifest(uniqueName('new'), nodeName), metadata: { name: uniqueName('new'), namespace } } as unknown as Record<string, unknown>,
        },
        deps,
      );
    const refused = await admit(teamNs.name, vnode);
    assert.equal(refused.allowed, false);
    assert.match(refused.status?.message ?? '', new RegExp(`namespace ${teamNs.name} is over its monthly ECI budget`));
    assert.equal((await admit(teamNs.name, 'a-real-node')).allowed, true, 'only pods for the virtual node are refused');
    assert.equal((await admit(bridgeNs.name, vnode)).allowed, true, 'a namespace without a budget is admitted');
  });
});
