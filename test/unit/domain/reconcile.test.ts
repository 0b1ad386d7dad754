/**
 * The reconciliation maths (shared/domain/bill.ts, reconcile.ts, learned.ts): the billing day in UTC+8, bill tags
 * in both documented forms, each cause of a difference, leaks, totals per dimension (a tag dimension added in one
 * line), learned prices and their use by the estimator's table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BillLine, billingDayOf, billingDayPeriod, billLineOf, isSettled, lastSettledDay, mergeLines, parseBillTags } from '../../../shared/domain/bill.js';
import { formatMoney, parseMoney } from '../../../shared/domain/billing.js';
import { applyLearned, learnedFrom, mergeLearned } from '../../../shared/domain/learned.js';
import { defaultPriceTables, type PriceTable, priceTableFor } from '../../../shared/domain/prices.js';
import { DEFAULT_DIMENSIONS, type GroupEstimate, reconcileDay, tagDimension } from '../../../shared/domain/reconcile.js';
import { billLine, CLUSTER_TAG_KEY, groupEstimate, reconcileInput } from '../../helpers/reconcile.js';

const table: PriceTable = { ...priceTableFor('cn-hangzhou', defaultPriceTables()), instanceTypes: { 'ecs.c6.large': 1_000_000_000 } };
const CT = CLUSTER_TAG_KEY;
const line = billLine;
const est = groupEstimate;
const input = (lines: BillLine[], estimates: GroupEstimate[], live: { id: string; status: string; hasPod: boolean }[] = []) =>
  reconcileInput({ table, lines, estimates, live });

describe('billing day (UTC+8)', () => {
  it('covers the 24 UTC hours from 16:00 the day before', () => {
    const p = billingDayPeriod('2024-05-01', 8);
    assert.equal(new Date(p.start).toISOString(), '2024-04-30T16:00:00.000Z');
    assert.equal(new Date(p.end).toISOString(), '2024-05-01T16:00:00.000Z');
    assert.equal(billingDayOf(Date.parse('2024-04-30T16:00:00Z'), 8), '2024-05-01');
    assert.equal(billingDayOf(Date.parse('2024-04-30T15:59:59Z'), 8), '2024-04-30');
    assert.throws(() => billingDayPeriod('2024-02-30', 8));
  });
  it('settles BILLING_SETTLE_HOURS after its end', () => {
    const end = billingDayPeriod('2024-05-01', 8).end;
    assert.equal(isSettled('2024-05-01', end + 24 * 3_600_000 - 1, 8, 24), false);
    assert.equal(isSettled('2024-05-01', end + 24 * 3_600_000, 8, 24), true);
    assert.equal(lastSettledDay(end + 24 * 3_600_000, 8, 24), '2024-05-01');
  });
});

describe('bill lines', () => {
  it('reads tags in the API reference form and the bill file form', () => {
    assert.deepEqual(parseBillTags('key:eci-bridge.io/cluster value:c1; key:team value:a:b'), { 'eci-bridge.io/cluster': 'c1', team: 'a:b' });
    assert.deepEqual(parseBillTags('eci-bridge.io/cluster:c1;team:pay'), { 'eci-bridge.io/cluster': 'c1', team: 'pay' });
    assert.deepEqual(parseBillTags(undefined), {});
  });
  it('parses amounts exactly and service periods in seconds; refuses a line without an instance id', () => {
    const l = billLineOf({ InstanceID: 'eci-1', ProductCode: 'ECI', PretaxAmount: 0.1 + 0.2, ServicePeriod: '2', ServicePeriodUnit: 'Hour' }, '2024-05-01');
    assert.equal(formatMoney(l.amount, 9), '0.300000000');
    assert.equal(l.productCode, 'eci');
    assert.equal(l.servicePeriodSeconds, 7200);
    assert.throws(() => billLineOf({ PretaxAmount: 1 }, '2024-05-01'), /without an InstanceID/);
    assert.throws(() => billLineOf({ InstanceID: 'x', PretaxAmount: 'lots' }, '2024-05-01'), /unreadable/);
  });
  it('merges lines of one instance', () => {
    const m = mergeLines([line('a', '1.10', { servicePeriodSeconds: 10 }), line('a', '0.05', { servicePeriodSeconds: 5 }), line('b', '2')]);
    assert.deepEqual(
      m.map((x) => [x.instanceId, formatMoney(x.amount, 2), x.servicePeriodSeconds]),
      [
        ['a', '1.15', 15],
        ['b', '2.00', undefined],
      ],
    );
  });
});

describe('reconcileDay', () => {
  it('names each cause: match, rounding, duration, spot price, price table, not billed', () => {
    const r = reconcileDay(
      input(
        [
          line('match', '0.44'),
          line('round', '0.45'),
          line('dur', '0.88', { servicePeriodSeconds: 7200 }),
          line('spot', '0.09'),
          line('type', '1.20'),
          line('other-cluster', '5', { tags: { [CT]: 'c2' } }),
        ],
        [
          est('match', '0.44'),
          est('round', '0.44', { cost: parseMoney('0.4451') }),
          est('dur', '0.44', { servicePeriodSeconds: undefined } as never),
          est('spot', '0.13', { spot: true }),
          est('type', '1.00', { size: 'ecs.c6.large' }),
          est('absent', '0.30'),
        ],
      ),
    );
    const cause = Object.fromEntries(r.groups.map((g) => [g.groupId, g.cause]));
    assert.deepEqual(cause, { absent: 'not billed', dur: 'duration', match: 'match', round: 'rounding', spot: 'spot price', type: 'price table' });
    const why = Object.fromEntries(r.groups.map((g) => [g.groupId, g.explanation]));
    assert.match(why.spot ?? '', /billed at 0\.2040 of the on-demand price, the table assumes 0\.3000/);
    assert.match(why.type ?? '', /ecs\.c6\.large billed at 1\.2000 CNY\/h, the price table 'china' says 1\.0000 CNY\/h/);
    assert.match(why.dur ?? '', /billed for 7200 s, the bridge counted 3600 s/);
    assert.equal(r.leaks.length, 0, "another cluster's line is not ours");
    assert.equal(r.totals.billed, '3.060000000');
    assert.equal(r.totals.byCause['price table']?.difference, '0.200000000');
  });

  it('finds leaks: a billed group nobody knows, and a known group still running without its pod', () => {
    const r = reconcileDay(
      input([line('stray', '3'), line('orphan', '0.44'), line('done', '0.44')], [est('orphan', '0.44'), est('done', '0.44')], [
        { id: 'stray', status: 'Running', hasPod: false },
        { id: 'orphan', status: 'Running', hasPod: false },
        { id: 'done', status: 'Succeeded', hasPod: false },
      ]),
    );
    assert.deepEqual(
      r.leaks.map((l) => [l.groupId, l.reason, l.status]),
      [
        ['orphan', 'no-pod', 'Running'],
        ['stray', 'unknown', 'Running'],
      ],
    );
    assert.equal(r.totals.byCause.leak?.groups, 2);
    assert.equal(r.totals.billed, '3.880000000', 'every billed line counted once (a no-pod leak is also its group row)');
  });

  it('a billed group the bridge made for a pod, gone with its pod before an hourly run counted it: not estimated, not a leak', () => {
    const tags = { [CT]: 'c1', 'eci-bridge.io/pod-uid': 'u-1', 'eci-bridge.io/namespace': 'shop', 'eci-bridge.io/pod-name': 'short' };
    const keys = { uid: 'eci-bridge.io/pod-uid', namespace: 'eci-bridge.io/namespace', name: 'eci-bridge.io/pod-name' };
    const r = reconcileDay({ ...input([line('short-lived', '0.05', { tags }), line('still-there', '0.05', { tags })], [], [{ id: 'still-there', status: 'Running', hasPod: false }]), podTagKeys: keys });
    assert.deepEqual(
      r.groups.map((g) => [g.groupId, g.cause, g.namespace, g.pod, g.billed, g.estimated]),
      [['short-lived', 'not estimated', 'shop', 'short', '0.050000000', null]],
    );
    assert.match(r.groups[0]?.explanation ?? '', /no hourly report counted it: the pod and its group were deleted between two hourly billing runs/);
    assert.deepEqual(r.leaks.map((l) => [l.groupId, l.reason]), [['still-there', 'unknown']], 'one still in ECI is a leak');
    assert.equal(r.totals.billed, '0.100000000');
    assert.equal(r.totals.byCause['not estimated']?.groups, 1);
  });

  it('totals per namespace, owner and node, and any tag as one more dimension', () => {
    const lines = [line('a', '1', { tags: { [CT]: 'c1', 'vnode-cost': 'x' } }), line('b', '2', { tags: { [CT]: 'c1', 'vnode-cost': 'y' } })];
    const r = reconcileDay({ ...input(lines, [est('a', '1'), est('b', '1.5', { namespace: 'jobs' })]), dimensions: [...DEFAULT_DIMENSIONS, tagDimension('vnode-cost')] });
    assert.deepEqual(Object.keys(r.totals.byDimension), ['namespace', 'owner', 'node', 'tag:vnode-cost']);
    assert.deepEqual(r.totals.byDimension.namespace?.jobs, { billed: '2.000000000', estimated: '1.500000000', difference: '0.500000000', groups: 1 });
    assert.equal(r.totals.byDimension['tag:vnode-cost']?.y?.billed, '2.000000000');
  });

  it('measures the bridge from its tagged FC and MNS lines, and labels every figure', () => {
    const own = { [CT]: 'c1', 'eci-bridge.io/part': 'bridge' };
    const r = reconcileDay(
      input([line('fn', '0.2', { productCode: 'fc', tags: own }), line('q', '0.05', { productCode: 'mns', tags: own }), line('other', '9', { productCode: 'fc', tags: {} })], []),
    );
    assert.deepEqual(r.bridge, { label: 'real charge', billed: '0.250000000', byProduct: { fc: '0.200000000', mns: '0.050000000' }, resources: 2, predicted: null });
    assert.equal(r.totals.label, 'real charge');
    assert.equal(r.vnodeComparison.label, 'comparison');
    assert.match(r.vnodeComparison.text, /^an ECI VNode .* would cost 12\.70 CNY for this day; eci-bridge's virtual node is not billed$/);
  });

  it('is deterministic: the same inputs give byte-identical JSON', () => {
    const a = reconcileDay(input([line('b', '1'), line('a', '2')], [est('a', '2'), est('b', '1')]));
    const b = reconcileDay(input([line('a', '2'), line('b', '1')], [est('b', '1'), est('a', '2')]));
    assert.equal(JSON.stringify(a), JSON.stringify(b));
  });
});

describe('learned prices', () => {
  it('learns instance types and the spot ratio, merges newer over older, and applies them to the table', () => {
    const r = reconcileDay(input([line('t', '1.2'), line('s', '0.09')], [est('t', '1', { size: 'ecs.c6.large' }), est('s', '0.13', { spot: true })]));
    const learned = learnedFrom(r);
    assert.deepEqual(learned, { v: 1, day: '2024-05-01', currency: 'CNY', instanceTypes: { 'ecs.c6.large': '1.200000000' }, spotRatio: '0.2040' });
    if (!learned) return;
    const older = { ...learned, day: '2024-04-30', instanceTypes: { 'ecs.g6.large': '2.000000000', 'ecs.c6.large': '9.000000000' }, spotRatio: '0.5000' };
    assert.deepEqual(mergeLearned(older, learned).instanceTypes, { 'ecs.g6.large': '2.000000000', 'ecs.c6.large': '1.200000000' });
    assert.equal(mergeLearned(learned, older).spotRatio, '0.2040', 'an older day never overrides a newer one');
    const t = applyLearned(table, learned);
    assert.equal(t.instanceTypes['ecs.c6.large'], 1_200_000_000);
    assert.equal(t.spotRatio, 2040);
    assert.equal(applyLearned(table, { ...learned, currency: 'USD' }), table, 'another currency is ignored');
  });
});
