import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CreatedGroup, checkInvariants, deadLetterReason, fallbackToken, type Observation } from '../../../scripts/chaos/invariants.js';
import type { EciContainerGroup } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { encodeBody } from '../../../shared/domain/messages-codec.js';
import { encodeMessage } from '../../../shared/domain/messages.js';
import { TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID } from '../../../shared/domain/names.js';
import { groupToPodStatus } from '../../../shared/domain/status.js';

const NOW = '2030-01-01T00:00:00.000Z';

function pod(name: string, extra: { restartPolicy?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'chaos', uid: `uid-${name}`, creationTimestamp: '2029-12-31T23:59:00Z' },
    spec: { nodeName: 'vnode', containers: [{ name: 'main', image: 'nginx' }], ...extra },
  } as Pod;
}

function group(p: Pod, id: string, status: string, exitCode?: number): EciContainerGroup {
  const state =
    status === 'Running'
      ? { State: 'Running', StartTime: '2029-12-31T23:59:30Z' }
      : status === 'Succeeded' || status === 'Failed'
        ? { State: 'Terminated', ExitCode: exitCode ?? 0, StartTime: '2029-12-31T23:59:30Z', FinishTime: '2029-12-31T23:59:50Z' }
        : { State: 'Waiting', Reason: 'ContainerCreating' };
  return {
    ContainerGroupId: id,
    Status: status,
    Tags: [
      { Key: TAG_POD_UID, Value: p.metadata.uid ?? '' },
      { Key: TAG_NAMESPACE, Value: 'chaos' },
      { Key: TAG_POD_NAME, Value: p.metadata.name ?? '' },
    ],
    Containers: [{ Name: 'main', Image: 'nginx', Ready: status === 'Running', RestartCount: 0, CurrentState: state }],
  } as EciContainerGroup;
}

/** The pod as the bridge leaves it once converged: its status is what its group implies. */
function converged(p: Pod, g: EciContainerGroup): Pod {
  return { ...p, status: groupToPodStatus(g, p, NOW) };
}

/** What the emulator records when it creates `g` with `clientToken`. */
function created(g: EciContainerGroup, clientToken: string | undefined): CreatedGroup {
  return { id: g.ContainerGroupId, ...(clientToken ? { clientToken } : {}), tags: g.Tags ?? [] };
}

function observe(o: Partial<Observation>): Observation {
  // by default every group present was created once, with its pod's UID as ClientToken
  const creates = o.creates ?? (o.groups ?? []).map((g) => created(g, g.Tags?.find((t) => t.Key === TAG_POD_UID)?.Value));
  return { pods: [], groups: [], deadLetters: [], warnings: new Map(), nowIso: NOW, ...o, creates };
}

