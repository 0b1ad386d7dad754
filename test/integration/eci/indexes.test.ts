/**
 * The emulator's lookups by tag and name, its lazy lifecycle advancement and its cached group renderings,
 * observed through the real SDK on a virtual clock: filters see creations and deletions at once, an id list
 * answers in creation order, and a group's answer changes as soon as its simulated time has come.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { type EciClient, eciSdk, sdkClient } from './helpers.js';

describe('ECI emulator: indexes, lazy advancement, cached answers (virtual clock)', () => {
  let emu: EciEmulator;
  let sdk: EciClient;
  let offset = 0;
  const base = Date.now();
  before(async () => {
    emu = await startEciEmulator({
      clock: { now: () => base + offset },
      scenario: { schedulingSeconds: 2, imagePullSeconds: 3, startSeconds: 1 },
    });
    sdk = sdkClient(emu);
  });
  after(async () => {
    await emu.close();
  });

  const create = async (name: string, tags: { Key: string; Value: string }[]): Promise<string> => {
    const r = await sdk.createContainerGroup(
      new eciSdk.CreateContainerGroupRequest({
        regionId: 'cn-hangzhou',
        containerGroupName: name,
        container: [new eciSdk.CreateContainerGroupRequestContainer({ name: 'app', image: 'nginx:1.25' })],
        tag: tags.map((t) => new eciSdk.CreateContainerGroupRequestTag({ key: t.Key, value: t.Value })),
      }),
    );
    return r.body?.containerGroupId as string;
  };
  const describeBy = async (filter: { name?: string; tags?: { Key: string; Value?: string }[]; ids?: string[] }) => {
    const r = await sdk.describeContainerGroups(
      new eciSdk.DescribeContainerGroupsRequest({
        regionId: 'cn-hangzhou',
        containerGroupName: filter.name,
        containerGroupIds: filter.ids ? JSON.stringify(filter.ids) : undefined,
        tag: filter.tags?.map((t) => new eciSdk.DescribeContainerGroupsRequestTag({ key: t.Key, value: t.Value })),
      }),
    );
    return {
      ids: (r.body?.containerGroups ?? []).map((g) => g.containerGroupId as string),
      statuses: (r.body?.containerGroups ?? []).map((g) => g.status as string),
      total: r.body?.totalCount,
    };
  };

  it('tag (key only and key + value) and name filters follow creations and deletions, in creation order', async () => {
    const run = `r${process.pid}`;
    const a = await create(`${run}-a`, [{ Key: `team-${run}`, Value: 'blue' }]);
    const b = await create(`${run}-b`, [{ Key: `team-${run}`, Value: 'red' }, { Key: `app-${run}`, Value: 'web' }]);
    const c = await create(`${run}-c`, [{ Key: `team-${run}`, Value: 'blue' }, { Key: `app-${run}`, Value: 'web' }]);

    assert.deepEqual((await describeBy({ tags: [{ Key: `team-${run}` }] })).ids, [a, b, c]);
    assert.deepEqual((await describeBy({ tags: [{ Key: `team-${run}`, Value: 'blue' }] })).ids, [a, c]);
    assert.deepEqual(
      (await describeBy({ tags: [{ Key: `team-${run}`, Value: 'blue' }, { Key: `app-${run}`, Value: 'web' }] })).ids,
      [c],
    );
    assert.deepEqual((await describeBy({ name: `${run}-b` })).ids, [b]);
    assert.deepEqual((await describeBy({ name: `${run}-b`, tags: [{ Key: `team-${run}`, Value: 'blue' }] })).ids, []);
    // an id list answers in creation order, whatever the order asked
    assert.deepEqual((await describeBy({ ids: [c, a, b] })).ids, [a, b, c]);

    // a group still scheduling vanishes at once on delete: every filter forgets it
    await sdk.deleteContainerGroup(new eciSdk.DeleteContainerGroupRequest({ regionId: 'cn-hangzhou', containerGroupId: a }));
    const left = await describeBy({ tags: [{ Key: `team-${run}`, Value: 'blue' }] });
    assert.deepEqual(left.ids, [c]);
    assert.equal(left.total, 1);
    assert.deepEqual((await describeBy({ name: `${run}-a` })).ids, []);
    assert.deepEqual((await describeBy({ ids: [a, b] })).ids, [b]);
  });

  it('a group answers Scheduling, Pending, Running exactly as its simulated steps come due', async () => {
    const id = await create(`steps-${process.pid}`, [{ Key: 'steps', Value: String(process.pid) }]);
    const statusAt = async () => (await describeBy({ ids: [id] })).statuses[0];
    assert.equal(await statusAt(), 'Scheduling');
    assert.equal(await statusAt(), 'Scheduling'); // the cached answer, time has not moved
    offset += 1999;
    assert.equal(await statusAt(), 'Scheduling');
    offset += 1; // scheduled at 2 s
    assert.equal(await statusAt(), 'Pending');
    offset += 3000 + 1000 - 1; // pulled at 5 s, started at 6 s
    assert.equal(await statusAt(), 'Pending');
    offset += 1;
    assert.equal(await statusAt(), 'Running');
    const state = emu.states().find((s) => s.id === id);
    assert.equal(state?.status, 'Running');
    assert.equal((state?.since ?? 0) - (state?.createdAt ?? 0), 6000);
  });
});
