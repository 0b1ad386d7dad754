import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../shared/domain/k8s.js';
import {
  compactPod,
  decodeMessage,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  MAX_SNAPSHOT_BYTES,
  MAX_PODS_PER_TICK,
  MessageError,
  priorityOf,
  type QueueMessage,
} from '../../../shared/domain/messages.js';
import { MNS_LIMITS } from '../../../shared/sim/queue-model.js';

const nudge: QueueMessage = {
  v: 1,
  kind: 'pod',
  namespace: 'default',
  name: 'web-1',
  uid: '6d1c2a8e-7a1e-4c0e-9f51-6b0f0a7b1c11',
  resourceVersion: '42',
  reason: 'bound',
};

/** The pod `nudge` names, as the watch delivered it. */
const snapshot: Pod = {
  metadata: { namespace: 'default', name: 'web-1', uid: nudge.uid, resourceVersion: '42', annotations: { a: 'b' } },
  spec: { nodeName: 'vnode', containers: [{ name: 'app', image: 'nginx' }] },
  status: { phase: 'Pending' },
};

describe('queue messages', () => {
  it('round-trips a version 2 nudge carrying the pod', () => {
    const v2: QueueMessage = { ...nudge, v: 2, pod: snapshot } as QueueMessage;
    assert.deepEqual(decodeMessage(encodeMessage(v2)), v2);
  });

  it('a nudge carrying a large pod with multi-byte text goes through base64 and back; broken bodies are refused with a reason', () => {
    const pod: Pod = { ...snapshot, metadata: { ...snapshot.metadata, annotations: { note: '中文 ü 🚀 '.repeat(900) } } };
    const carrying: QueueMessage = { ...nudge, v: 2, pod } as QueueMessage;
    const body = encodeMessage(carrying);
    assert.ok(body.length > 16_000);
    assert.deepEqual(decodeMessage(body), carrying);
    const invalidUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64');
    assert.throws(() => decodeMessage(invalidUtf8), (e: unknown) => e instanceof MessageError && e.reason === 'not-base64');
    assert.throws(() => decodeMessage('abcde'), (e: unknown) => e instanceof MessageError && e.reason === 'not-base64');
  });

  it('compactPod drops managedFields and refuses a pod over MAX_SNAPSHOT_BYTES (the nudge then carries none)', () => {
    const managed = { ...snapshot, metadata: { ...snapshot.metadata, managedFields: [{ manager: 'kubectl' }] } } as Pod;
    assert.deepEqual(compactPod(managed), snapshot);
    const big = { ...snapshot, metadata: { ...snapshot.metadata, annotations: { big: 'é'.repeat(MAX_SNAPSHOT_BYTES / 2) } } };
    assert.equal(compactPod(big), undefined, 'bytes, not characters, are counted');
    const body = encodeMessage({ ...nudge, v: 2, pod: compactPod({ ...big, metadata: { ...snapshot.metadata } }) } as QueueMessage);
    assert.ok(body.length < MAX_MESSAGE_BYTES / 2);
  });

  it('status ticks have the highest MNS priority, nudges the default', () => {
    assert.equal(priorityOf({ kind: 'status-tick' }), MNS_LIMITS.minPriority);
    assert.equal(priorityOf({ kind: 'pod' }), MNS_LIMITS.defaultPriority);
  });

  it('round-trips a nudge through base64 JSON', () => {
    const body = encodeMessage(nudge);
    assert.match(body, /^[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(decodeMessage(body), nudge);
  });

  it('accepts an already-decoded JSON body (EventBridge IsBase64Decode=true)', () => {
    assert.deepEqual(decodeMessage(JSON.stringify(nudge)), nudge);
  });

  it('round-trips a version 2 tick with what the watcher sees of each pod', () => {
    const tick: QueueMessage = {
      v: 2,
      kind: 'status-tick',
      at: '2026-01-01T00:00:00Z',
      pods: [
        { namespace: 'ns', name: 'a', uid: 'u1', groupId: 'eci-1', phase: 'Pending', digest: '0123456789abcdef' },
        { namespace: 'ns', name: 'b', uid: 'u2', groupId: 'eci-2', phase: 'Running', digest: 'fedcba9876543210', deleting: true },
      ],
    };
    assert.deepEqual(decodeMessage(encodeMessage(tick)), tick);
  });

  it('round-trips a steady tick (version 2, since, no pod named)', () => {
    const tick: QueueMessage = { v: 2, kind: 'status-tick', at: '2026-01-01T00:00:00Z', since: 15, pods: [] };
    assert.deepEqual(decodeMessage(encodeMessage(tick)), tick);
  });

  it('round-trips non-ASCII names byte-exactly', () => {
    const tick: QueueMessage = { v: 1, kind: 'status-tick', at: '2026-01-01T00:00:00Z', pods: [{ namespace: 'ns', name: 'pödé', uid: 'u1' }] };
    assert.deepEqual(decodeMessage(encodeMessage(tick)), tick);
  });

  const bad: [string, string, MessageError['reason']][] = [
    ['garbage', '%%%not base64%%%', 'not-base64'],
    ['base64 of non-JSON', btoa('hello'), 'not-json'],
    ['unknown kind', JSON.stringify({ ...nudge, kind: 'node' }), 'schema'],
    ['extra field', JSON.stringify({ ...nudge, spec: {} }), 'schema'],
    ['future version', JSON.stringify({ ...nudge, v: 3 }), 'schema'],
    ['a version 1 nudge carrying the pod', JSON.stringify({ ...nudge, pod: snapshot }), 'schema'],
    ['a pod snapshot of another uid', JSON.stringify({ ...nudge, v: 2, pod: { ...snapshot, metadata: { ...snapshot.metadata, uid: 'other' } } }), 'schema'],
    ['a pod snapshot of another resourceVersion', JSON.stringify({ ...nudge, v: 2, pod: { ...snapshot, metadata: { ...snapshot.metadata, resourceVersion: '41' } } }), 'schema'],
    ['a pod snapshot without spec', JSON.stringify({ ...nudge, v: 2, pod: { metadata: snapshot.metadata } }), 'schema'],
    [
      'a pod snapshot over MAX_SNAPSHOT_BYTES',
      JSON.stringify({ ...nudge, v: 2, pod: { ...snapshot, metadata: { ...snapshot.metadata, annotations: { big: 'x'.repeat(MAX_SNAPSHOT_BYTES) } } } }),
      'schema',
    ],
    ['bad reason', JSON.stringify({ ...nudge, reason: 'because' }), 'schema'],
    ['empty tick', JSON.stringify({ v: 1, kind: 'status-tick', at: 'x', pods: [] }), 'schema'],
    [
      'a version 1 tick with a status digest',
      JSON.stringify({ v: 1, kind: 'status-tick', at: 'x', pods: [{ namespace: 'n', name: 'p', uid: 'u', digest: '0123456789abcdef' }] }),
      'schema',
    ],
    [
      'a malformed status digest',
      JSON.stringify({ v: 2, kind: 'status-tick', at: 'x', pods: [{ namespace: 'n', name: 'p', uid: 'u', digest: 'xyz' }] }),
      'schema',
    ],
    ['a version 1 steady tick', JSON.stringify({ v: 1, kind: 'status-tick', at: 'x', since: 15, pods: [] }), 'schema'],
    ['a version 2 tick naming no pod and without since', JSON.stringify({ v: 2, kind: 'status-tick', at: 'x', pods: [] }), 'schema'],
    ['a steady window over an hour', JSON.stringify({ v: 2, kind: 'status-tick', at: 'x', since: 3601, pods: [] }), 'schema'],
    ['a version 5 tick', JSON.stringify({ v: 5, kind: 'status-tick', at: 'x', pods: [{ namespace: 'n', name: 'p', uid: 'u' }] }), 'schema'],
    ['a version 3 tick with a resourceVersion', JSON.stringify({ v: 3, kind: 'status-tick', at: 'x', pods: [{ namespace: 'n', name: 'p', uid: 'u', rv: '12' }] }), 'schema'],
    ['a resourceVersion that is not a number', JSON.stringify({ v: 4, kind: 'status-tick', at: 'x', pods: [{ namespace: 'n', name: 'p', uid: 'u', rv: 'abc' }] }), 'schema'],
    [
      'a version 2 tick with a deletionTimestamp',
      JSON.stringify({ v: 2, kind: 'status-tick', at: 'x', pods: [{ namespace: 'n', name: 'p', uid: 'u', deleting: true, deletionTimestamp: '2026-01-01T00:00:00Z' }] }),
      'schema',
    ],
    [
      'a deletionTimestamp on a pod not deleting',
      JSON.stringify({ v: 3, kind: 'status-tick', at: 'x', pods: [{ namespace: 'n', name: 'p', uid: 'u', deletionTimestamp: '2026-01-01T00:00:00Z' }] }),
      'schema',
    ],
    [
      'oversized tick',
      JSON.stringify({
        v: 1,
        kind: 'status-tick',
        at: 'x',
        pods: Array.from({ length: MAX_PODS_PER_TICK + 1 }, (_, i) => ({ namespace: 'n', name: `p${i}`, uid: `u${i}` })),
      }),
      'schema',
    ],
  ];
  for (const [label, body, reason] of bad) {
    it(`refuses ${label} with reason ${reason}`, () => {
      assert.throws(
        () => decodeMessage(body),
        (err: unknown) => err instanceof MessageError && err.reason === reason,
      );
    });
  }

  it('refuses to encode an invalid message', () => {
    assert.throws(() => encodeMessage({ ...nudge, uid: '' }));
  });
});
