/**
 * The ECI adapter against the emulator through the real SDK: retries under injected throttling, 5xx and lost
 * responses (no duplicates, no surfaced errors, bounded attempts with backoff), the error classes, credential
 * rotation, batching and paging, client-side rate limits, and secret-free errors and logs.
 *
 * Over 400 lines: one suite per port (the ECI adapter against the emulator); its cases share one set-up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { EciContainerGroups, EciError, type EciAdapterOptions } from '../../../shared/adapters/eci/index.js';
import type { EciCreateRequest } from '../../../shared/domain/eci.js';
import type { Clock, Logger } from '../../../shared/ports/index.js';

const KEY = { accessKeyId: 'LTAIadapter', accessKeySecret: 'adapter-secret-value' };

function adapter(emu: EciEmulator, extra: Partial<EciAdapterOptions> = {}): EciContainerGroups {
  return new EciContainerGroups({
    regionId: 'cn-hangzhou',
    endpoint: emu.endpoint,
    protocol: 'http',
    credentials: KEY,
    rateLimits: false,
    ...extra,
  });
}

function createReq(name: string, token: string, extra: Partial<EciCreateRequest> = {}): EciCreateRequest {
  return {
    RegionId: 'cn-hangzhou',
    ContainerGroupName: name,
    ClientToken: token,
    Container: [{ Name: 'app', Image: 'nginx:1.25' }],
    ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<EciError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof EciError, `expected an EciError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a failure');
}

/** A clock that really sleeps (briefly) and records every sleep. */
function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise((r) => setTimeout(r, ms));
    },
  };
}

/** A virtual clock: sleeping advances time instantly. */
function virtualClock(): Clock & { slept: () => number } {
  let t = 1_000_000;
  let total = 0;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
      total += ms;
      await new Promise((r) => setImmediate(r));
    },
    slept: () => total,
  };
}

let emu: EciEmulator;
before(async () => {
  emu = await startEciEmulator({ timeScale: 0.001, credentials: [KEY], scenario: { seed: 7 } });
});
after(async () => {
  await emu.close();
});

describe('retries under injected faults', () => {
  it('200 creates with 30% throttling, 10% 5xx and lost responses: no duplicate, no error, bounded backoff', async () => {
    // Prepare
    emu.setFaults(
      {
        actions: {
          CreateContainerGroup: {
            errors: [
              { code: 'Throttling.User', rate: 0.3 },
              { code: 'ServiceUnavailable', rate: 0.1 },
            ],
            crashAfterCreateRate: 0.05,
          },
        },
      },
      1234,
    );
    emu.resetCalls();
    const clock = recordingClock();
    const policy = { maxAttempts: 12, baseDelayMs: 2, maxDelayMs: 40 };
    const eci = adapter(emu, { clock, retry: policy });
    const run = `faults-${Date.now()}`;

    // Act
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        eci.create(createReq(`f-${i}`, `${run}-${i}`, { Tag: [{ Key: 'run', Value: run }] })),
      ),
    );
    emu.setFaults({});

    // Assess: one group per token, every create answered
    const ids = results.map((r) => r.containerGroupId);
    assert.equal(new Set(ids).size, 200);
    const groups = emu.groups().filter((g) => (g.Tags as { Value: string }[]).some((t) => t.Value === run));
    assert.equal(groups.length, 200);
    // the faults really happened
    const calls = emu.calls();
    const injected = (calls.errors['Throttling.User'] ?? 0) + (calls.errors.ServiceUnavailable ?? 0);
    assert.ok(injected > 40, `expected many injected errors, got ${injected}`);
    assert.ok(calls.crashedAfterCreate > 0);
    // backoff, not a hot loop: exactly one retry per failed attempt, each after a backoff sleep
    const stats = eci.stats();
    assert.equal(calls.byAction.CreateContainerGroup, 200 + injected + calls.crashedAfterCreate);
    assert.equal(stats.retries, injected + calls.crashedAfterCreate);
    assert.equal(clock.sleeps.length, stats.retries);
    assert.ok(clock.sleeps.every((ms) => ms >= policy.baseDelayMs / 2 && ms <= policy.maxDelayMs));
    assert.ok(calls.byAction.CreateContainerGroup <= 200 * policy.maxAttempts);
    assert.deepEqual(stats.failures, {});
  });

  it('gives up after maxAttempts on persistent throttling, as a retryable EciError', async () => {
    emu.setFaults({ actions: { DescribeContainerGroups: { errors: [{ code: 'Throttling.User', rate: 1 }] } } });
    emu.resetCalls();
    const clock = recordingClock();
    const eci = adapter(emu, { clock, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 8 } });
    const err = await failure(eci.describe(['eci-x']));
    emu.setFaults({});
    assert.equal(err.kind, 'retryable');
    assert.equal(err.code, 'Throttling.User');
    assert.equal(err.attempts, 4);
    assert.equal(emu.calls().byAction.DescribeContainerGroups, 4);
    // exponential: each cap doubles (equal jitter keeps every sleep in [cap/2, cap])
    assert.deepEqual(
      clock.sleeps.map((ms, i) => ms >= 2 ** i / 2 && ms <= 2 ** i),
      [true, true, true],
    );
    assert.ok(err.requestId);
  });

  it('honours a retry-after hint carried by the error as a floor', async () => {
    // the emulator sends x-acs-retry-after; SDK 2.0.3 drops headers, newer SDK errors carry retryAfter (ms)
    const { backoffMs } = await import('../../../shared/adapters/eci/retry.js');
    const d = backoffMs({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 }, 1, () => 0, { hintMs: 500 });
    assert.equal(d, 500);
  });
});

