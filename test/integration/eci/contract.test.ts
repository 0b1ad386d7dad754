/**
 * Contract tests: the real @alicloud/eci20180808 SDK (V3 and V1 signatures, static keys and STS) against the ECI
 * emulator, for every action the bridge uses, plus the gateway's refusals (signature, key, timestamp, nonce,
 * token, unknown action) and request validation.
 *
 * Over 400 lines: one contract suite; its cases share the emulator and the SDK client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as teaUtil from '@alicloud/tea-util';
import { type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { createRequest, eciSdk, openapi, sdkClient, sdkError, tamperingProxy, waitFor } from './helpers.js';

const STS = { accessKeyId: 'STS.emulatorTemp', accessKeySecret: 'sts-secret', securityToken: 'sts-token-123' };

let emu: EciEmulator;
before(async () => {
  emu = await startEciEmulator({
    timeScale: 0.001,
    credentials: [{ accessKeyId: 'LTAIcontract', accessKeySecret: 'contract-secret' }, STS],
  });
});
after(async () => {
  await emu.close();
});

for (const signatureAlgorithm of [undefined, 'v2'] as const) {
  const label = signatureAlgorithm === 'v2' ? 'V1 HMAC-SHA1' : 'V3 ACS3-HMAC-SHA256';
  describe(`every action through the SDK (${label})`, () => {
    it('create, describe, status, events, log, exec, price, metrics, delete', async () => {
      // Prepare
      const eci = sdkClient(emu, { signatureAlgorithm });
      const tag = `sig-${signatureAlgorithm ?? 'v3'}`;
      // Act: create
      const created = await eci.createContainerGroup(
        createRequest({
          containerGroupName: 'web-1',
          clientToken: `token-${tag}`,
          restartPolicy: 'Never',
          tag: [{ key: 'suite', value: tag }],
          initContainer: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true # eci-sim: log init done; sleep 1'] }],
          container: [
            {
              name: 'app',
              image: 'nginx:1.25',
              cpu: 1,
              memory: 2,
              command: ['/bin/sh'],
              arg: ['-c', 'serve # eci-sim: log hello from app'],
              environmentVar: [{ key: 'MODE', value: 'test' }],
              port: [{ port: 80, protocol: 'TCP' }],
            },
          ],
          volume: [{ name: 'data', type: 'EmptyDirVolume', emptyDirVolume: {} }],
        }),
      );
      const id = created.body?.containerGroupId as string;
      // Assess: id and request id parsed by the SDK
      assert.match(id, /^eci-/);
      assert.ok(created.body?.requestId);

      // DescribeContainerGroups: wait until Running, check the parsed shape
      const group = await waitFor(async () => {
        const res = await eci.describeContainerGroups(
          new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou', containerGroupIds: JSON.stringify([id]) }),
        );
        const g = res.body?.containerGroups?.[0];
        return g?.status === 'Running' && g.containers?.[0]?.ready ? g : undefined;
      }, 'Running');
      assert.equal(group.containerGroupName, 'web-1');
      assert.match(group.intranetIp ?? '', /^10\./);
      assert.ok(group.creationTime);
      assert.deepEqual(
        group.tags?.map((t) => [t.key, t.value]),
        [['suite', tag]],
      );
      assert.equal(group.containers?.[0]?.currentState?.state, 'Running');
      assert.ok(group.containers?.[0]?.currentState?.startTime);
      assert.equal(group.containers?.[0]?.environmentVars?.[0]?.value, 'test');
      assert.equal(group.initContainers?.[0]?.currentState?.state, 'Terminated');
      assert.equal(group.initContainers?.[0]?.currentState?.exitCode, 0);
      assert.deepEqual(
        group.events?.map((e) => e.reason).filter((r) => r === 'Pulled' || r === 'Started'),
        ['Pulled', 'Started', 'Pulled', 'Started'],
      );

      // Status (Kubernetes-shaped) with SinceSecond
      const status = await eci.describeContainerGroupStatus(
        new eciSdk.DescribeContainerGroupStatusRequest({
          regionId: 'cn-hangzhou',
          containerGroupIds: JSON.stringify([id]),
          sinceSecond: 600,
        }),
      );
      const st = status.body?.data?.[0];
      assert.equal(st?.containerGroupId, id);
      assert.equal(st?.podStatus?.phase, 'Running');
      assert.equal(st?.podStatus?.containerStatuses?.[0]?.ready, true);
      assert.equal(st?.podStatus?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');

      // Events
      const events = await eci.describeContainerGroupEvents(
        new eciSdk.DescribeContainerGroupEventsRequest({ regionId: 'cn-hangzhou', containerGroupIds: JSON.stringify([id]) }),
      );
      const evs = events.body?.data?.[0]?.events ?? [];
      assert.ok(evs.some((e) => e.reason === 'Pulling' && e.involvedObject?.uid === id));

      // Logs: the lines the simulated containers wrote
      const log = await eci.describeContainerLog(
        new eciSdk.DescribeContainerLogRequest({ regionId: 'cn-hangzhou', containerGroupId: id, containerName: 'app' }),
      );
      assert.equal(log.body?.containerName, 'app');
      assert.match(log.body?.content ?? '', /hello from app/);
      const initLog = await eci.describeContainerLog(
        new eciSdk.DescribeContainerLogRequest({ regionId: 'cn-hangzhou', containerGroupId: id, containerName: 'init', tail: 1 }),
      );
      assert.equal((initLog.body?.content ?? '').trim().split('\n').length, 1);

      // Exec (sync)
      const exec = await eci.execContainerCommand(
        new eciSdk.ExecContainerCommandRequest({
          regionId: 'cn-hangzhou',
          containerGroupId: id,
          containerName: 'app',
          command: JSON.stringify(['echo', 'hi', 'there']),
          sync: true,
          TTY: false,
        }),
      );
      assert.equal(exec.body?.syncResponse, 'hi there\n');
      assert.match(exec.body?.webSocketUri ?? '', /^ws:\/\//);

      // Price: wrapper-object arrays parse
      const price = await eci.describeContainerGroupPrice(
        new eciSdk.DescribeContainerGroupPriceRequest({ regionId: 'cn-hangzhou', cpu: 2, memory: 4, spotStrategy: 'SpotAsPriceGo' }),
      );
      const p = price.body?.priceInfo?.price;
      assert.equal(p?.currency, 'CNY');
      assert.ok((p?.tradePrice ?? 0) > 0);
      assert.deepEqual(
        p?.detailInfos?.detailInfo?.map((d) => d.resource),
        ['Cpu', 'Memory'],
      );
      assert.equal(price.body?.priceInfo?.spotPrices?.spotPrice?.length, 1);

      // Metrics
      const metric = await eci.describeMultiContainerGroupMetric(
        new eciSdk.DescribeMultiContainerGroupMetricRequest({ regionId: 'cn-hangzhou', containerGroupIds: JSON.stringify([id]) }),
      );
      const rec = metric.body?.monitorDatas?.[0]?.records?.[0];
      assert.equal(metric.body?.monitorDatas?.[0]?.containerGroupId, id);
      assert.equal(rec?.containers?.[0]?.name, 'app');
      assert.ok((rec?.memory?.usageBytes ?? 0) > 0);

      // Delete: Terminating, then gone
      await eci.deleteContainerGroup(new eciSdk.DeleteContainerGroupRequest({ regionId: 'cn-hangzhou', containerGroupId: id }));
      await waitFor(async () => {
        const res = await eci.describeContainerGroups(
          new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou', containerGroupIds: JSON.stringify([id]) }),
        );
        return res.body?.containerGroups?.length === 0 ? true : undefined;
      }, 'deleted');
      const again = await sdkError(
        eci.deleteContainerGroup(new eciSdk.DeleteContainerGroupRequest({ regionId: 'cn-hangzhou', containerGroupId: id })),
      );
      assert.equal(again.code, 'InvalidParameter.NotFound');
    });
  });
}

describe('STS security tokens', () => {
  for (const signatureAlgorithm of [undefined, 'v2'] as const) {
    it(`accepts the right token and refuses a wrong or missing one (${signatureAlgorithm ?? 'v3'})`, async () => {
      const ok = sdkClient(emu, { ...STS, signatureAlgorithm });
      const res = await ok.describeContainerGroups(new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou' }));
      assert.ok(res.body?.requestId);

      const wrong = await sdkError(
        sdkClient(emu, { ...STS, securityToken: 'other-token', signatureAlgorithm }).describeContainerGroups(
          new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou' }),
        ),
      );
      assert.equal(wrong.code, 'InvalidSecurityToken.MismatchWithAccessKey');
      assert.equal(wrong.statusCode, 400);

      const missing = await sdkError(
        sdkClient(emu, { ...STS, securityToken: undefined, signatureAlgorithm }).describeContainerGroups(
          new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou' }),
        ),
      );
      assert.equal(missing.code, 'MissingSecurityToken');
    });
  }
});

describe('gateway refusals', () => {
  const list = () => new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou' });

  it('refuses a wrong secret with SignatureDoesNotMatch (400) and a cloud-shaped body', async () => {
    for (const signatureAlgorithm of [undefined, 'v2'] as const) {
      const err = await sdkError(sdkClient(emu, { accessKeySecret: 'not-the-secret', signatureAlgorithm }).describeContainerGroups(list()));
      assert.equal(err.code, 'SignatureDoesNotMatch');
      assert.equal(err.statusCode, 400);
      for (const k of ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']) assert.ok(err.data[k], `error body has ${k}`);
      assert.equal(err.data.HostId, 'eci.cn-hangzhou.aliyuncs.com');
    }
  });

  it('refuses an unknown key with InvalidAccessKeyId.NotFound (404)', async () => {
    const err = await sdkError(sdkClient(emu, { accessKeyId: 'LTAInobody' }).describeContainerGroups(list()));
    assert.equal(err.code, 'InvalidAccessKeyId.NotFound');
    assert.equal(err.statusCode, 404);
  });

  it('refuses a request whose signature was tampered with on the way', async () => {
    const proxy = await tamperingProxy(emu.endpoint, (h) => {
      const auth = String(h.authorization ?? '');
      const last = auth.slice(-1);
      h.authorization = auth.slice(0, -1) + (last === '0' ? '1' : '0');
      h.host = emu.endpoint;
    });
    try {
      const err = await sdkError(sdkClient(emu, { endpoint: proxy.endpoint }).describeContainerGroups(list()));
      assert.equal(err.code, 'SignatureDoesNotMatch');
    } finally {
      await proxy.close();
    }
  });

  it('refuses a request whose parameters were changed after signing', async () => {
    const proxy = await tamperingProxy(emu.endpoint, (h) => {
      h.host = emu.endpoint;
      h['x-acs-action'] = 'DeleteContainerGroup';
    });
    try {
      const err = await sdkError(sdkClient(emu, { endpoint: proxy.endpoint }).describeContainerGroups(list()));
      assert.equal(err.code, 'SignatureDoesNotMatch');
    } finally {
      await proxy.close();
    }
  });

  it('refuses a stale timestamp and a reused nonce', async () => {
    const stale = await sdkError(
      sdkClient(emu, { globalHeaders: { 'x-acs-date': '2020-01-01T00:00:00Z' } }).describeContainerGroups(list()),
    );
    assert.equal(stale.code, 'InvalidTimeStamp.Expired');
    const fixedNonce = sdkClient(emu, { globalHeaders: { 'x-acs-signature-nonce': `nonce-${Date.now()}` } });
    await fixedNonce.describeContainerGroups(list());
    const reused = await sdkError(fixedNonce.describeContainerGroups(list()));
    assert.equal(reused.code, 'SignatureNonceUsed');
  });

  it('answers an unknown action with InvalidAction.NotFound (404); CreateContainerGroup refuses undocumented parameter names', async () => {
    const eci = sdkClient(emu);
    const call = (action: string, query: Record<string, string>) =>
      eci.callApi(
        new openapi.Params({
          action,
          version: '2018-08-08',
          protocol: 'HTTP',
          pathname: '/',
          method: 'POST',
          authType: 'AK',
          style: 'RPC',
          reqBodyType: 'formData',
          bodyType: 'json',
        }),
        new openapi.OpenApiRequest({ query }),
        new teaUtil.RuntimeOptions({}),
      );
    const err = await sdkError(call('NoSuchAction', { RegionId: 'cn-hangzhou' }));
    assert.equal(err.code, 'InvalidAction.NotFound');
    assert.equal(err.statusCode, 404);
    // documented on the API page though not in SDK 2.0.3: accepted, and kept as received
    const base = { RegionId: 'cn-hangzhou', 'Container.1.Name': 'app', 'Container.1.Image': 'nginx' };
    const res = (await call('CreateContainerGroup', {
      ...base,
      ContainerGroupName: 'newer-params',
      'ComputeCategory.1': 'economy',
      MaxPendingMinute: '30',
      GpuDriverVersion: 'tesla=525.85.12',
    })) as { body: { ContainerGroupId?: string } };
    const id = res.body.ContainerGroupId ?? '';
    assert.match(id, /^eci-/);
    const params = emu.creates().find((c) => c.id === id)?.params ?? {};
    assert.deepEqual([params['ComputeCategory.1'], params.MaxPendingMinute, params.GpuDriverVersion], ['economy', '30', 'tesla=525.85.12']);
    // a misspelt or invented name never counts as arrived: refused, nothing created
    const bads: Record<string, string>[] = [{ MaxPendingMinutes: '30' }, { 'Container.1.Foo': 'x' }, { 'Tag.1.Kay': 'k' }, { 'ComputeCategory.economy': 'x' }, { Container: 'x' }];
    for (const bad of bads) {
      const before = emu.creates().length;
      const err = await sdkError(call('CreateContainerGroup', { ...base, ContainerGroupName: 'bad-params', ...bad }));
      assert.equal(err.code, 'InvalidParameter', JSON.stringify(bad));
      assert.ok(err.message.includes(`"${Object.keys(bad)[0]}"`), err.message);
      assert.equal(emu.creates().length, before);
    }
  });
});

describe('CreateContainerGroup validation and idempotency', () => {
  it('answers InvalidParameter / MissingParameter for bad requests', async () => {
    const eci = sdkClient(emu);
    const cases: [Record<string, unknown>, string][] = [
      [{ containerGroupName: undefined }, 'MissingParameter'],
      [{ containerGroupName: 'Web_1' }, 'InvalidParameter'],
      [{ containerGroupName: '-web' }, 'InvalidParameter'],
      [{ containerGroupName: 'a' }, 'InvalidParameter'],
      [{ containerGroupName: 'x'.repeat(129) }, 'InvalidParameter'],
      [{ containerGroupName: 'ok-name', container: [{ name: 'app' }] }, 'MissingParameter'],
      [
        {
          containerGroupName: 'ok-name',
          container: Array.from({ length: 21 }, (_, i) => ({ name: `c${i}`, image: 'nginx' })),
        },
        'InvalidParameter',
      ],
      [{ containerGroupName: 'ok-name', tag: Array.from({ length: 21 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }, 'InvalidParameter'],
      [{ containerGroupName: 'ok-name', restartPolicy: 'Sometimes' }, 'InvalidParameter'],
      [{ containerGroupName: 'ok-name', container: [{ name: 'a', image: 'x', volumeMount: [{ name: 'nope', mountPath: '/x' }] }] }, 'InvalidParameter'],
      [{ containerGroupName: 'ok-name', cpu: 128 }, 'InvalidParameter'],
      [{ containerGroupName: 'ok-name', spotStrategy: 'SpotWithPriceLimit' }, 'MissingParameter'],
    ];
    const before = emu.groups().length;
    for (const [fields, code] of cases) {
      const err = await sdkError(eci.createContainerGroup(createRequest(fields)));
      assert.equal(err.code, code, JSON.stringify(fields).slice(0, 120));
      assert.equal(err.statusCode, 400);
    }
    assert.equal(emu.groups().length, before, 'no group created by a refused request');
  });

  it('DryRun validates without creating', async () => {
    const before = emu.groups().length;
    const err = await sdkError(sdkClient(emu).createContainerGroup(createRequest({ containerGroupName: 'dry', dryRun: true })));
    assert.equal(err.code, 'DryRun.Success');
    assert.equal(emu.groups().length, before);
  });

  it('50 concurrent creates with one ClientToken make exactly one group', async () => {
    const eci = sdkClient(emu);
    const token = `uid-${Date.now()}`;
    const ids = await Promise.all(
      Array.from({ length: 50 }, () =>
        eci.createContainerGroup(createRequest({ containerGroupName: 'same', clientToken: token, tag: [{ key: 'tok', value: token }] })),
      ),
    );
    assert.equal(new Set(ids.map((r) => r.body?.containerGroupId)).size, 1);
    assert.equal(emu.groups().filter((g) => (g.Tags as { Value: string }[]).some((t) => t.Value === token)).length, 1);
    const mismatch = await sdkError(eci.createContainerGroup(createRequest({ containerGroupName: 'different', clientToken: token })));
    assert.equal(mismatch.code, 'IdempotentParameterMismatch');
  });
});

describe('DescribeContainerGroups paging and filters', () => {
  it('pages by 20 with NextToken and filters by tag and status; refuses Limit > 20 and > 20 ids', async () => {
    const eci = sdkClient(emu);
    const run = `page-${Date.now()}`;
    const made: string[] = [];
    for (let i = 0; i < 45; i++) {
      const r = await eci.createContainerGroup(
        createRequest({ containerGroupName: `p-${i}`, tag: [{ key: 'run', value: run }, { key: 'half', value: String(i % 2) }] }),
      );
      made.push(r.body?.containerGroupId as string);
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const res = await eci.describeContainerGroups(
        new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou', tag: [{ key: 'run', value: run }], limit: 20, nextToken: token }),
      );
      sizes.push(res.body?.containerGroups?.length ?? 0);
      assert.equal(res.body?.totalCount, 45);
      for (const g of res.body?.containerGroups ?? []) seen.push(g.containerGroupId as string);
      token = res.body?.nextToken || undefined;
    } while (token);
    assert.deepEqual(sizes, [20, 20, 5]);
    assert.deepEqual(seen, made);

    const half = await eci.describeContainerGroups(
      new eciSdk.DescribeContainerGroupsRequest({
        regionId: 'cn-hangzhou',
        tag: [
          { key: 'run', value: run },
          { key: 'half', value: '1' },
        ],
      }),
    );
    assert.equal(half.body?.totalCount, 22);

    const running = await waitFor(async () => {
      const res = await eci.describeContainerGroups(
        new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou', tag: [{ key: 'run', value: run }], status: 'Running' }),
      );
      return res.body?.totalCount === 45 ? res : undefined;
    }, 'all Running');
    assert.ok(running.body?.containerGroups?.every((g) => g.status === 'Running'));

    const tooMany = await sdkError(
      eci.describeContainerGroups(new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou', limit: 21 })),
    );
    assert.equal(tooMany.code, 'InvalidParameter');
    const ids = await sdkError(
      eci.describeContainerGroups(
        new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou', containerGroupIds: JSON.stringify(made.slice(0, 21)) }),
      ),
    );
    assert.equal(ids.code, 'InvalidParameter');
    const unknown = await eci.describeContainerGroups(
      new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou', containerGroupIds: JSON.stringify([made[0], 'eci-unknown']) }),
    );
    assert.deepEqual(
      unknown.body?.containerGroups?.map((g) => g.containerGroupId),
      [made[0]],
    );
  });
});

describe('call counting', () => {
  it('counts every call by action, refused ones included', async () => {
    emu.resetCalls();
    const eci = sdkClient(emu);
    await eci.describeContainerGroups(new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou' }));
    await sdkError(sdkClient(emu, { accessKeySecret: 'bad' }).describeContainerGroups(new eciSdk.DescribeContainerGroupsRequest({ regionId: 'cn-hangzhou' })));
    await eci.describeContainerGroupPrice(new eciSdk.DescribeContainerGroupPriceRequest({ regionId: 'cn-hangzhou' }));
    const calls = emu.calls();
    assert.equal(calls.total, 3);
    assert.deepEqual(calls.byAction, { DescribeContainerGroups: 2, DescribeContainerGroupPrice: 1 });
    assert.equal(calls.errors.SignatureDoesNotMatch, 1);
  });
});
