/**
 * The follow cursor against a model of DescribeContainerLog (StartTime to the second, Tail keeps the newest):
 * polls at random moments over lines written in bursts, many sharing a timestamp, some with the same text — every
 * line is delivered exactly once and in order. Plus the kubelet's selection and byte limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteLimit, LineCursor, type LogLine, parseContent, parseStamp, selectLines, startTimeOf } from '../../../../watcher/kubelet/logLines.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** ECI's content for lines at or after `startTime` (second resolution), the newest `tail`. */
function eci(all: LogLine[], now: bigint, startTime: string | undefined, tail: number): LogLine[] {
  const from = startTime ? (parseStamp(startTime) as bigint) : 0n;
  const visible = all.filter((l) => l.ns <= now && l.ns >= from);
  return visible.slice(Math.max(0, visible.length - tail));
}

describe('kubelet logs: the follow cursor', () => {
  it('parses RFC 3339 stamps of any precision and floors StartTime to the second', () => {
    assert.equal(parseStamp('2026-01-01T00:00:01.5Z'), 1767225601500000000n);
    assert.equal(parseStamp('2026-01-01T00:00:01.000000001Z'), 1767225601000000001n);
    assert.equal(parseStamp('2026-01-01T08:00:01+08:00'), 1767225601000000000n);
    assert.equal(parseStamp('hello'), undefined);
    assert.equal(startTimeOf(1767225601999999999n), '2026-01-01T00:00:01Z');
    const [a, b] = parseContent('2026-01-01T00:00:01.123Z hello world\nno stamp\n');
    assert.deepEqual(a, { ns: 1767225601123000000n, stamp: '2026-01-01T00:00:01.123Z', text: 'hello world' });
    assert.deepEqual(b, { ns: 0n, stamp: '', text: 'no stamp' });
  });

  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`delivers every line once, in order, across second and poll boundaries (seed ${seed})`, () => {
      const r = rng(seed);
      const base = 1767225600000000000n;
      const all: LogLine[] = [];
      let t = base;
      for (let i = 0; i < 3000; i++) {
        // bursts: often the same nanosecond (and sometimes the same text), sometimes a jump over seconds
        const x = r();
        t += x < 0.4 ? 0n : x < 0.9 ? BigInt(Math.floor(r() * 50_000_000)) : BigInt(Math.floor(r() * 2_500_000_000));
        const text = r() < 0.2 ? 'same' : `line ${i}`;
        all.push({ ns: t, stamp: new Date(Number(t / 1_000_000n)).toISOString(), text });
      }
      const cursor = new LineCursor(base);
      const got: LogLine[] = [];
      let now = base;
      while (now <= t + 2_000_000_000n) {
        now += BigInt(Math.floor(r() * 1_500_000_000));
        got.push(...cursor.accept(eci(all, now, cursor.startTime(), 2000)));
      }
      assert.equal(got.length, all.length);
      assert.deepEqual(got, all);
    });
  }

  it('lines of the cursor second already delivered by a first read are not repeated by the poller', () => {
    const s = (ms: number, text: string): LogLine => ({ ns: BigInt(ms) * 1_000_000n, stamp: new Date(ms).toISOString(), text });
    const first = [s(1000, 'a'), s(1500, 'b'), s(1500, 'b')];
    const cursor = new LineCursor();
    assert.deepEqual(cursor.accept(first), first);
    // the poller re-reads from second 1: the same two b's, a third b and c are new
    assert.deepEqual(cursor.accept([s(1000, 'a'), s(1500, 'b'), s(1500, 'b'), s(1500, 'b'), s(2100, 'c')]), [s(1500, 'b'), s(2100, 'c')]);
    assert.equal(cursor.startTime(), '1970-01-01T00:00:02Z');
  });

  it('selects like the kubelet: since, then the last N; the byte limit keeps the first N bytes', () => {
    const lines = parseContent('1970-01-01T00:00:01Z a\n1970-01-01T00:00:02Z b\n1970-01-01T00:00:03Z c\n');
    assert.deepEqual(selectLines(lines, { sinceNs: 2_000_000_000n }).map((l) => l.text), ['b', 'c']);
    assert.deepEqual(selectLines(lines, { tail: 1 }).map((l) => l.text), ['c']);
    assert.deepEqual(selectLines(lines, { tail: 0 }), []);
    const limit = new ByteLimit(5);
    assert.equal(limit.take('abc\n'), 'abc\n');
    assert.equal(limit.take('def\n'), 'd');
    assert.ok(limit.reached);
    assert.equal(limit.take('x'), '');
  });
});
