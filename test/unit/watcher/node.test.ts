import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../shared/domain/config.js';
import type { FunctionsHeartbeat } from '../../../shared/domain/heartbeat.js';
import type { Node } from '../../../shared/domain/k8s.js';
import {
  awayGrace,
  buildNode,
  evaluateHealth,
  HEALTH_CONDITION,
  HEALTH_TAINT_KEY,
  microTime,
  nodeConditions,
  nodeStatus,
  nodeTaints,
  parseLabels,
  parseTaint,
} from '../../../watcher/node.js';

const healthy = { healthy: true, reason: 'FunctionsReporting', message: 'ok' };
const sick = { healthy: false, reason: 'EciCallsFailing', message: 'bad' };

describe('node builder', () => {
  it('parses label and taint specs, refusing malformed ones', () => {
    assert.deepEqual(parseLabels('a=1, b/c=x ,'), { a: '1', 'b/c': 'x' });
    assert.throws(() => parseLabels('novalue'), /key=value/);
    assert.deepEqual(parseTaint('k=v:NoSchedule'), { key: 'k', value: 'v', effect: 'NoSchedule' });
    assert.deepEqual(parseTaint('k:NoExecute'), { key: 'k', effect: 'NoExecute' });
    assert.equal(parseTaint('none'), undefined);
    assert.throws(() => parseTaint('k=v:Sometimes'), /key=value:Effect/);
  });

  it('registers the labels, the default taint, capacity, addresses and kubelet port from config', () => {
    const cfg = parseConfig({ VNODE_NAME: 'vn1', VNODE_LABELS: 'billing=team-a', POD_IP: '10.1.2.3', VNODE_GPU: '8', KUBELET_PORT: '10350' });
    const node = buildNode(cfg, healthy, Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(node.metadata.name, 'vn1');
    assert.equal(node.metadata.labels?.type, 'virtual-kubelet');
    assert.equal(node.metadata.labels?.['kubernetes.io/role'], 'agent');
    assert.equal(node.metadata.labels?.['k8s.aliyun.com/vnode'], 'true');
    assert.equal(node.metadata.labels?.['kubernetes.io/arch'], 'amd64');
    assert.equal(node.metadata.labels?.billing, 'team-a');
    assert.deepEqual(node.spec?.taints, [{ key: 'virtual-kubelet.io/provider', value: 'alibabacloud', effect: 'NoSchedule' }]);
    assert.equal(node.status?.capacity?.['nvidia.com/gpu'], '8');
    assert.deepEqual(node.status?.allocatable, node.status?.capacity);
    // only the dialable pod IP: no Hostname an apiserver with default address types would prefer and fail to resolve
    assert.deepEqual(node.status?.addresses, [{ type: 'InternalIP', address: '10.1.2.3' }]);
    assert.deepEqual(nodeStatus(parseConfig({ POD_IP: '10.1.2.3', KUBELET_ADDRESS: '192.168.0.9' }), healthy, 0).addresses, [
      { type: 'InternalIP', address: '192.168.0.9' },
    ]);
    assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10350);
    const types = node.status?.conditions?.map((c) => c.type);
    for (const t of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable', HEALTH_CONDITION]) {
      assert.ok(types?.includes(t), t);
    }
  });

  it('adds the health taint when unhealthy, keeps foreign taints, and never touches Ready', () => {
    const cfg = parseConfig({});
    const foreign = { key: 'example.com/maintenance', value: 'x', effect: 'NoSchedule' };
    const taints = nodeTaints(cfg, sick, [foreign, { key: HEALTH_TAINT_KEY, effect: 'NoSchedule' }]);
    assert.deepEqual(
      taints.map((t) => t.key),
      ['example.com/maintenance', 'virtual-kubelet.io/provider', HEALTH_TAINT_KEY],
    );
    assert.equal(taints.find((t) => t.key === HEALTH_TAINT_KEY)?.effect, 'NoSchedule');
    assert.ok(!nodeTaints(cfg, healthy, taints).some((t) => t.key === HEALTH_TAINT_KEY));
    const conds = nodeConditions(sick, Date.now());
    assert.equal(conds.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(conds.find((c) => c.type === HEALTH_CONDITION)?.status, 'False');
  });

  it('keeps lastTransitionTime while a condition holds and moves it on a change', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const first = nodeConditions(healthy, t0);
    const same = nodeConditions(healthy, t0 + 60_000, first);
    const flipped = nodeConditions(sick, t0 + 120_000, same);
    const h = (cs: typeof first) => cs.find((c) => c.type === HEALTH_CONDITION);
    assert.equal(h(same)?.lastTransitionTime, h(first)?.lastTransitionTime);
    assert.notEqual(h(same)?.lastHeartbeatTime, h(first)?.lastHeartbeatTime);
    assert.notEqual(h(flipped)?.lastTransitionTime, h(first)?.lastTransitionTime);
  });

  it('formats MicroTime with exactly six fractional digits', () => {
    assert.match(microTime(Date.parse('2026-01-01T00:00:00.123Z')), /^2026-01-01T00:00:00\.123000Z$/);
  });
});

