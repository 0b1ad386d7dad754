import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTEMPTED_ANNOTATION, Checkpoint, COMPLETED_ANNOTATION } from '../../../watcher/checkpoint.js';
import { newFakeCluster, newLogger } from './fakes.js';

describe('Checkpoint', () => {
  const make = (fc = newFakeCluster()) => {
    let writes = 0;
    const cluster = {
      ...fc.cluster,
      replaceLease: async (...a: Parameters<typeof fc.cluster.replaceLease>) => {
        writes++;
        return fc.cluster.replaceLease(...a);
      },
    };
    const cp = new Checkpoint({ cluster, log: newLogger(), namespace: 'b', name: 'cp' });
    return { cp, fc, writes: () => writes };
  };

  it('starts empty, then keeps the write-ahead mark ahead of what was received', async () => {
    const { cp, fc } = make();
    assert.deepEqual(await cp.load(), {});
    await cp.maintain(undefined);
    const a = BigInt(fc.leases.get('b/cp')?.metadata.annotations?.[ATTEMPTED_ANNOTATION] ?? '0');
    const leaseRv = BigInt(fc.leases.get('b/cp')?.metadata.resourceVersion ?? '0');
    assert.ok(a > leaseRv, 'attempted is ahead of the cluster revision');
  });

  it('does not write for a nudge inside the headroom, and writes before one beyond it', async () => {
    const { cp, writes } = make();
    await cp.load();
    await cp.maintain(100n);
    const persisted = cp.persisted.attempted ?? 0n;
    const before = writes();
    await cp.ensureAttempted(persisted, 100n);
    assert.equal(writes(), before, 'inside the headroom: no round trip');
    await cp.ensureAttempted(persisted + 1n, persisted + 1n);
    assert.equal(writes(), before + 1);
    assert.ok((cp.persisted.attempted ?? 0n) > persisted);
  });

  it('stores completed and hands both marks to the next leader', async () => {
    const { cp, fc } = make();
    await cp.load();
    cp.setCompleted(150n);
    await cp.maintain(150n);
    const next = new Checkpoint({ cluster: fc.cluster, log: newLogger(), namespace: 'b', name: 'cp' });
    const marks = await next.load();
    assert.equal(marks.completed, 150n);
    assert.ok((marks.attempted ?? 0n) >= 150n);
    assert.equal(fc.leases.get('b/cp')?.metadata.annotations?.[COMPLETED_ANNOTATION], '150');
  });
});
