/**
 * The emulator's lifecycle simulator, observed through the ECI adapter (real SDK over HTTP): the `eci-sim:`
 * command convention, restart policies, init containers, OOM, readiness, Terminating on delete, spot reclaim and
 * the retention of finished groups. A time scale makes simulated minutes pass in milliseconds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EciContainerGroup, EciCreateRequest, EciGroupContainer } from '../../../shared/domain/eci.js';
import { type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { EciContainerGroups } from '../../../shared/adapters/eci/index.js';
import { waitFor } from './helpers.js';

function adapterFor(emu: EciEmulator): EciContainerGroups {
  const cred = emu.credentials[0] as { accessKeyId: string; accessKeySecret: string };
  return new EciContainerGroups({
    regionId: 'cn-hangzhou',
    endpoint: emu.endpoint,
    protocol: 'http',
    credentials: cred,
    rateLimits: false,
  });
}

let n = 0;
function req(policy: 'Always' | 'OnFailure' | 'Never', containers: { command: string; name?: string }[], extra: Partial<EciCreateRequest> = {}): EciCreateRequest {
  n++;
  return {
    RegionId: 'cn-hangzhou',
    ContainerGroupName: `life-${n}`,
    ClientToken: `life-token-${n}-${Date.now()}`,
    RestartPolicy: policy,
    Container: containers.map((c, i) => ({
      Name: c.name ?? `c${i}`,
      Image: 'busybox:1.36',
      Command: ['/bin/sh', '-c', `run # eci-sim: ${c.command}`],
    })),
    ...extra,
  };
}

async function until(eci: EciContainerGroups, id: string, pred: (g: EciContainerGroup) => boolean, what: string): Promise<EciContainerGroup> {
  return waitFor(async () => {
    const [g] = await eci.describe([id]);
    return g && pred(g) ? g : undefined;
  }, what);
}

const first = (g: EciContainerGroup): EciGroupContainer => g.Containers?.[0] as EciGroupContainer;

describe('lifecycle (timeScale 0.001)', () => {
  let emu: EciEmulator;
  let eci: EciContainerGroups;
  before(async () => {
    emu = await startEciEmulator({ timeScale: 0.001 });
    eci = adapterFor(emu);
  });
  after(async () => {
    await emu.close();
  });

  it('sleep N reaches Succeeded with exit code 0', async () => {
    const { containerGroupId: id } = await eci.create(req('Never', [{ command: 'sleep 30' }]));
    const g = await until(eci, id, (x) => x.Status === 'Succeeded', 'Succeeded');
    const c = first(g);
    assert.equal(c.CurrentState?.State, 'Terminated');
    assert.equal(c.CurrentState?.ExitCode, 0);
    assert.equal(c.CurrentState?.Reason, 'Completed');
    assert.ok(g.SucceededTime);
    assert.ok(Date.parse(c.CurrentState?.FinishTime ?? '') >= Date.parse(c.CurrentState?.StartTime ?? ''));
    assert.equal(c.RestartCount, 0);
  });

  it('exit 3 reaches Failed with exit code 3', async () => {
    const { containerGroupId: id } = await eci.create(req('Never', [{ command: 'sleep 2; exit 3' }]));
    const g = await until(eci, id, (x) => x.Status === 'Failed', 'Failed');
    assert.equal(first(g).CurrentState?.ExitCode, 3);
    assert.equal(first(g).CurrentState?.Reason, 'Error');
    assert.ok(g.FailedTime);
  });

  it('Always restarts a container that exits, even with 0, and counts the restarts', async () => {
    const { containerGroupId: id } = await eci.create(req('Always', [{ command: 'sleep 1' }]));
    const g = await until(eci, id, (x) => (first(x).RestartCount ?? 0) >= 2, 'two restarts');
    assert.notEqual(g.Status, 'Succeeded');
    assert.equal(first(g).PreviousState?.State, 'Terminated');
    assert.equal(first(g).PreviousState?.ExitCode, 0);
    assert.ok(g.Events?.some((e) => e.Reason === 'BackOff'));
  });

  it('OnFailure restarts a failing container and lets a succeeding one finish', async () => {
    const failing = await eci.create(req('OnFailure', [{ command: 'crash-after 1' }]));
    const g = await until(eci, failing.containerGroupId, (x) => (first(x).RestartCount ?? 0) >= 2, 'restarts');
    assert.equal(first(g).PreviousState?.ExitCode, 1);
    assert.ok(['Running', 'Pending'].includes(g.Status));

    const ok = await eci.create(req('OnFailure', [{ command: 'sleep 1' }]));
    const done = await until(eci, ok.containerGroupId, (x) => x.Status === 'Succeeded', 'Succeeded');
    assert.equal(first(done).RestartCount, 0);
  });

  it('runs init containers first, in order', async () => {
    const request = req('Never', [{ command: 'sleep 5' }], {
      InitContainer: [
        { Name: 'init-a', Image: 'busybox', Command: ['sh', '-c', '# eci-sim: sleep 3'] },
        { Name: 'init-b', Image: 'busybox', Command: ['sh', '-c', '# eci-sim: sleep 3'] },
      ],
    });
    const { containerGroupId: id } = await eci.create(request);
    const g = await until(eci, id, (x) => x.Status === 'Succeeded', 'Succeeded');
    const [a, b] = g.InitContainers ?? [];
    const t = (s?: string) => Date.parse(s ?? '');
    assert.equal(a?.CurrentState?.ExitCode, 0);
    assert.ok(t(a?.CurrentState?.FinishTime) <= t(b?.CurrentState?.StartTime));
    assert.ok(t(b?.CurrentState?.FinishTime) <= t(first(g).CurrentState?.StartTime));
  });

  it('a failing init container with Never fails the group before the app starts', async () => {
    const { containerGroupId: id } = await eci.create(
      req('Never', [{ command: 'forever' }], {
        InitContainer: [{ Name: 'init', Image: 'busybox', Command: ['sh', '-c', '# eci-sim: exit 2'] }],
      }),
    );
    const g = await until(eci, id, (x) => x.Status === 'Failed', 'Failed');
    assert.equal(g.InitContainers?.[0]?.CurrentState?.ExitCode, 2);
    assert.equal(first(g).CurrentState?.State, 'Waiting');
  });

  it('oom is OOMKilled with exit code 137 and an OOMKilled event; not-ready never becomes Ready', async () => {
    const oom = await eci.create(req('Never', [{ command: 'oom-after 2' }]));
    const g = await until(eci, oom.containerGroupId, (x) => x.Status === 'Failed', 'Failed');
    assert.equal(first(g).CurrentState?.Reason, 'OOMKilled');
    assert.equal(first(g).CurrentState?.ExitCode, 137);
    assert.ok(g.Events?.some((e) => e.Reason === 'OOMKilled' && e.Type === 'Warning'));

    const nr = await eci.create(req('Always', [{ command: 'not-ready' }, { command: 'forever' }]));
    const running = await until(eci, nr.containerGroupId, (x) => x.Status === 'Running' && x.Containers?.[1]?.Ready === true, 'Running');
    assert.equal(first(running).Ready, false);
    assert.equal(first(running).CurrentState?.State, 'Running');
  });

  it('a container without the marker runs forever and is ready; logs hold what it wrote', async () => {
    const { containerGroupId: id } = await eci.create({
      RegionId: 'cn-hangzhou',
      ContainerGroupName: 'plain-nginx',
      Container: [{ Name: 'web', Image: 'nginx:1.25', Command: ['nginx', '-g', 'daemon off;'] }],
    });
    const g = await until(eci, id, (x) => x.Status === 'Running' && first(x).Ready === true, 'Ready');
    assert.equal(first(g).RestartCount, 0);
    const logs = await eci.logs(id, 'web');
    assert.match(logs, /container web started/);
  });
});

describe('lifecycle: deletion, spot reclaim, retention', () => {
  let emu: EciEmulator;
  let eci: EciContainerGroups;
  before(async () => {
    emu = await startEciEmulator({
      timeScale: 0.01,
      retainFinishedMs: 100,
      scenario: { keepLatestFinished: 2, spotReclaimSeconds: 20, schedulingSeconds: 1, imagePullSeconds: 1 },
    });
    eci = adapterFor(emu);
  });
  after(async () => {
    await emu.close();
  });

  it('delete goes Terminating (Killing event) for the grace period of a container ignoring SIGTERM, then the group is gone', async () => {
    const { containerGroupId: id } = await eci.create(
      req('Always', [{ command: 'ignore-sigterm' }], { TerminationGracePeriodSeconds: 50 }),
    );
    await until(eci, id, (x) => x.Status === 'Running', 'Running');
    await eci.delete(id);
    const [g] = await eci.describe([id]);
    assert.equal(g?.Status, 'Terminating');
    assert.ok(g?.Events?.some((e) => e.Reason === 'Killing'));
    await waitFor(async () => ((await eci.describe([id])).length === 0 ? true : undefined), 'gone');
    await eci.delete(id); // already gone: resolves
  });

  it('a spot group gets SpotToBeReleased, then Expired', async () => {
    const { containerGroupId: id } = await eci.create(req('Always', [{ command: 'forever' }], { SpotStrategy: 'SpotAsPriceGo' }));
    const g = await until(eci, id, (x) => x.Status === 'Expired', 'Expired');
    assert.ok(g.Events?.some((e) => e.Reason === 'SpotToBeReleased'));
    assert.ok(g.ExpiredTime);
  });

  it('keeps finished groups for the retention window, then only the latest N', async () => {
    const tag = { Key: 'retention', Value: String(Date.now()) };
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await eci.create(req('Never', [{ command: `sleep ${i}` }], { Tag: [tag] }));
      ids.push(r.containerGroupId);
    }
    const finished = await waitFor(async () => {
      const all = await eci.list({ tags: [tag] });
      return all.length === 2 && all.every((g) => g.Status === 'Succeeded') ? all : undefined;
    }, 'retention');
    assert.deepEqual(
      finished.map((g) => g.ContainerGroupId),
      ids.slice(2),
    );
  });
});
