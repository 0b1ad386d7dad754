/**
 * Status ticks converge a pod from the instance's PodMemory when it holds the pod at the resourceVersion the watcher
 * sent (tick version 4), with conditional writes: no read when the copy is current, a read when it is not.
 * Ticks are built by the watcher's own code (toRecord, buildTicks).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../shared/domain/k8s.js';
import type { StatusTick } from '../../../shared/domain/messages.js';
import { PodMemory } from '../../../shared/usecases/podMemory.js';
import { type Deferred, PodSync } from '../../../shared/usecases/podSync.js';
import { StatusSync } from '../../../shared/usecases/statusSync.js';
import { toRecord } from '../../../watcher/podState.js';
import { buildTicks } from '../../../watcher/statusClock.js';
import { createPods, statusWorld, type World } from './fakes.js';

const RUNNING = {
  Status: 'Running',
  IntranetIp: '10.0.0.9',
  Containers: [{ Name: 'app', Image: 'nginx', Ready: true, RestartCount: 0, CurrentState: { State: 'Running', StartTime: '2026-01-01T00:00:01Z' } }],
};

/** The tick the watcher sends for `pods` as the cluster holds them now. */
function watcherTick(w: World, pods: { pod: Pod }[]): StatusTick {
  const now = w.clock.now();
  const records = pods.map(({ pod }) => toRecord(w.cluster.get('default', pod.metadata.name ?? '') as Pod, now));
  const [tick] = buildTicks(records, new Date(now).toISOString());
  assert.ok(tick);
  return tick;
}

/** One pod created through pod-sync (the instance remembers its create write), its group running. */
async function onePod() {
  const w = statusWorld();
  const pods = await createPods(w, 1);
  const [first] = pods;
  assert.ok(first);
  w.eci.set(first.groupId, RUNNING);
  return { w, pods, first, name: first.pod.metadata.name ?? '' };
}

