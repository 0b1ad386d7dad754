/**
 * Node lease expiry, the real node-lifecycle controller's way, on a private control plane with shortened timings
 * (node-monitor grace 8 s, default unreachable toleration 4 s instead of 40 s / 300 s). A fake real node whose
 * lease the test renews keeps the cluster out of full-disruption mode (with every node unreachable the
 * controller stops evicting). The watcher dies (the functions keep running), its node goes Unknown and is tainted,
 * its pods are evicted: status-sync's sweep deletes the evicted pods' groups and the pods within its period (not at
 * gc's next run); the bridge comes back, the Deployment runs its replicas again, a pod that tolerates `unreachable`
 * survives untouched, and no group is left without a pod.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from '../../../scripts/testenv/controlPlane.js';
import { TAG_POD_UID } from '../../../shared/domain/names.js';
import { startTestBridge, type TestBridge, VNODE_TOLERATION, vnodeTemplate } from '../../helpers/bridge.js';
import {
  createTestNamespace,
  type FakeRealNode,
  loadKubeConfig,
  privateControlPlaneSkipReason,
  startFakeRealNode,
  type TestNamespace,
  waitUntil,
} from '../../helpers/kube.js';

const skip = privateControlPlaneSkipReason();
const GRACE_SECONDS = 8;
const TOLERATION_SECONDS = 4;

describe('node lease expiry with the real node-lifecycle controller', { skip: skip ?? false }, () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let ns: TestNamespace;
  let bridgeNs: TestNamespace;
  let bridge: TestBridge;
  let realNode: FakeRealNode | undefined;

  before(async () => {
    cp = await startControlPlane({
      controllers: true,
      controllerManagerArgs: ['--node-monitor-period=1s', `--node-monitor-grace-period=${GRACE_SECONDS}s`, '--node-startup-grace-period=8s'],
      apiserverArgs: [`--default-unreachable-toleration-seconds=${TOLERATION_SECONDS}`, `--default-not-ready-toleration-seconds=${TOLERATION_SECONDS}`],
    });
    const kc = loadKubeConfig(cp.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    realNode = await startFakeRealNode(cp.kubeconfigPath, 'real-node-1');
    ns = await createTestNamespace(cp.kubeconfigPath, 'lease');
    bridgeNs = await createTestNamespace(cp.kubeconfigPath, 'leaseb');
    bridge = await startTestBridge(cp.kubeconfigPath, { bridgeNamespace: bridgeNs.name });
  });

  after(async () => {
    realNode?.stop();
    await bridge?.stop();
    await cp?.stop();
  });

  it('the watcher dies, the functions run on: evicted pods cleaned up by status-sync, replicas back after the restart, no group left, the tolerant pod kept', async () => {
    const t0 = Date.now();
    const timeline: string[] = [];
    const mark = (what: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`);
    const name = 'web';
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: { metadata: { name }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: vnodeTemplate(name, bridge.vnode) } },
    });
    // a pod that tolerates `unreachable` without a limit: the documented way to keep a pod through an outage
    const tolerant = vnodeTemplate('tolerant', bridge.vnode);
    await core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'tolerant', labels: { app: 'tolerant' } },
        spec: {
          ...(tolerant.spec as NonNullable<typeof tolerant.spec>),
          tolerations: [VNODE_TOLERATION, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }],
        },
      },
    });
    const pods = async () => (await core.listNamespacedPod({ namespace: ns.name })).items;
    const running = async () => (await pods()).filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    await waitUntil('3 pods running on the virtual node', async () => (await running()).length === 3, 60_000);
    const before = await pods();
    const tolerantUid = before.find((p) => p.metadata?.name === 'tolerant')?.metadata?.uid;
    mark('3 pods Running (2 of Deployment web, 1 tolerating unreachable)');

    await bridge.killWatcher();
    mark('watcher killed (the functions keep running): no lease renewal');
    const readyOf = async () => (await core.readNode({ name: bridge.vnode })).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    await waitUntil('the node Ready=Unknown', async () => (await readyOf()) === 'Unknown', 60_000);
    mark('node Ready=Unknown (node-monitor grace)');
    await waitUntil(
      'the unreachable:NoExecute taint',
      async () => (await core.readNode({ name: bridge.vnode })).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ?? false,
      30_000,
    );
    mark('node tainted node.kubernetes.io/unreachable:NoExecute');
    await waitUntil(
      'both Deployment pods evicted (terminating)',
      async () => (await pods()).filter((p) => p.metadata?.labels?.app === name && p.metadata.deletionTimestamp).length === 2,
      60_000,
    );
    const evictedAt = Date.now();
    mark(`Deployment pods evicted after the ${TOLERATION_SECONDS} s toleration`);
    const evicted = (await pods()).filter((p) => p.metadata?.deletionTimestamp).map((p) => p.metadata?.uid);
    await waitUntil(
      "the evicted pods' groups deleted and the pods gone, without the watcher",
      async () => {
        const live = new Set(bridge.liveGroups().map((g) => g.tags.find((t) => t.Key === TAG_POD_UID)?.Value));
        const uids = new Set((await pods()).map((p) => p.metadata?.uid));
        return evicted.every((u) => !live.has(u) && !uids.has(u));
      },
      60_000,
    );
    const cleanMs = Date.now() - evictedAt;
    mark(`evicted pods' groups deleted and pods gone ${(cleanMs / 1000).toFixed(1)} s after the eviction (status-sync sweep, every 5 s here, 60 s deployed)`);

    await bridge.stopBridge();
    await bridge.startBridge();
    mark('bridge restarted');
    await waitUntil('the node Ready again', async () => (await readyOf()) === 'True', 60_000);
    mark('node Ready=True again');
    await waitUntil(
      'the Deployment available again',
      async () => (await apps.readNamespacedDeployment({ namespace: ns.name, name })).status?.availableReplicas === 2,
      90_000,
    );
    mark('Deployment web available again (2 replacements Running)');
    process.stdout.write(`# node lease expiry timeline:\n${timeline.map((l) => `#   ${l}`).join('\n')}\n`);

    // within a status-sync period (5 s here) plus the deletion itself, well before gc's next run (5 min deployed)
    assert.ok(cleanMs < 30_000);
    const after = await running();
    assert.equal(after.length, 3);
    assert.ok(after.some((p) => p.metadata?.uid === tolerantUid), 'the tolerating pod was never evicted');
    await waitUntil(
      'exactly one live group per running pod',
      () => {
        const groups = bridge.liveGroups().map((g) => g.tags.find((t) => t.Key === TAG_POD_UID)?.Value ?? '');
        return groups.length === 3 && after.every((p) => groups.includes(p.metadata?.uid ?? ''));
      },
      30_000,
    );
  });
});
