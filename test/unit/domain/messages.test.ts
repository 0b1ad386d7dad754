import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeMessage,
  encodeMessage,
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

describe('queue messages', () => {
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
    ['future version', JSON.stringify({ ...nudge, v: 2 }), 'schema'],
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
    ['a version 3 tick', JSON.stringify({ v: 3, kind: 'status-tick', at: 'x', pods: [{ namespace: 'n', name: 'p', uid: 'u' }] }), 'schema'],
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
