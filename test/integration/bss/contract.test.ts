/**
 * The real `@alicloud/bssopenapi20171214` SDK, through the bridge's BSS adapter, against the BSS emulator: signed
 * requests (V3, STS), every page of a day (MaxResults 300, NextToken), throttling retried, a wrong key refused, the
 * bill's lag, and bill lines priced from the ECI emulator's groups with the scenario's deviations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL, type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { type BssEmulator, type ExtraLine, startBssEmulator } from '../../../emulators/bss/index.js';
import { BssBillReader, BssError } from '../../../shared/adapters/bss/index.js';
import { createEciContainerGroups } from '../../../shared/adapters/eci/index.js';
import { billLineOf, billingDayOf, mergeLines } from '../../../shared/domain/bill.js';
import { formatMoney } from '../../../shared/domain/billing.js';

const DAY = billingDayOf(Date.now(), 8);
const TAGS = { 'eci-bridge.io/cluster': 'c1', 'eci-bridge.io/part': 'bridge' };

function extra(n: number): ExtraLine[] {
  return Array.from({ length: n }, (_, i) => ({
    instanceId: `fc-fn-${String(i).padStart(4, '0')}`,
    productCode: 'fc',
    billingDate: DAY,
    amount: 0.01 * (i % 7),
    tags: TAGS,
  }));
}

describe('BSS adapter + emulator (real SDK)', () => {
  let bss: BssEmulator;
  let eci: EciEmulator;
  const reader = (over: Partial<ConstructorParameters<typeof BssBillReader>[0]> = {}) =>
    new BssBillReader({ endpoint: bss.endpoint, protocol: 'http', regionId: 'cn-hangzhou', credentials: DEFAULT_CREDENTIAL, rateLimit: false, ...over });

  before(async () => {
    eci = await startEciEmulator({ timeScale: 0.01, scenario: { seed: 3 } });
    bss = await startBssEmulator({
      scenario: { prices: { currency: 'CNY', vcpuPerHour: 3600, memoryGiBPerHour: 360 }, extraLines: extra(650), spotRatio: 0.2 },
      source: () => eci.groups(),
      billClock: () => Date.now() + 3 * 86_400_000,
      callsPerSecond: 1000,
    });
  });
  after(async () => {
    await bss?.close();
    await eci?.close();
  });

  it('reads every page of a day (650 lines, 300 per page) with V3-signed requests', async () => {
    const r = reader();
    const items = await r.instanceBill({ billingDate: DAY, productCode: 'fc' });
    assert.equal(items.length, 650);
    assert.equal(new Set(items.map((i) => i.InstanceID)).size, 650);
    assert.equal(r.calls, 3);
    const line = billLineOf(items[3], DAY);
    assert.deepEqual(line.tags, TAGS);
    assert.equal(formatMoney(line.amount, 2), '0.03');
  });

  it('retries throttling until the bucket refills', async () => {
    await bss.close();
    bss = await startBssEmulator({ scenario: { prices: { currency: 'CNY', vcpuPerHour: 1, memoryGiBPerHour: 1 }, extraLines: extra(900) }, billClock: () => Date.now() + 3 * 86_400_000, callsPerSecond: 1 });
    const r = reader({ retry: { baseDelayMs: 300, maxDelayMs: 2000, maxAttempts: 8 } });
    const items = await r.instanceBill({ billingDate: DAY, productCode: 'fc' });
    assert.equal(items.length, 900);
    assert.ok((bss.calls().errors['Throttling.User'] ?? 0) >= 1, 'the emulator throttled');
    assert.ok(r.calls > 3, 'the adapter retried');
  });

  it('refuses a wrong secret as a permanent BssError without echoing the secret', async () => {
    const r = reader({ credentials: { accessKeyId: DEFAULT_CREDENTIAL.accessKeyId, accessKeySecret: 'not-the-secret' } });
    await assert.rejects(r.instanceBill({ billingDate: DAY, productCode: 'eci' }), (err: unknown) => {
      assert.ok(err instanceof BssError);
      assert.equal(err.kind, 'permanent');
      assert.equal(err.code, 'SignatureDoesNotMatch');
      assert.ok(!err.message.includes('not-the-secret'));
      return true;
    });
  });

  it('bills ECI groups from the ECI emulator, spot at the actual ratio, only after the lag', async () => {
    await bss.close();
    let lag = 0;
    bss = await startBssEmulator({
      scenario: { prices: { currency: 'CNY', vcpuPerHour: 3600, memoryGiBPerHour: 360 }, spotRatio: 0.2 },
      source: () => eci.groups(),
      billClock: () => Date.now() + 2 * 86_400_000 - lag,
      callsPerSecond: 1000,
    });
    const groups = createEciContainerGroups(
      { ECI_REGION: 'cn-hangzhou', ECI_ENDPOINT: eci.endpoint, ECI_PROTOCOL: 'http', ECI_CREATE_PER_SECOND: 100, ECI_CREATE_BURST: 100 },
      DEFAULT_CREDENTIAL,
    );
    const mk = (name: string, spot: boolean) =>
      groups.create({
        RegionId: 'cn-hangzhou',
        ContainerGroupName: name,
        Cpu: 1,
        Memory: 2,
        ...(spot ? { SpotStrategy: 'SpotAsPriceGo' } : {}),
        RestartPolicy: 'Never',
        Tag: [{ Key: 'eci-bridge.io/cluster', Value: 'c1' }],
        Container: [{ Name: 'main', Image: 'registry.example/app:1', Command: ['/bin/sh', '-c', 'true # eci-sim: sleep 200; exit 0'] }],
      } as never);
    const [od, sp] = await Promise.all([mk('on-demand', false), mk('spot', true)]);
    const deadline = Date.now() + 20_000;
    // both run 200 simulated seconds (2 s) and succeed
    while (eci.groups().some((g) => g.Status !== 'Succeeded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(eci.groups().every((g) => g.Status === 'Succeeded'), 'both groups succeeded');
    bss.observe();
    const lines = mergeLines((await reader().instanceBill({ billingDate: DAY, productCode: 'eci' })).map((w) => billLineOf(w, DAY)));
    const byId = new Map(lines.map((l) => [l.instanceId, l]));
    const a = byId.get(od.containerGroupId);
    const b = byId.get(sp.containerGroupId);
    assert.ok(a && b, 'both groups billed');
    // same size: the spot line is billed at 0.2 of the on-demand rate per second of service (the two groups' billed
    // durations can differ by the emulator's start-up time on a loaded machine, so compare rates, not amounts)
    const rate = (l: { amount: bigint; servicePeriodSeconds?: number }) => Number(l.amount) / (l.servicePeriodSeconds ?? 1);
    const ratio = rate(b) / rate(a);
    assert.ok(Math.abs(ratio - 0.2) < 0.01, `spot ratio ${ratio}`);
    assert.ok((a.servicePeriodSeconds ?? 0) >= 1);
    // the bill lags: with the bill's clock at the day's end, the day's hours are not all settled
    lag = 2 * 86_400_000;
    const early = await reader().instanceBill({ billingDate: DAY, productCode: 'eci' });
    assert.ok(early.length < lines.length || early.length === 0, 'unsettled hours are not billed yet');
  });
});
