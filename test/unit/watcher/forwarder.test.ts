import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../shared/domain/k8s.js';
import type { NudgeReason } from '../../../shared/domain/messages.js';
import { decodeMessage, encodeMessage, MAX_MESSAGE_BYTES } from '../../../shared/domain/messages.js';
import { Coalescer, decide, makeNudge, type PendingNudge, strongerReason } from '../../../watcher/forwarder.js';
import { GROUP_ANNOTATION, toRecord } from '../../../watcher/podState.js';

function pod(over: (p: Pod) => void = () => {}): Pod {
  const p: Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '10', annotations: { team: 'a' } },
    spec: { nodeName: 'vn', containers: [{ name: 'c', image: 'nginx' }] },
    status: { phase: 'Pending' },
  };
  over(p);
  return p;
}
const rec = (p: Pod) => toRecord(p, Date.now());

describe('decide: why (not) nudge', () => {
  const base = rec(pod());
  const cases: [string, 'ADDED' | 'MODIFIED' | 'DELETED', boolean, Pod, NudgeReason | undefined][] = [
    ['new pod', 'ADDED', false, pod(), 'bound'],
    ['new pod already terminating', 'ADDED', false, pod((p) => (p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z')), 'deleting'],
    ['deleted', 'DELETED', true, pod(), 'deleted'],
    ['deletionTimestamp set', 'MODIFIED', true, pod((p) => (p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z')), 'deleting'],
    ['spec changed', 'MODIFIED', true, pod((p) => (p.spec.activeDeadlineSeconds = 5)), 'changed'],
    ['user annotation changed', 'MODIFIED', true, pod((p) => (p.metadata.annotations = { team: 'b' })), 'changed'],
    ['status only (bridge echo)', 'MODIFIED', true, pod((p) => (p.status = { phase: 'Running' })), undefined],
    ['group id annotation (bridge echo)', 'MODIFIED', true, pod((p) => (p.metadata.annotations = { team: 'a', [GROUP_ANNOTATION]: 'eci-1' })), undefined],
    ['bridge-prefixed annotation (echo)', 'MODIFIED', true, pod((p) => (p.metadata.annotations = { team: 'a', 'eci-bridge.io/events-seen': 'x' })), undefined],
    ['resourceVersion only', 'MODIFIED', true, pod((p) => (p.metadata.resourceVersion = '99')), undefined],
    ['labels only', 'MODIFIED', true, pod((p) => (p.metadata.labels = { x: 'y' })), undefined],
  ];
  for (const [name, type, known, next, want] of cases) {
    it(name, () => {
      const d = decide(type, known ? base : undefined, rec(next));
      assert.equal(d.reason, want, d.why);
      assert.ok(d.why.length > 0);
    });
  }

  it('uses the checkpoint after a restart: seen → skip, maybe sent → resync, newer → bound', () => {
    const marks = { completed: 20n, attempted: 30n };
    assert.equal(decide('ADDED', undefined, base, 15n, marks).reason, undefined);
    assert.equal(decide('ADDED', undefined, base, 25n, marks).reason, 'resync');
    assert.equal(decide('ADDED', undefined, base, 31n, marks).reason, 'bound');
    // a known pod is decided by its change, whatever the marks
    assert.equal(decide('DELETED', base, base, 15n, marks).reason, 'deleted');
  });

  it('builds nudges the schema accepts, far below 64 KiB', () => {
    const n = makeNudge(rec(pod()), 'bound');
    const body = encodeMessage(n);
    assert.ok(body.length < MAX_MESSAGE_BYTES / 100);
    assert.deepEqual(decodeMessage(body), n);
  });
});

describe('makeNudge: the pod as the watch delivered it', () => {
  it('a nudge for a delivered pod carries it (version 2, without managedFields) and the schema accepts it', () => {
    const p = pod((x) => (x.metadata = { ...x.metadata, managedFields: [{ manager: 'kube-scheduler' }] } as Pod['metadata']));
    const n = makeNudge(rec(p), 'bound', p);
    assert.equal(n.v, 2);
    assert.equal(n.pod?.metadata.resourceVersion, '10');
    assert.equal('managedFields' in (n.pod?.metadata ?? {}), false);
    assert.deepEqual(n.pod?.spec, p.spec);
    assert.deepEqual(decodeMessage(encodeMessage(n)), n);
  });

  it('carries no pod for a deleted pod, a pod too large, or a record of another version (version 1)', () => {
    const p = pod();
    assert.equal(makeNudge(rec(p), 'deleted', p).pod, undefined);
    const big = pod((x) => (x.metadata.annotations = { team: 'a', blob: 'x'.repeat(20_000) }));
    const n = makeNudge(rec(big), 'bound', big);
    assert.equal(n.pod, undefined);
    assert.equal(n.v, 1);
    assert.deepEqual(decodeMessage(encodeMessage(n)), n);
    assert.equal(makeNudge({ ...rec(p), resourceVersion: '11' }, 'bound', p).pod, undefined);
  });
});

describe('Coalescer', () => {
  it('merges a burst for one pod into one nudge with the strongest reason and lowest rv', async () => {
    const out: PendingNudge[] = [];
    const c = new Coalescer(20, (p) => out.push(p));
    const r = rec(pod());
    c.add(makeNudge(r, 'bound'), 12n);
    c.add(makeNudge(r, 'changed'), 11n);
    c.add(makeNudge({ ...r, uid: 'u2' }, 'changed'), 13n);
    c.add(makeNudge(r, 'deleting'), 14n);
    assert.equal(c.minRv(), 11n);
    await new Promise((res) => setTimeout(res, 60));
    assert.equal(out.length, 2);
    const one = out.find((p) => p.nudge.uid === 'u1');
    assert.equal(one?.nudge.reason, 'deleting');
    assert.equal(one?.firstRv, 11n);
    assert.equal(c.size, 0);
  });

  it('flush emits everything pending at once; clear drops it', () => {
    const out: PendingNudge[] = [];
    const c = new Coalescer(60_000, (p) => out.push(p));
    c.add(makeNudge(rec(pod()), 'bound'));
    c.flush();
    assert.equal(out.length, 1);
    c.add(makeNudge(rec(pod()), 'bound'));
    c.clear();
    assert.equal(c.size, 0);
    assert.equal(out.length, 1);
  });

  it('orders reasons deleted > deleting > bound > changed > retry > resync', () => {
    assert.equal(strongerReason('resync', 'bound'), 'bound');
    assert.equal(strongerReason('deleted', 'changed'), 'deleted');
    assert.equal(strongerReason('deleting', 'bound'), 'deleting');
    assert.equal(strongerReason('changed', 'retry'), 'changed');
  });
});
