/**
 * The FC handlers end to end: a real kube-apiserver (the Kubernetes adapter with server + token + CA, as the
 * functions get them), the ECI emulator through the real SDK and the ECI adapter, and the handlers called with
 * FC-shaped Buffers (EventBridge CloudEvents batches built by the same code the EventBridge simulator uses, and
 * timer events). Re-nudges and dead letters are captured by recording QueueSenders and delivered back by the test.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_CREDENTIAL, type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { createHandler as createGc } from '../../../functions/gc/index.js';
import { createHandler as createPodSync } from '../../../functions/pod-sync/index.js';
import { createHandler as createStatusSync } from '../../../functions/status-sync/index.js';
import { createEciContainerGroups } from '../../../shared/adapters/eci/index.js';
import { bridgeFactory } from '../../../shared/compose.js';
import { type Config, parseConfig } from '../../../shared/domain/config.js';
import type { FcEventHandler } from '../../../shared/sim/fc.js';
import { FUNCTIONS_HEARTBEAT_NAME, leaseToHeartbeat } from '../../../shared/domain/heartbeat.js';
import { decodeBody, encodeBody } from '../../../shared/domain/messages-codec.js';
import { decodeMessage, encodeMessage, type PodNudge, type QueueMessage } from '../../../shared/domain/messages.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { makeNudge } from '../../../watcher/forwarder.js';
import { toRecord } from '../../../watcher/podState.js';
import { ANNOTATION_INSTANCE_ID, TAG_CLUSTER, TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID, TAG_VNODE } from '../../../shared/domain/names.js';
import { clusterCaPem, createTestNamespace, loadKubeConfig, NO_KUBECONFIG, podManifest, type TestNamespace, testKubeconfig, uniqueName } from '../../helpers/kube.js';
import { fcContext, queueEvent, RecordingQueue, silentLogger as silent, timerEvent } from '../../helpers/fc.js';

const kubeconfig = testKubeconfig();

describe('FC functions end to end (real apiserver, ECI emulator, FC-shaped events)', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  let ns: TestNamespace;
  let emu: EciEmulator;
  let core: CoreV1Api;
  let config: Config;
  let queue: RecordingQueue;
  let dlq: RecordingQueue;
  let podSync: FcEventHandler;
  let statusSync: FcEventHandler;
  let gc: FcEventHandler;
  const vnode = uniqueName('vnode');
  const clusterName = uniqueName('cluster');

  before(async () => {
    const kcPath = kubeconfig ?? '';
    ns = await createTestNamespace(kcPath, 'fn');
    const kc = loadKubeConfig(kcPath);
    core = kc.makeApiClient((await import('@kubernetes/client-node')).CoreV1Api);
    emu = await startEciEmulator({ timeScale: 0.02, scenario: { seed: 7 } });
    const user = kc.getCurrentUser();
    config = parseConfig({
      CLUSTER_NAME: clusterName,
      VNODE_NAME: vnode,
      BRIDGE_NAMESPACE: ns.name,
      ECI_ENDPOINT: emu.endpoint,
      ECI_PROTOCOL: 'http',
      ECI_VSWITCH_IDS: 'vsw-test-a,vsw-test-b',
      ECI_SECURITY_GROUP_ID: 'sg-test',
      KUBE_API_SERVER: kc.getCurrentCluster()?.server,
      KUBE_TOKEN: user?.token,
      KUBE_CA: Buffer.from(clusterCaPem(kc)).toString('base64'),
      QUEUE_KIND: 'embedded',
      GC_ORPHAN_GRACE_SECONDS: '0',
      LOG_LEVEL: 'silent',
    });
    queue = new RecordingQueue();
    dlq = new RecordingQueue();
    const bridges = bridgeFactory(config, { queue, deadLetter: dlq, logger: silent });
    podSync = createPodSync(bridges, () => silent);
    statusSync = createStatusSync(bridges, () => silent);
    gc = createGc(bridges, () => silent);
  });

  after(async () => {
    await emu?.close();
    await ns?.cleanup();
  });

  async function createPod(name: string, extra: Partial<V1Pod> = {}): Promise<V1Pod> {
    return core.createNamespacedPod({ namespace: ns.name, body: podManifest(name, vnode, extra) });
  }

  function nudge(pod: V1Pod, reason: PodNudge['reason'] = 'bound'): string {
    return encodeMessage({ v: 1, kind: 'pod', namespace: ns.name, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', reason });
  }

  function tick(pods: V1Pod[]): string {
    return encodeMessage({
      v: 1,
      kind: 'status-tick',
      at: new Date().toISOString(),
      pods: pods.map((p) => ({ namespace: ns.name, name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' })),
    });
  }

  function groupsOf(uid: string): Record<string, unknown>[] {
    return emu.groups().filter((g) => {
      const tags = (g.Tags as { Key: string; Value: string }[] | undefined) ?? [];
      return tags.some((t) => t.Key === TAG_POD_UID && t.Value === uid);
    });
  }

  /** Delivers the re-nudges the handlers queued (ignoring their delay: the test is the clock). */
  async function deliverQueued(): Promise<number> {
    const pending = queue.take();
    if (pending.length > 0) await podSync(queueEvent(pending.map((m) => m.body)), fcContext('pod-sync'));
    return pending.length;
  }

  /** Ticks (as the watcher's status clock does) until `check` holds. */
  async function tickUntil(pods: V1Pod[], what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await podSync(queueEvent([tick(pods)]), fcContext('pod-sync'));
      await deliverQueued();
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const read = (name: string) => core.readNamespacedPod({ namespace: ns.name, name });

  /** The nudge the watcher builds for `pod` as its watch delivered it (version 2: it carries the pod). */
  function carrying(pod: V1Pod, reason: PodNudge['reason'] = 'bound'): string {
    const plain = JSON.parse(JSON.stringify(pod)) as Pod;
    const n = makeNudge(toRecord(plain, Date.now()), reason, plain);
    assert.equal(n.v, 2, 'the nudge carries the pod');
    return encodeMessage(n);
  }

  it('a nudge carrying the pod: one group; the same copy after the create (stale) and after Running changes nothing', async () => {
    emu.resetCalls();
    const pod = await createPod(uniqueName('snap'));
    const body = carrying(pod);
    await podSync(queueEvent([body, body]), fcContext('pod-sync'));
    const groups = groupsOf(pod.metadata?.uid ?? '');
    assert.equal(groups.length, 1);
    const id = groups[0]?.ContainerGroupId;
    await tickUntil([pod], 'Running', async () => (await read(pod.metadata?.name ?? '')).status?.phase === 'Running');
    // the copy from before the create, delivered late: its conditional mark meets a Conflict, the pod is read
    await podSync(queueEvent([body]), fcContext('pod-sync'));
    await deliverQueued();
    assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 1);
    const after = await read(pod.metadata?.name ?? '');
    assert.equal(after.metadata?.annotations?.[ANNOTATION_INSTANCE_ID], id);
    assert.equal(after.status?.phase, 'Running');
    assert.notEqual(after.status?.reason, 'ContainerGroupCreating', 'a stale copy does not write the create status again');
    assert.equal(emu.calls().byAction.CreateContainerGroup, 1, 'one CreateContainerGroup: the stale copies were read, not trusted');
  });

  it('a nudge carrying a pod deleted since creates no group', async () => {
    const pod = await createPod(uniqueName('snapgone'));
    const body = carrying(pod);
    await core.deleteNamespacedPod({ namespace: ns.name, name: pod.metadata?.name ?? '', gracePeriodSeconds: 0 });
    await podSync(queueEvent([body]), fcContext('pod-sync'));
    await deliverQueued();
    assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 0);
  });

  it('a bound pod gets exactly one group (every message delivered twice) and reaches Running with conditions and container statuses', async (t) => {
    emu.resetCalls();
    const pod = await createPod(uniqueName('web'));
    const body = nudge(pod);
    // Act: the same nudge twice in one batch, then the batch again (EventBridge redelivery)
    await podSync(queueEvent([body, body]), fcContext('pod-sync'));
    await podSync(queueEvent([body, body]), fcContext('pod-sync'));
    // Assess
    assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 1);
    const afterCreate = await read(pod.metadata?.name ?? '');
    assert.equal(afterCreate.metadata?.annotations?.[ANNOTATION_INSTANCE_ID], groupsOf(pod.metadata?.uid ?? '')[0]?.ContainerGroupId);
    await tickUntil([pod], 'Running and Ready', async () => {
      const p = await read(pod.metadata?.name ?? '');
      return p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    });
    const running = await read(pod.metadata?.name ?? '');
    assert.ok(running.status?.podIP, 'the pod has an IP');
    const cs = running.status?.containerStatuses?.[0];
    assert.equal(cs?.name, 'main');
    assert.ok(cs?.state?.running, 'the container is running');
    assert.equal(cs?.state?.waiting, undefined, 'no stale waiting state');
    assert.equal(cs?.ready, true);
    for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) {
      assert.equal(running.status?.conditions?.find((c) => c.type === type)?.status, 'True', type);
    }
    assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 1);
    const calls = emu.calls().byAction;
    t.diagnostic(`ECI calls, create → Running (2×2 deliveries + ticks): ${JSON.stringify(calls)}`);
    assert.equal(calls.CreateContainerGroup, 1, 'duplicates were absorbed before CreateContainerGroup');

    // delete the running pod: its group goes, then the pod (grace 0, UID precondition); while the group
    // terminates the watcher names the pod in its status ticks, and a tick finishes the deletion
    emu.resetCalls();
    await core.deleteNamespacedPod({ namespace: ns.name, name: pod.metadata?.name ?? '', gracePeriodSeconds: 30 });
    await podSync(queueEvent([nudge(pod, 'deleting')]), fcContext('pod-sync'));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const gone = await read(pod.metadata?.name ?? '').then(
        () => false,
        () => true,
      );
      if (gone) break;
      if (Date.now() > deadline) throw new Error('the deleted pod never disappeared');
      await new Promise((r) => setTimeout(r, 50));
      await podSync(queueEvent([tick([pod])]), fcContext('pod-sync'));
      await deliverQueued();
    }
    const left = groupsOf(pod.metadata?.uid ?? '').filter((g) => g.Status !== 'Succeeded' && g.Status !== 'Failed');
    assert.deepEqual(left, [], 'no live group is left');
    t.diagnostic(`ECI calls, delete of a running pod: ${JSON.stringify(emu.calls().byAction)}`);
  });

  const jobs = [
    { name: 'job-ok', program: 'eci-sim: sleep 1; exit 0', phase: 'Succeeded', exitCode: 0 },
    { name: 'job-fail', program: 'eci-sim: sleep 1; exit 3', phase: 'Failed', exitCode: 3 },
  ] as const;
  for (const j of jobs) {
    it(`a Job pod (${j.program}) ends ${j.phase} with exit code ${j.exitCode}, captured by the status-sync sweep`, async () => {
      const pod = await createPod(uniqueName(j.name), {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'registry.example/busybox:1', command: ['/bin/sh', '-c', `true # ${j.program}`] }],
        },
      });
      await podSync(queueEvent([nudge(pod)]), fcContext('pod-sync'));
      const deadline = Date.now() + 20_000;
      let p = await read(pod.metadata?.name ?? '');
      while (p.status?.phase !== j.phase) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${j.phase}, phase ${p.status?.phase}`);
        await new Promise((r) => setTimeout(r, 100));
        await statusSync(timerEvent('every-minute'), fcContext('status-sync'));
        p = await read(pod.metadata?.name ?? '');
      }
      const term = p.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(term?.exitCode, j.exitCode);
      if (j.exitCode !== 0) assert.ok(term?.reason, 'a failed container says why');
      // terminal: further sweeps never write it again
      const rv = p.metadata?.resourceVersion;
      await statusSync(timerEvent('every-minute'), fcContext('status-sync'));
      assert.equal((await read(pod.metadata?.name ?? '')).metadata?.resourceVersion, rv);
    });
  }

  it('a pod with the default projected service-account token volume runs', async () => {
    const pod = await createPod(uniqueName('sa'));
    assert.ok(
      pod.spec?.volumes?.some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken)),
      'the apiserver added the kube-api-access projected volume',
    );
    await podSync(queueEvent([nudge(pod)]), fcContext('pod-sync'));
    await tickUntil([pod], 'Running', async () => (await read(pod.metadata?.name ?? '')).status?.phase === 'Running');
    assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 1);
  });

  it('a hostPath pod is Failed with UnsupportedFeature, the reason and the alternative; no group', async () => {
    const pod = await createPod(uniqueName('hostpath'), {
      spec: {
        containers: [{ name: 'main', image: 'registry.example/busybox:1', volumeMounts: [{ name: 'logs', mountPath: '/logs' }] }],
        volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }],
      },
    });
    await podSync(queueEvent([nudge(pod)]), fcContext('pod-sync'));
    const p = await read(pod.metadata?.name ?? '');
    assert.equal(p.status?.phase, 'Failed');
    assert.equal(p.status?.reason, 'UnsupportedFeature');
    assert.match(p.status?.message ?? '', /hostPath/i);
    assert.match(p.status?.message ?? '', /emptyDir/);
    assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 0);
    const events = await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.uid=${pod.metadata?.uid}` });
    assert.ok(events.items.some((e) => e.reason === 'UnsupportedFeature' && e.type === 'Warning'));
  });

  it('a crash between CreateContainerGroup and recording its result still gives exactly one group', async () => {
    emu.setFaults({ actions: { CreateContainerGroup: { crashAfterCreateCount: 1 } } });
    try {
      const pod = await createPod(uniqueName('crash'));
      await podSync(queueEvent([nudge(pod)]), fcContext('pod-sync'));
      assert.equal(emu.calls().crashedAfterCreate >= 1, true, 'the emulator lost a create response');
      // The adapter retries the create with the same ClientToken, or pod-sync re-nudges the pod: either way the
      // retries and a redelivery of the nudge converge on the one group.
      const retries = queue.take();
      await podSync(queueEvent([...retries.map((r) => r.body), nudge(pod)]), fcContext('pod-sync'));
      await podSync(queueEvent([nudge(pod)]), fcContext('pod-sync'));
      assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 1);
      // not only at the end: ECI created one group for the pod, ever, under its UID as ClientToken
      const created = emu.creates().filter((c) => c.tags.some((t) => t.Key === TAG_POD_UID && t.Value === pod.metadata?.uid));
      assert.deepEqual(
        created.map((c) => c.clientToken),
        [pod.metadata?.uid],
      );
      const p = await read(pod.metadata?.name ?? '');
      assert.equal(p.metadata?.annotations?.[ANNOTATION_INSTANCE_ID], groupsOf(pod.metadata?.uid ?? '')[0]?.ContainerGroupId);
    } finally {
      emu.setFaults({});
    }
  });

  it('a malformed message in a batch goes to the dead letter with its reason while the others are processed', async () => {
    dlq.take();
    const pod = await createPod(uniqueName('batch'));
    const bad = encodeBody({ v: 1, kind: 'pod', namespace: ns.name }); // valid base64 JSON, wrong schema
    const result = (await podSync(queueEvent(['%%% not base64 %%%', bad, nudge(pod)]), fcContext('pod-sync'))) as {
      deadLettered: number;
      nudges: number;
    };
    assert.equal(result.deadLettered, 2);
    assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 1, 'the good message was processed');
    const dead = dlq.take().map((m) => decodeBody(m.body) as { deadLetter: { reason: string }; body: string });
    assert.deepEqual(dead.map((d) => d.deadLetter.reason).sort(), ['not-base64', 'schema']);
    // EventBridge base64-decoded the body before delivery: the dead letter keeps the body as delivered
    assert.ok(
      dead.some((d) => {
        try {
          return JSON.stringify(decodeBody(d.body)) === JSON.stringify(decodeBody(bad));
        } catch {
          return false;
        }
      }),
      'the body is kept unchanged for replay',
    );
    for (const d of dead) assert.throws(() => decodeMessage(d.body));
  });

  it('gc collects an orphan group (its pod UID exists nowhere) and reports it; the heartbeat is written', async () => {
    const eci = createEciContainerGroups(config, { ...DEFAULT_CREDENTIAL }, { logger: silent });
    const uid = randomUUID();
    const { containerGroupId } = await eci.create({
      RegionId: 'cn-hangzhou',
      ContainerGroupName: 'orphan-test',
      ClientToken: uid,
      SecurityGroupId: 'sg-test',
      VSwitchId: 'vsw-test-a',
      Container: [{ Name: 'main', Image: 'registry.example/busybox:1', Cpu: 1, Memory: 2 }],
      Tag: [
        { Key: TAG_CLUSTER, Value: clusterName },
        { Key: TAG_VNODE, Value: vnode },
        { Key: TAG_NAMESPACE, Value: ns.name },
        { Key: TAG_POD_NAME, Value: 'vanished' },
        { Key: TAG_POD_UID, Value: uid },
      ],
    });
    const report = (await gc(timerEvent('every-5-minutes'), fcContext('gc'))) as { orphansDeleted: { groupId: string }[] };
    assert.deepEqual(
      report.orphansDeleted.map((o) => o.groupId),
      [containerGroupId],
    );
    const live = groupsOf(uid).filter((g) => g.Status !== 'Terminating' && g.Status !== 'Succeeded' && g.Status !== 'Failed');
    assert.deepEqual(live, []);
    const lease = await loadKubeConfig(kubeconfig ?? '')
      .makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api)
      .readNamespacedLease({ namespace: ns.name, name: FUNCTIONS_HEARTBEAT_NAME });
    const hb = leaseToHeartbeat({ metadata: { annotations: lease.metadata?.annotations ?? {} } });
    assert.equal(hb?.lastFunction, 'gc');
    assert.equal(hb?.consecutiveEciFailures, 0);
  });

  it('decodes what it is given: a single CloudEvent (event mode) and an already-parsed JSON body', async () => {
    const pod = await createPod(uniqueName('single'));
    const msg: QueueMessage = { v: 1, kind: 'pod', namespace: ns.name, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', reason: 'bound' };
    const single = { id: randomUUID(), source: 'MNS-pod-sync-q', type: 'mns:Queue:SendMessage', data: { messageId: 'M1', messageBody: msg } };
    await podSync(Buffer.from(JSON.stringify(single)), fcContext('pod-sync'));
    assert.equal(groupsOf(pod.metadata?.uid ?? '').length, 1);
  });
});
