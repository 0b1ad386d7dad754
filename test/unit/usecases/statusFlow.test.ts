/**
 * The status flow's speed rules (docs/architecture.md#the-flow, point 3; docs/status-flow.md), with in-memory fakes
 * that count calls: ticks run beside nudges, a tick converges its pods in parallel and writes every status before
 * any Event.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodNudge, StatusTick } from '../../../shared/domain/messages.js';
import { podStatusDigest } from '../../../shared/domain/statusDigest.js';
import { ANNOTATION_GROUP_DELETE, DELETE_CLAIM_SECONDS } from '../../../shared/usecases/context.js';
import { instrumentEci } from '../../../shared/usecases/heartbeat.js';
import { mergeTicks, processQueueBatch, type QueueItem } from '../../../shared/usecases/queueBatch.js';
import { POLLED_DELETE_AFTER_SECONDS, PodSync, type SyncResult, TERMINATING_DEADLINE_SECONDS } from '../../../shared/usecases/podSync.js';
import { APPLIED_SKIP_SECONDS, type StatusReport, StatusSync, TERMINATING_READ_SECONDS } from '../../../shared/usecases/statusSync.js';
import { createPods, makePod, nudgeOf, silentLogger, statusWorld, world } from './fakes.js';


function tickOf(pods: { pod: ReturnType<typeof makePod>; groupId: string }[]): StatusTick {
  return {
    v: 1,
    kind: 'status-tick',
    at: '2026-01-01T00:00:01Z',
    pods: pods.map(({ pod, groupId }) => ({ namespace: 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '', groupId })),
  };
}

const yieldOnce = () => new Promise<void>((r) => setImmediate(r));

describe('queue batch: ticks beside nudges', () => {
  it('starts the status tick before the batch nudges are done', async () => {
    // Prepare: pod-sync takes a while per nudge; the tick only records when it starts
    const order: string[] = [];
    const podSync = {
      async handle(n: PodNudge): Promise<SyncResult> {
        order.push(`nudge-start ${n.name}`);
        for (let i = 0; i < 5; i++) await yieldOnce();
        order.push(`nudge-end ${n.name}`);
        return { outcome: 'unchanged' };
      },
      forBatch() {
        return this;
      },
    } as unknown as PodSync;
    const statusSync = {
      async tick(): Promise<StatusReport> {
        order.push('tick-start');
        return { pods: 0, groups: 0, patched: 0, unchanged: 0, deleted: 0, failed: 0, skipped: 0, recalled: 0, recalledStale: 0, eciCalls: 0 };
      },
    } as unknown as StatusSync;
    const nudge = (name: string): QueueItem => ({
      ok: true,
      messageId: name,
      message: { v: 1, kind: 'pod', namespace: 'ns', name, uid: `u-${name}`, reason: 'bound' },
    });
    const tick: QueueItem = {
      ok: true,
      messageId: 't',
      message: { v: 1, kind: 'status-tick', at: 'now', pods: [{ namespace: 'ns', name: 'a', uid: 'u-a' }] },
    };
    // Act
    const report = await processQueueBatch([nudge('a'), nudge('b'), tick], {
      podSync,
      statusSync,
      deadLetter: { send: async () => {} },
      logger: silentLogger,
      now: () => 0,
      concurrency: 1,
    });
    // Assess
    assert.equal(report.nudges, 2);
    assert.equal(report.ticks, 1);
    assert.ok(order.indexOf('tick-start') < order.indexOf('nudge-end a'), `order was ${order.join(', ')}`);
  });
});

describe('status tick: parallel, statuses before Events', () => {
  it('converges the named pods in parallel, and writes every status before any ECI event becomes an Event', async () => {
    // Prepare: 12 pods whose groups all started, each with a new ECI event
    const w = world();
    const pods = await createPods(w, 12);
    for (const { groupId } of pods) {
      w.eci.set(groupId, {
        Status: 'Running',
        Events: [{ Type: 'Normal', Reason: 'Started', Message: 'Started container', LastTimestamp: '2026-01-01T00:00:05Z' }],
      });
    }
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const patchStatus = w.cluster.patchPodStatus.bind(w.cluster);
    w.cluster.patchPodStatus = async (ns, name, status, annotations) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await yieldOnce();
      inFlight--;
      log.push('status');
      return patchStatus(ns, name, status, annotations);
    };
    const mirrorEvent = w.cluster.mirrorEvent.bind(w.cluster);
    w.cluster.mirrorEvent = async (ev) => {
      if (ev.reason === 'Started') log.push('event');
      return mirrorEvent(ev);
    };
    // Act
    const report = await new StatusSync(w.deps).tick(tickOf(pods));
    // Assess
    assert.equal(report.patched, 12);
    assert.ok(maxInFlight > 1, 'status patches overlap');
    assert.equal(log.filter((x) => x === 'event').length, 12, 'each ECI event told once');
    assert.ok(log.lastIndexOf('status') < log.indexOf('event'), `order was ${log.join(',')}`);
    for (const { pod } of pods) assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase, 'Running');
  });

  it('still tells the ECI events of a pod that just became terminal, once', async () => {
    const w = world();
    const pods = await createPods(w, 1);
    const [{ pod, groupId }] = pods as [{ pod: ReturnType<typeof makePod>; groupId: string }];
    w.eci.set(groupId, {
      Status: 'Succeeded',
      Events: [{ Type: 'Normal', Reason: 'Completed', Message: 'exit 0', LastTimestamp: '2026-01-01T00:00:05Z' }],
    });
    const s = new StatusSync(w.deps);
    await s.tick(tickOf(pods));
    await s.tick(tickOf(pods));
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase, 'Succeeded');
    assert.equal(w.cluster.events.filter((e) => e.reason === 'Completed').length, 1);
  });
});

describe('status tick version 2: only changed pods are read', () => {
  /** the tick the watcher would send now: each pod with its phase and status digest */
  function watcherTick(w: ReturnType<typeof world>, pods: { pod: ReturnType<typeof makePod>; groupId: string }[]): StatusTick {
    return {
      v: 2,
      kind: 'status-tick',
      at: '2026-01-01T00:00:02Z',
      pods: pods.map(({ pod, groupId }) => {
        const cur = w.cluster.get('default', pod.metadata.name ?? '');
        return {
          namespace: 'default',
          name: pod.metadata.name ?? '',
          uid: pod.metadata.uid ?? '',
          groupId,
          ...(cur?.status?.phase ? { phase: cur.status.phase } : {}),
          digest: podStatusDigest(cur?.status),
          ...(cur?.metadata.deletionTimestamp ? { deleting: true as const } : {}),
        };
      }),
    };
  }

  it('the create status is already what a new (Scheduling) group maps to: the first tick writes nothing until ECI assigns the address', async () => {
    // Prepare: 3 pods just created (one status write each), their groups Scheduling, time moving on
    const w = statusWorld();
    const pods = await createPods(w, 3);
    for (const { groupId } of pods) w.eci.set(groupId, { Status: 'Scheduling' });
    const writes = w.cluster.calls.patchStatus;
    assert.equal(writes, 3, 'one status write per create');
    const created = w.cluster.get('default', pods[0]?.pod.metadata.name ?? '')?.status;
    assert.equal(created?.reason, 'ContainerGroupCreating');
    assert.deepEqual(created?.containerStatuses?.map((c) => c.state?.waiting?.reason), ['ContainerCreating']);
    w.clock.t += 3000;
    const s = new StatusSync(w.deps);
    // Act + Assess: the watcher's tick (digests) finds the pods as their groups map them: not even read
    const gets = w.cluster.calls.getPod;
    const seen = await new StatusSync(w.deps).tick(watcherTick(w, pods));
    assert.equal(seen.skipped, 3);
    assert.equal(w.cluster.calls.getPod, gets, 'the create status already has the digest of a Scheduling group');
    // and a tick that reads them (version 1) finds nothing a user would see differ
    assert.equal((await s.tick(tickOf(pods))).patched, 0);
    assert.equal(w.cluster.calls.patchStatus, writes);
    // ECI's Pending assigns the address: now there is something to write, once per pod
    for (const { groupId } of pods) w.eci.set(groupId, { Status: 'Pending', IntranetIp: '10.0.0.7' });
    w.clock.t += 1000;
    assert.equal((await s.tick(tickOf(pods))).patched, 3);
    assert.equal(w.cluster.get('default', pods[0]?.pod.metadata.name ?? '')?.status?.podIP, '10.0.0.7');
  });

  it('reads and patches the 2 pods of 20 whose groups started, with one batched describe', async () => {
    // Prepare: 20 pods converged onto their Pending groups
    const w = statusWorld();
    const pods = await createPods(w, 20);
    const s = new StatusSync(w.deps);
    await s.tick(tickOf(pods));
    for (const { groupId } of pods.slice(0, 2)) {
      w.eci.set(groupId, {
        Status: 'Running',
        IntranetIp: '10.0.0.9',
        Containers: [{ Name: 'app', Image: 'nginx', Ready: true, RestartCount: 0, CurrentState: { State: 'Running', StartTime: '2026-01-01T00:00:01Z' } }],
      });
    }
    const gets = w.cluster.calls.getPod;
    const describes = w.eci.calls.describe;
    // Act
    const report = await s.tick(watcherTick(w, pods));
    // Assess
    assert.equal(w.cluster.calls.getPod - gets, 2, 'only the changed pods are read');
    assert.equal(w.eci.calls.describe - describes, 1);
    assert.equal(report.patched, 2);
    assert.equal(report.skipped, 18);
    for (const { pod } of pods.slice(0, 2)) assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase, 'Running');
    // once applied, the next tick reads nothing
    const again = await s.tick(watcherTick(w, pods));
    assert.equal(again.skipped, 20);
    assert.equal(w.cluster.calls.getPod - gets, 2);
  });

  it('a tick sent before the watcher saw this instance converge a pod does not read it again, until APPLIED_SKIP_SECONDS', async () => {
    const w = statusWorld();
    const pods = await createPods(w, 3);
    const s = new StatusSync(w.deps);
    await s.tick(tickOf(pods));
    for (const { groupId } of pods) {
      w.eci.set(groupId, {
        Status: 'Running',
        IntranetIp: '10.0.0.9',
        Containers: [{ Name: 'app', Image: 'nginx', Ready: true, RestartCount: 0, CurrentState: { State: 'Running', StartTime: '2026-01-01T00:00:01Z' } }],
      });
    }
    const lagging = watcherTick(w, pods); // the digests before the write
    const gets = w.cluster.calls.getPod;
    assert.equal((await s.tick(lagging)).patched, 3);
    assert.equal(w.cluster.calls.getPod - gets, 3);
    // the watcher's next ticks still carry the old digests
    w.clock.t += 1000;
    const again = await s.tick(lagging);
    assert.equal(w.cluster.calls.getPod - gets, 3, 'converged by this instance a second ago: not read');
    assert.equal(again.skipped, 3);
    // another instance has no such memory; and this one's ends
    assert.equal((await new StatusSync(w.deps).tick(lagging)).skipped, 0);
    w.clock.t += APPLIED_SKIP_SECONDS * 1000;
    await s.tick(lagging);
    assert.equal(w.cluster.calls.getPod - gets, 9);
  });

  it('does not read a pod the watcher sees without a group id (its create is in flight)', async () => {
    const w = statusWorld();
    const pods = await createPods(w, 2);
    for (const { groupId } of pods) w.eci.set(groupId, { Status: 'Pending', IntranetIp: '10.0.0.8' });
    const s = new StatusSync(w.deps);
    const fresh = w.cluster.put(makePod());
    const tick = watcherTick(w, pods);
    tick.pods.push({ namespace: 'default', name: fresh.metadata.name ?? '', uid: fresh.metadata.uid ?? '', phase: 'Pending', digest: podStatusDigest(undefined) });
    const gets = w.cluster.calls.getPod;
    const report = await s.tick(tick);
    assert.equal(w.cluster.calls.getPod - gets, 2, 'the two pods whose groups have an address now are read, the new one is not');
    assert.equal(report.skipped, 1);
  });

  it('reads a pod whose group is gone; deletes a terminating one whose group is gone without a read, once', async () => {
    const w = statusWorld();
    const pods = await createPods(w, 3);
    const s = new StatusSync(w.deps);
    await s.tick(tickOf(pods));
    const [a, b] = pods as [(typeof pods)[number], (typeof pods)[number]];
    const stored = w.cluster.get('default', a.pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    w.eci.groups.delete(a.groupId);
    w.eci.groups.delete(b.groupId);
    const gets = w.cluster.calls.getPod;
    const tick = watcherTick(w, pods);
    const report = await s.tick(tick);
    assert.equal(w.cluster.calls.getPod - gets, 1, 'only the pod whose group is gone and that is not terminating is read');
    assert.equal(report.deleted, 1, 'the terminating pod whose group is gone is deleted');
    assert.deepEqual(w.cluster.deletes, [{ key: `default/${a.pod.metadata.name}`, uid: a.pod.metadata.uid, grace: 0 }]);
    assert.equal(w.cluster.get('default', a.pod.metadata.name ?? ''), undefined);
    assert.equal(report.skipped, 1);
    // the next ticks name it until the watcher sees it go: no second delete, no read
    const deletes = w.cluster.calls.deletePod;
    await s.tick(tick);
    assert.equal(w.cluster.calls.deletePod, deletes);
    assert.equal(w.cluster.calls.getPod - gets, 2);
  });

  it('reads a terminating pod whose group still terminates once per TERMINATING_READ_SECONDS; deletes it when the group is gone', async () => {
    const w = statusWorld();
    w.eci.graceful = true;
    const pods = await createPods(w, 1);
    const [a] = pods as [(typeof pods)[number]];
    const stored = w.cluster.get('default', a.pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = new Date(w.clock.now() + 30_000).toISOString();
    stored.metadata.deletionGracePeriodSeconds = 30;
    const sync = new PodSync(w.deps);
    assert.equal((await sync.handle(nudgeOf(a.pod, 'deleting'))).outcome, 'deleting-wait');
    assert.equal(w.eci.groups.get(a.groupId)?.Status, 'Terminating');
    const s = new StatusSync(w.deps);
    const tick = watcherTick(w, pods);
    assert.equal(tick.pods[0]?.deleting, true);
    const gets = w.cluster.calls.getPod;
    await s.tick(tick);
    assert.equal(w.cluster.calls.getPod - gets, 1, 'the first tick reads it');
    for (let i = 0; i < TERMINATING_READ_SECONDS - 1; i++) {
      w.clock.t += 1000;
      await s.tick(tick);
    }
    assert.equal(w.cluster.calls.getPod - gets, 1, 'the ticks of the next seconds leave it alone while the group terminates');
    w.clock.t += 1000;
    await s.tick(tick);
    assert.equal(w.cluster.calls.getPod - gets, 2, 'read again after TERMINATING_READ_SECONDS');
    w.clock.t += 1000;
    w.eci.groups.delete(a.groupId);
    const report = await s.tick(tick);
    assert.equal(w.cluster.calls.getPod - gets, 2, 'the group is gone: no read');
    assert.equal(report.deleted, 1, 'the pod deleted at once');
    assert.equal(w.cluster.get('default', a.pod.metadata.name ?? ''), undefined);
  });
});

