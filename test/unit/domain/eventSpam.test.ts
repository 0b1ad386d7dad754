/**
 * EventSpamFilter (shared/domain/events.ts): client-go's EventSourceObjectSpamFilter — a token bucket per
 * (source, involved object), burst 25, one token per 300 s, an LRU of objects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventSpamFilter, SPAM_BURST, SPAM_REFILL_MS } from '../../../shared/domain/events.js';

const pod = (name: string, component = 'eci') => ({
  involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name, uid: `uid-${name}` },
  source: { component, host: 'vnode' },
});

describe('EventSpamFilter', () => {
  it("uses client-go's numbers: 25 at once, then one per five minutes", () => {
    assert.equal(SPAM_BURST, 25);
    assert.equal(SPAM_REFILL_MS, 300_000);
    const f = new EventSpamFilter();
    const t0 = 1_000_000;
    const allowed = Array.from({ length: 30 }, () => f.allow(pod('a'), t0)).filter(Boolean).length;
    assert.equal(allowed, 25);
    assert.equal(f.allow(pod('a'), t0 + 150_000), false, 'half a token is no token');
    assert.equal(f.allow(pod('a'), t0 + 300_000), true);
    assert.equal(f.allow(pod('a'), t0 + 300_001), false);
  });

  it('keeps one bucket per source and object, and refills no more than the burst', () => {
    const f = new EventSpamFilter(2, 1000);
    assert.equal(f.allow(pod('a'), 0), true);
    assert.equal(f.allow(pod('a'), 0), true);
    assert.equal(f.allow(pod('a'), 0), false);
    assert.equal(f.allow(pod('b'), 0), true, 'another pod');
    assert.equal(f.allow(pod('a', 'eci-bridge'), 0), true, 'another source about the same pod');
    // an hour later: full again, but only the burst
    const later = 3_600_000;
    assert.deepEqual([f.allow(pod('a'), later), f.allow(pod('a'), later), f.allow(pod('a'), later)], [true, true, false]);
  });

  it('forgets the least recently used object beyond its size (it starts again with a full bucket)', () => {
    const f = new EventSpamFilter(1, 1_000_000, 2);
    assert.equal(f.allow(pod('a'), 0), true);
    assert.equal(f.allow(pod('b'), 0), true);
    assert.equal(f.allow(pod('a'), 0), false); // a is now the most recent
    assert.equal(f.allow(pod('c'), 0), true); // b is forgotten
    assert.equal(f.allow(pod('a'), 0), false);
    assert.equal(f.allow(pod('b'), 0), true);
  });
});
