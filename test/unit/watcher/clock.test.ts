import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../shared/domain/k8s.js';
import { decodeMessage, encodeMessage, MAX_MESSAGE_BYTES, MAX_PODS_PER_TICK, type StatusTick } from '../../../shared/domain/messages.js';
import { podStatusDigest } from '../../../shared/domain/statusDigest.js';
import type { PodRecord } from '../../../watcher/podState.js';
import { isChanging, toRecord } from '../../../watcher/podState.js';
import { dueForResync, resyncWhy } from '../../../watcher/resync.js';
import { buildTicks, changingPods, STEADY_MARGIN_SECONDS, steadyPeriodSeconds, steadyTick } from '../../../watcher/statusClock.js';

const steady: PodRecord = { namespace: 'ns', name: 'a', uid: 'u', specHash: 's', annotationsHash: 'a', phase: 'Running', ready: true, groupId: 'eci-1' };

describe('status clock', () => {
  const cases: [string, Partial<PodRecord>, boolean][] = [
    ['steady', {}, false],
    ['no group yet', { groupId: undefined }, true],
    ['Pending', { phase: 'Pending' }, true],
    ['not Ready', { ready: false }, true],
    ['terminating', { deletion: 'x' }, true],
    ['Succeeded', { phase: 'Succeeded', ready: false }, false],
    ['Failed without group', { phase: 'Failed', groupId: undefined }, false],
  ];
  for (const [name, over, want] of cases) it(`changing: ${name}`, () => assert.equal(isChanging({ ...steady, ...over }), want));

  it('names only changing pods, drops those changing for too long, and splits into bounded ticks', () => {
    const now = 1_000_000;
    const recs: PodRecord[] = [];
    for (let i = 0; i < 250; i++) recs.push({ ...steady, uid: `u${i}`, name: `p${i}`, phase: 'Pending', changingSince: now - 1000, resourceVersion: '41' });
    recs.push({ ...steady, uid: 'old', phase: 'Pending', changingSince: now - 700_000 });
    recs.push({ ...steady, uid: 'ok' });
    const pods = changingPods(recs, now, 600_000);
    assert.equal(pods.length, 250);
    const ticks = buildTicks(pods, new Date(now).toISOString());
    assert.deepEqual(
      ticks.map((t) => t.pods.length),
      [MAX_PODS_PER_TICK, MAX_PODS_PER_TICK, 50],
    );
    for (const t of ticks) assert.deepEqual(decodeMessage(encodeMessage(t)), t);
    assert.equal(ticks[0]?.pods[0]?.groupId, 'eci-1');
    assert.equal(ticks[0]?.v, 4);
    assert.equal(ticks[0]?.pods[0]?.rv, '41');
    assert.equal(ticks[0]?.pods[0]?.phase, 'Pending');
  });

  it('splits ticks of long-named pods by bytes, so each fits in one MNS message', () => {
    const now = 1_000_000;
    const long = (c: string, n: number) => c.repeat(n);
    const recs: PodRecord[] = [];
    for (let i = 0; i < 100; i++) {
      recs.push({
        ...steady,
        namespace: long('n', 63),
        name: `${long('p', 249)}${String(i).padStart(4, '0')}`,
        uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
        groupId: `eci-${long('g', 60)}`,
        phase: 'Pending',
        digest: '0123456789abcdef',
        deletion: '2026-01-01T00:00:00.000Z/30',
        resourceVersion: '12345678901234567890',
        changingSince: now,
      });
    }
    const ticks = buildTicks(recs, new Date(now).toISOString());
    assert.ok(ticks.length >= 2, `${ticks.length} tick(s)`);
    assert.equal(ticks.flatMap((t) => t.pods).length, 100);
    for (const t of ticks) assert.ok(encodeMessage(t).length <= MAX_MESSAGE_BYTES);
  });

  it('a deletion restarts the change clock, so a pod left out of the ticks for too long is ticked while it terminates', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const pod: Pod = {
      metadata: { name: 'a', namespace: 'ns', uid: 'u', annotations: { 'k8s.aliyun.com/eci-instance-id': 'eci-1' } },
      spec: { containers: [{ name: 'c', image: 'i' }] },
      status: { phase: 'Pending' },
    };
    const stuck = toRecord(pod, t0);
    const later = t0 + 700_000;
    assert.equal(changingPods([toRecord(pod, later, stuck)], later, 600_000).length, 0, 'stuck Pending: out of the ticks');
    const deleting = toRecord({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:11:40Z' } }, later, stuck);
    assert.equal(deleting.changingSince, later);
    assert.deepEqual(
      changingPods([deleting], later + 1000, 600_000).map((r) => r.uid),
      ['u'],
    );
  });

  it('each named pod goes with its status digest, and a terminating one says so', () => {
    const pod: Pod = {
      metadata: { name: 'a', namespace: 'ns', uid: 'u', annotations: { 'k8s.aliyun.com/eci-instance-id': 'eci-1' } },
      spec: { containers: [{ name: 'c', image: 'i' }] },
      status: { phase: 'Pending', podIP: '10.0.0.1' },
    };
    const rec = toRecord(pod, 0);
    const gone = toRecord({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } }, 0);
    const [tick] = buildTicks([rec, gone], 'now');
    assert.equal(tick?.pods[0]?.digest, podStatusDigest(pod.status));
    assert.equal(tick?.pods[0]?.deleting, undefined);
    assert.equal(tick?.pods[0]?.deletionTimestamp, undefined);
    assert.equal(tick?.pods[1]?.deleting, true);
    assert.equal(tick?.pods[1]?.deletionTimestamp, '2026-01-01T00:00:00Z', 'version 3: when, so pod-sync need not read it');
    assert.equal(tick?.pods[1]?.deletionGracePeriodSeconds, 30);
    assert.deepEqual(decodeMessage(encodeMessage(tick as StatusTick)), tick);
  });

  it('a steady tick is sent when some pod is steady, asking for the last period plus a margin', () => {
    assert.equal(steadyTick([{ ...steady, phase: 'Pending' }, { ...steady, phase: 'Succeeded', ready: false }], 'now', 10), undefined);
    const tick = steadyTick([{ ...steady, phase: 'Pending', uid: 'p' }, steady], 'now', 10);
    assert.deepEqual(tick, { v: 4, kind: 'status-tick', at: 'now', since: 10 + STEADY_MARGIN_SECONDS, pods: [] });
    assert.deepEqual(decodeMessage(encodeMessage(tick as StatusTick)), tick);
  });

  it('the steady period: 1 s while a steady pod can finish (a Job pod), 10 s otherwise, none when nothing is steady', () => {
    const job = { ...steady, uid: 'j', canFinish: true };
    assert.equal(steadyPeriodSeconds([steady], 10, 1), 10);
    assert.equal(steadyPeriodSeconds([steady, job], 10, 1), 1);
    assert.equal(steadyPeriodSeconds([steady, { ...job, phase: 'Succeeded' }], 10, 1), 10, 'a finished Job pod is not watched');
    assert.equal(steadyPeriodSeconds([{ ...job, phase: 'Pending' }], 10, 1), undefined, 'a starting pod goes by the 1 s changing ticks');
    assert.equal(steadyPeriodSeconds([], 10, 1), undefined, 'idle: no call at all');
    assert.equal(steadyPeriodSeconds([job], 10, 0), 10, 'STATUS_FINISHING_SECONDS=0 keeps the steady period');
    assert.equal(steadyPeriodSeconds([job], 0, 1), 1);
    const restartNever: Pod = {
      metadata: { name: 'j', namespace: 'ns', uid: 'u' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] },
    };
    assert.equal(toRecord(restartNever, 0).canFinish, true);
    assert.equal(toRecord({ ...restartNever, spec: { ...restartNever.spec, restartPolicy: 'Always' } }, 0).canFinish, undefined);
  });

  it('sends nothing when every pod is steady', () => {
    assert.deepEqual(buildTicks(changingPods([steady, { ...steady, uid: 'x' }], 0, 1000), 'now'), []);
  });
});

describe('resync', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const cases: [string, Partial<PodRecord>, boolean][] = [
    ['steady and recently synced', { syncedAt: now - 1000 }, false],
    ['steady, never reported a sync time', {}, false],
    ['no group', { groupId: undefined }, true],
    ['terminating', { deletion: 'x' }, true],
    ['stale status', { syncedAt: now - 600_000 }, true],
    ['not Ready', { ready: false }, true],
    ['terminal without group', { phase: 'Failed', groupId: undefined }, false],
  ];
  for (const [name, over, want] of cases) {
    it(name, () => assert.equal(resyncWhy({ ...steady, ...over }, now, 300_000) !== undefined, want));
  }
  it('selects the due pods', () => {
    assert.deepEqual(
      dueForResync([steady, { ...steady, uid: 'n', groupId: undefined }], now, 300_000).map((r) => r.uid),
      ['n'],
    );
  });
});
