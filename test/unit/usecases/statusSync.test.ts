import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FUNCTIONS_HEARTBEAT_NAME, heartbeatHealth, leaseToHeartbeat } from '../../../shared/domain/heartbeat.js';
import type { StatusTick } from '../../../shared/domain/messages.js';
import { Gc } from '../../../shared/usecases/gc.js';
import { HeartbeatWriter } from '../../../shared/usecases/heartbeat.js';
import { PodSync } from '../../../shared/usecases/podSync.js';
import { StatusSync } from '../../../shared/usecases/statusSync.js';
import { createPods, makePod, nudgeOf, silentLogger, world } from './fakes.js';


describe('status tick', () => {
  it('describes 45 pods in 3 batched calls and patches only the pods whose group changed', async () => {
    // Prepare
    const w = world();
    const pods = await createPods(w, 45);
    const tick: StatusTick = { v: 1, kind: 'status-tick', at: new Date().toISOString(), pods: [] };
    for (const { pod } of pods) tick.pods.push({ namespace: 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' });
    const s = new StatusSync(w.deps);
    await s.tick(tick); // first look
    for (const { groupId } of pods.slice(0, 5)) w.eci.set(groupId, { Status: 'Running' });
    const describes = w.eci.calls.describe;
    const patches = w.cluster.calls.patchStatus;
    // Act
    const report = await s.tick(tick);
    // Assess
    assert.equal(w.eci.calls.describe - describes, 3);
    assert.equal(w.cluster.calls.patchStatus - patches, 5);
    assert.equal(report.patched, 5);
    assert.equal(report.unchanged, 40);
    assert.equal(w.eci.calls.create, 45);
  });

  it('finishes a deletion when the group is gone', async () => {
    const w = world();
    const [{ pod, groupId }] = (await createPods(w, 1)) as [{ pod: ReturnType<typeof makePod>; groupId: string }];
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    w.eci.groups.delete(groupId);
    const report = await new StatusSync(w.deps).tick({
      v: 1,
      kind: 'status-tick',
      at: '2026-01-01T00:00:01Z',
      pods: [{ namespace: 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '', groupId }],
    });
    assert.equal(report.deleted, 1);
    assert.equal(w.cluster.pods.size, 0);
  });
});

describe('status-sync sweep', () => {
  it('captures the final status of finished groups, then never writes those pods again', async () => {
    const w = world();
    const pods = await createPods(w, 3);
    w.eci.set(pods[0]?.groupId ?? '', { Status: 'Succeeded' });
    w.eci.set(pods[1]?.groupId ?? '', { Status: 'Failed' });
    w.eci.set(pods[2]?.groupId ?? '', { Status: 'Running' });
    const s = new StatusSync(w.deps);
    await s.sweep();
    const phases = pods.map(({ pod }) => w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase);
    assert.deepEqual(phases, ['Succeeded', 'Failed', 'Running']);
    const patches = w.cluster.calls.patchStatus;
    const lists = w.eci.calls.list;
    const report = await s.sweep();
    assert.equal(w.cluster.calls.patchStatus, patches);
    assert.equal(w.eci.calls.list - lists, 1);
    assert.equal(report.patched, 0);
    assert.equal(w.eci.calls.describe, 0, 'the sweep lists by tag, it never describes per pod');
  });

  it('finishes an eviction without any watcher: the group of a terminating pod is deleted, then the pod', async () => {
    const w = world();
    const [{ pod, groupId }] = (await createPods(w, 1)) as [{ pod: ReturnType<typeof makePod>; groupId: string }];
    w.eci.set(groupId, { Status: 'Running' });
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    // the taint manager evicted it 30 s ago (a graceful delete, grace 30) while no watcher ran: nobody nudges
    stored.metadata.deletionTimestamp = new Date(w.deps.clock.now()).toISOString();
    stored.metadata.deletionGracePeriodSeconds = 30;
    const s = new StatusSync(w.deps);
    for (let i = 0; i < 3 && w.cluster.pods.size > 0; i++) {
      await s.sweep();
      w.eci.groups.delete(groupId); // ECI finished the deletion the sweep asked for
    }
    assert.ok(w.eci.calls.delete >= 1, 'the sweep deleted the group');
    assert.equal(w.cluster.pods.size, 0, 'and then the pod, without gc');
  });

  it('records the group id of a pod whose create response was lost', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    w.eci.loseCreateResponse = true;
    await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.metadata.annotations?.['k8s.aliyun.com/eci-instance-id'], undefined);
    await new StatusSync(w.deps).sweep();
    assert.equal(
      w.cluster.get('default', pod.metadata.name ?? '')?.metadata.annotations?.['k8s.aliyun.com/eci-instance-id'],
      [...w.eci.groups.keys()][0],
    );
  });
});