describe('error classes', () => {
  it('NoStock is capacity and not retried; another listed vSwitch with stock is used', async () => {
    emu.setFaults({ noStock: { vSwitches: ['vsw-sold-out'] } });
    emu.resetCalls();
    const eci = adapter(emu);
    const err = await failure(eci.create(createReq('nostock', `ns-${Date.now()}`, { VSwitchId: 'vsw-sold-out' })));
    assert.equal(err.kind, 'capacity');
    assert.equal(err.code, 'OperationDenied.NoStock');
    assert.equal(err.statusCode, 403);
    assert.equal(emu.calls().byAction.CreateContainerGroup, 1);

    const ok = await eci.create(createReq('nostock-2', `ns2-${Date.now()}`, { VSwitchId: 'vsw-sold-out,vsw-has-stock' }));
    const [g] = await eci.describe([ok.containerGroupId]);
    assert.equal(g?.VSwitchId, 'vsw-has-stock');
    emu.setFaults({});
  });

  it('NoStock per zone', async () => {
    emu.setFaults({ noStock: { zones: ['cn-hangzhou-k'] } });
    const err = await failure(adapter(emu).create(createReq('zone', `z-${Date.now()}`, { ZoneId: 'cn-hangzhou-k' })));
    assert.equal(err.kind, 'capacity');
    emu.setFaults({});
  });

  it('quota exhausted, invalid spec and bad credentials are permanent; unknown groups are notFound', async () => {
    const eci = adapter(emu);
    emu.setFaults({ vcpuQuota: 0 });
    const quota = await failure(eci.create(createReq('quota', `q-${Date.now()}`)));
    assert.equal(quota.kind, 'permanent');
    assert.equal(quota.code, 'QuotaExceeded.Cpu');
    emu.setFaults({});

    emu.resetCalls();
    const invalid = await failure(eci.create(createReq('Bad_Name', `b-${Date.now()}`)));
    assert.equal(invalid.kind, 'permanent');
    assert.equal(invalid.code, 'InvalidParameter');
    assert.equal(invalid.attempts, 1);
    assert.equal(emu.calls().total, 1);

    const auth = await failure(adapter(emu, { credentials: { ...KEY, accessKeySecret: 'wrong' } }).describe(['eci-a']));
    assert.equal(auth.kind, 'permanent');
    assert.equal(auth.code, 'SignatureDoesNotMatch');

    const missing = await failure(eci.logs('eci-does-not-exist', 'app'));
    assert.equal(missing.kind, 'notFound');
    await eci.delete('eci-does-not-exist'); // idempotent
  });

  it('a network failure is retryable, and the retry with the same ClientToken finds the created group', async () => {
    emu.setFaults({ actions: { CreateContainerGroup: { crashAfterCreateCount: 1 } } });
    emu.resetCalls();
    const eci = adapter(emu, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const token = `crash-${Date.now()}`;
    const r = await eci.create(createReq('crash', token, { Tag: [{ Key: 'crash', Value: token }] }));
    emu.setFaults({});
    assert.equal(emu.calls().crashedAfterCreate, 1);
    assert.equal(emu.calls().byAction.CreateContainerGroup, 2);
    const same = emu.groups().filter((g) => (g.Tags as { Value: string }[]).some((t) => t.Value === token));
    assert.deepEqual(
      same.map((g) => g.ContainerGroupId),
      [r.containerGroupId],
    );
  });
});

describe('credentials', () => {
  it('asks the provider on every call, so rotated STS credentials are used', async () => {
    const sts = (n: number) => ({ accessKeyId: `STS.key${n}`, accessKeySecret: `sts-secret-${n}`, securityToken: `token-${n}` });
    const local = await startEciEmulator({ credentials: [sts(1)] });
    try {
      let current = 1;
      let asked = 0;
      const eci = adapter(local, {
        credentials: async () => {
          asked++;
          return sts(current);
        },
      });
      await eci.describe(['eci-a']);
      // the platform rotates the role's keys: the old ones stop working
      local.setCredentials([sts(2)]);
      current = 2;
      await eci.describe(['eci-a']);
      assert.equal(asked, 2);
      // an expired token is retryable: the next attempt asks the provider again
      local.setCredentials([{ ...sts(3), expiresAt: 0 }, sts(4)]);
      current = 3;
      const eci2 = adapter(local, {
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
        credentials: () => {
          const c = sts(current);
          current = 4;
          return c;
        },
      });
      await eci2.describe(['eci-a']);
    } finally {
      await local.close();
    }
  });
});

describe('batching and paging', () => {
  it('describes in batches of <= 20 ids and lists every page of a tag filter', async () => {
    const eci = adapter(emu);
    const run = `batch-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 45; i++) {
      ids.push((await eci.create(createReq(`b-${i}`, `${run}-${i}`, { Tag: [{ Key: 'batch', Value: run }] }))).containerGroupId);
    }
    emu.resetCalls();
    const described = await eci.describe([...ids, ...ids.slice(0, 5), 'eci-unknown']);
    assert.equal(emu.calls().byAction.DescribeContainerGroups, 3);
    assert.deepEqual(described.map((g) => g.ContainerGroupId).sort(), [...ids].sort());
    assert.equal(described[0]?.ContainerGroupName?.startsWith('b-'), true);

    emu.resetCalls();
    const listed = await eci.list({ tags: [{ Key: 'batch', Value: run }] });
    assert.deepEqual(
      listed.map((g) => g.ContainerGroupId),
      ids,
    );
    assert.equal(emu.calls().byAction.DescribeContainerGroups, 3);

    // the groups whose status changed lately, for the whole tag in one DescribeContainerGroupStatus call
    emu.resetCalls();
    const changed = await eci.changedSince({ tags: [{ Key: 'batch', Value: run }], sinceSeconds: 3600 });
    assert.deepEqual(changed.map((g) => g.ContainerGroupId).sort(), [...ids].sort());
    assert.ok(changed.every((g) => typeof g.Status === 'string' && g.Status.length > 0));
    assert.equal(emu.calls().byAction.DescribeContainerGroupStatus, 1);
    assert.deepEqual(await eci.changedSince({ tags: [{ Key: 'batch', Value: `${run}-none` }], sinceSeconds: 3600 }), []);

    const events = await eci.events(ids.slice(0, 3));
    assert.equal(events.size, 3);
    const price = await eci.price({ cpu: 2, memory: 4 });
    assert.ok(price.tradePrice > 0);
    assert.equal(price.currency, 'CNY');
  });
});

describe('client-side rate limits', () => {
  it('waits for tokens once the burst is spent (virtual clock)', async () => {
    const clock = virtualClock();
    const eci = adapter(emu, { clock, rateLimits: { CreateContainerGroup: { burst: 5, perSecond: 10 } } });
    const run = `rate-${Date.now()}`;
    await Promise.all(Array.from({ length: 15 }, (_, i) => eci.create(createReq(`r-${i}`, `${run}-${i}`))));
    // 10 creates beyond the burst at 10/s: about one second of waiting, none for the first 5
    assert.ok(clock.slept() >= 900 && clock.slept() <= 1200, `slept ${clock.slept()} ms`);
  });
});

describe('no secret in errors or logs', () => {
  const password = 'Registry-P@ss w0rd!';
  const configContent = Buffer.from('db_password=hunter2-super-secret\n').toString('base64');
  const envSecret = 'env-secret-value-42';
  const secretReq = (name: string, token: string): EciCreateRequest =>
    createReq(name, token, {
      ImageRegistryCredential: [{ Server: 'registry.example.com', UserName: 'bot', Password: password }],
      Volume: [
        {
          Name: 'cfg',
          Type: 'ConfigFileVolume',
          ConfigFileVolume: { ConfigFileToPath: [{ Path: 'app.conf', Content: configContent }] },
        },
      ],
      Container: [
        {
          Name: 'app',
          Image: 'registry.example.com/app:1',
          EnvironmentVar: [{ Key: 'TOKEN', Value: envSecret }],
          VolumeMount: [{ Name: 'cfg', MountPath: '/etc/app' }],
        },
      ],
    });
  const forbidden = [
    password,
    encodeURIComponent(password),
    configContent,
    encodeURIComponent(configContent),
    'hunter2-super-secret',
    envSecret,
    'sts-token-secret-value',
    'sts-secret-key',
  ];

  function assertClean(text: string, where: string) {
    for (const f of forbidden) assert.ok(!text.includes(f), `${where} leaks ${f.slice(0, 6)}…: ${text.slice(0, 300)}`);
  }

  function chainText(err: unknown): string {
    const parts: string[] = [];
    let cur: unknown = err;
    while (cur instanceof Error) {
      parts.push(cur.message, String(cur.stack), JSON.stringify(cur));
      cur = cur.cause;
    }
    return parts.join('\n');
  }

  function capturingLogger(lines: string[]): Logger {
    const log = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
      lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
    };
    const l: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => l };
    return l;
  }

  it('a refused create (server message) and a timed-out create (SDK message quoting the URL) carry no secret', async () => {
    const lines: string[] = [];
    const sts = { accessKeyId: 'STS.leak', accessKeySecret: 'sts-secret-key', securityToken: 'sts-token-secret-value' };
    for (const signatureAlgorithm of [undefined, 'v2'] as const) {
      // a fresh emulator per round: its first request runs on a new socket, where the SDK's own read timeout
      // fires with a message quoting the request URL (all parameters; with V1 also the STS token)
      const local = await startEciEmulator({ credentials: [sts] });
      try {
        const eci = adapter(local, {
          signatureAlgorithm,
          credentials: sts,
          logger: capturingLogger(lines),
          retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
          readTimeoutMs: 100,
        });
        local.setFaults({ actions: { CreateContainerGroup: { latencyMs: 400 } } });
        const timedOut = await failure(eci.create(secretReq('good-name', `leak2-${signatureAlgorithm}`)));
        assert.equal(timedOut.kind, 'retryable');
        assert.equal(timedOut.code, 'Timeout');
        assert.match(timedOut.message, /CreateContainerGroup/);
        assertClean(chainText(timedOut), 'timed-out create');
        local.setFaults({});
        // refused by the server, with the secrets in the same URL
        const refused = await failure(eci.create(secretReq('Bad_Name', `leak-${signatureAlgorithm}`)));
        assert.equal(refused.kind, 'permanent');
        assertClean(chainText(refused), 'refused create');
      } finally {
        await local.close();
      }
    }
    assert.ok(lines.length > 0);
    assertClean(lines.join('\n'), 'log lines');
  });

  it('the redactor removes URL queries and encoded secrets from any text', async () => {
    const { Redactor, REDACTED } = await import('../../../shared/adapters/eci/index.js');
    const r = new Redactor().add(password);
    const text = `ConnectTimeout: Connect http://127.0.0.1:1/?ImageRegistryCredential.1.Password=${encodeURIComponent(password)}&x=1 failed. ReadTimeout: 100. POST /?A=1&B=2 failed. echo ${password}`;
    const out = r.redact(text);
    assertClean(out, 'redacted text');
    assert.ok(!out.includes('A=1'));
    assert.ok(out.includes(REDACTED));
    assert.ok(out.includes('ConnectTimeout'));
  });
});

describe('ECI emulator quotas: throttled calls are counted apart', () => {
  it('answers Throttling beyond the bucket (DeleteContainerGroup: 100 at once) and counts those calls by action', async () => {
    // Prepare: a clock that stands still (at a real time: signatures are checked against it), so the bucket does not refill
    const t0 = Date.now();
    const emu = await startEciEmulator({ credentials: [KEY], quotas: true, clock: { now: () => t0 } });
    try {
      const eci = adapter(emu, { retry: { maxAttempts: 1 } });
      // Act: 105 deletes at once (of groups that do not exist: the bucket is taken before the lookup)
      const results = await Promise.allSettled(Array.from({ length: 105 }, (_, i) => eci.delete(`eci-missing-${i}`)));
      // Assess
      const throttled = results.filter((r) => r.status === 'rejected' && r.reason instanceof EciError && r.reason.code === 'Throttling.User');
      const calls = emu.calls();
      assert.equal(throttled.length, 5);
      assert.equal(calls.throttledByAction.DeleteContainerGroup, 5);
      assert.equal(calls.byAction.DeleteContainerGroup, 105);
    } finally {
      await emu.close();
    }
  });
});