describe('chaos invariants', () => {
  it('a converged world violates nothing: running pods, a finished Job, a Succeeded pod whose group ECI forgot', () => {
    const web = pod('web');
    const job = pod('job', { restartPolicy: 'Never' });
    const old = pod('old-job', { restartPolicy: 'Never' });
    const gWeb = group(web, 'eci-1', 'Running');
    const gJob = group(job, 'eci-2', 'Succeeded');
    const forgotten = converged(old, group(old, 'eci-3', 'Succeeded'));
    const v = checkInvariants(observe({ pods: [converged(web, gWeb), converged(job, gJob), forgotten], groups: [gWeb, gJob] }));
    assert.deepEqual(v.violations, []);
    assert.equal(v.converged, true);
    assert.equal(converged(job, gJob).status?.phase, 'Succeeded', 'the fixture really is a finished Job');
  });

  it('counts every group ever created beyond the first of a pod as a duplicate, naming them, even one cleaned up since', () => {
    const web = pod('web');
    const g1 = group(web, 'eci-1', 'Running');
    const g2 = group(web, 'eci-2', 'Running');
    // both still there
    const both = checkInvariants(observe({ pods: [converged(web, g1)], groups: [g1, g2] }));
    assert.equal(both.duplicates, 1);
    assert.equal(both.converged, false);
    // a transient duplicate: created with another token, deleted again (by pod-sync or gc) before the end
    const transient = checkInvariants(
      observe({ pods: [converged(web, g1)], groups: [g1], creates: [created(g1, 'uid-web'), created(g2, 'minted-token')] }),
    );
    assert.equal(transient.duplicates, 1);
    assert.equal(transient.converged, false);
    assert.match(
      transient.violations.join('\n'),
      /duplicate: chaos\/web uid uid-web had 2 container groups created over the run \(1 with its UID as ClientToken, 0 by the fallback variant, 1 other\): eci-1 token uid-web, eci-2 token minted-token/,
    );
    // one group, but not under a token the bridge uses
    const stray = checkInvariants(observe({ pods: [converged(web, g1)], groups: [g1], creates: [created(g1, undefined)] }));
    assert.equal(stray.duplicates, 1);
    assert.match(stray.violations.join('\n'), /neither its UID nor the fallback's/);
  });

  it('counts the spot → on-demand fallback variant apart: alone it is fine, beside the spot group a duplicate', () => {
    const spot = pod('spot');
    const g = group(spot, 'eci-7', 'Running');
    const alone = checkInvariants(observe({ pods: [converged(spot, g)], groups: [g], creates: [created(g, fallbackToken('uid-spot'))] }));
    assert.deepEqual(alone.violations, []);
    assert.equal(alone.fallbacks, 1);
    assert.equal(alone.duplicates, 0);
    const g0 = group(spot, 'eci-6', 'Running');
    const twice = checkInvariants(
      observe({ pods: [converged(spot, g)], groups: [g], creates: [created(g0, 'uid-spot'), created(g, fallbackToken('uid-spot'))] }),
    );
    assert.equal(twice.duplicates, 1);
    assert.equal(twice.fallbacks, 1);
  });

  it('a group whose pod is gone is an orphan; a live pod without a group is lost, and so is a pod that vanished', () => {
    const gone = pod('gone');
    const pending = pod('pending');
    const v = checkInvariants(
      observe({ pods: [{ ...pending, status: { phase: 'Pending' } }], groups: [group(gone, 'eci-9', 'Running')], vanished: ['chaos/ghost'] }),
    );
    assert.equal(v.orphans, 1);
    assert.equal(v.lost, 2);
    assert.match(v.violations.join('\n'), /orphan: group eci-9 \(Running\) of chaos\/gone uid uid-gone/);
    assert.match(v.violations.join('\n'), /lost: chaos\/pending is Pending and has no container group/);
    assert.match(v.violations.join('\n'), /lost: chaos\/ghost disappeared/);
  });

  it('a pod whose status lags its group, or that the bridge failed while the group runs, is mismatched', () => {
    const lagging = pod('lagging');
    const failed = pod('failed');
    const gl = group(lagging, 'eci-1', 'Running');
    const gf = group(failed, 'eci-2', 'Running');
    const stale = converged(lagging, group(lagging, 'eci-1', 'Pending'));
    const v = checkInvariants(
      observe({ pods: [stale, { ...failed, status: { phase: 'Failed', reason: 'ContainerGroupNotFound' } }], groups: [gl, gf] }),
    );
    assert.equal(v.mismatched, 2);
    assert.match(v.violations.join('\n'), /mismatch: chaos\/lagging is Pending .* group eci-1 is Running, which means Running/);
    assert.match(v.violations.join('\n'), /mismatch: chaos\/failed is Failed .* which means Running; pod says ContainerGroupNotFound/);
  });

  it('an unfinished deletion is a violation', () => {
    const p = pod('deleting');
    const g = group(p, 'eci-1', 'Running');
    const dying = { ...converged(p, g), metadata: { ...p.metadata, deletionTimestamp: '2029-12-31T23:59:59Z' } };
    const v = checkInvariants(observe({ pods: [dying], groups: [g] }));
    assert.equal(v.terminating, 1);
    assert.equal(v.converged, false);
  });

  it('a pod that has not converged needs a Warning Event; with one it is only unconverged', () => {
    const p = { ...pod('stuck'), status: { phase: 'Pending' as const } };
    const without = checkInvariants(observe({ pods: [p] }));
    assert.equal(without.stuckWithoutEvent, 1);
    assert.match(without.violations.join('\n'), /stuck without an Event: chaos\/stuck/);
    const withEvent = checkInvariants(observe({ pods: [p], warnings: new Map([['uid-stuck', ['ProviderCapacity']]]) }));
    assert.equal(withEvent.stuckWithoutEvent, 0);
    assert.equal(withEvent.lost, 1);
  });

  it("accepts dead letters in pod-sync's wrapper with a reason, and flags any other shape", () => {
    const nudge = encodeMessage({ v: 1, kind: 'pod', namespace: 'chaos', name: 'p', uid: 'u', reason: 'bound' });
    const wrapped = encodeBody({ deadLetter: { reason: 'malformed', detail: 'x', messageId: 'm', at: NOW, source: 'pod-sync' }, body: 'x' });
    const noReason = encodeBody({ deadLetter: { reason: '', detail: 'x' }, body: 'x' });
    assert.equal(deadLetterReason(wrapped), 'malformed');
    assert.equal(deadLetterReason(noReason), undefined);
    assert.equal(deadLetterReason(nudge), undefined);
    assert.equal(deadLetterReason('garbage~'), undefined);
    const v = checkInvariants(observe({ deadLetters: [wrapped, nudge, noReason] }));
    assert.equal(v.deadLetters, 3);
    assert.equal(v.deadLettersWithoutReason, 2);
    assert.equal(v.converged, true, 'dead letters are reported apart from convergence');
  });
});
