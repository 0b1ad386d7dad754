import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EciContainerGroup, EciGroupStatusItem } from '../../../shared/domain/eci.js';
import { eciEventsToK8s } from '../../../shared/domain/events.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { groupStatusToPodStatus, groupToPodStatus, podStatusDiffers } from '../../../shared/domain/status.js';
import { basePod } from './helpers.js';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:01:00Z';
const T2 = '2025-01-01T00:02:00Z';

function group(status: string, extra: Partial<EciContainerGroup> = {}): EciContainerGroup {
  return { ContainerGroupId: 'eci-1', Status: status, CreationTime: T0, IntranetIp: '192.168.0.7', ...extra };
}
const running = (ready = true): EciContainerGroup['Containers'] => [
  { Name: 'app', Image: 'nginx:1.27', Ready: ready, RestartCount: 0, CurrentState: { State: 'Running', StartTime: T0 } },
];
const cond = (s: ReturnType<typeof groupToPodStatus>, t: string) => s.conditions?.find((c) => c.type === t);

describe('groupToPodStatus phases', () => {
  const cases: [string, Partial<EciContainerGroup>, string, string | undefined][] = [
    ['Scheduling', {}, 'Pending', undefined],
    ['Pending', {}, 'Pending', undefined],
    ['Running', { Containers: running() }, 'Running', undefined],
    ['Succeeded', {}, 'Succeeded', undefined],
    ['Failed', {}, 'Failed', undefined],
    ['ScheduleFailed', { Events: [{ Reason: 'NoStock', Message: 'no stock in zone', Type: 'Warning' }] }, 'Failed', 'NoStock'],
    ['ScheduleFailed', {}, 'Failed', 'ScheduleFailed'],
    ['Expired', { SpotStrategy: 'SpotAsPriceGo' }, 'Failed', 'SpotReclaimed'],
    ['Expired', {}, 'Failed', 'Expired'],
    ['StartingFailed', {}, 'Failed', 'StartingFailed'],
    ['WatingForDel', {}, 'Failed', 'WatingForDel'],
    ['Restarting', {}, 'Pending', undefined],
    ['Terminating', {}, 'Pending', undefined],
    ['SomethingNew', {}, 'Pending', undefined],
  ];
  for (const [status, extra, phase, reason] of cases) {
    it(`${status}${reason ? ` (${reason})` : ''} → ${phase}`, () => {
      const s = groupToPodStatus(group(status, extra), basePod(), T1);
      assert.equal(s.phase, phase);
      assert.equal(s.reason, reason);
      if (reason) assert.ok(s.message);
    });
  }

  it('never moves Running back to Pending (Restarting / Updating keep Running, Ready False)', () => {
    const pod = basePod();
    pod.status = groupToPodStatus(group('Running', { Containers: running() }), pod, T0);
    const s = groupToPodStatus(group('Restarting', { Containers: running(false) }), pod, T1);
    assert.equal(s.phase, 'Running');
    assert.equal(cond(s, 'Ready')?.status, 'False');
    const p2 = groupToPodStatus(group('Pending'), pod, T1);
    assert.equal(p2.phase, 'Running');
  });

  it('never changes a terminal pod', () => {
    const pod = basePod();
    pod.status = { phase: 'Succeeded', reason: 'x' };
    assert.deepEqual(groupToPodStatus(group('Running', { Containers: running() }), pod, T1), { phase: 'Succeeded', reason: 'x' });
  });

  it('spot reclaim adds DisruptionTarget', () => {
    const s = groupToPodStatus(group('Expired', { SpotStrategy: 'SpotWithPriceLimit' }), basePod(), T1);
    assert.equal(cond(s, 'DisruptionTarget')?.status, 'True');
  });
});

