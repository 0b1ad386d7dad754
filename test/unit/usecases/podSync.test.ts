/**
 * Over 400 lines: one suite for PodSync's decision rules, rule by rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANNOTATION_INSTANCE_ID } from '../../../shared/domain/names.js';
import { ANNOTATION_CREATE_ATTEMPTED, CONDITION_SYNC } from '../../../shared/usecases/context.js';
import type { EciContainerGroup } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { groupToPodStatus, podStatusDiffers } from '../../../shared/domain/status.js';
import type { PodNudge } from '../../../shared/domain/messages.js';
import { EVENT_SETTLE_SECONDS, PodSync } from '../../../shared/usecases/podSync.js';
import { FakeEciError, makePod, nudgeOf, world } from './fakes.js';

describe('pod-sync: creating', () => {
  it('creates exactly one group with ClientToken = pod UID, records its id, Pending with a reason, and an Event', async () => {
    // Prepare
    const w = world();
    const pod = w.cluster.put(makePod());
    // Act
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    // Assess
    assert.equal(res.outcome, 'created');
    assert.equal(w.eci.groups.size, 1);
    assert.equal(w.eci.createRequests[0]?.ClientToken, pod.metadata.uid);
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.equal(after?.metadata.annotations?.[ANNOTATION_INSTANCE_ID], res.groupId);
    assert.equal(after?.status?.phase, 'Pending');
    assert.equal(after?.status?.reason, 'ContainerGroupCreating');
    assert.ok(w.cluster.events.some((e) => e.reason === 'ContainerGroupCreated' && e.type === 'Normal'));
  });

  it('a create costs one metadata patch (the attempt mark): the group id rides on the Pending status write', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    assert.equal(w.cluster.calls.patchMeta, 1, 'only the create-attempted mark');
    assert.equal(w.cluster.calls.patchStatus, 1);
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.equal(after?.metadata.annotations?.[ANNOTATION_INSTANCE_ID], res.groupId);
    assert.ok(after?.metadata.annotations?.[ANNOTATION_CREATE_ATTEMPTED]);
  });

  it('a status write that fails after the create leaves the group to be adopted, never created twice', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const patchStatus = w.cluster.patchPodStatus.bind(w.cluster);
    w.cluster.patchPodStatus = async () => {
      throw Object.assign(new Error('etcd timeout'), { statusCode: 500 });
    };
    const first = await sync.handle(nudgeOf(pod));
    assert.equal(first.outcome, 'retry');
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_INSTANCE_ID], undefined);
    w.cluster.patchPodStatus = patchStatus;
    const again = await sync.handle(w.queue.sent[0]?.message ?? nudgeOf(pod));
    assert.equal(again.outcome, 'adopted');
    assert.equal(w.eci.calls.create, 1);
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_INSTANCE_ID], again.groupId);
  });

  it('a duplicate nudge creates nothing more and patches nothing when nothing changed', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    await sync.handle(nudgeOf(pod));
    await sync.handle(nudgeOf(pod)); // the first look at the new group may add what ECI reports
    const patches = w.cluster.calls.patchStatus;
    const res = await sync.handle(nudgeOf(pod));
    assert.equal(w.eci.calls.create, 1);
    assert.equal(w.eci.groups.size, 1);
    assert.equal(res.outcome, 'unchanged');
    assert.equal(w.cluster.calls.patchStatus, patches);
  });

  it('a crash between create and recording the id still gives exactly one group (lookup by UID tag)', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    w.eci.loseCreateResponse = true;
    const first = await sync.handle(nudgeOf(pod));
    assert.equal(first.outcome, 'retry');
    assert.equal(w.queue.sent.length, 1);
    assert.equal(w.queue.sent[0]?.message.attempt, 1);
    const again = await sync.handle(w.queue.sent[0]?.message ?? nudgeOf(pod));
    assert.equal(again.outcome, 'adopted');
    assert.equal(w.eci.groups.size, 1);
    assert.equal(w.eci.calls.create, 1);
    const id = [...w.eci.groups.keys()][0];
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_INSTANCE_ID], id);
  });

  it('a pod never attempted costs one ECI call to create: no lookup by UID tag, the attempt marked first', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    let markedBeforeCreate = false;
    const create = w.eci.create.bind(w.eci);
    w.eci.create = async (req) => {
      markedBeforeCreate = !!w.cluster.get('default', pod.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_CREATE_ATTEMPTED];
      return create(req);
    };
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    assert.deepEqual(w.eci.calls, { create: 1, delete: 0, describe: 0, list: 0, events: 0, price: 0, changedSince: 0 });
    assert.ok(markedBeforeCreate, 'the create-attempted mark is written before CreateContainerGroup');
  });

  it('IdempotentParameterMismatch (the token created a group with other parameters) adopts that group', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    w.eci.loseCreateResponse = true;
    await sync.handle(nudgeOf(pod)); // the group exists, its id is not recorded
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored?.metadata.annotations);
    delete stored.metadata.annotations[ANNOTATION_CREATE_ATTEMPTED]; // as if written by a bridge without the mark
    w.eci.createFailures.push(new FakeEciError('permanent', 'IdempotentParameterMismatch'));
    const res = await sync.handle(nudgeOf(pod, 'retry', 1));
    assert.equal(res.outcome, 'adopted');
    assert.equal(w.eci.groups.size, 1);
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.equal(after?.metadata.annotations?.[ANNOTATION_INSTANCE_ID], [...w.eci.groups.keys()][0]);
    assert.notEqual(after?.status?.phase, 'Failed');
  });

  it('refuses an unsupported pod: Failed UnsupportedFeature with the alternative, an Event, no group', async () => {
    const w = world();
    const pod = w.cluster.put(makePod({ spec: { volumes: [{ name: 'h', hostPath: { path: '/var/log' } }] } }));
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'refused');
    assert.equal(w.eci.calls.create, 0);
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.equal(after?.status?.phase, 'Failed');
    assert.equal(after?.status?.reason, 'UnsupportedFeature');
    assert.match(after?.status?.message ?? '', /hostPath/);
    assert.match(after?.status?.message ?? '', /emptyDir/);
    assert.ok(w.cluster.events.some((e) => e.reason === 'UnsupportedFeature' && e.type === 'Warning'));
  });

  it('a refused pod of a ReplicaSet stays Pending (no replacement storm): condition, reason, one Event; a repeat writes nothing', async () => {
    const w = world();
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8c', uid: 'rs-uid', controller: true };
    const base = makePod({ spec: { volumes: [{ name: 'h', hostPath: { path: '/var/log' } }] } });
    const pod = w.cluster.put({
      ...base,
      metadata: { ...base.metadata, ownerReferences: [owner], labels: { 'pod-template-hash': '7d9f8c' } },
    });
    const sync = new PodSync(w.deps);
    assert.equal((await sync.handle(nudgeOf(pod))).outcome, 'refused');
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.equal(after?.status?.phase, 'Pending');
    assert.equal(after?.status?.reason, 'UnsupportedFeature');
    assert.match(after?.status?.message ?? '', /hostPath.*Alternative: Use an emptyDir/);
    assert.match(after?.status?.message ?? '', /Deployment web does not replace it in a loop/);
    const cond = after?.status?.conditions?.find((c) => c.type === 'ContainerInstanceCreated');
    assert.deepEqual([cond?.status, cond?.reason], ['False', 'UnsupportedFeature']);
    assert.equal(w.cluster.events.filter((e) => e.reason === 'UnsupportedFeature').length, 1);
    assert.equal(w.eci.calls.create, 0);
    const writes = w.cluster.calls.patchStatus;
    assert.equal((await sync.handle(nudgeOf(after ?? pod, 'resync'))).outcome, 'refused');
    assert.equal(w.cluster.calls.patchStatus, writes, 'the same refusal is not written again');
    assert.equal(w.cluster.events.filter((e) => e.reason === 'UnsupportedFeature').length, 1);
  });

  it('a refused pod of a Job fails (the Job counts it against its backoffLimit)', async () => {
    const w = world();
    const owner = { apiVersion: 'batch/v1', kind: 'Job', name: 'batch', uid: 'job-uid', controller: true };
    const base = makePod({ spec: { volumes: [{ name: 'h', hostPath: { path: '/var/log' } }] } });
    const pod = w.cluster.put({ ...base, metadata: { ...base.metadata, ownerReferences: [owner] } });
    assert.equal((await new PodSync(w.deps).handle(nudgeOf(pod))).outcome, 'refused');
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase, 'Failed');
  });

  it('a missing ConfigMap is retried with a delay, and after maxAttempts made visible on the pod', async () => {
    const w = world({ maxAttempts: 3 });
    const pod = w.cluster.put(makePod({ spec: { volumes: [{ name: 'c', configMap: { name: 'cfg' } }] } }));
    const sync = new PodSync(w.deps);
    let nudge = nudgeOf(pod);
    for (let i = 0; i < 3; i++) {
      const res = await sync.handle(nudge);
      assert.equal(res.outcome, 'retry');
      const sent = w.queue.sent.at(-1);
      assert.ok(sent && sent.delaySeconds > 0);
      assert.equal(sent.message.attempt, i + 1);
      nudge = sent.message;
    }
    assert.equal(w.eci.calls.create, 0);
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    const cond = after?.status?.conditions?.find((c) => c.type === CONDITION_SYNC);
    assert.equal(cond?.status, 'False');
    assert.equal(cond?.reason, 'RetryingAfterErrors');
    assert.match(cond?.message ?? '', /cfg/);
    assert.ok(w.cluster.events.some((e) => e.reason === 'SyncRetrying'));
    // the ConfigMap appears: the next retry creates the group
    w.cluster.configMaps.set('default/cfg', { metadata: { name: 'cfg' }, data: { a: 'b' } });
    assert.equal((await sync.handle(nudge)).outcome, 'created');
  });

  it('mints a pod-bound token for a projected service-account token volume', async () => {
    const w = world();
    const pod = w.cluster.put(
      makePod({
        spec: {
          volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }],
        },
      }),
    );
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    assert.equal(w.cluster.calls.token, 1);
  });

  const errorCases = [
    { name: 'permanent → Failed ProviderCreateFailed + Event', err: new FakeEciError('permanent', 'InvalidParameter'), outcome: 'failed', phase: 'Failed' },
    { name: 'retryable → delayed re-nudge, pod untouched', err: new FakeEciError('retryable', 'Throttling.User'), outcome: 'retry', phase: undefined },
    { name: 'capacity without fallback → Event + delayed retry', err: new FakeEciError('capacity', 'OperationDenied.NoStock'), outcome: 'capacity-retry', phase: 'Pending' },
  ] as const;
  for (const c of errorCases) {
    it(`classified create error: ${c.name}`, async () => {
      const w = world();
      const pod = w.cluster.put(makePod());
      w.eci.createFailures.push(c.err);
      const res = await new PodSync(w.deps).handle(nudgeOf(pod));
      assert.equal(res.outcome, c.outcome);
      assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase, c.phase);
      if (c.outcome !== 'failed') {
        assert.equal(w.queue.sent.length, 1);
        assert.ok((w.queue.sent[0]?.delaySeconds ?? 0) >= 1);
      } else {
        assert.equal(w.queue.sent.length, 0);
        assert.ok(w.cluster.events.some((e) => e.reason === 'ProviderCreateFailed'));
      }
      if (c.outcome === 'capacity-retry') assert.ok(w.cluster.events.some((e) => e.reason === 'ProviderCapacity'));
    });
  }

  it('capacity: spot falls back to on-demand when the pod allows it, with its own ClientToken', async () => {
    const w = world();
    w.eci.noSpotStock = true;
    const pod = w.cluster.put(
      makePod({ annotations: { 'k8s.aliyun.com/eci-spot-strategy': 'SpotAsPriceGo', 'k8s.aliyun.com/eci-spot-fallback': 'true' } }),
    );
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    assert.equal(w.eci.calls.create, 2);
    assert.equal(w.eci.createRequests[1]?.SpotStrategy, 'NoSpot');
    assert.equal(w.eci.createRequests[1]?.ClientToken, `${pod.metadata.uid}-f1`);
    assert.equal(w.eci.groups.size, 1);
  });

  it('capacity: spot without the fallback annotation is retried later, never falls back', async () => {
    const w = world();
    w.eci.noSpotStock = true;
    const pod = w.cluster.put(makePod({ annotations: { 'k8s.aliyun.com/eci-spot-strategy': 'SpotAsPriceGo' } }));
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'capacity-retry');
    assert.equal(w.eci.calls.create, 1);
    assert.equal(w.eci.groups.size, 0);
  });
});

describe('pod-sync: status', () => {
  it('kubectl debug: an ephemeral container ECI cannot run gets a waiting status and one Event, not silence', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    // the production status mapping (the fake domain's is minimal)
    const toStatus = (group: EciContainerGroup, p: Pod, nowMs: number) => groupToPodStatus(group, p, new Date(nowMs).toISOString());
    const sync = new PodSync({ ...w.deps, domain: { ...w.deps.domain, toStatus, differs: podStatusDiffers } });
    const { groupId } = await sync.handle(nudgeOf(pod));
    w.eci.set(groupId ?? '', { Status: 'Running', IntranetIp: '10.0.0.7' });
    await sync.handle(nudgeOf(pod, 'changed'));
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.spec.ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36' }];
    await sync.handle(nudgeOf(stored, 'changed'));
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    const st = after?.status?.ephemeralContainerStatuses?.[0];
    assert.equal(st?.name, 'debugger');
    assert.equal(st?.state?.waiting?.reason, 'EphemeralContainersUnsupported');
    assert.match(st?.state?.waiting?.message ?? '', /--copy-to/);
    assert.equal(after?.status?.phase, 'Running', 'the pod itself is unaffected');
    await sync.handle(nudgeOf(after ?? stored, 'resync'));
    assert.equal(w.cluster.events.filter((e) => e.reason === 'EphemeralContainersUnsupported').length, 1, 'said once');
  });

  it('maps a running group, patches once, then leaves the pod alone while nothing changes', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    w.eci.set(groupId ?? '', { Status: 'Running', IntranetIp: '10.0.0.7' });
    assert.equal((await sync.handle(nudgeOf(pod, 'changed'))).outcome, 'status-patched');
    const patches = w.cluster.calls.patchStatus;
    assert.equal((await sync.handle(nudgeOf(pod, 'resync'))).outcome, 'unchanged');
    assert.equal(w.cluster.calls.patchStatus, patches);
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.equal(after?.status?.phase, 'Running');
    assert.equal(after?.status?.podIP, '10.0.0.7');
  });

  it('never moves the phase backwards (Running stays Running while ECI restarts)', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    w.eci.set(groupId ?? '', { Status: 'Running' });
    await sync.handle(nudgeOf(pod));
    w.eci.set(groupId ?? '', { Status: 'Restarting' });
    await sync.handle(nudgeOf(pod));
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.equal(after?.status?.phase, 'Running');
    assert.equal(after?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  });

  it('never writes to a terminal pod', async () => {
    const w = world();
    const pod = w.cluster.put(makePod({ status: { phase: 'Succeeded' } }));
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'terminal');
    assert.equal(w.cluster.calls.patchStatus + w.cluster.calls.patchMeta, 0);
    assert.equal(w.eci.calls.create, 0);
  });

  it('turns new ECI events into Kubernetes Events once', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    w.eci.set(groupId ?? '', {
      Status: 'Running',
      Events: [{ Type: 'Normal', Reason: 'Pulled', Message: 'image pulled', LastTimestamp: '2026-01-01T00:00:05Z' }],
    });
    await sync.handle(nudgeOf(pod));
    await sync.handle(nudgeOf(pod));
    assert.equal(w.cluster.events.filter((e) => e.reason === 'Pulled').length, 1);
  });

  it('a starting group: Normal events wait until it runs or EVENT_SETTLE_SECONDS (one mark for them all); a Warning goes at once', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    const marks = () => w.cluster.calls.patchMeta;
    const mirrored = () => w.cluster.events.filter((e) => ['Scheduled', 'Pulling', 'Pulled', 'Started', 'Failed'].includes(e.reason ?? '')).map((e) => e.reason);
    const scheduled = { Type: 'Normal', Reason: 'Scheduled', Message: 'scheduled', FirstTimestamp: '2026-01-01T00:00:01Z', LastTimestamp: '2026-01-01T00:00:01Z' };
    const pulling = { Type: 'Normal', Reason: 'Pulling', Message: 'pulling', FirstTimestamp: '2026-01-01T00:00:02Z', LastTimestamp: '2026-01-01T00:00:02Z' };
    w.clock.t = Date.parse('2026-01-01T00:00:05Z');
    w.eci.set(groupId ?? '', { Status: 'Pending', Events: [scheduled, pulling] });
    const before = marks();
    await sync.handle(nudgeOf(pod));
    assert.deepEqual(mirrored(), [], 'younger than EVENT_SETTLE_SECONDS while starting: they wait');
    assert.equal(marks(), before);
    // the group runs: every start-up event in one pass, one mark
    w.eci.set(groupId ?? '', {
      Status: 'Running',
      Events: [
        scheduled,
        pulling,
        { Type: 'Normal', Reason: 'Pulled', Message: 'pulled', FirstTimestamp: '2026-01-01T00:00:06Z', LastTimestamp: '2026-01-01T00:00:06Z' },
        { Type: 'Normal', Reason: 'Started', Message: 'started', FirstTimestamp: '2026-01-01T00:00:06Z', LastTimestamp: '2026-01-01T00:00:06Z' },
      ],
    });
    w.clock.t = Date.parse('2026-01-01T00:00:07Z');
    await sync.handle(nudgeOf(pod));
    assert.deepEqual(mirrored().sort(), ['Pulled', 'Pulling', 'Scheduled', 'Started']);
    assert.equal(marks() - before, 1);

    // another pod, still starting: a Warning is mirrored at once; Normal ones wait only EVENT_SETTLE_SECONDS
    const w2 = world();
    const p2 = w2.cluster.put(makePod());
    const s2 = new PodSync(w2.deps);
    const g2 = (await s2.handle(nudgeOf(p2))).groupId ?? '';
    w2.clock.t = Date.parse('2026-01-01T00:00:05Z');
    w2.eci.set(g2, { Status: 'Pending', Events: [scheduled] });
    await s2.handle(nudgeOf(p2));
    assert.equal(w2.cluster.events.filter((e) => e.reason === 'Scheduled').length, 0);
    w2.clock.t = Date.parse('2026-01-01T00:00:01Z') + EVENT_SETTLE_SECONDS * 1000;
    await s2.handle(nudgeOf(p2));
    assert.equal(w2.cluster.events.filter((e) => e.reason === 'Scheduled').length, 1, 'settled: mirrored while the group still starts');
    w2.eci.set(g2, {
      Status: 'Pending',
      Events: [scheduled, { Type: 'Warning', Reason: 'Failed', Message: 'pull failed', FirstTimestamp: '2026-01-01T00:00:11Z', LastTimestamp: '2026-01-01T00:00:11Z' }],
    });
    await s2.handle(nudgeOf(p2));
    assert.equal(w2.cluster.events.filter((e) => e.reason === 'Failed').length, 1, 'a Warning does not wait');
  });

  it('an ECI event counted again within the same second is mirrored again; an unchanged one is not', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    const backOff = (count: number) => ({ Type: 'Warning', Reason: 'BackOff', Message: 'back-off', Count: count, FirstTimestamp: '2026-01-01T00:00:05Z', LastTimestamp: '2026-01-01T00:00:05Z' });
    let mirrors = 0;
    const mirror = w.cluster.mirrorEvent.bind(w.cluster);
    w.cluster.mirrorEvent = async (ev) => {
      mirrors++;
      return mirror(ev);
    };
    w.eci.set(groupId ?? '', { Events: [backOff(1)] });
    await sync.handle(nudgeOf(pod));
    w.eci.set(groupId ?? '', { Events: [backOff(3)] }); // same lastTimestamp (ECI's times are whole seconds)
    await sync.handle(nudgeOf(pod));
    assert.equal([...w.cluster.mirrored.values()].find((e) => e.reason === 'BackOff')?.count, 3);
    assert.equal(mirrors, 2);
    await sync.handle(nudgeOf(pod));
    assert.equal(mirrors, 2, 'nothing new: no write');
  });

  it('an ECI event that could not be mirrored is mirrored on the next pass (the seen-mark stops before it)', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    // two events in the same second; the second one's write fails once
    w.eci.set(groupId ?? '', {
      Status: 'Running',
      Events: [
        { Type: 'Normal', Reason: 'Pulled', Message: 'image pulled', LastTimestamp: '2026-01-01T00:00:05Z' },
        { Type: 'Normal', Reason: 'Started', Message: 'started', LastTimestamp: '2026-01-01T00:00:05Z' },
      ],
    });
    const mirror = w.cluster.mirrorEvent.bind(w.cluster);
    let failures = 2; // the pass writes its newest event first, then again in its turn
    w.cluster.mirrorEvent = async (ev) => {
      if (ev.reason === 'Started' && failures-- > 0) throw new Error('apiserver unavailable');
      return mirror(ev);
    };
    await sync.handle(nudgeOf(pod));
    assert.deepEqual(w.cluster.events.filter((e) => e.reason === 'Pulled' || e.reason === 'Started').map((e) => e.reason), ['Pulled']);
    await sync.handle(nudgeOf(pod));
    assert.deepEqual(w.cluster.events.filter((e) => e.reason === 'Pulled' || e.reason === 'Started').map((e) => e.reason), ['Pulled', 'Started']);
  });

  it('a recorded group that vanished fails the pod after the grace, not before', async () => {
    const w = world({ lostGroupGraceSeconds: 120 });
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    w.eci.groups.delete(groupId ?? '');
    w.clock.t = Date.parse('2026-01-01T00:01:00Z');
    assert.equal((await sync.handle(nudgeOf(pod))).outcome, 'unchanged');
    w.clock.t = Date.parse('2026-01-01T00:03:00Z');
    assert.equal((await sync.handle(nudgeOf(pod))).outcome, 'group-lost');
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.status?.reason, 'ContainerGroupNotFound');
  });
});

describe('pod-sync: deleting', () => {
  it('deletes the group, waits while it terminates, then deletes the pod with grace 0 and a UID precondition', async () => {
    const w = world();
    w.eci.graceful = true;
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    const calls = { ...w.eci.calls };
    const first = await sync.handle(nudgeOf(pod, 'deleting'));
    assert.equal(first.outcome, 'deleting-wait');
    assert.equal(w.eci.calls.delete - calls.delete, 1);
    assert.equal(w.eci.calls.describe - calls.describe, 1, 'one look before the delete, none after');
    assert.equal(w.queue.sent.length, 0, 'no re-nudge: the status ticks poll the terminating group');
    assert.ok(w.cluster.get('default', pod.metadata.name ?? ''), 'the pod stays while the group terminates');
    // a second nudge while it terminates deletes nothing more
    assert.equal((await sync.handle(nudgeOf(pod, 'deleting'))).outcome, 'deleting-wait');
    assert.equal(w.eci.calls.delete - calls.delete, 1);
    w.eci.groups.delete(groupId ?? '');
    const second = await sync.handle(nudgeOf(pod, 'deleting'));
    assert.equal(second.outcome, 'deleted');
    assert.deepEqual(w.cluster.deletes, [{ key: `default/${pod.metadata.name}`, uid: pod.metadata.uid, grace: 0 }]);
  });

  it('a lifecycle without races writes the pod 3 metadata patches and 2 statuses (issue 18 budget; was 4 and 2)', async () => {
    // create → Running with one ECI event → deleted: metadata = attempt mark, events-seen mark, delete claim; the
    // group id rides on the Pending status write
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    w.eci.set(groupId ?? '', {
      Status: 'Running',
      Events: [{ Type: 'Normal', Reason: 'Started', Message: 'started', LastTimestamp: '2026-01-01T00:00:05Z' }],
    });
    assert.equal((await sync.handle(nudgeOf(pod, 'changed'))).outcome, 'status-patched');
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    assert.equal((await sync.handle(nudgeOf(pod, 'deleting'))).outcome, 'deleting-wait');
    assert.equal((await sync.handle(nudgeOf(pod, 'deleting'))).outcome, 'deleted');
    assert.equal(w.eci.calls.delete, 1);
    assert.equal(w.cluster.calls.patchMeta, 3);
    assert.equal(w.cluster.calls.patchStatus, 2);
    assert.equal(w.cluster.calls.deletePod, 1);
  });

  it('a terminating pod that never had a create attempted is deleted at once, without any ECI call', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    const res = await new PodSync(w.deps).handle(nudgeOf(pod, 'deleting'));
    assert.equal(res.outcome, 'deleted');
    assert.deepEqual(w.eci.calls, { create: 0, delete: 0, describe: 0, list: 0, events: 0, price: 0, changedSince: 0 });
  });

  it('a pod gone from the API loses the groups tagged with its UID', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    await sync.handle(nudgeOf(pod));
    w.cluster.pods.clear();
    const gets = w.cluster.calls.getPod;
    const res = await sync.handle(nudgeOf(pod, 'deleted'));
    assert.equal(res.outcome, 'gone-cleaned');
    assert.equal(w.eci.groups.size, 0);
    assert.equal(w.cluster.calls.getPod - gets, 0, 'the watcher saw it deleted: no read');
  });

  it('a new pod under the same name does not inherit the old pod group', async () => {
    const w = world();
    const old = w.cluster.put(makePod({ name: 'same' }));
    const sync = new PodSync(w.deps);
    await sync.handle(nudgeOf(old));
    const fresh = w.cluster.put(makePod({ name: 'same' }));
    await sync.handle(nudgeOf(old, 'deleted'));
    await sync.handle(nudgeOf(fresh));
    const uids = [...w.eci.groups.values()].map((g) => g.Tags?.find((t) => t.Key.endsWith('pod-uid'))?.Value);
    assert.deepEqual(uids, [fresh.metadata.uid]);
  });
});

describe('pod-sync: a Conflict on the final pod delete', () => {
  /** A terminating pod that never had a create attempted: its nudge goes straight to the final delete. */
  function terminating(w: ReturnType<typeof world>, name?: string) {
    const pod = w.cluster.put(makePod(name ? { name } : {}));
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    return pod;
  }

  it('a new pod under the name (the UID precondition failed): done for our UID, the new pod is left alone', async () => {
    const w = world();
    const old = terminating(w, 'reused');
    const fresh = makePod({ name: 'reused' });
    w.cluster.beforeDelete = () => {
      w.cluster.beforeDelete = undefined;
      w.cluster.put(fresh);
    };
    const res = await new PodSync(w.deps).handle(nudgeOf(old, 'deleting'));
    assert.equal(res.outcome, 'deleted');
    assert.equal(w.queue.sent.length, 0, 'no retry');
    assert.equal(w.cluster.get('default', 'reused')?.metadata.uid, fresh.metadata.uid);
    assert.deepEqual(w.cluster.deletes, []);
  });

  it('the pod vanished meanwhile (Conflict, then NotFound on the read): done', async () => {
    const w = world();
    const pod = terminating(w);
    w.cluster.deleteConflicts = 1;
    // the conflict was someone else finishing the deletion: by the read after it, the pod is gone
    const realGet = w.cluster.getPod.bind(w.cluster);
    let reads = 0;
    w.cluster.getPod = async (ns, name) => {
      if (++reads === 2) w.cluster.pods.delete(`${ns}/${name}`);
      return realGet(ns, name);
    };
    const res = await new PodSync(w.deps).handle(nudgeOf(pod, 'deleting'));
    assert.equal(res.outcome, 'deleted');
    assert.equal(w.queue.sent.length, 0);
  });

  it('the same pod still there (a transient conflict): retried through a delayed re-nudge until it is deleted', async () => {
    const w = world();
    const pod = terminating(w);
    w.cluster.deleteConflicts = 1;
    const sync = new PodSync(w.deps);
    const res = await sync.handle(nudgeOf(pod, 'deleting'));
    assert.equal(res.outcome, 'retry');
    assert.ok(w.cluster.get('default', pod.metadata.name ?? ''), 'still there, terminating');
    const retry = w.queue.sent[0];
    assert.equal(retry?.message.uid, pod.metadata.uid);
    assert.equal(retry?.message.attempt, 1);
    assert.ok((retry?.delaySeconds ?? 0) >= 1, 'delayed');
    assert.equal((await sync.handle(retry?.message ?? nudgeOf(pod))).outcome, 'deleted');
    assert.equal(w.cluster.get('default', pod.metadata.name ?? ''), undefined);
    assert.deepEqual(
      w.cluster.deletes.map((d) => [d.uid, d.grace]),
      [[pod.metadata.uid, 0]],
    );
  });

  it('a conflict that persists is made visible after maxAttempts, like other retried errors', async () => {
    const w = world({ maxAttempts: 3 });
    const pod = terminating(w);
    w.cluster.deleteConflicts = 100;
    const sync = new PodSync(w.deps);
    let nudge = nudgeOf(pod, 'deleting');
    for (let i = 0; i < 3; i++) {
      assert.equal((await sync.handle(nudge)).outcome, 'retry');
      nudge = w.queue.sent.at(-1)?.message ?? nudge;
    }
    assert.equal(nudge.attempt, 3);
    const warned = w.cluster.events.filter((e) => e.reason === 'SyncRetrying');
    assert.equal(warned.length, 1);
    assert.match(warned[0]?.message ?? '', /conflict/);
  });

  it('on the tick path the conflict is a retryable error (status-sync counts it failed; the next tick deletes)', async () => {
    const w = world();
    const pod = terminating(w);
    w.cluster.deleteConflicts = 1;
    const sync = new PodSync(w.deps);
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    await assert.rejects(sync.convergePod(structuredClone(stored), null), { name: 'PodStillTerminatingError' });
    assert.equal((await sync.convergePod(structuredClone(stored), null)).outcome, 'deleted');
  });
});