describe('status tick version 3: a terminating pod with nothing to do yet is not read', () => {
  it('its group terminating: no read until TERMINATING_DEADLINE_SECONDS after the deletionTimestamp, then read and deleted', async () => {
    const w = world();
    w.eci.graceful = true;
    const pods = await createPods(w, 1);
    const [a] = pods as [(typeof pods)[number]];
    const stored = w.cluster.get('default', a.pod.metadata.name ?? '');
    assert.ok(stored);
    const deletionTimestamp = new Date(w.clock.now() + 30_000).toISOString();
    stored.metadata.deletionTimestamp = deletionTimestamp;
    stored.metadata.deletionGracePeriodSeconds = 30;
    assert.equal((await new PodSync(w.deps).handle(nudgeOf(a.pod, 'deleting'))).outcome, 'deleting-wait');
    const entry = { namespace: 'default', name: a.pod.metadata.name ?? '', uid: a.pod.metadata.uid ?? '', groupId: a.groupId, deleting: true as const };
    const tick: StatusTick = { v: 3, kind: 'status-tick', at: 'x', pods: [{ ...entry, deletionTimestamp, deletionGracePeriodSeconds: 30 }] };
    const s = new StatusSync(w.deps);
    const gets = w.cluster.calls.getPod;
    for (let i = 0; i < 30 + TERMINATING_DEADLINE_SECONDS; i += 5) {
      assert.equal((await s.tick(tick)).skipped, 1);
      w.clock.t += 5000;
    }
    assert.equal(w.cluster.calls.getPod, gets, 'nothing to do while the group terminates: no read');
    w.clock.t += 1000;
    const late = await s.tick(tick);
    assert.equal(w.cluster.calls.getPod - gets, 1, 'past the deadline: read');
    assert.equal(late.deleted, 1);
  });

  it('its group still running within POLLED_DELETE_AFTER_SECONDS of the deletion (the deleting nudge has it): no read; after it, read', async () => {
    const w = world();
    const pods = await createPods(w, 1);
    const [a] = pods as [(typeof pods)[number]];
    w.eci.set(a.groupId, { Status: 'Running' });
    const deletionTimestamp = new Date(w.clock.now() + 30_000).toISOString();
    const entry = { namespace: 'default', name: a.pod.metadata.name ?? '', uid: a.pod.metadata.uid ?? '', groupId: a.groupId, deleting: true as const };
    const v3: StatusTick = { v: 3, kind: 'status-tick', at: 'x', pods: [{ ...entry, deletionTimestamp, deletionGracePeriodSeconds: 30 }] };
    const gets = w.cluster.calls.getPod;
    assert.equal((await new StatusSync(w.deps).tick(v3)).skipped, 1);
    assert.equal(w.cluster.calls.getPod, gets);
    await new StatusSync(w.deps).tick({ v: 2, kind: 'status-tick', at: 'x', pods: [entry] });
    assert.equal(w.cluster.calls.getPod - gets, 1, 'a version 2 tick does not say when: read');
    w.clock.t += (POLLED_DELETE_AFTER_SECONDS + 1) * 1000;
    await new StatusSync(w.deps).tick(v3);
    assert.equal(w.cluster.calls.getPod - gets, 2);
  });
});

