import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cny, idlePerMonth, PRICES } from '../../../shared/domain/bridge-cost.js';
import { packageOf, summarise } from '../../../bench/profile.js';

describe('bench cost model', () => {
  it('prices FC 3.0 usage in CU (invocations, active vCPU-seconds, GB-seconds) plus MNS requests', () => {
    // 10,000 invocations of 0.1 s on 1 vCPU / 1 GB: 75 + 1,000 × (1 + 0.15) CU; 30,000 MNS requests
    const c = cny({ invocations: 10_000, busySeconds: 1_000, vcpu: 1, memoryGb: 1, mnsRequests: 30_000 });
    assert.ok(Math.abs(c - ((75 + 1150) * 0.00011 + 0.06)) < 1e-9);
  });

  it('one ECI VNode is about 386 CNY a month at cn-hangzhou list prices', () => {
    assert.ok(Math.abs(PRICES.vnodeCnyPerMonth - 386.6) < 0.5);
  });

  it('idle per month: the measured window scaled to a month, plus timers and the two queues', () => {
    const quiet = idlePerMonth({ invocations: 0, busySeconds: 0, vcpu: 1, memoryGb: 1, mnsRequests: 0 }, 60);
    assert.equal(quiet.podSyncCny, 0);
    assert.ok(quiet.queuesCny > 30 && quiet.timersCny > 0);
    // one invocation and one MNS request a second cost more than nothing, in proportion
    const busy = idlePerMonth({ invocations: 60, busySeconds: 6, vcpu: 1, memoryGb: 1, mnsRequests: 60 }, 60);
    const month = 730 * 3600;
    assert.ok(Math.abs(busy.mnsRequestsCny - month * PRICES.mnsCnyPerRequest) < 1e-6);
    assert.ok(Math.abs(busy.podSyncCny - (month * PRICES.cuPerInvocation + month * 0.1 * 1.15) * PRICES.cnyPerCu) < 1e-6);
    assert.ok(Math.abs(busy.ofVnode - busy.totalCny / PRICES.vnodeCnyPerMonth) < 1e-12);
  });
});

describe('bench CPU profile summary', () => {
  it('attributes self time to functions and packages, leaving idle out', () => {
    const node = (id: number, functionName: string, url: string, hitCount: number) => ({ id, callFrame: { functionName, url, lineNumber: 9 }, hitCount });
    const s = summarise({
      nodes: [
        node(1, '(idle)', '', 1000),
        node(2, 'sign', 'file:///w/node_modules/@alicloud/openapi-client/dist/client.js', 30),
        node(3, 'parse', 'file:///w/node_modules/@alicloud/openapi-client/dist/client.js', 20),
        node(4, 'syncPods', 'file:///w/shared/usecases/podSync.ts', 40),
        node(5, '(garbage collector)', '', 10),
      ],
    });
    assert.equal(s.busySamples, 100);
    assert.deepEqual(s.top[0], '40.0 % syncPods (shared/usecases:10)');
    assert.deepEqual(s.byPackage.slice(0, 2), ['50.0 % @alicloud/openapi-client', '40.0 % shared/usecases']);
    assert.equal(packageOf('node:internal/streams/readable'), 'node');
    assert.equal(packageOf('file:///w/node_modules/pino/lib/tools.js'), 'pino');
  });
});
