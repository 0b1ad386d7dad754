import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../shared/domain/config.js';
import { FUNCTIONS_HEARTBEAT_NAME, heartbeatToLease } from '../../../shared/domain/heartbeat.js';
import { decodeMessage, type PodNudge, type QueueMessage } from '../../../shared/domain/messages.js';
import { HEALTH_CONDITION, HEALTH_TAINT_KEY } from '../../../watcher/node.js';
import { GROUP_ANNOTATION } from '../../../watcher/podState.js';
import { SNAPSHOT_BUFFER_MAX } from '../../../watcher/forwarder.js';
import { Watcher } from '../../../watcher/watcher.js';
import { type FakeCluster, newClock, newFakeCluster, newFakeQueue, newLogger, until } from './fakes.js';

const NODE = 'vn-test';
const baseEnv = {
  VNODE_NAME: NODE,
  BRIDGE_NAMESPACE: 'eci-bridge',
  POD_IP: '10.0.0.9',
  WATCHER_HTTP_HOST: '127.0.0.1',
  WATCHER_HTTP_PORT: '0',
  NUDGE_COALESCE_MS: '5',
  NODE_LEASE_RENEW_SECONDS: '0.1',
  NODE_STATUS_SECONDS: '0.2',
  STATUS_TICK_MS: '50',
  LEADER_ELECTION: 'false',
};

