/**
 * Workloads through the real kube-scheduler and kube-controller-manager of the test control plane, the whole
 * bridge in-process (test/helpers/bridge.ts) on the ECI emulator: Deployments scheduled by nodeSelector +
 * toleration and scaled, Jobs that complete or exceed their backoffLimit, a CronJob (1.20 serves batch/v1beta1
 * only), a refused ReplicaSet that must not storm, namespace deletion, and `kubectl delete node`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, BatchV1Api, CoordinationV1Api, CoreV1Api, type KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { TAG_NAMESPACE, TAG_OWNER_NAME } from '../../../shared/domain/names.js';
import { startTestBridge, type TestBridge, vnodeTemplate } from '../../helpers/bridge.js';
import { createTestNamespace, loadKubeConfig, NO_KUBECONFIG, type TestNamespace, testKubeconfig, uniqueName, waitUntil } from '../../helpers/kube.js';

const kubeconfig = testKubeconfig();

describe('workloads through the real scheduler and controllers', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let batch: BatchV1Api;
  let ns: TestNamespace;
  let bridgeNs: TestNamespace;
  let bridge: TestBridge;

  before(async () => {
    kc = loadKubeConfig(kubeconfig as string);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    batch = kc.makeApiClient(BatchV1Api);
    ns = await createTestNamespace(kubeconfig as string, 'wl');
    bridgeNs = await createTestNamespace(kubeconfig as string, 'wlb');
    bridge = await startTestBridge(kubeconfig as string, { bridgeNamespace: bridgeNs.name });
  });

  after(async () => {
    await bridge?.stop();
    await ns?.cleanup();
    await bridgeNs?.cleanup();
    await core?.deleteNode({ name: bridge?.vnode ?? '' }).catch(() => {});
  });

  const podsOf = async (selector: string) => (await core.listNamespacedPod({ namespace: ns.name, labelSelector: selector })).items;

  describe('in parallel', { concurrency: true }, () => {
    it('Deployment (nodeSelector + toleration) → available; scaled up and down, groups follow one-for-one', async () => {
      const name = uniqueName('web');
      await apps.createNamespacedDeployment({
        namespace: ns.name,
        body: { metadata: { name }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: vnodeTemplate(name, bridge.vnode) } },
      });
      const groups = () => bridge.liveGroups({ [TAG_OWNER_NAME]: name });
      const available = async (n: number) =>
        waitUntil(
          `${name}: ${n} available replicas and ${n} groups`,
          async () => {
            const d = await apps.readNamespacedDeployment({ namespace: ns.name, name });
            const running = (await podsOf(`app=${name}`)).filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
            return d.status?.availableReplicas === n && d.status?.replicas === n && running.length === n && groups().length === n;
          },
          60_000,
        );
      await available(2);
      for (const p of await podsOf(`app=${name}`)) assert.equal(p.spec?.nodeName, bridge.vnode, 'the scheduler bound it to the virtual node');
      const scale = async (replicas: number) => {
        const cur = await apps.readNamespacedDeploymentScale({ namespace: ns.name, name });
        await apps.replaceNamespacedDeploymentScale({ namespace: ns.name, name, body: { ...cur, spec: { replicas } } });
      };
      await scale(4);
      await available(4);
      await scale(1);
      await available(1);
      await waitUntil(`${name}: the scaled-down pods gone`, async () => (await podsOf(`app=${name}`)).length === 1, 60_000);
      const pods = await podsOf(`app=${name}`);
      assert.deepEqual(
        groups().map((g) => g.tags.find((t) => t.Key === 'eci-bridge.io/pod-uid')?.Value),
        pods.map((p) => p.metadata?.uid),
        'the one group left is the remaining pod\'s',
      );
    });

    it('Job with completions 3 → Complete, every pod Succeeded, no group left running', async () => {
      const name = uniqueName('job');
      await batch.createNamespacedJob({
        namespace: ns.name,
        body: {
          metadata: { name },
          spec: {
            completions: 3,
            parallelism: 2,
            backoffLimit: 2,
            template: vnodeTemplate(name, bridge.vnode, 'sleep 2', { restartPolicy: 'Never' }),
          },
        },
      });
      await waitUntil(
        `${name} Complete`,
        async () => {
          const j = await batch.readNamespacedJob({ namespace: ns.name, name });
          return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false;
        },
        90_000,
      );
      const j = await batch.readNamespacedJob({ namespace: ns.name, name });
      assert.equal(j.status?.succeeded, 3);
      const pods = await podsOf(`job-name=${name}`);
      assert.equal(pods.filter((p) => p.status?.phase === 'Succeeded').length, 3);
      assert.equal(bridge.liveGroups({ [TAG_OWNER_NAME]: name }).length, 0);
    });

    it('failing Job → Failed with BackoffLimitExceeded (each attempt exits 3)', async () => {
      const name = uniqueName('jobfail');
      await batch.createNamespacedJob({
        namespace: ns.name,
        body: { metadata: { name }, spec: { backoffLimit: 1, template: vnodeTemplate(name, bridge.vnode, 'exit 3', { restartPolicy: 'Never' }) } },
      });
      await waitUntil(
        `${name} BackoffLimitExceeded`,
        async () => {
          const j = await batch.readNamespacedJob({ namespace: ns.name, name });
          return j.status?.conditions?.some((c) => c.type === 'Failed' && c.reason === 'BackoffLimitExceeded') ?? false;
        },
        120_000,
      );
      const failed = (await podsOf(`job-name=${name}`)).filter((p) => p.status?.phase === 'Failed');
      assert.ok(failed.length >= 1);
      for (const p of failed) assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
    });

    it('CronJob (batch/v1beta1: 1.20 has no batch/v1 CronJob) → a Job that completes', async () => {
      const name = uniqueName('cron');
      const objects = KubernetesObjectApi.makeApiClient(kc);
      await objects.create({
        apiVersion: 'batch/v1beta1',
        kind: 'CronJob',
        metadata: { name, namespace: ns.name },
        spec: {
          schedule: '* * * * *',
          jobTemplate: { spec: { template: vnodeTemplate(name, bridge.vnode, 'sleep 1', { restartPolicy: 'Never' }) } },
        },
      } as never);
      // the CronJob controller checks every 10 s and runs on the minute: up to ~70 s
      await waitUntil(
        `a Job of ${name} to complete`,
        async () => {
          const jobs = (await batch.listNamespacedJob({ namespace: ns.name })).items.filter((j) =>
            j.metadata?.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === name),
          );
          return jobs.some((j) => j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'));
        },
        130_000,
      );
    });

    it('a refused ReplicaSet (hostPath, no webhook) does not storm: its pods stay Pending with the reason, no group', async () => {
      const name = uniqueName('refused');
      const template = vnodeTemplate(name, bridge.vnode, undefined, { volumes: [{ name: 'h', hostPath: { path: '/var/log' } }] });
      await apps.createNamespacedReplicaSet({
        namespace: ns.name,
        body: { metadata: { name }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template } },
      });
      await waitUntil(
        `${name}: both pods refused and held Pending`,
        async () => {
          const pods = await podsOf(`app=${name}`);
          return pods.length === 2 && pods.every((p) => p.status?.phase === 'Pending' && p.status?.reason === 'UnsupportedFeature');
        },
        60_000,
      );
      // a storm shows within seconds (218 Failed pods in 33 s): give the ReplicaSet controller time to react
      await new Promise((r) => setTimeout(r, 8000));
      const pods = await podsOf(`app=${name}`);
      assert.equal(pods.length, 2, 'the ReplicaSet created no replacement');
      assert.equal(pods.filter((p) => p.status?.phase === 'Failed').length, 0);
      for (const p of pods) {
        const cond = p.status?.conditions?.find((c) => c.type === 'ContainerInstanceCreated');
        assert.deepEqual([cond?.status, cond?.reason], ['False', 'UnsupportedFeature']);
        assert.match(p.status?.message ?? '', /hostPath.*Alternative:.*emptyDir.*does not replace it in a loop/);
      }
      const events = await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.name=${pods[0]?.metadata?.name}` });
      assert.ok(events.items.some((e) => e.reason === 'UnsupportedFeature' && e.type === 'Warning'));
      assert.equal(bridge.liveGroups({ [TAG_OWNER_NAME]: name }).length, 0);
      const rs = await apps.readNamespacedReplicaSet({ namespace: ns.name, name });
      assert.equal(rs.status?.readyReplicas ?? 0, 0, 'the rollout stalls visibly');
    });

    it('namespace deletion: the namespace controller deletes the pods, the bridge their groups, the namespace goes', async () => {
      const other = uniqueName('wlns');
      await core.createNamespace({ body: { metadata: { name: other } } });
      await waitUntil('the default ServiceAccount', () =>
        core.readNamespacedServiceAccount({ namespace: other, name: 'default' }).then(
          () => true,
          () => false,
        ),
      );
      const name = uniqueName('app');
      await apps.createNamespacedDeployment({
        namespace: other,
        body: { metadata: { name }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: vnodeTemplate(name, bridge.vnode) } },
      });
      await waitUntil(`2 groups in ${other}`, () => bridge.liveGroups({ [TAG_NAMESPACE]: other }).length === 2, 60_000);
      await core.deleteNamespace({ name: other });
      await waitUntil(
        `namespace ${other} gone`,
        () =>
          core.readNamespace({ name: other }).then(
            () => false,
            () => true,
          ),
        90_000,
      );
      assert.equal(bridge.liveGroups({ [TAG_NAMESPACE]: other }).length, 0);
    });
  });

  it('kubectl delete node: registered again at once, its pods outlive pod GC, the lease follows the new node', async () => {
    const name = uniqueName('keep');
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: { metadata: { name }, spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: vnodeTemplate(name, bridge.vnode) } },
    });
    await waitUntil(`${name} running`, async () => (await podsOf(`app=${name}`)).some((p) => p.status?.phase === 'Running'), 60_000);
    const [pod] = await podsOf(`app=${name}`);
    const before = await core.readNode({ name: bridge.vnode });
    const t0 = Date.now();
    await core.deleteNode({ name: bridge.vnode });
    let again: string | undefined;
    await waitUntil(
      'the node registered again',
      async () => {
        const n = await core.readNode({ name: bridge.vnode }).catch(() => undefined);
        again = n?.metadata?.uid;
        return again !== undefined && again !== before.metadata?.uid;
      },
      15_000,
    );
    const reRegisteredMs = Date.now() - t0;
    assert.ok(reRegisteredMs < 10_000, `registered again after ${reRegisteredMs} ms (pod GC acts after 40 s)`);
    const leases = kc.makeApiClient(CoordinationV1Api);
    await waitUntil(
      'the node lease owned by the new node',
      async () => {
        const l = await leases.readNamespacedLease({ namespace: 'kube-node-lease', name: bridge.vnode }).catch(() => undefined);
        return l?.metadata?.ownerReferences?.[0]?.uid === again;
      },
      30_000,
    );
    // pod GC's quarantine for pods on a missing node is 40 s: past it, the pod must still be there
    await new Promise((r) => setTimeout(r, Math.max(0, 45_000 - (Date.now() - t0))));
    const still = await core.readNamespacedPod({ namespace: ns.name, name: pod?.metadata?.name ?? '' });
    assert.equal(still.metadata?.uid, pod?.metadata?.uid);
    assert.equal(still.metadata?.deletionTimestamp, undefined);
    const l = await leases.readNamespacedLease({ namespace: 'kube-node-lease', name: bridge.vnode });
    assert.equal(l.metadata?.ownerReferences?.[0]?.uid, again, 'the garbage collector left the re-owned lease');
    process.stdout.write(`# node re-registered ${reRegisteredMs} ms after the delete\n`);
  });
});