describe('status tick version 4: pods held at the watcher version are not read', () => {
  it('converges the pods this instance wrote last without reading them; an instance without them reads', async () => {
    // Prepare: pods created through pod-sync (the create's status write is remembered), then their groups run
    const w = statusWorld();
    const pods = await createPods(w, 3);
    for (const { groupId } of pods) w.eci.set(groupId, RUNNING);
    const tick = watcherTick(w, pods);
    assert.equal(tick.v, 4);
    const gets = w.cluster.calls.getPod;
    // Act
    const report = await new StatusSync(w.deps).tick(tick);
    // Assess
    assert.equal(w.cluster.calls.getPod - gets, 0);
    assert.equal(report.recalled, 3);
    assert.equal(report.patched, 3);
    for (const { pod } of pods) assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase, 'Running');
    // another instance (its own memory) reads them
    const other = statusWorld();
    const otherPods = await createPods(other, 2);
    for (const { groupId } of otherPods) other.eci.set(groupId, RUNNING);
    const before = other.cluster.calls.getPod;
    const theirs = await new StatusSync({ ...other.deps, memory: new PodMemory() }).tick(watcherTick(other, otherPods));
    assert.equal(other.cluster.calls.getPod - before, 2);
    assert.equal(theirs.recalled, 0);
    assert.equal(theirs.patched, 2);
  });

  it('a held copy the pod moved on from since the tick is not written over: the conditional write conflicts, the pod is read and converged', async () => {
    // Prepare: the tick names the version this instance holds; then someone else writes the pod
    const { w, pods, name } = await onePod();
    const tick = watcherTick(w, pods);
    await w.cluster.patchPodMetadata('default', name, { annotations: { 'team.example.com/owner': 'shop' } });
    const gets = w.cluster.calls.getPod;
    const statusWrites = w.cluster.calls.patchStatus;
    // Act
    const report = await new StatusSync(w.deps).tick(tick);
    // Assess: one refused conditional write, one read, one write that landed; the other writer's change kept
    assert.equal(report.recalled, 1);
    assert.equal(report.recalledStale, 1);
    assert.equal(w.cluster.calls.getPod - gets, 1);
    assert.equal(w.cluster.calls.patchStatus - statusWrites, 2);
    const after = w.cluster.get('default', name);
    assert.equal(after?.status?.phase, 'Running');
    assert.equal(after?.metadata.annotations?.['team.example.com/owner'], 'shop');
  });

  it('a held copy another pass converged first, to the same status: one refused write and a read, its Events left to that pass', async () => {
    // Prepare: the group runs and has an ECI event; another pass (the other instance: its own memory) has written
    // the Running status and not yet its Events
    const { w, pods, first, name } = await onePod();
    const at = new Date(w.clock.now()).toISOString();
    w.eci.set(first.groupId, { Events: [{ Type: 'Normal', Reason: 'Started', Message: 'started', FirstTimestamp: at, LastTimestamp: at }] });
    const tick = watcherTick(w, pods);
    const group = w.eci.groups.get(first.groupId);
    assert.ok(group);
    const theirEvents: Deferred[] = [];
    const theirs = await new PodSync({ ...w.deps, memory: new PodMemory() }).convergePod(await w.cluster.getPod('default', name), group, undefined, theirEvents);
    assert.equal(theirs.outcome, 'status-patched');
    let mirrors = 0;
    const mirror = w.cluster.mirrorEvent.bind(w.cluster);
    w.cluster.mirrorEvent = async (ev) => {
      mirrors++;
      return mirror(ev);
    };
    const gets = w.cluster.calls.getPod;
    const statusWrites = w.cluster.calls.patchStatus;
    const metaWrites = w.cluster.calls.patchMeta;
    // Act: this instance holds the pod at the tick's version
    const report = await new StatusSync(w.deps).tick(tick);
    // Assess: nothing written but the refused conditional status write
    assert.equal(report.recalledStale, 1);
    assert.equal(w.cluster.calls.getPod - gets, 1);
    assert.equal(w.cluster.calls.patchStatus - statusWrites, 1, 'only the refused conditional write');
    assert.equal(mirrors, 0, 'no Event write racing the other pass');
    assert.equal(w.cluster.calls.patchMeta - metaWrites, 0, 'no events-seen mark');
    // the other pass goes on: its Event and its mark
    for (const fn of theirEvents) await fn();
    assert.equal(mirrors, 1);
    assert.equal(w.cluster.mirrored.size, 1);
  });

  it('a tick naming a version this instance does not hold reads the pod', async () => {
    const { w, pods, name } = await onePod();
    await w.cluster.patchPodMetadata('default', name, { annotations: { 'team.example.com/owner': 'shop' } });
    const tick = watcherTick(w, pods); // the watcher saw that write; this instance did not
    const gets = w.cluster.calls.getPod;
    const report = await new StatusSync(w.deps).tick(tick);
    assert.equal(w.cluster.calls.getPod - gets, 1);
    assert.equal(report.recalled, 0);
    assert.equal(report.patched, 1);
  });

  it('keeps at most its bound of pods, the least recently learned dropped first', () => {
    const memory = new PodMemory(2);
    const pod = (uid: string, rv: string): Pod => ({ metadata: { name: uid, namespace: 'default', uid, resourceVersion: rv }, spec: { containers: [] } });
    memory.remember(pod('a', '1'));
    memory.remember(pod('b', '2'));
    memory.remember(pod('a', '3'));
    memory.remember(pod('c', '4'));
    assert.equal(memory.size, 2);
    assert.equal(memory.recall('b', '2'), undefined);
    assert.equal(memory.recall('a', '1'), undefined, 'an older version is not recalled');
    assert.equal(memory.recall('a', '3')?.metadata.resourceVersion, '3');
    const copy = memory.recall('c', '4');
    assert.ok(copy);
    copy.metadata.name = 'changed';
    assert.equal(memory.recall('c', '4')?.metadata.name, 'c', 'a recalled copy is the caller’s own');
    // managedFields are not kept (nothing the bridge reads)
    const withFields = pod('d', '5');
    Object.assign(withFields.metadata, { managedFields: [{ manager: 'kubectl', operation: 'Update' }] });
    memory.remember(withFields);
    assert.equal('managedFields' in (memory.recall('d', '5')?.metadata ?? {}), false);
  });
});