describe('Watcher (with in-memory ports)', () => {
  const running: Watcher[] = [];
  after(async () => {
    for (const w of running) await w.kill();
  });

  function start(fc: FakeCluster, q: ReturnType<typeof newFakeQueue>, env: Record<string, string> = {}, clockOffset = 0) {
    const clock = newClock(clockOffset);
    const w = new Watcher({
      cluster: fc.cluster,
      queue: q.queue,
      clock: clock.clock,
      log: newLogger(),
      config: parseConfig({ ...baseEnv, ...env }),
    });
    running.push(w);
    return { w, clock };
  }
  const messages = (q: ReturnType<typeof newFakeQueue>): QueueMessage[] => q.sent.map((m) => decodeMessage(m.body));
  const nudges = (q: ReturnType<typeof newFakeQueue>): PodNudge[] =>
    messages(q).filter((m): m is PodNudge => m.kind === 'pod');

  it('registers the node Ready with labels and taint, and renews its lease', async () => {
    const fc = newFakeCluster();
    const { w } = start(fc, newFakeQueue());
    await w.start();
    await until(() => w.synced);
    const node = fc.nodes.get(NODE);
    assert.equal(node?.metadata.labels?.type, 'virtual-kubelet');
    assert.deepEqual(node?.spec?.taints?.map((t) => t.key), ['virtual-kubelet.io/provider']);
    assert.equal(node?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(node?.status?.addresses?.[0], { type: 'InternalIP', address: '10.0.0.9' });
    await until(() => fc.leases.has(`kube-node-lease/${NODE}`));
    const first = fc.leases.get(`kube-node-lease/${NODE}`)?.metadata.resourceVersion;
    await until(() => fc.leases.get(`kube-node-lease/${NODE}`)?.metadata.resourceVersion !== first, 3000, 'renewal');
    const lease = fc.leases.get(`kube-node-lease/${NODE}`);
    assert.equal(lease?.spec?.holderIdentity, NODE);
    assert.equal(lease?.spec?.leaseDurationSeconds, 40);
    assert.equal(lease?.metadata.ownerReferences?.[0]?.kind, 'Node');
    await w.stop();
  });

  it('nudges bound, changed, deleting and deleted once each, and never on its own status writes', async () => {
    const fc = newFakeCluster();
    fc.addPod('before', NODE);
    fc.addPod('elsewhere', 'other-node');
    const q = newFakeQueue();
    const { w } = start(fc, q, { STATUS_TICK_MS: '600000' });
    await w.start();
    await until(() => nudges(q).length === 1);
    const p = fc.addPod('new', NODE);
    await until(() => nudges(q).length === 2);
    // the bridge's own writes: status, group id annotation
    await fc.cluster.patchPodStatus('default', 'new', { phase: 'Running' });
    await fc.cluster.patchPodMetadata('default', 'new', { annotations: { [GROUP_ANNOTATION]: 'eci-abc' } });
    fc.modifyPod('default', 'new', (x) => {
      x.spec.activeDeadlineSeconds = 60;
    });
    await until(() => nudges(q).length === 3);
    fc.modifyPod('default', 'new', (x) => {
      x.metadata.deletionTimestamp = new Date().toISOString();
    });
    await until(() => nudges(q).length === 4);
    await fc.cluster.deletePod('default', 'new');
    await until(() => nudges(q).length === 5);
    await new Promise((r) => setTimeout(r, 50));
    const got = nudges(q).map((n) => `${n.name}:${n.reason}`);
    assert.deepEqual(got, ['before:bound', 'new:bound', 'new:changed', 'new:deleting', 'new:deleted']);
    assert.equal(nudges(q)[4]?.uid, p.metadata.uid);
    assert.equal(w.metrics.nudgesSkipped.get({ why: 'only status or bridge-written metadata changed' }), 2);
    await w.stop();
  });

  it('nudges carry the pod; while the queue is down only SNAPSHOT_BUFFER_MAX buffered nudges keep it', async () => {
    const fc = newFakeCluster();
    const q = newFakeQueue();
    const { w } = start(fc, q, { STATUS_TICK_MS: '600000', NUDGE_COALESCE_MS: '0' });
    await w.start();
    await until(() => w.synced);
    fc.addPod('first', NODE);
    await until(() => nudges(q).length === 1);
    assert.equal(nudges(q)[0]?.v, 2);
    assert.equal(nudges(q)[0]?.pod?.metadata.name, 'first');
    q.failing = true;
    for (let i = 0; i < SNAPSHOT_BUFFER_MAX + 20; i++) fc.addPod(`p${i}`, NODE);
    await new Promise((r) => setTimeout(r, 100));
    q.failing = false;
    await until(() => nudges(q).length === SNAPSHOT_BUFFER_MAX + 21, 20_000, 'the buffered nudges');
    const carrying = nudges(q).filter((n) => n.pod !== undefined).length;
    assert.equal(carrying, SNAPSHOT_BUFFER_MAX + 1, 'the first and the first SNAPSHOT_BUFFER_MAX buffered');
    assert.ok(nudges(q).every((n) => (n.pod ? n.v === 2 : n.v === 1)));
    await w.stop();
  });

  it('sends status ticks while pods are changing and none once they are steady', async () => {
    const fc = newFakeCluster();
    const q = newFakeQueue();
    const { w } = start(fc, q);
    await w.start();
    await until(() => w.synced);
    fc.addPod('a', NODE);
    await until(() => messages(q).some((m) => m.kind === 'status-tick'));
    const tick = messages(q).find((m) => m.kind === 'status-tick');
    assert.equal(tick?.kind === 'status-tick' && tick.pods[0]?.name, 'a');
    fc.modifyPod('default', 'a', (x) => {
      x.metadata.annotations = { [GROUP_ANNOTATION]: 'eci-a' };
      x.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    });
    await new Promise((r) => setTimeout(r, 150));
    const before = messages(q).filter((m) => m.kind === 'status-tick').length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(messages(q).filter((m) => m.kind === 'status-tick').length, before);
    await w.stop();
  });

  it('after a crash, nudges what it missed and repeats nothing but as resync', async () => {
    const fc = newFakeCluster();
    const q = newFakeQueue();
    const first = start(fc, q, { STATUS_TICK_MS: '600000' }).w;
    await first.start();
    for (let i = 0; i < 10; i++) fc.addPod(`p${i}`, NODE);
    await until(() => nudges(q).length === 10);
    await new Promise((r) => setTimeout(r, 1200)); // one checkpoint save
    await first.kill();
    // while no watcher runs: new pods, a graceful deletion
    const rvOf = new Map<string, number>();
    for (let i = 10; i < 15; i++) rvOf.set(`p${i}`, Number(fc.addPod(`p${i}`, NODE).metadata.resourceVersion));
    const p3 = fc.modifyPod('default', 'p3', (x) => {
      x.metadata.deletionTimestamp = new Date().toISOString();
    });
    rvOf.set('p3', Number(p3.metadata.resourceVersion));
    const second = start(fc, q, { STATUS_TICK_MS: '600000' }).w;
    await second.start();
    await until(() => nudges(q).length >= 16, 3000, 'catch-up nudges');
    await new Promise((r) => setTimeout(r, 100));
    const byPod = new Map<string, PodNudge[]>();
    for (const n of nudges(q)) byPod.set(n.name, [...(byPod.get(n.name) ?? []), n]);
    for (let i = 0; i < 10; i++) assert.equal(byPod.get(`p${i}`)?.[0]?.reason, 'bound', `p${i} bound`);
    // what changed while no watcher ran is nudged with the new state: as what it is, or as resync when it fell
    // inside the checkpoint's headroom (see checkpoint.ts)
    for (const [name, rv] of rvOf) {
      const after = (byPod.get(name) ?? []).filter((n) => Number(n.resourceVersion) >= rv);
      assert.equal(after.length, 1, `${name} nudged once for its new state`);
      assert.ok(['bound', 'deleting', 'resync'].includes(after[0]?.reason ?? ''), `${name}: ${after[0]?.reason}`);
    }
    for (const [name, list] of byPod) {
      const nonResync = list.map((n) => n.reason).filter((r) => r !== 'resync');
      assert.equal(new Set(nonResync).size, nonResync.length, `${name}: ${list.map((n) => n.reason).join(',')}`);
    }
    assert.equal(second.metrics.nudgesSkipped.get({ why: 'already forwarded before the restart' }), 9);
    await second.stop();
  });

  it('taints the node and reports BridgeHealthy=False when the functions stop reporting, keeping Ready', async () => {
    const fc = newFakeCluster();
    const q = newFakeQueue();
    const hb = heartbeatToLease(
      { lastRun: new Date().toISOString(), lastFunction: 'status-sync', lastSuccess: new Date().toISOString(), consecutiveEciFailures: 0 },
      'eci-bridge',
    );
    await fc.cluster.createLease('eci-bridge', hb);
    const { w, clock } = start(fc, q, { HEALTH_STALE_SECONDS: '60' });
    await w.start();
    await until(() => w.synced);
    assert.equal(w.health.healthy, true);
    clock.advance(120_000); // the heartbeat is now two minutes old
    await until(() => fc.nodes.get(NODE)?.spec?.taints?.some((t) => t.key === HEALTH_TAINT_KEY) ?? false, 3000, 'health taint');
    await until(() => fc.nodes.get(NODE)?.status?.conditions?.find((c) => c.type === HEALTH_CONDITION)?.status === 'False');
    const node = fc.nodes.get(NODE);
    assert.equal(node?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(w.health.reason, 'FunctionsNotReporting');
    // the functions report again
    const cur = await fc.cluster.getLease('eci-bridge', FUNCTIONS_HEARTBEAT_NAME);
    const now = new Date(clock.clock.now()).toISOString();
    await fc.cluster.replaceLease(
      'eci-bridge',
      heartbeatToLease({ lastRun: now, lastFunction: 'status-sync', lastSuccess: now, consecutiveEciFailures: 0 }, 'eci-bridge', cur),
    );
    await until(() => !fc.nodes.get(NODE)?.spec?.taints?.some((t) => t.key === HEALTH_TAINT_KEY), 3000, 'taint removed');
    assert.deepEqual(fc.nodes.get(NODE)?.spec?.taints?.map((t) => t.key), ['virtual-kubelet.io/provider']);
    await w.stop();
  });

  it('registers the node again when someone deletes it', async () => {
    const fc = newFakeCluster();
    const { w } = start(fc, newFakeQueue());
    await w.start();
    await until(() => w.synced);
    const uid = fc.nodes.get(NODE)?.metadata.uid;
    assert.ok(uid);
    fc.nodes.delete(NODE);
    await until(() => fc.nodes.has(NODE), 3000, 'node re-registered');
    await until(() => fc.nodes.get(NODE)?.status?.conditions?.some((c) => c.type === 'Ready') ?? false);
    await w.stop();
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    const fc = newFakeCluster();
    const q = newFakeQueue();
    const { w } = start(fc, q);
    await w.start();
    await until(() => w.synced);
    fc.addPod('m', NODE);
    await until(() => nudges(q).length === 1);
    const base = `http://127.0.0.1:${w.httpPort}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.match(await ready.text(), /synced/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'eci_watcher_pods 1',
      'eci_watcher_nudges_sent_total{reason="bound"} 1',
      'eci_watcher_send_errors_total',
      'eci_watcher_watch_restarts_total',
      'eci_watcher_node_lease_renewal_seconds_count',
      'eci_watcher_leader 0',
    ]) {
      assert.ok(metrics.includes(name), name);
    }
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    await w.stop();
    await assert.rejects(fetch(`${base}/healthz`));
  });

  it('graceful stop flushes coalesced nudges before leaving', async () => {
    const fc = newFakeCluster();
    const q = newFakeQueue();
    const { w } = start(fc, q, { NUDGE_COALESCE_MS: '600000', STATUS_TICK_MS: '600000' });
    await w.start();
    await until(() => w.synced);
    fc.addPod('late', NODE);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(nudges(q).length, 0);
    await w.stop();
    assert.deepEqual(
      nudges(q).map((n) => n.name),
      ['late'],
    );
  });
});