describe('steady tick: one DescribeContainerGroupStatus for the node', () => {
  it('notices a finished Job among steady pods with one status call and one describe, and costs one call when nothing changed', async () => {
    // Prepare: 30 pods Running, their status applied; then 40 s pass
    const w = world();
    const pods = await createPods(w, 30);
    for (const { groupId } of pods) w.eci.set(groupId, { Status: 'Running' });
    const s = new StatusSync(w.deps);
    await s.tick(tickOf(pods));
    w.clock.t += 40_000;
    const [job] = pods as [(typeof pods)[number]];
    w.eci.set(job.groupId, { Status: 'Succeeded' });
    const steady: StatusTick = { v: 2, kind: 'status-tick', at: '2026-01-01T00:00:41Z', since: 15, pods: [] };
    const before = { ...w.eci.calls, gets: w.cluster.calls.getPod };
    // Act
    const report = await s.tick(steady);
    // Assess
    assert.equal(w.cluster.get('default', job.pod.metadata.name ?? '')?.status?.phase, 'Succeeded');
    assert.equal(report.patched, 1);
    assert.equal(w.eci.calls.changedSince - before.changedSince, 1);
    assert.equal(w.eci.calls.describe - before.describe, 1);
    assert.equal(w.cluster.calls.getPod - before.gets, 1, 'only the finished pod is read');
    // nothing changed since: one call, nothing read
    w.clock.t += 40_000;
    const quiet = await s.tick(steady);
    assert.equal(w.eci.calls.changedSince - before.changedSince, 2);
    assert.equal(w.eci.calls.describe - before.describe, 1);
    assert.equal(quiet.pods, 0);
  });
});

