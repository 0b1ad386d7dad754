import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../shared/sim/rng.js';
import { corrupt, FaultyQueueSender } from '../../../scripts/chaos/transport.js';
import { EmbeddedQueue } from '../../../shared/adapters/queue/index.js';
import { decodeMessage, encodeMessage } from '../../../shared/domain/messages.js';
import type { OutgoingMessage } from '../../../shared/ports/index.js';

function nudges(n: number): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    body: encodeMessage({ v: 1, kind: 'pod', namespace: 'ns', name: `p${i}`, uid: `uid-${i}`, reason: 'bound' }),
  }));
}

/** Every message now in the queue, delayed ones included, by pod name (a receive would wait for the delays). */
function stored(q: EmbeddedQueue): { name: string; delayed: boolean; valid: boolean }[] {
  return q.messages().map((m) => {
    try {
      const msg = decodeMessage(m.body);
      return { name: msg.kind === 'pod' ? msg.name : 'tick', delayed: m.nextVisibleTime > Date.now(), valid: true };
    } catch {
      return { name: '?', delayed: false, valid: false };
    }
  });
}

describe('FaultyQueueSender (chaos transport faults)', () => {
  it('passes every message through unchanged, in order, when no fault is set', async () => {
    const q = new EmbeddedQueue();
    const s = new FaultyQueueSender(q, seededRandom(1));
    const sent = nudges(20);
    await s.send(sent);
    const got = await q.receive(16, 0);
    assert.deepEqual(
      got.map((m) => m.body),
      sent.slice(0, 16).map((m) => m.body),
    );
    assert.deepEqual(s.counts(), { messages: 20, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0 });
    q.close();
  });

  it('drops, duplicates, delays and corrupts at the configured rates, and counts exactly what it did', async () => {
    const q = new EmbeddedQueue();
    const s = new FaultyQueueSender(q, seededRandom(42), { dropRate: 0.05, duplicateRate: 0.2, reorderRate: 0.1, corruptRate: 0.02 });
    await s.send(nudges(1000));
    const c = s.counts();
    const all = stored(q);
    // what reached the queue is exactly what the counts say
    assert.equal(all.length, 1000 - c.dropped + c.duplicated);
    assert.equal(all.filter((m) => !m.valid).length, c.corrupted);
    // the rates hold roughly (seeded: the same numbers every run)
    assert.ok(c.dropped > 20 && c.dropped < 80, `dropped ${c.dropped}`);
    assert.ok(c.duplicated > 140 && c.duplicated < 260, `duplicated ${c.duplicated}`);
    assert.ok(c.reordered > 60 && c.reordered < 140, `reordered ${c.reordered}`);
    assert.ok(c.corrupted > 5 && c.corrupted < 40, `corrupted ${c.corrupted}`);
    // a reordered message is held back, so later ones overtake it
    assert.ok(all.filter((m) => m.delayed).length >= c.reordered);
    // every pod not dropped or corrupted arrives at least once
    const names = new Set(all.filter((m) => m.valid).map((m) => m.name));
    assert.ok(names.size >= 1000 - c.dropped - c.corrupted);
    q.close();
  });

  it('is reproducible from the seed', async () => {
    const run = async (seed: number) => {
      const q = new EmbeddedQueue();
      const s = new FaultyQueueSender(q, seededRandom(seed), { dropRate: 0.1, duplicateRate: 0.3, reorderRate: 0.2, corruptRate: 0.05 });
      await s.send(nudges(200));
      q.close();
      return { counts: s.counts(), bodies: q.messages().map((m) => m.body) };
    };
    assert.deepEqual(await run(5), await run(5));
    assert.notDeepEqual((await run(5)).counts, (await run(6)).counts);
  });

  it('can lift the faults mid-run', async () => {
    const q = new EmbeddedQueue();
    const s = new FaultyQueueSender(q, seededRandom(3), { dropRate: 1 });
    await s.send(nudges(5));
    s.setFaults({ dropRate: 0 });
    await s.send(nudges(5));
    assert.equal(q.messages().length, 5);
    assert.equal(s.counts().dropped, 5);
    q.close();
  });

  it('with atLeastOnce, applies each enabled fault to one of the first messages even at a tiny rate', async () => {
    const q = new EmbeddedQueue();
    const s = new FaultyQueueSender(q, seededRandom(9), { dropRate: 1e-9, corruptRate: 1e-9, reorderRate: 1e-9, duplicateRate: 1e-9, atLeastOnce: true });
    await s.send(nudges(4));
    assert.deepEqual(s.counts(), { messages: 4, dropped: 1, duplicated: 1, reordered: 1, corrupted: 1 });
    const all = stored(q);
    assert.equal(all.length, 4, 'one dropped, one duplicated');
    assert.equal(all.filter((m) => !m.valid).length, 1);
    assert.equal(all.filter((m) => m.delayed).length >= 1, true);
    // afterwards the rate decides again; a new setFaults arms it again
    await s.send(nudges(50));
    assert.equal(s.counts().dropped, 1);
    s.setFaults({ dropRate: 1e-9, corruptRate: 0, reorderRate: 0, duplicateRate: 0 });
    await s.send(nudges(1));
    assert.equal(s.counts().dropped, 2);
    q.close();
  });

  it('corrupts a body so that it no longer decodes as a message', () => {
    const [m] = nudges(1);
    assert.throws(() => decodeMessage(corrupt(m?.body ?? '')));
  });
});