describe('groupToPodStatus details', () => {
  it('conditions change lastTransitionTime only on a transition', () => {
    const pod = basePod();
    pod.status = groupToPodStatus(group('Running', { Containers: running(false) }), pod, T0);
    assert.equal(cond(pod.status, 'Ready')?.status, 'False');
    const s1 = groupToPodStatus(group('Running', { Containers: running(false) }), pod, T1);
    assert.equal(cond(s1, 'Ready')?.lastTransitionTime, T0);
    assert.equal(podStatusDiffers(pod.status, s1), false);
    pod.status = s1;
    const s2 = groupToPodStatus(group('Running', { Containers: running(true) }), pod, T2);
    assert.equal(cond(s2, 'Ready')?.status, 'True');
    assert.equal(cond(s2, 'Ready')?.lastTransitionTime, T2);
    assert.equal(cond(s2, 'PodScheduled')?.lastTransitionTime, T0);
    assert.equal(podStatusDiffers(s1, s2), true);
  });

  it('container states: running, waiting, terminated with exit code/signal, lastState, restarts, ids; IPs, start time, QoS', () => {
    const pod = basePod();
    pod.spec.containers.push({ name: 'side', image: 'busybox' }, { name: 'late', image: 'x' });
    pod.spec.initContainers = [{ name: 'init', image: 'busybox' }];
    const g = group('Running', {
      Ipv6Address: 'fd00::7',
      InitContainers: [{ Name: 'init', CurrentState: { State: 'Terminated', ExitCode: 0, Reason: 'Completed', StartTime: T0, FinishTime: T0 } }],
      Containers: [
        ...(running() ?? []),
        {
          Name: 'side', Image: 'busybox', Ready: false, RestartCount: 2,
          CurrentState: { State: 'Terminated', ExitCode: 137, Signal: 9, Reason: 'OOMKilled', Message: 'oom', StartTime: T0, FinishTime: T1 },
          PreviousState: { State: 'Terminated', ExitCode: 1, StartTime: T0, FinishTime: T0 },
        },
      ],
    });
    const s = groupToPodStatus(g, pod, T1);
    const cs = Object.fromEntries((s.containerStatuses ?? []).map((c) => [c.name, c]));
    assert.deepEqual(cs.app?.state, { running: { startedAt: T0 } });
    assert.equal(cs.app?.ready, true);
    assert.equal(cs.app?.containerID, 'eci://eci-1/app/0');
    assert.deepEqual(cs.side?.state, { terminated: { exitCode: 137, signal: 9, reason: 'OOMKilled', message: 'oom', startedAt: T0, finishedAt: T1 } });
    assert.deepEqual(cs.side?.lastState, { terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T0 } });
    assert.equal(cs.side?.restartCount, 2);
    assert.deepEqual(cs.late?.state, { waiting: { reason: 'ContainerCreating' } });
    assert.deepEqual(s.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    assert.equal(cond(s, 'Initialized')?.status, 'True');
    assert.equal(cond(s, 'ContainersReady')?.status, 'False');
    assert.match(cond(s, 'ContainersReady')?.message ?? '', /side late/);
    assert.deepEqual([s.podIP, s.hostIP, s.podIPs], ['192.168.0.7', '192.168.0.7', [{ ip: '192.168.0.7' }, { ip: 'fd00::7' }]]);
    assert.equal(s.startTime, T0);
    assert.equal(s.qosClass, 'BestEffort');
  });

  it('waiting app containers say PodInitializing while init containers run', () => {
    const pod = basePod();
    pod.spec.initContainers = [{ name: 'init', image: 'b' }];
    const s = groupToPodStatus(group('Pending', { InitContainers: [{ Name: 'init', CurrentState: { State: 'Running', StartTime: T0 } }] }), pod, T1);
    assert.equal(s.containerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
    assert.equal(cond(s, 'Initialized')?.status, 'False');
  });

  it('from DescribeContainerGroupStatus, including the SDK StartedAtstartedAt key', () => {
    const item: EciGroupStatusItem = {
      ContainerGroupId: 'eci-9',
      Status: 'Running',
      PodStatus: {
        Phase: 'Running',
        PodIp: '10.0.0.9',
        StartTime: T0,
        ContainerStatuses: [
          { Name: 'app', Image: 'nginx:1.27', ImageID: 'sha256:abc', Ready: true, RestartCount: 1, State: { Running: { StartedAtstartedAt: T1 } }, LastState: { Terminated: { ExitCode: 2, ContainerID: 'containerd://old' } } },
        ],
      },
    };
    const s = groupStatusToPodStatus(item, basePod(), T2);
    const c = s.containerStatuses?.[0];
    assert.deepEqual(c?.state, { running: { startedAt: T1 } });
    assert.equal(c?.imageID, 'sha256:abc');
    assert.equal(c?.lastState?.terminated?.exitCode, 2);
    assert.equal(s.podIP, '10.0.0.9');
    assert.equal(cond(s, 'Ready')?.status, 'True');
  });

  it('podStatusDiffers ignores lastProbeTime and order', () => {
    const a = groupToPodStatus(group('Running', { Containers: running() }), basePod(), T0);
    const b = structuredClone(a);
    b.conditions?.reverse();
    for (const c of b.conditions ?? []) c.lastProbeTime = T2;
    assert.equal(podStatusDiffers(a, b), false);
    const c = structuredClone(a);
    if (c.containerStatuses?.[0]) c.containerStatuses[0].restartCount = 1;
    assert.equal(podStatusDiffers(a, c), true);
  });
});

describe('eciEventsToK8s', () => {
  it('maps reason, message, type, count with stable names', () => {
    const pod: Pod = basePod();
    const evs = eciEventsToK8s(
      [
        { Reason: 'NoStock', Message: 'sold out', Count: 3, FirstTimestamp: T0, LastTimestamp: T1 },
        { Reason: 'Pulled', Message: 'pulled', Type: 'Normal', FirstTimestamp: T0 },
      ],
      pod,
      { now: T2, host: 'vnode-1' },
    );
    assert.equal(evs.length, 2);
    const ns = evs.find((e) => e.reason === 'NoStock');
    assert.deepEqual([ns?.type, ns?.count, ns?.message, ns?.lastTimestamp], ['Warning', 3, 'sold out', T1]);
    assert.equal(ns?.involvedObject.uid, pod.metadata.uid);
    const again = eciEventsToK8s([{ Reason: 'NoStock', Message: 'sold out', Count: 4, FirstTimestamp: T0, LastTimestamp: T2 }], pod, { now: T2 });
    // ECI counted it again: same name (so the writer patches the one Event), ECI's new count and lastTimestamp
    assert.equal(again[0]?.metadata.name, ns?.metadata.name);
    assert.deepEqual([again[0]?.count, again[0]?.lastTimestamp], [4, T2]);
    // another occurrence (another first time) is another Event
    const other = eciEventsToK8s([{ Reason: 'NoStock', Message: 'sold out', FirstTimestamp: T2 }], pod, { now: T2 });
    assert.notEqual(other[0]?.metadata.name, ns?.metadata.name);
    assert.equal(evs.find((e) => e.reason === 'Pulled')?.type, 'Normal');
  });
});
