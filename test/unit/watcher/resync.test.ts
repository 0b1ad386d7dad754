import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseConfig } from '../../../shared/domain/config.js';
import { decodeMessage, type PodNudge } from '../../../shared/domain/messages.js';
import { GROUP_ANNOTATION, type PodRecord } from '../../../watcher/podState.js';
import { NudgeMemory, planResync } from '../../../watcher/resync.js';
import { Watcher } from '../../../watcher/watcher.js';
import { newClock, newFakeCluster, newFakeQueue, newLogger, until } from './fakes.js';

const P = 15_000;
const stuck: PodRecord = { namespace: 'ns', name: 'a', uid: 'u', specHash: 's', annotationsHash: 'a', phase: 'Pending', ready: false };

describe('resync: skips pods nudged within its period', () => {
  it('a pod nudged less than a period ago is skipped; a period later it is nudged again; force skips nothing', () => {
    const mem = new NudgeMemory();
    const t = Date.parse('2026-01-01T00:00:00Z');
    mem.nudged('u', t);
    const other = { ...stuck, uid: 'v', name: 'b' };
    const early = planResync([stuck, other], t + P - 1, P, mem);
    assert.deepEqual(
      early.due.map((r) => r.uid),
      ['v'],
    );
    assert.equal(early.skipped, 1);
    assert.deepEqual(
      planResync([stuck], t + P, P, mem).due.map((r) => r.uid),
      ['u'],
    );
    assert.deepEqual(
      planResync([stuck], t + 1, P, mem, P, true).due.map((r) => r.uid),
      ['u'],
    );
    mem.forget('u');
    assert.equal(planResync([stuck], t + 1, P, mem).due.length, 1);
  });

  it('a steady pod is never resynced, nudged or not', () => {
    const steady: PodRecord = { ...stuck, phase: 'Running', ready: true, groupId: 'eci-1' };
    assert.deepEqual(planResync([steady], 0, P, new NudgeMemory()), { due: [], skipped: 0 });
  });

  /**
   * The resync runs every period (with some timer jitter). A due pod's last nudge — an event's, at any moment —
   * is lost. Bound: the resync nudges it again within 2 periods of that nudge (plus the jitter), and while it
   * stays due it is nudged at most once per period and at least once per 2 periods (plus the jitter).
   */
  it('a due pod whose nudge was lost is nudged again within 2 resync periods, and never more than once per period', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * P }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 12, maxLength: 12 }),
        (lostAt, jitters) => {
          const mem = new NudgeMemory();
          mem.nudged('u', lostAt);
          const sent: number[] = [];
          for (const [k, j] of jitters.entries()) {
            const now = (k + 1) * P + j;
            const { due } = planResync([stuck], now, P, mem);
            for (const r of due) {
              mem.nudged(r.uid, now);
              sent.push(now);
            }
          }
          const resyncs = sent.filter((s) => s > lostAt);
          assert.ok(resyncs.length > 0);
          assert.ok((resyncs[0] ?? 0) - lostAt <= 2 * P + 300, `first repair ${(resyncs[0] ?? 0) - lostAt} ms after the lost nudge`);
          const all = [lostAt, ...resyncs];
          for (let i = 1; i < all.length; i++) {
            const gap = (all[i] ?? 0) - (all[i - 1] ?? 0);
            assert.ok(gap >= P, `nudged twice within a period (${gap} ms)`);
            assert.ok(gap <= 2 * P + 300, `left ${gap} ms without a nudge`);
          }
        },
      ),
    );
  });
});

describe('Watcher resync with in-memory ports', () => {
  const running: Watcher[] = [];
  after(async () => {
    for (const w of running) await w.kill();
  });

  function startWatcher(env: Record<string, string>) {
    const cluster = newFakeCluster();
    const q = newFakeQueue();
    const clock = newClock();
    const w = new Watcher({
      cluster: cluster.cluster,
      queue: q.queue,
      clock: clock.clock,
      log: newLogger(),
      http: false,
      config: parseConfig({
        VNODE_NAME: 'vn-test',
        BRIDGE_NAMESPACE: 'eci-bridge',
        POD_IP: '10.0.0.9',
        NUDGE_COALESCE_MS: '0',
        LEADER_ELECTION: 'false',
        RESYNC_SECONDS: '600',
        ...env,
      }),
    });
    running.push(w);
    const resyncs = () =>
      q.sent.map((m) => decodeMessage(m.body)).filter((m): m is PodNudge => m.kind === 'pod' && m.reason === 'resync');
    return { w, cluster, q, clock, resyncs };
  }

  it('ticks count as nudges only for pods they converge: a terminating pod without a group id is still resynced', async () => {
    const { w, cluster, q, clock, resyncs } = startWatcher({ STATUS_TICK_MS: '20', RESYNC_SECONDS: '60' });
    await w.start();
    await until(() => w.synced);
    cluster.addPod('with-group', 'vn-test', { annotations: { [GROUP_ANNOTATION]: 'eci-1' } });
    cluster.addPod('no-group', 'vn-test', { deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 30 });
    await until(() => q.sent.filter((m) => decodeMessage(m.body).kind === 'pod').length >= 2, 3000, 'first nudges');
    clock.advance(60_000);
    // ticks name both pods at the new time
    const ticked = q.sent.length;
    await until(() => q.sent.slice(ticked).some((m) => decodeMessage(m.body).kind === 'status-tick'), 3000, 'a tick');
    await new Promise((r) => setTimeout(r, 60));
    w.resync('test');
    await until(() => resyncs().length >= 1, 3000, 'resync nudge');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      resyncs().map((n) => n.name),
      ['no-group'],
    );
    await w.stop();
  });

  it('skips a pod it just nudged, nudges it once the period passed, and a forced resync nudges it at once', async () => {
    const { w, cluster, q, clock, resyncs } = startWatcher({ STATUS_TICK_MS: '600000' });
    await w.start();
    await until(() => w.synced);
    cluster.addPod('p', 'vn-test');
    const all = () => q.sent.map((m) => decodeMessage(m.body)).filter((m): m is PodNudge => m.kind === 'pod');
    await until(() => all().some((n) => n.reason === 'bound'), 3000, 'bound nudge');
    // just bound (no group yet): due, but nudged a moment ago
    w.resync('test');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(resyncs().length, 0);
    clock.advance(600_000);
    w.resync('test');
    await until(() => resyncs().length === 1, 3000, 'resync after the period');
    w.resync('test');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(resyncs().length, 1, 'not again within the period');
    w.resync('after dropped nudges', true);
    await until(() => resyncs().length === 2, 3000, 'forced resync');
    await w.stop();
  });
});