describe('gc', () => {
  it('deletes orphans older than the grace, keeps young ones, and reports each', async () => {
    const w = world({ orphanGraceSeconds: 120 });
    const pods = await createPods(w, 3);
    w.cluster.pods.delete(`default/${pods[0]?.pod.metadata.name}`);
    w.cluster.pods.delete(`default/${pods[1]?.pod.metadata.name}`);
    w.eci.set(pods[1]?.groupId ?? '', { CreationTime: '2026-01-01T00:04:00Z' });
    w.clock.t = Date.parse('2026-01-01T00:05:00Z');
    const report = await new Gc(w.deps).run();
    assert.deepEqual(
      report.orphansDeleted.map((o) => o.groupId),
      [pods[0]?.groupId],
    );
    assert.equal(report.orphansYoung, 1);
    assert.ok(w.eci.groups.has(pods[1]?.groupId ?? ''));
    assert.ok(w.eci.groups.has(pods[2]?.groupId ?? ''));
    assert.equal(report.orphansDeleted[0]?.costPerHour, 0.5);
    assert.equal(report.orphansDeleted[0]?.since, '2026-01-01T00:00:00.000Z');
  });

  it('re-nudges a bound pod without a group after the stuck threshold', async () => {
    const w = world({ stuckPodSeconds: 180 });
    const pod = w.cluster.put(makePod());
    w.clock.t = Date.parse('2026-01-01T00:01:00Z');
    assert.equal((await new Gc(w.deps).run()).renudged, 0);
    w.clock.t = Date.parse('2026-01-01T00:10:00Z');
    const report = await new Gc(w.deps).run();
    assert.equal(report.renudged, 1);
    assert.equal(w.queue.sent[0]?.message.uid, pod.metadata.uid);
    assert.equal(w.queue.sent[0]?.message.reason, 'resync');
  });

  it('an Event tells the user a pod is stuck on repeated errors', async () => {
    const w = world({ stuckPodSeconds: 60 });
    w.cluster.put(
      makePod({
        status: {
          phase: 'Pending',
          conditions: [
            { type: 'ContainerInstanceCreated', status: 'False', reason: 'NoCapacity', message: 'NoStock', lastTransitionTime: '2026-01-01T00:00:00Z' },
          ],
        },
      }),
    );
    w.clock.t = Date.parse('2026-01-01T00:05:00Z');
    const report = await new Gc(w.deps).run();
    assert.equal(report.stuckEvents, 1);
    assert.ok(w.cluster.events.some((e) => e.reason === 'StuckOnErrors' && /NoCapacity/.test(e.message)));
  });
});

describe('functions heartbeat', () => {
  it('writes the lease, counts consecutive ECI failures and resets them when ECI answers', async () => {
    const w = world();
    const hb = new HeartbeatWriter({ cluster: w.cluster, clock: w.clock, logger: silentLogger, namespace: 'eci-bridge' }, 0);
    await hb.record({ fn: 'status-sync', ok: true, eciCalled: true, eciError: 'retryable: ServiceUnavailable' });
    w.clock.t += 60_000;
    await hb.record({ fn: 'status-sync', ok: true, eciCalled: true, eciError: 'retryable: ServiceUnavailable' });
    const lease = w.cluster.leases.get(`eci-bridge/${FUNCTIONS_HEARTBEAT_NAME}`);
    assert.ok(lease);
    const read = leaseToHeartbeat(lease);
    assert.equal(read?.consecutiveEciFailures, 2);
    assert.equal(read?.lastEciError, 'retryable: ServiceUnavailable');
    assert.match(lease.spec?.renewTime ?? '', /\.\d{6}Z$/);
    assert.equal(heartbeatHealth(read, w.clock.now(), 2).eciHealthy, false);
    w.clock.t += 60_000;
    await hb.record({ fn: 'gc', ok: true, eciCalled: true });
    const after = leaseToHeartbeat(w.cluster.leases.get(`eci-bridge/${FUNCTIONS_HEARTBEAT_NAME}`) ?? lease);
    assert.equal(after?.consecutiveEciFailures, 0);
    assert.equal(after?.lastEciError, undefined);
    assert.equal(after?.lastFunction, 'gc');
    assert.equal(heartbeatHealth(after, w.clock.now()).functionsAlive, true);
    assert.equal(heartbeatHealth(after, w.clock.now() + 10 * 60_000).functionsAlive, false);
  });

  it('throttles successful writes per instance but always writes a change in ECI health', async () => {
    const w = world();
    const hb = new HeartbeatWriter({ cluster: w.cluster, clock: w.clock, logger: silentLogger, namespace: 'eci-bridge' }, 15_000);
    assert.ok(await hb.record({ fn: 'pod-sync', ok: true, eciCalled: true, throttle: true }));
    w.clock.t += 1000;
    assert.equal(await hb.record({ fn: 'pod-sync', ok: true, eciCalled: true, throttle: true }), undefined);
    assert.ok(await hb.record({ fn: 'gc', ok: true, eciCalled: true }), 'timer runs always write');
    assert.ok(await hb.record({ fn: 'pod-sync', ok: true, eciCalled: true, eciError: 'retryable: Throttling', throttle: true }));
  });
});
