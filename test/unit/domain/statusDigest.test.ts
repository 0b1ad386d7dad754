import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EciContainerGroup, EciGroupContainer } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { groupToPodStatus } from '../../../shared/domain/status.js';
import { groupStatusDigest, podStatusDigest } from '../../../shared/domain/statusDigest.js';
import { applyStatusPatch, statusPatch } from '../../../shared/usecases/context.js';
import { basePod } from './helpers.js';

const T0 = '2025-01-01T00:00:00Z';

const app = (over: Partial<EciGroupContainer> = {}): EciGroupContainer => ({ Name: 'app', Image: 'nginx:1.27', Ready: false, RestartCount: 0, ...over });
const side = (over: Partial<EciGroupContainer> = {}): EciGroupContainer => ({ Name: 'side', Image: 'busybox', Ready: false, RestartCount: 0, ...over });

function group(status: string, containers: EciGroupContainer[], extra: Partial<EciContainerGroup> = {}): EciContainerGroup {
  return { ContainerGroupId: 'eci-1', Status: status, CreationTime: T0, Containers: containers, ...extra };
}

/** A pod with both containers, converged onto `g` as pod-sync does (status patch merged by the server). */
function converge(pod: Pod, g: EciContainerGroup): Pod {
  const next = groupToPodStatus(g, pod, T0);
  return { ...pod, status: applyStatusPatch(pod.status, statusPatch(pod.status, next).patch) };
}

const running = { State: 'Running', StartTime: T0 };

/** A lifecycle of one group, each step a change a user sees. */
const steps: [string, EciContainerGroup][] = [
  ['pending, no container state', group('Pending', [app(), side()])],
  ['pending with an IP', group('Pending', [app(), side()], { IntranetIp: '10.0.0.7' })],
  ['pulling', group('Pending', [app({ CurrentState: { State: 'Waiting', Reason: 'Pulling' } }), side()], { IntranetIp: '10.0.0.7' })],
  ['pull failed', group('Pending', [app({ CurrentState: { State: 'Waiting', Reason: 'ErrImagePull' } }), side()], { IntranetIp: '10.0.0.7' })],
  ['running, not ready', group('Running', [app({ CurrentState: running }), side({ CurrentState: running })], { IntranetIp: '10.0.0.7' })],
  [
    'running, one ready',
    group('Running', [app({ CurrentState: running, Ready: true }), side({ CurrentState: running })], { IntranetIp: '10.0.0.7' }),
  ],
  [
    'running, ready',
    group('Running', [app({ CurrentState: running, Ready: true }), side({ CurrentState: running, Ready: true })], { IntranetIp: '10.0.0.7' }),
  ],
  [
    'a container restarted',
    group(
      'Running',
      [app({ CurrentState: running, Ready: true, RestartCount: 1 }), side({ CurrentState: running, Ready: true })],
      { IntranetIp: '10.0.0.7' },
    ),
  ],
  [
    'restarting',
    group('Restarting', [app({ CurrentState: { State: 'Waiting', Reason: 'Restarting' }, RestartCount: 1 }), side({ CurrentState: running })], {
      IntranetIp: '10.0.0.7',
    }),
  ],
  [
    'succeeded',
    group(
      'Succeeded',
      [
        app({ CurrentState: { State: 'Terminated', ExitCode: 0, Reason: 'Completed' }, RestartCount: 1 }),
        side({ CurrentState: { State: 'Terminated', ExitCode: 0, Reason: 'Completed' } }),
      ],
      { IntranetIp: '10.0.0.7' },
    ),
  ],
];

describe('status digest', () => {
  it('the digest of a group equals the digest of the pod once pod-sync applied it, at every step of a lifecycle', () => {
    let pod: Pod = basePod();
    pod.spec.containers = [
      { name: 'app', image: 'nginx:1.27' },
      { name: 'side', image: 'busybox' },
    ];
    const seen = new Set<string>();
    for (const [label, g] of steps) {
      const phase = pod.status?.phase;
      const predicted = groupStatusDigest(g, phase);
      assert.notEqual(predicted, podStatusDigest(pod.status), `${label}: the change shows in the digest`);
      pod = converge(pod, g);
      assert.equal(podStatusDigest(pod.status), predicted, `${label}: predicted = applied`);
      assert.equal(groupStatusDigest(g, pod.status?.phase), predicted, `${label}: stable once applied`);
      seen.add(predicted);
    }
    assert.equal(seen.size, steps.length, 'every step has its own digest');
  });

  it('Scheduling and Pending look the same to a user, and so digest the same', () => {
    assert.equal(groupStatusDigest(group('Scheduling', [app()]), 'Pending'), groupStatusDigest(group('Pending', [app()]), 'Pending'));
  });

  it('is 16 hex characters and ignores container order', () => {
    const a = groupStatusDigest(group('Running', [app({ CurrentState: running }), side()]), 'Pending');
    const b = groupStatusDigest(group('Running', [side(), app({ CurrentState: running })]), 'Pending');
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.equal(a, b);
  });

  it('a Running pod stays Running while ECI restarts the group (the phase never goes back)', () => {
    const restarting = group('Restarting', [app()]);
    assert.notEqual(groupStatusDigest(restarting, 'Running'), groupStatusDigest(restarting, 'Pending'));
  });
});
