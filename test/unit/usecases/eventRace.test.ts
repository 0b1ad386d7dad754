/**
 * Two passes mirroring the same pod's ECI events before either moved the events-seen mark (two ticks in two
 * pod-sync instances): each writes its newest event first, and the one that finds it written already, recently,
 * leaves the rest and the mark to the other (PodSync.emitEciEvents, MIRROR_RACE_SECONDS); a pass that knows more
 * goes on, and a pass after the window too, so a writer that died half-way loses nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { K8sEvent, Pod } from '../../../shared/domain/k8s.js';
import { ANNOTATION_EVENTS_SEEN } from '../../../shared/usecases/context.js';
import { MIRROR_RACE_SECONDS, PodSync } from '../../../shared/usecases/podSync.js';
import { makePod, nudgeOf, world } from './fakes.js';

const EVENTS = ['Scheduled', 'Pulling', 'Pulled', 'Started'].map((Reason) => ({
  Type: 'Normal',
  Reason,
  Message: Reason.toLowerCase(),
  LastTimestamp: '2026-01-01T00:00:05Z',
}));

async function setup() {
  const w = world();
  const pod = w.cluster.put(makePod());
  const sync = new PodSync(w.deps);
  const { groupId } = await sync.handle(nudgeOf(pod));
  w.eci.set(groupId ?? '', { Status: 'Running', Events: EVENTS });
  const group = (await w.eci.describe([groupId ?? '']))[0];
  assert.ok(group);
  const mirrored: string[] = [];
  const mirror = w.cluster.mirrorEvent.bind(w.cluster);
  w.cluster.mirrorEvent = async (ev: K8sEvent) => {
    mirrored.push(ev.reason);
    return mirror(ev);
  };
  const snapshot = (): Pod => structuredClone(w.cluster.get('default', pod.metadata.name ?? '') as Pod);
  return { w, sync, group, snapshot, mirrored };
}

describe('pod-sync: two passes mirroring the same ECI events', () => {
  it('the pass that finds a recent event written already stops there and leaves the mark alone', async () => {
    const { w, sync, group, snapshot, mirrored } = await setup();
    const [a, b] = [snapshot(), snapshot()]; // both read before either moved the mark
    w.clock.t = Date.parse('2026-01-01T00:00:06Z');
    await sync.applyGroup(a, group);
    const mark = w.cluster.get('default', a.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_EVENTS_SEEN];
    assert.ok(mark);
    const metaBefore = w.cluster.calls.patchMeta;
    mirrored.length = 0;
    await new PodSync(w.deps).applyGroup(b, group);
    assert.deepEqual(mirrored, ['Started'], 'one write (the newest) to learn another pass has them all');
    assert.equal(w.cluster.calls.patchMeta, metaBefore, 'no second mark write');
    assert.equal(w.cluster.get('default', a.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_EVENTS_SEEN], mark);
    assert.equal(w.cluster.events.filter((e) => EVENTS.some((x) => x.Reason === e.reason)).length, 4);
  });

  it('a pass that knows more than the writer ahead goes on: a writer that saw or wrote fewer events loses nothing', async () => {
    const { w, group, snapshot, mirrored } = await setup();
    const stale = snapshot();
    w.clock.t = Date.parse('2026-01-01T00:00:06Z');
    // the other writer got the first two Events out, then died (or its snapshot had only those)
    for (const ev of w.deps.domain.events(group, stale, 0).slice(0, 2)) await w.cluster.mirrorEvent(ev);
    mirrored.length = 0;
    await new PodSync(w.deps).applyGroup(snapshot(), group);
    assert.deepEqual(mirrored, ['Started', 'Scheduled', 'Pulling', 'Pulled']);
    assert.deepEqual(
      w.cluster.events.filter((e) => EVENTS.some((x) => x.Reason === e.reason)).map((e) => e.reason),
      ['Scheduled', 'Pulling', 'Started', 'Pulled'],
    );
    assert.ok(w.cluster.get('default', stale.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_EVENTS_SEEN]);
  });

  it('after the window a pass goes on: a writer that died after its last Event, before the mark, loses nothing', async () => {
    const { w, group, snapshot, mirrored } = await setup();
    const stale = snapshot();
    w.clock.t = Date.parse('2026-01-01T00:00:06Z');
    for (const ev of w.deps.domain.events(group, stale, 0)) await w.cluster.mirrorEvent(ev);
    mirrored.length = 0;
    await new PodSync(w.deps).applyGroup(snapshot(), group);
    assert.deepEqual(mirrored, ['Started'], 'within the window: left to the writer thought to be at it');
    assert.equal(w.cluster.get('default', stale.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_EVENTS_SEEN], undefined);
    w.clock.t = Date.parse('2026-01-01T00:00:05Z') + MIRROR_RACE_SECONDS * 1000;
    mirrored.length = 0;
    await new PodSync(w.deps).applyGroup(snapshot(), group);
    assert.deepEqual(mirrored, ['Started', 'Scheduled', 'Pulling', 'Pulled']);
    assert.equal(w.cluster.events.filter((e) => EVENTS.some((x) => x.Reason === e.reason)).length, 4);
    assert.ok(w.cluster.get('default', stale.metadata.name ?? '')?.metadata.annotations?.[ANNOTATION_EVENTS_SEEN]);
  });
});
