/**
 * EventRecorder.mirror's wire calls (pure unit test over an in-memory EventWire that answers like the apiserver:
 * AlreadyExists on a second create, Conflict on a stale resourceVersion): what a repeat of an ECI event costs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../../../shared/adapters/kube/errors.js';
import { EventRecorder, type EventPatch, type EventWire } from '../../../../shared/adapters/kube/events.js';
import type { K8sEvent } from '../../../../shared/domain/k8s.js';

function memoryWire() {
  const store = new Map<string, K8sEvent>();
  const calls = { create: 0, get: 0, patch: 0 };
  let rv = 0;
  const wire: EventWire = {
    async create(_ns, body) {
      calls.create++;
      const name = body.metadata.name ?? '';
      if (store.has(name)) throw new AlreadyExistsError(`events "${name}" already exists`);
      const stored = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      store.set(name, stored);
      return structuredClone(stored);
    },
    async get(_ns, name) {
      calls.get++;
      const e = store.get(name);
      if (!e) throw new NotFoundError('not found');
      return structuredClone(e);
    },
    async patch(_ns, name, p: EventPatch) {
      calls.patch++;
      const e = store.get(name);
      if (!e) throw new NotFoundError('not found');
      if (p.metadata && p.metadata.resourceVersion !== e.metadata.resourceVersion) throw new ConflictError('modified');
      const stored = { ...e, count: p.count, lastTimestamp: p.lastTimestamp, metadata: { ...e.metadata, resourceVersion: String(++rv) } };
      store.set(name, stored);
      return structuredClone(stored);
    },
  };
  return { wire, store, calls };
}

const ev = (count: number, first: string, last: string, name = 'p.eci-0123456789'): K8sEvent => ({
  metadata: { name, namespace: 'default' },
  involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'p', uid: 'u1' },
  reason: 'Pulled',
  message: 'Successfully pulled image',
  type: 'Normal',
  count,
  firstTimestamp: first,
  lastTimestamp: last,
});

describe('EventRecorder.mirror: the cost of a repeat', () => {
  it('an event seen once that another process mirrored already costs one create, no read, no patch', async () => {
    const { wire, calls, store } = memoryWire();
    const once = ev(1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    assert.equal(await new EventRecorder(wire).mirror(once), 'created');
    assert.equal(await new EventRecorder(wire).mirror(once), 'existed');
    assert.deepEqual(calls, { create: 2, get: 0, patch: 0 });
    assert.equal(store.get('p.eci-0123456789')?.count, 1);
  });

  it('a repeat within one process that says nothing new costs no request, even when both run at once', async () => {
    const { wire, calls } = memoryWire();
    const rec = new EventRecorder(wire);
    const once = ev(1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    assert.deepEqual(await Promise.all([rec.mirror(once), rec.mirror(once)]), ['created', 'unchanged']);
    assert.equal(await rec.mirror(once), 'unchanged');
    assert.deepEqual(calls, { create: 1, get: 0, patch: 0 });
  });

  it('ECI counting it again is one PATCH under the resourceVersion this process saw (no create, no read)', async () => {
    const { wire, calls, store } = memoryWire();
    const rec = new EventRecorder(wire);
    await rec.mirror(ev(1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'));
    assert.equal(await rec.mirror(ev(3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:30Z')), 'updated');
    assert.deepEqual(calls, { create: 1, get: 0, patch: 1 });
    assert.equal(store.get('p.eci-0123456789')?.count, 3);
    // an older snapshot never moves it back, and costs nothing here
    assert.equal(await rec.mirror(ev(2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:20Z')), 'unchanged');
    assert.equal(store.get('p.eci-0123456789')?.count, 3);
    assert.equal(store.get('p.eci-0123456789')?.lastTimestamp, '2026-01-01T00:00:30Z');
    assert.deepEqual(calls, { create: 1, get: 0, patch: 1 });
  });

  it('a resourceVersion another process made stale: Conflict, then read and patched forward, never backwards', async () => {
    const { wire, calls, store } = memoryWire();
    const a = new EventRecorder(wire);
    const b = new EventRecorder(wire);
    await a.mirror(ev(1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'));
    assert.equal(await b.mirror(ev(5, '2026-01-01T00:00:00Z', '2026-01-01T00:00:50Z')), 'updated'); // create 409, get, patch
    assert.equal(await a.mirror(ev(3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:30Z')), 'existed'); // patch 409, create 409, get
    assert.equal(store.get('p.eci-0123456789')?.count, 5);
    assert.equal(store.get('p.eci-0123456789')?.lastTimestamp, '2026-01-01T00:00:50Z');
    assert.deepEqual(calls, { create: 3, get: 2, patch: 2 });
  });

  it('remembers a bounded number of names: the oldest is forgotten and costs a create again', async () => {
    const { wire, calls } = memoryWire();
    const rec = new EventRecorder(wire, { mirrorCacheSize: 2 });
    const at = '2026-01-01T00:00:00Z';
    for (const n of ['p.eci-a', 'p.eci-b', 'p.eci-c']) await rec.mirror(ev(1, at, at, n));
    assert.equal(await rec.mirror(ev(1, at, at, 'p.eci-c')), 'unchanged');
    assert.equal(await rec.mirror(ev(1, at, at, 'p.eci-a')), 'existed');
    assert.deepEqual(calls, { create: 4, get: 0, patch: 0 });
  });
});

describe('EventRecorder: per-object spam filter (client-go: burst 25, then one per 5 min)', () => {
  it('drops writes about one pod beyond the burst, not about another pod, and refills one per 300 s', async () => {
    const { wire, calls } = memoryWire();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const rec = new EventRecorder(wire, { now: () => now });
    const at = '2026-01-01T00:00:00Z';
    const results = [];
    for (let i = 0; i < 27; i++) results.push(await rec.mirror(ev(1, at, at, `p.eci-${i}`)));
    assert.equal(results.filter((r) => r === 'created').length, 25);
    assert.deepEqual(results.slice(25), ['dropped', 'dropped']);
    // the bridge's own Events about the same pod have their own source, so their own bucket
    const own = { involvedObject: ev(1, at, at).involvedObject, reason: 'SyncRetrying', message: 'm', type: 'Warning' as const };
    assert.equal(await rec.record(own), 'created');
    const other = { ...ev(1, at, at, 'q.eci-0'), involvedObject: { kind: 'Pod', namespace: 'default', name: 'q', uid: 'u2' } };
    assert.equal(await rec.mirror(other), 'created');
    now += 299_000;
    assert.equal(await rec.mirror(ev(1, at, at, 'p.eci-x')), 'dropped');
    now += 1_000;
    assert.equal(await rec.mirror(ev(1, at, at, 'p.eci-y')), 'created');
    assert.equal(await rec.mirror(ev(1, at, at, 'p.eci-z')), 'dropped');
    assert.equal(calls.create, 25 + 1 + 1 + 1);
  });

  it('a repeat that says nothing new takes no token (it writes nothing)', async () => {
    const { wire } = memoryWire();
    const rec = new EventRecorder(wire, { spam: { burst: 1, refillMs: 300_000 } });
    const once = ev(1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    assert.equal(await rec.mirror(once), 'created');
    assert.equal(await rec.mirror(once), 'unchanged');
    assert.equal(await rec.mirror(ev(2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:09Z')), 'dropped');
  });
});
