/**
 * The cost model's prediction of a day of the bridge's own FC + MNS cost (shared/domain/bridge-cost.ts), the same
 * code the burst bench prices its counts with, and the reconciliation's use of it beside the measured bill lines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BridgeModelSchema, MEASURED_BRIDGE_MODEL, predictBridgeDay } from '../../../shared/domain/bridge-cost.js';
import { defaultPriceTables, priceTableFor } from '../../../shared/domain/prices.js';
import { reconcileDay } from '../../../shared/domain/reconcile.js';
import { billLine, groupEstimate, reconcileInput } from '../../helpers/reconcile.js';

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

describe('the bridge cost model: a day', () => {
  it('the measured model: idle ≈ 49.0 CNY a month per day, about 0.07 CNY per 1,000 pods', () => {
    const p = predictBridgeDay(MEASURED_BRIDGE_MODEL, 1000);
    // queues 2 × 0.576 CNY/day; EventBridge's polls 2/s × 86,400 × 2e-6; the timers' runs a day in CU × 0.00011
    const timersCuPerDay = 24 * (60 * 0.5825 + 12 * 0.5825 + 1 * 1.1575 + (1 / 24) * 2.8825);
    near(p.idleCny, 2 * 0.576 + 2 * 86_400 * 2e-6 + timersCuPerDay * 0.00011, 'idle a day');
    near(p.perPodCny, (0.2 * 0.0075 + 0.5 * 1.15) * 0.00011 + 2.4 * 2e-6, 'per pod');
    near(p.totalCny, p.idleCny + 1000 * p.perPodCny, 'total');
  });

  it('a configured model: fields left out keep the measurement', () => {
    const m = BridgeModelSchema.parse({ queues: 0, idlePerSecond: { invocations: 0, busySeconds: 0, mnsRequests: 0 }, perPod: { invocations: 10_000, busySeconds: 0, mnsRequests: 0 } });
    assert.deepEqual(m.podSync, MEASURED_BRIDGE_MODEL.podSync);
    const p = predictBridgeDay(m, 2);
    near(p.perPodCny, 75 * 0.00011, '10,000 invocations = 75 CU');
    near(p.idleCny, 24 * (60 * 0.5825 + 12 * 0.5825 + 1.1575 + 2.8825 / 24) * 0.00011, 'the timers only');
  });

  it('the reconciliation predicts with it: idle + per pod × the day’s groups, labelled an estimate, beside the real charge', () => {
    const table = priceTableFor('cn-hangzhou', defaultPriceTables());
    const g = (id: string) => groupEstimate(id, '0.44', { uid: id, namespace: 'ns', pod: id, owner: 'ns/Pod/x', node: 'vn' });
    const line = (id: string, productCode: string, amount: string) => billLine(id, amount, { productCode });
    const r = reconcileDay(
      reconcileInput({
        table,
        lines: [line('a', 'eci', '0.44'), line('b', 'eci', '0.44'), line('fn', 'fc', '0.30'), line('q', 'mns', '1.30')],
        estimates: [g('a'), g('b')],
        bridgeModel: MEASURED_BRIDGE_MODEL,
      }),
    );
    const p = predictBridgeDay(MEASURED_BRIDGE_MODEL, 2);
    assert.equal(r.bridge.billed, '1.600000000');
    assert.equal(r.bridge.label, 'real charge');
    assert.equal(r.bridge.prediction?.label, 'estimate');
    assert.equal(r.bridge.prediction?.pods, 2);
    near(Number(r.bridge.predicted), p.totalCny, 'predicted');
    near(Number(r.bridge.prediction?.idle), p.idleCny, 'idle');
    assert.match(r.bridge.prediction?.text ?? '', /^the cost model \(docs\/performance\.md\) predicts 1\.6117 CNY idle for the day \+ 2 pod\(s\) × 0\.000068 CNY per pod lifecycle$/);
    // another currency: the model cannot price it
    const usd = reconcileDay(reconcileInput({ table: { ...table, currency: 'USD' }, lines: [], estimates: [], hourlyReports: 0, bridgeModel: MEASURED_BRIDGE_MODEL }));
    assert.equal(usd.bridge.predicted, null);
  });
});
