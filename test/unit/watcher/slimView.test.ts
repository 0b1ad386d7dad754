/** The kube adapter's `slimView` (added for the watcher's memory): the view keeps identities, events stay whole. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyWatchEvent, diffRelist, identityOf } from '../../../shared/adapters/kube/watch.js';
import type { Pod } from '../../../shared/domain/k8s.js';

const pod = (name: string, rv: string, uid = `u-${name}`): Pod => ({
  metadata: { name, namespace: 'ns', uid, resourceVersion: rv, labels: { big: 'x'.repeat(100) } },
  spec: { nodeName: 'vn', containers: [{ name: 'c', image: 'nginx' }] },
});

describe('kube adapter slim view', () => {
  it('stores identities but delivers whole objects', () => {
    const view = new Map<string, Pod>();
    const ev = applyWatchEvent(view, { type: 'ADDED', object: pod('a', '1') }, identityOf);
    assert.equal(ev?.object.spec.containers[0]?.image, 'nginx');
    const kept = view.get('ns/a');
    assert.deepEqual(kept, { metadata: { name: 'a', namespace: 'ns', uid: 'u-a', resourceVersion: '1' } });
    // a repeat of the same version is still recognised as a duplicate
    assert.equal(applyWatchEvent(view, { type: 'MODIFIED', object: pod('a', '1') }, identityOf), undefined);
    assert.equal(applyWatchEvent(view, { type: 'MODIFIED', object: pod('a', '2') }, identityOf)?.type, 'MODIFIED');
  });

  it('diffs a relist against identities: vanished, replaced and changed pods', () => {
    const view = new Map<string, Pod>([
      ['ns/a', identityOf(pod('a', '1'))],
      ['ns/b', identityOf(pod('b', '1'))],
      ['ns/c', identityOf(pod('c', '1'))],
    ]);
    const evs = diffRelist(view, [pod('a', '1'), pod('b', '5', 'u-b2'), pod('c', '7'), pod('d', '8')]);
    assert.deepEqual(
      evs.map((e) => `${e.type}:${e.object.metadata.name}:${e.object.metadata.uid}`),
      ['DELETED:b:u-b', 'ADDED:b:u-b2', 'MODIFIED:c:u-c', 'ADDED:d:u-d'],
    );
  });
});
