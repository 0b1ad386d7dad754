/**
 * EventRecorder.mirror's wire calls (pure unit test over an in-memory EventWire that answers like the apiserver:
 * AlreadyExists on a second create, Conflict on a stale resourceVersion): what a repeat of an ECI event costs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, ConflictError } from '../../../../shared/adapters/kube/errors.js';
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
      store.set(name, { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } });
    },
    async get(_ns, name) {
      calls.get++;
      const e = store.get(name);
      if (!e) throw new Error('not found');
      return structuredClone(e);
    },
    async patch(_ns, name, p: EventPatch) {
      calls.patch++;
      const e = store.get(name);
      if (!e) throw new Error('not found');
      if (p.metadata && p.metadata.resourceVersion !== e.metadata.resourceVersion) throw new ConflictError('modified');
      store.set(name, { ...e, count: p.count, lastTimestamp: p.lastTimestamp, metadata: { ...e.metadata, resourceVersion: String(++rv) } });
      return p.count;
    },
  };
  return { wire, store, calls };
}

const ev = (count: number, first: string, last: string): K8sEvent => ({
  metadata: { name: 'p.eci-0123456789', namespace: 'default' },
  involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'p', uid: 'u1' },
  reason: 'Pulled',
  message: 'Successfully pulled image',
  type: 'Normal',
  count,
  firstTimestamp: first,
  lastTimestamp: last,
});

describe('EventRecorder.mirror: the cost of a repeat', () => {
  it('an event seen once that another writer mirrored already costs one create, no read, no patch', async () => {
    const { wire, calls, store } = memoryWire();
    const rec = new EventRecorder(wire);
    const once = ev(1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    await rec.mirror(once);
    await rec.mirror(once);
    assert.deepEqual(calls, { create: 2, get: 0, patch: 0 });
    assert.equal(store.get('p.eci-0123456789')?.count, 1);
  });

  it('a repeat ECI counted again is read and patched forward, and an older snapshot never moves it back', async () => {
    const { wire, calls, store } = memoryWire();
    const rec = new EventRecorder(wire);
    await rec.mirror(ev(1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'));
    await rec.mirror(ev(3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:30Z'));
    assert.deepEqual(calls, { create: 2, get: 1, patch: 1 });
    assert.equal(store.get('p.eci-0123456789')?.count, 3);
    await rec.mirror(ev(2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:20Z'));
    assert.equal(store.get('p.eci-0123456789')?.count, 3);
    assert.equal(store.get('p.eci-0123456789')?.lastTimestamp, '2026-01-01T00:00:30Z');
  });
});