describe('health rule', () => {
  const t = { staleSeconds: 180, eciFailures: 3 };
  const now = Date.parse('2026-01-01T01:00:00Z');
  const hb = (over: Partial<FunctionsHeartbeat>): FunctionsHeartbeat => ({
    lastRun: new Date(now - 10_000).toISOString(),
    lastFunction: 'status-sync',
    lastSuccess: new Date(now - 10_000).toISOString(),
    consecutiveEciFailures: 0,
    ...over,
  });
  const cases: [string, FunctionsHeartbeat | undefined, number, boolean, string][] = [
    ['fresh heartbeat', hb({}), now - 3600_000, true, 'FunctionsReporting'],
    ['no heartbeat right after start', undefined, now - 60_000, true, 'AwaitingFunctions'],
    ['no heartbeat long after start', undefined, now - 3600_000, false, 'FunctionsNotReporting'],
    ['stale heartbeat', hb({ lastSuccess: new Date(now - 181_000).toISOString() }), now - 3600_000, false, 'FunctionsNotReporting'],
    ['ECI failing', hb({ consecutiveEciFailures: 3, lastEciError: 'retryable: Throttling' }), now - 3600_000, false, 'EciCallsFailing'],
    ['ECI failing below threshold', hb({ consecutiveEciFailures: 2 }), now - 3600_000, true, 'FunctionsReporting'],
  ];
  for (const [name, h, startedAt, healthyWant, reason] of cases) {
    it(name, () => {
      const got = evaluateHealth(h, now, startedAt, t);
      assert.equal(got.healthy, healthyWant);
      assert.equal(got.reason, reason);
    });
  }

  it('a restart after a long outage: a heartbeat that went stale while the bridge was away gets the stale threshold again', () => {
    const stale = hb({ lastSuccess: new Date(now - 3600_000).toISOString() });
    const back = now - 10_000; // the leader found the bridge away 10 s ago
    assert.equal(evaluateHealth(stale, now, back, t, back).healthy, true);
    assert.equal(evaluateHealth(stale, now, back, t, back).reason, 'AwaitingFunctions');
    // ... but only for that threshold: functions still silent 181 s after the return are an outage
    assert.equal(evaluateHealth(stale, back + 181_000, back, t, back).healthy, false);
    // a heartbeat that was fresh at the return and went stale afterwards is an outage (no grace)
    const later = hb({ lastSuccess: new Date(back + 1000).toISOString() });
    assert.equal(evaluateHealth(later, back + 182_000, back, t, back).healthy, false);
  });

  it('a leader change is not "away": a real outage stays visible through it', () => {
    const statusPeriod = 60;
    const node = (beatAgoMs: number): Node => ({
      metadata: { name: 'vnode' },
      status: {
        conditions: [
          { type: 'Ready', status: 'True', lastHeartbeatTime: new Date(now - beatAgoMs).toISOString() },
          { type: 'BridgeHealthy', status: 'False', lastHeartbeatTime: new Date(now - beatAgoMs).toISOString() },
        ],
      },
    });
    assert.equal(awayGrace(node(70_000), now, statusPeriod), undefined, 'the previous leader patched 70 s ago: handover');
    assert.equal(awayGrace(node(3600_000), now, statusPeriod), now, 'nobody patched the node for an hour: away');
    assert.equal(awayGrace(undefined, now, statusPeriod), now, 'no node: a fresh start');
    const stale = hb({ lastSuccess: new Date(now - 600_000).toISOString() });
    const graceFrom = awayGrace(node(70_000), now, statusPeriod);
    assert.equal(evaluateHealth(stale, now, now, t, graceFrom).healthy, false);
  });
});
