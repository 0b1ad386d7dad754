import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeMessage, MESSAGE_VERSION, type StatusTick } from '../../../shared/domain/messages.js';
import type { PendingNudge } from '../../../watcher/forwarder.js';
import { watcherMetrics } from '../../../watcher/metrics.js';
import { Sender } from '../../../watcher/sender.js';
import { newClock, newFakeQueue, newLogger, until } from './fakes.js';

const nudge = (i: number, firstRv?: bigint): PendingNudge => ({
  nudge: { v: MESSAGE_VERSION, kind: 'pod', namespace: 'ns', name: `p${i}`, uid: `u${i}`, reason: 'bound' },
  firstRv,
  since: Date.now(),
});

describe('Sender', () => {
  const senders: Sender[] = [];
  after(async () => {
    for (const s of senders) await s.stop();
  });
  const make = (over: Partial<ConstructorParameters<typeof Sender>[0]> = {}) => {
    const q = newFakeQueue();
    const log = newLogger();
    const metrics = watcherMetrics();
    const s = new Sender({ queue: q.queue, clock: newClock().clock, log, metrics, maxBuffer: 100, backoffBaseMs: 5, backoffMaxMs: 20, ...over });
    senders.push(s);
    return { s, q, log, metrics };
  };

  it('sends everything in batches of at most 16, in order', async () => {
    const { s, q, metrics } = make();
    const batches: number[] = [];
    const counted = new Sender({
      queue: {
        send: async (m) => {
          batches.push(m.length);
          await q.queue.send(m);
        },
      },
      clock: newClock().clock,
      log: newLogger(),
      metrics,
      maxBuffer: 100,
    });
    senders.push(counted, s);
    for (let i = 0; i < 40; i++) counted.enqueue(nudge(i));
    counted.start();
    await until(() => q.sent.length === 40 && metrics.nudgesSent.get({ reason: 'bound' }) === 40);
    assert.ok(batches.every((b) => b <= 16));
    assert.deepEqual(
      q.sent.map((m) => (decodeMessage(m.body) as { name: string }).name),
      Array.from({ length: 40 }, (_, i) => `p${i}`),
    );
    assert.equal(metrics.nudgesSent.get({ reason: 'bound' }), 40);
  });

  it('keeps nudges while the queue is down, retries, and delivers them once it recovers', async () => {
    const { s, q, metrics, log } = make();
    q.failing = true;
    s.start();
    for (let i = 0; i < 5; i++) s.enqueue(nudge(i, BigInt(10 + i)));
    await until(() => metrics.sendErrors.get() >= 3, 5000, 'retries');
    assert.equal(q.sent.length, 0);
    assert.equal(s.minRv(), 10n);
    assert.ok(s.failing);
    assert.equal(await s.sendNow([]), false);
    assert.ok(log.lines.some((l) => l.level === 'error' && l.msg === 'queue send failed'));
    q.failing = false;
    await until(() => q.sent.length === 5, 5000, 'recovery');
    assert.equal(s.minRv(), undefined);
    assert.equal(s.failing, false);
  });

  it('bounds the buffer by dropping the oldest, counts it, and asks for a resync on recovery', async () => {
    let recovered = 0;
    const { s, q, metrics } = make({ maxBuffer: 10, onRecoveredAfterDrop: () => recovered++ });
    q.failing = true;
    s.start();
    for (let i = 0; i < 25; i++) s.enqueue(nudge(i));
    await until(() => metrics.sendErrors.get() >= 1);
    assert.ok(metrics.nudgesDropped.get() >= 14);
    assert.ok(s.size <= 11);
    q.failing = false;
    await until(() => recovered === 1, 5000, 'recovered callback');
    const names = q.sent.map((m) => (decodeMessage(m.body) as { name: string }).name);
    assert.ok(names.includes('p24'), 'the newest survive');
    assert.ok(!names.includes('p0'), 'the oldest were dropped');
  });

  it('runs the write-ahead hook with the highest rv of each batch before sending', async () => {
    const seen: (bigint | undefined)[] = [];
    const { s, q } = make({
      beforeSend: async (rv) => {
        seen.push(rv);
      },
    });
    s.enqueue(nudge(1, 5n));
    s.enqueue(nudge(2, 9n));
    s.enqueue(nudge(3));
    s.start();
    await until(() => q.sent.length === 3);
    assert.equal(seen[0], 9n);
  });

  it('sends status ticks unbuffered', async () => {
    const { s, q, metrics } = make();
    const tick: StatusTick = { v: MESSAGE_VERSION, kind: 'status-tick', at: 'now', pods: [{ namespace: 'ns', name: 'p', uid: 'u' }] };
    assert.equal(await s.sendNow([tick]), true);
    assert.equal(q.sent.length, 1);
    assert.equal(q.sent[0]?.priority, 1, 'a tick jumps the queue of nudges (MNS priority 1)');
    q.failing = true;
    assert.equal(await s.sendNow([tick]), false);
    assert.equal(metrics.sendErrors.get(), 1);
  });
});
