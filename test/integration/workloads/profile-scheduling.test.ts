/**
 * eci-profile through the real kube-scheduler, on a private control plane (a fake real node there must not attract
 * other tests' pods): the admission webhooks as `npm start` registers them (loopback URL, generated CA) mutate pods
 * by policy, and the scheduler places them. virtualNodeOnly → the virtual node; normalNodePrefer → the real node
 * while it has room, the virtual node when it has none; fair → wherever the scheduler likes, Running either way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from '../../../scripts/testenv/controlPlane.js';
import { startTestBridge, type TestBridge } from '../../helpers/bridge.js';
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
const REAL_NODE = 'real-node-1';

describe('eci-profile policies through the real scheduler (private control plane)', { skip: skip ?? false }, () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  let ns: TestNamespace;
  let bridgeNs: TestNamespace;
  let bridge: TestBridge;
  let realNode: FakeRealNode | undefined;

  before(async () => {
    cp = await startControlPlane({ controllers: true });
    const kc = loadKubeConfig(cp.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    // a real node with room for 2 CPUs
    realNode = await startFakeRealNode(cp.kubeconfigPath, REAL_NODE, { cpu: '2', memory: '4Gi', pods: '20' });
    ns = await createTestNamespace(cp.kubeconfigPath, 'prof');
    bridgeNs = await createTestNamespace(cp.kubeconfigPath, 'profb');
    const selectors = ['virtualNodeOnly', 'normalNodePrefer', 'fair'].map((policy) => ({
      name: policy,
      objectLabels: { matchLabels: { policy } },
      policy,
    }));
    await core.createNamespacedConfigMap({
      namespace: bridgeNs.name,
      body: { metadata: { name: 'eci-profile' }, data: { selectors: JSON.stringify(selectors) } },
    });
    bridge = await startTestBridge(cp.kubeconfigPath, {
      bridgeNamespace: bridgeNs.name,
      env: { WEBHOOK_ENABLED: 'true', WEBHOOK_PORT: '0', PROFILE_RELOAD_SECONDS: '1' },
      registerWebhooks: true,
    });
    await waitUntil(
      'the webhooks to take effect',
      async () => {
        const dry = await core.createNamespacedPod({ namespace: ns.name, dryRun: 'All', body: pod('probe', 'virtualNodeOnly') });
        return dry.metadata?.annotations?.['eci-bridge.io/profile-selector'] === 'virtualNodeOnly';
      },
      30_000,
    );
  });

  after(async () => {
    realNode?.stop();
    await bridge?.stop();
    await cp?.stop();
  });

  function pod(name: string, policy: string, cpu = '500m'): V1Pod {
    return {
      metadata: { name, labels: { policy } },
      // no nodeSelector, no toleration: the profile decides
      spec: { containers: [{ name: 'main', image: 'registry.example/app:1', resources: { requests: { cpu, memory: '256Mi' } } }] },
    };
  }

  async function placed(name: string): Promise<V1Pod> {
    let p: V1Pod | undefined;
    await waitUntil(`${name} bound`, async () => {
      p = await core.readNamespacedPod({ namespace: ns.name, name });
      return (p.spec?.nodeName ?? '') !== '';
    }, 30_000);
    return p as V1Pod;
  }

  async function running(name: string): Promise<void> {
    await waitUntil(`${name} Running on ECI`, async () => (await core.readNamespacedPod({ namespace: ns.name, name })).status?.phase === 'Running', 60_000);
  }

  it('virtualNodeOnly: on the virtual node, Running on ECI', async () => {
    await core.createNamespacedPod({ namespace: ns.name, body: pod('only', 'virtualNodeOnly') });
    assert.equal((await placed('only')).spec?.nodeName, bridge.vnode);
    await running('only');
  });

  it('normalNodePrefer with a real node that has room: on the real node, no container group', async () => {
    await core.createNamespacedPod({ namespace: ns.name, body: pod('prefer-room', 'normalNodePrefer') });
    const p = await placed('prefer-room');
    assert.equal(p.spec?.nodeName, REAL_NODE);
    assert.equal(bridge.liveGroups({ 'eci-bridge.io/pod-name': 'prefer-room' }).length, 0);
  });

  it('normalNodePrefer when no real node has room: spills over to the virtual node, Running on ECI', async () => {
    await core.createNamespacedPod({ namespace: ns.name, body: pod('prefer-full', 'normalNodePrefer', '4') });
    assert.equal((await placed('prefer-full')).spec?.nodeName, bridge.vnode);
    await running('prefer-full');
  });

  it('fair: toleration only, the scheduler picks either node; on the virtual node it runs on ECI', async () => {
    await core.createNamespacedPod({ namespace: ns.name, body: pod('fair', 'fair') });
    const p = await placed('fair');
    assert.ok([REAL_NODE, bridge.vnode].includes(p.spec?.nodeName ?? ''));
    assert.ok(p.spec?.tolerations?.some((t) => t.key === 'virtual-kubelet.io/provider'));
    assert.equal(p.spec?.nodeSelector, undefined);
    if (p.spec?.nodeName === bridge.vnode) await running('fair');
  });
});