describe('ECI instrumentation (heartbeat tally)', () => {
  it('passes the optional changedSince through, counted like every other call', async () => {
    const w = world();
    const { eci, take } = instrumentEci(w.deps.eci);
    assert.ok(eci.changedSince, 'steady ticks need it behind the wrapper too');
    await eci.changedSince({ tags: [], sinceSeconds: 10 });
    assert.equal(take().calls, 1);
    const without: typeof w.deps.eci = Object.assign(Object.create(w.eci), { changedSince: undefined });
    assert.equal(instrumentEci(without).eci.changedSince, undefined, 'an adapter without it gets none');
  });
});

describe('merged ticks', () => {
  it('keep every named pod once, the newest version and the widest steady window', () => {
    const a: StatusTick = { v: 2, kind: 'status-tick', at: 't1', pods: [{ namespace: 'n', name: 'a', uid: 'ua' }] };
    const steady: StatusTick = { v: 2, kind: 'status-tick', at: 't2', since: 15, pods: [] };
    const b: StatusTick = { v: 1, kind: 'status-tick', at: 't3', pods: [{ namespace: 'n', name: 'a', uid: 'ua' }, { namespace: 'n', name: 'b', uid: 'ub' }] };
    const merged = mergeTicks([a, steady, b]);
    assert.equal(merged.v, 2);
    assert.equal(merged.since, 15);
    assert.equal(merged.at, 't3');
    assert.deepEqual(merged.pods.map((p) => p.uid).sort(), ['ua', 'ub']);
    assert.equal(mergeTicks([a, b]).since, undefined);
  });
});

