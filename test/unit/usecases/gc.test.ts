import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANNOTATION_LAST_RENUDGE, DELETING_RENUDGE_SECONDS, Gc } from '../../../shared/usecases/gc.js';
import { makePod, world } from './fakes.js';

const at = (iso: string) => Date.parse(iso);

describe('gc: re-nudges at most once per period', () => {
  it('a stuck pod is re-nudged once per stuck period, however often gc runs, and the re-nudge is recorded on the pod', async () => {
    const w = world({ stuckPodSeconds: 60 });
    const pod = w.cluster.put(makePod());
    const name = pod.metadata.name ?? '';
    const sent = () => w.queue.sent.filter((s) => s.message.uid === pod.metadata.uid).length;
    // gc every 10 s from 00:01:10 (stuck since 00:01:00) to 00:03:20
    const runs: { t: string; renudged: number; skipped: number }[] = [];
    for (let s = 70; s <= 200; s += 10) {
      w.clock.t = at('2026-01-01T00:00:00Z') + s * 1000;
      const r = await new Gc(w.deps).run();
      runs.push({ t: new Date(w.clock.t).toISOString(), renudged: r.renudged, skipped: r.renudgeSkipped });
    }
    // 00:01:10, then 00:02:10 (60 s later), then 00:03:10
    assert.deepEqual(
      runs.filter((r) => r.renudged > 0).map((r) => r.t),
      ['2026-01-01T00:01:10.000Z', '2026-01-01T00:02:10.000Z', '2026-01-01T00:03:10.000Z'],
    );
    assert.equal(sent(), 3);
    assert.equal(runs.reduce((n, r) => n + r.skipped, 0), runs.length - 3);
    assert.equal(w.cluster.get('default', name)?.metadata.annotations?.[ANNOTATION_LAST_RENUDGE], '2026-01-01T00:03:10.000Z');
  });

  it('a re-nudge whose mark could not be written is simply sent again on the next run', async () => {
    const w = world({ stuckPodSeconds: 60 });
    const pod = w.cluster.put(makePod());
    w.cluster.patchPodMetadata = async () => {
      throw new Error('apiserver unavailable');
    };
    w.clock.t = at('2026-01-01T00:01:10Z');
    assert.equal((await new Gc(w.deps).run()).renudged, 1);
    w.clock.t = at('2026-01-01T00:01:20Z');
    assert.equal((await new Gc(w.deps).run()).renudged, 1);
    assert.equal(w.queue.sent.filter((s) => s.message.uid === pod.metadata.uid).length, 2);
  });

  it('a failed send leaves no mark: the next run re-nudges', async () => {
    const w = world({ stuckPodSeconds: 60 });
    const pod = w.cluster.put(makePod());
    const send = w.queue.send.bind(w.queue);
    w.queue.send = async () => {
      throw new Error('queue down');
    };
    w.clock.t = at('2026-01-01T00:01:10Z');
    assert.equal((await new Gc(w.deps).run()).renudged, 0);
    assert.equal(w.cluster.get('default', pod.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_LAST_RENUDGE], undefined);
    w.queue.send = send;
    w.clock.t = at('2026-01-01T00:01:20Z');
    assert.equal((await new Gc(w.deps).run()).renudged, 1);
  });

  it('an unfinished deletion is re-nudged as deleting once per minute', async () => {
    const w = world();
    const pod = w.cluster.put(makePod());
    const stored = w.cluster.get('default', pod.metadata.name ?? '');
    assert.ok(stored);
    stored.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    let renudged = 0;
    for (let s = 100; s <= 100 + 2 * DELETING_RENUDGE_SECONDS; s += 10) {
      w.clock.t = at('2026-01-01T00:00:00Z') + s * 1000;
      renudged += (await new Gc(w.deps).run()).renudged;
    }
    assert.equal(renudged, 3);
    assert.deepEqual(new Set(w.queue.sent.map((s) => s.message.reason)), new Set(['deleting']));
  });
});