describe('pod-sync: a nudge carrying the pod (version 2)', () => {
  /** The nudge the watcher sends for `pod` as its watch delivered it. */
  const carrying = (pod: Pod, reason: PodNudge['reason'] = 'bound'): PodNudge => ({
    ...nudgeOf(pod, reason),
    v: 2,
    resourceVersion: pod.metadata.resourceVersion ?? '',
    pod: structuredClone(pod),
  });

  it('a new pod is created without a read: the create-attempted mark is conditional on the snapshot', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const res = await new PodSync(w.deps).handle(carrying(pod));
    assert.equal(res.outcome, 'created');
    assert.equal(w.cluster.calls.getPod, 0);
    assert.equal(w.eci.calls.create, 1);
  });

  it('a stale snapshot (another invocation created meanwhile) is read on the Conflict: no second create, no status going back', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const before = carrying(pod); // as delivered before the create
    const sync = new PodSync(w.deps);
    const { groupId } = await sync.handle(nudgeOf(pod));
    w.eci.set(groupId ?? '', { Status: 'Running', IntranetIp: '10.0.0.7' });
    await sync.handle(nudgeOf(pod, 'resync')); // Running, as ECI reports it
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase, 'Running');
    const patches = w.cluster.calls.patchStatus;
    const gets = w.cluster.calls.getPod;
    const res = await sync.handle(before);
    assert.equal(w.cluster.calls.getPod - gets, 1, 'read after the conditional mark failed');
    assert.equal(w.eci.calls.create, 1);
    assert.equal(res.outcome, 'unchanged');
    assert.equal(w.cluster.calls.patchStatus, patches);
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.equal(after?.metadata.annotations?.[ANNOTATION_INSTANCE_ID], groupId);
    assert.equal(after?.status?.phase, 'Running');
  });

  it('a snapshot of a pod deleted meanwhile creates no group (NotFound on the mark, then the read)', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    w.cluster.pods.clear();
    const res = await new PodSync(w.deps).handle(carrying(pod));
    assert.equal(res.outcome, 'gone-cleaned');
    assert.equal(w.eci.calls.create, 0);
    assert.equal(w.eci.groups.size, 0);
  });

  it('a terminating pod with a recorded group: its group deleted once without a read', async () => {
    const w = world();
    w.eci.graceful = true;
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    await sync.handle(nudgeOf(pod));
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    const gets = w.cluster.calls.getPod;
    const first = await sync.handle(carrying(stored, 'deleting'));
    assert.equal(first.outcome, 'deleting-wait');
    assert.equal(w.cluster.calls.getPod, gets);
    assert.equal(w.eci.calls.delete, 1);
    // the same snapshot again (a duplicate): the delete claim on the pod makes it wait, no second delete
    assert.equal((await sync.handle(carrying(stored, 'deleting'))).outcome, 'deleting-wait');
    assert.equal(w.eci.calls.delete, 1);
  });

  it('a snapshot with a group that is not terminating, or a terminating one without a group, is read', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const sync = new PodSync(w.deps);
    await sync.handle(nudgeOf(pod));
    const withGroup = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(withGroup);
    let gets = w.cluster.calls.getPod;
    await sync.handle(carrying(withGroup, 'changed'));
    assert.equal(w.cluster.calls.getPod - gets, 1);
    const bare = w.cluster.put(makePod());
    const stored = w.cluster.get('default', bare.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    gets = w.cluster.calls.getPod;
    assert.equal((await sync.handle(carrying(stored, 'deleting'))).outcome, 'deleted');
    assert.equal(w.cluster.calls.getPod - gets, 1);
  });
});