describe('deleting: one DeleteContainerGroup per group', () => {
  /** One pod whose group runs, its deletion asked `agoMs` ago with `graceSeconds` (the stored pod, to edit). */
  async function runningPodBeingDeleted(graceSeconds: number, agoMs = 0) {
    const w = world();
    w.eci.graceful = true;
    const pods = await createPods(w, 1);
    const [{ pod, groupId }] = pods as [(typeof pods)[number]];
    w.eci.set(groupId, { Status: 'Running' });
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = new Date(w.clock.now() - agoMs + graceSeconds * 1000).toISOString();
    stored.metadata.deletionGracePeriodSeconds = graceSeconds;
    return { w, pods, pod, groupId, stored };
  }

  it('a tick leaves a running group of a just-deleted pod to its deleting nudge, and deletes it only once that nudge had its time', async () => {
    // deletion asked now with a 30 s grace: deletionTimestamp = now + 30 s
    const { w, pods, groupId } = await runningPodBeingDeleted(30);
    const s = new StatusSync(w.deps);
    await s.tick(tickOf(pods));
    assert.equal(w.eci.calls.delete, 0, 'the deleting nudge deletes the group');
    w.clock.t += (POLLED_DELETE_AFTER_SECONDS + 1) * 1000;
    await s.tick(tickOf(pods));
    assert.equal(w.eci.calls.delete, 1, 'the nudge was lost: the tick deletes it');
    assert.equal(w.eci.groups.get(groupId)?.Status, 'Terminating');
  });

  it('a tick and the deleting nudge that both saw the group running send one DeleteContainerGroup between them', async () => {
    // the deletion was asked long enough ago that a tick may delete too (its nudge is late: a backlog)
    const { w, pod, groupId, stored } = await runningPodBeingDeleted(0, (POLLED_DELETE_AFTER_SECONDS + 1) * 1000);
    const seenByTick = structuredClone(stored);
    const seenByNudge = structuredClone(stored);
    const running = structuredClone(w.eci.groups.get(groupId));
    assert.ok(running);
    const tickSide = new PodSync(w.deps);
    const nudgeSide = new PodSync(w.deps);
    // both read the same pod version and see the group Running (two instances, one tick and one nudge)
    const [a, b] = await Promise.all([tickSide.convergePod(seenByTick, running), nudgeSide.convergePod(seenByNudge, undefined)]);
    assert.equal(w.eci.calls.delete, 1, 'exactly one DeleteContainerGroup');
    assert.deepEqual([a.outcome, b.outcome], ['deleting-wait', 'deleting-wait']);
    // later passes (ticks every second) see the claim and the group terminating: still one
    await tickSide.convergePod(structuredClone(w.cluster.get('default', pod.metadata.name ?? '') ?? stored), running);
    assert.equal(w.eci.calls.delete, 1);
  });

  it('a delete claim whose group still runs a minute later (the claimer crashed before its delete) is taken over', async () => {
    const { w, pod, groupId, stored } = await runningPodBeingDeleted(300);
    stored.metadata.annotations = { ...stored.metadata.annotations, [ANNOTATION_GROUP_DELETE]: `${groupId} ${new Date(w.clock.now()).toISOString()}` };
    const sync = new PodSync(w.deps);
    assert.equal((await sync.handle(nudgeOf(pod, 'deleting'))).outcome, 'deleting-wait');
    assert.equal(w.eci.calls.delete, 0, 'a fresh claim: its owner sends the delete');
    w.clock.t += (DELETE_CLAIM_SECONDS + 1) * 1000;
    assert.equal((await sync.handle(nudgeOf(pod, 'deleting'))).outcome, 'deleting-wait');
    assert.equal(w.eci.calls.delete, 1, 'a stale claim is taken over');
    assert.equal(w.eci.groups.get(groupId)?.Status, 'Terminating');
  });
});
