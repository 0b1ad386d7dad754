/**
 * gc's side of the leaks found on the bill (shared/usecases/leaks.ts) over in-memory fakes: each reported leak is
 * acted on once — deleted, or marked when gc's orphan pass deleted it in the same run, when ECI no longer has it, or
 * when it is too young yet — and no group is ever deleted twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap } from '../../../shared/domain/k8s.js';
import { LEAKS_CONFIGMAP, type LeakRecord, readLeakRecord } from '../../../shared/domain/leaks.js';
import { TAG_CLUSTER, TAG_POD_UID, TAG_VNODE } from '../../../shared/domain/names.js';
import { Gc } from '../../../shared/usecases/gc.js';
import { world } from './fakes.js';

const NS = 'eci-bridge';
const rec = (state: LeakRecord['state'] = 'reported'): string =>
  JSON.stringify({ day: '2026-01-01', reason: 'unknown', billed: '1.000000000', currency: 'CNY', state, at: '2026-01-02T00:00:00Z' } satisfies LeakRecord);

describe('gc and the leaks found on the bill', () => {
  it('deletes each leak once, marks the ones its orphan pass deleted, the gone and the has-pod ones; keeps the young for later', async () => {
    const w = world({ orphanGraceSeconds: 120 });
    w.clock.t = Date.parse('2026-01-03T00:00:00Z');
    const old = '2026-01-01T00:00:00Z';
    const group = (id: string, tags: { Key: string; Value: string }[], created = old) =>
      w.eci.groups.set(id, { ContainerGroupId: id, Status: 'Running', CreationTime: created, Tags: tags, Events: [], Containers: [] });
    // an orphan gc sees by itself (cluster + vnode + pod-uid of no pod), also reported as a leak
    group('eci-orphan', [{ Key: TAG_CLUSTER, Value: 'c1' }, { Key: TAG_VNODE, Value: 'vnode' }, { Key: TAG_POD_UID, Value: 'uid-gone' }]);
    // a stray group only the cluster tag names: gc's orphan pass cannot see it
    group('eci-stray', [{ Key: TAG_CLUSTER, Value: 'c1' }]);
    group('eci-young', [{ Key: TAG_CLUSTER, Value: 'c1' }], new Date(w.clock.t - 30_000).toISOString());
    const cm: ConfigMap = {
      metadata: { name: LEAKS_CONFIGMAP, namespace: NS, resourceVersion: '1' },
      data: { 'eci-orphan': rec(), 'eci-stray': rec(), 'eci-gone': rec(), 'eci-young': rec(), 'eci-done': rec('deleted') },
    };
    w.cluster.configMaps.set(`${NS}/${LEAKS_CONFIGMAP}`, cm);
    let writes = 0;
    Object.assign(w.cluster, {
      replaceConfigMap: async (ns: string, next: ConfigMap) => {
        writes++;
        w.cluster.configMaps.set(`${ns}/${next.metadata.name}`, { ...next, metadata: { ...next.metadata, resourceVersion: String(writes + 1) } });
        return next;
      },
    });
    const state = (id: string) => readLeakRecord(w.cluster.configMaps.get(`${NS}/${LEAKS_CONFIGMAP}`)?.data?.[id] ?? '')?.state;

    const r1 = await new Gc(w.deps, { leaksNamespace: NS }).run();
    assert.deepEqual(r1.orphansDeleted.map((o) => o.groupId), ['eci-orphan']);
    assert.deepEqual(
      r1.leaks.sort((a, b) => (a.groupId < b.groupId ? -1 : 1)),
      [
        { groupId: 'eci-gone', state: 'gone' },
        { groupId: 'eci-orphan', state: 'deleted-as-orphan' },
        { groupId: 'eci-stray', state: 'deleted' },
      ],
    );
    assert.equal(w.eci.calls.delete, 2, 'the orphan once, the stray once');
    assert.equal(state('eci-young'), 'reported', 'younger than the grace: left for a later run');
    assert.equal(state('eci-done'), 'deleted', 'a final record is never acted on again');

    const r2 = await new Gc(w.deps, { leaksNamespace: NS }).run();
    assert.deepEqual(r2.leaks, []);
    assert.equal(w.eci.calls.delete, 2, 'nothing deleted twice');
    w.clock.t += 10 * 60_000;
    const r3 = await new Gc(w.deps, { leaksNamespace: NS }).run();
    assert.deepEqual(r3.leaks, [{ groupId: 'eci-young', state: 'deleted' }]);
    assert.equal(w.eci.calls.delete, 3);
  });
});
