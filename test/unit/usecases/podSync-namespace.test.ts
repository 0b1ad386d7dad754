/**
 * pod-sync on a pod whose namespace is not enabled for the virtual node: the functions' RBAC (deploy/functions-rbac.yaml)
 * forbids reading or writing it, so pod-sync says so on the pod with an Event (allowed in every namespace) and looks
 * again at the longest backoff without counting an attempt; no ECI call. The real RBAC behind the 403 is checked in
 * test/integration/deploy/setup-functions.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForbiddenError } from '../../../shared/adapters/kube/errors.js';
import { PodSync } from '../../../shared/usecases/podSync.js';
import { makePod, nudgeOf, world } from './fakes.js';

describe('pod-sync: a namespace not enabled for the virtual node', () => {
  it('records NamespaceNotEnabled with the command that enables it, re-nudges at the longest backoff, calls no ECI', async () => {
    const w = world();
    const made = makePod();
    const pod = w.cluster.put({ ...made, metadata: { ...made.metadata, namespace: 'team-a' } });
    w.cluster.getPod = async () => {
      // the error the Kubernetes adapters throw for a 403
      throw new ForbiddenError('pods "x" is forbidden: User "system:serviceaccount:eci-bridge:eci-bridge-functions" cannot get resource "pods" in the namespace "team-a"', { status: 403, reason: 'Forbidden' });
    };
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'retry');
    const ev = w.cluster.events.find((e) => e.reason === 'NamespaceNotEnabled');
    assert.ok(ev, 'an Event on the pod');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.involvedObject.namespace, 'team-a');
    assert.equal(ev.involvedObject.uid, pod.metadata.uid);
    assert.match(ev.message ?? '', /setup-functions --enable-namespaces team-a/);
    assert.equal(w.queue.sent.length, 1);
    assert.equal(w.queue.sent[0]?.delaySeconds, w.deps.settings.retryMaxSeconds);
    assert.equal(w.queue.sent[0]?.message.attempt ?? 0, 0, 'not counted as a failed attempt');
    assert.equal(w.eci.calls.create + w.eci.calls.list + w.eci.calls.describe, 0);
  });
});
