/**
 * The watcher against the real kube-apiserver (the local test control plane or KUBE_TEST_KUBECONFIG), through the
 * real Kubernetes adapter and the embedded queue: node registration and lease, one nudge per bound pod, crash and
 * restart without losses or repeats, leader failover without the node going NotReady.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, type CoreV1Api } from '@kubernetes/client-node';
import { createKubeCluster } from '../../shared/adapters/kube/index.js';
import { EmbeddedQueue } from '../../shared/adapters/queue/index.js';
import { parseConfig } from '../../shared/domain/config.js';
import { heartbeatToLease } from '../../shared/domain/heartbeat.js';
import type { Node } from '../../shared/domain/k8s.js';
import { decodeMessage, type PodNudge } from '../../shared/domain/messages.js';
import type { Cluster, Logger } from '../../shared/ports/index.js';
import { systemClock } from '../../watcher/main.js';
import { Watcher } from '../../watcher/watcher.js';
import { newLogger } from '../unit/watcher/fakes.js';
import {
  coreApi,
  createTestNamespace,
  loadKubeConfig,
  NO_KUBECONFIG,
  podManifest,
  type TestNamespace,
  testKubeconfig,
  uniqueName,
  waitUntil,
} from '../helpers/kube.js';
import { pool } from '../../scripts/lib/async.js';

const kubeconfig = testKubeconfig();
const stderrLogger: Logger = {
  debug: () => {},
  info: (o, m) => process.stderr.write(`${Date.now() % 100000} info ${m} ${JSON.stringify(o)}\n`),
  warn: (o, m) => process.stderr.write(`${Date.now() % 100000} warn ${m} ${JSON.stringify(o)}\n`),
  error: (o, m) => process.stderr.write(`${Date.now() % 100000} error ${m} ${JSON.stringify(o)}\n`),
  child: () => stderrLogger,
};

describe('watcher against a real apiserver', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  let core: CoreV1Api;
  let coord: CoordinationV1Api;
  let cluster: Cluster;
  let bridgeNs: TestNamespace;
  let podNs: TestNamespace;
  const watchers: Watcher[] = [];
  const nodes: string[] = [];

  before(async () => {
    const path = kubeconfig as string;
    core = coreApi(path);
    coord = loadKubeConfig(path).makeApiClient(CoordinationV1Api);
    cluster = createKubeCluster({ kubeconfigPath: path });
    bridgeNs = await createTestNamespace(path, 'wbridge');
    podNs = await createTestNamespace(path, 'wpods');
  });

  after(async () => {
    for (const w of watchers) await w.kill();
    await podNs?.cleanup();
    await bridgeNs?.cleanup();
    for (const n of nodes) {
      await core.deleteNode({ name: n }).catch(() => {});
      await coord.deleteNamespacedLease({ namespace: 'kube-node-lease', name: n }).catch(() => {});
    }
  });

  function newWatcher(vnode: string, queue: EmbeddedQueue, env: Record<string, string> = {}): Watcher {
    const w = new Watcher({
      cluster,
      queue,
      clock: systemClock,
      log: process.env.WATCHER_TEST_LOG ? stderrLogger : newLogger(),
      http: false,
      config: parseConfig({
        VNODE_NAME: vnode,
        BRIDGE_NAMESPACE: bridgeNs.name,
        POD_IP: '127.0.0.1',
        LEADER_ELECTION: 'false',
        STATUS_TICK_MS: '600000',
        ...env,
      }),
    });
    watchers.push(w);
    return w;
  }

  function newVnode(): string {
    const n = uniqueName('vn');
    nodes.push(n);
    return n;
  }

  /** Takes every message off the queue (receive + delete) and returns the pod nudges. */
  async function drain(q: EmbeddedQueue, into: PodNudge[]): Promise<PodNudge[]> {
    for (;;) {
      const got = await q.receive(16, 0);
      if (got.length === 0) return into;
      for (const m of got) {
        const msg = decodeMessage(m.body);
        if (msg.kind === 'pod') into.push(msg);
        await q.delete(m.receiptHandle);
      }
    }
  }

  const createPod = (name: string, vnode: string) =>
    core.createNamespacedPod({ namespace: podNs.name, body: podManifest(name, vnode) });

  it('registers the node Ready with its labels, cost tags and taint, and renews its lease at least twice in 25 s', async () => {
    const vnode = newVnode();
    const w = newWatcher(vnode, new EmbeddedQueue(), { VNODE_LABELS: 'billing.example.com/vnode=team-a', VNODE_TAGS: 'cost-center=cc-42, env=prod' });
    await w.start();
    let node: Node | undefined;
    await waitUntil('node Ready', async () => {
      node = await cluster.getNode(vnode).catch(() => undefined);
      return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    });
    assert.equal(node?.metadata.labels?.type, 'virtual-kubelet');
    assert.equal(node?.metadata.labels?.['k8s.aliyun.com/vnode'], 'true');
    assert.equal(node?.metadata.labels?.['billing.example.com/vnode'], 'team-a');
    assert.deepEqual(JSON.parse(node?.metadata.annotations?.['eci-bridge.io/vnode-tags'] ?? '{}'), { 'cost-center': 'cc-42', env: 'prod' });
    // the apiserver's TaintNodesByCondition admission adds node.kubernetes.io/not-ready:NoSchedule to every new
    // node; the node-lifecycle controller (not running here) removes it once Ready is True
    const taints = (node?.spec?.taints ?? []).map((t) => `${t.key}=${t.value}:${t.effect}`).filter((t) => !t.startsWith('node.kubernetes.io/'));
    assert.deepEqual(taints, ['virtual-kubelet.io/provider=alibabacloud:NoSchedule']);
    assert.ok(['1000', '1k'].includes(node?.status?.capacity?.pods ?? ''), 'pods capacity (the apiserver canonicalises 1000 to 1k)');
    assert.equal(node?.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
    assert.ok(node?.status?.conditions?.some((c) => c.type === 'BridgeHealthy'));

    const renewTimes = new Set<string>();
    await waitUntil(
      'two lease renewals',
      async () => {
        const l = await cluster.getLease('kube-node-lease', vnode).catch(() => undefined);
        if (l?.spec?.renewTime) renewTimes.add(l.spec.renewTime);
        return renewTimes.size >= 3; // the creation plus two renewals
      },
      25_000,
    );
    const lease = await cluster.getLease('kube-node-lease', vnode);
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.equal(lease.metadata.ownerReferences?.[0]?.uid, node?.metadata.uid);
    await w.stop();
  });

  it('sends exactly one "bound" nudge for each of 200 pods bound to the node', async () => {
    const vnode = newVnode();
    const q = new EmbeddedQueue();
    const w = newWatcher(vnode, q);
    await w.start();
    await waitUntil('synced', () => w.synced);
    const names = Array.from({ length: 200 }, (_, i) => `b${i}-${vnode}`);
    const uids = new Map<string, string>();
    await pool(names, 16, async (n) => {
      const p = await createPod(n, vnode);
      uids.set(n, p.metadata?.uid ?? '');
    });
    const nudges: PodNudge[] = [];
    await waitUntil('200 nudges', async () => (await drain(q, nudges)).length >= 200, 60_000);
    await new Promise((r) => setTimeout(r, 1500)); // any duplicate would arrive by now
    await drain(q, nudges);
    assert.equal(nudges.length, 200);
    const byName = new Map(nudges.map((n) => [n.name, n]));
    assert.equal(byName.size, 200);
    for (const n of names) {
      assert.equal(byName.get(n)?.reason, 'bound', n);
      assert.equal(byName.get(n)?.uid, uids.get(n), n);
    }
    await w.stop();
  });

  it('after a crash mid-churn, every pod and every deletion gets its nudge, none twice except by resync', async () => {
    const vnode = newVnode();
    const q = new EmbeddedQueue();
    const first = newWatcher(vnode, q);
    await first.start();
    await waitUntil('synced', () => first.synced);
    const created: string[] = [];
    const forceDeleted: string[] = [];
    /** pod name → the resourceVersion of each state that needs a nudge (bound; terminating) */
    const mustSee = new Map<string, number[]>();
    const need = (name: string, rv: string | undefined) => mustSee.set(name, [...(mustSee.get(name) ?? []), Number(rv)]);
    const gracefulDelete = async (name: string) => {
      const p = (await core.deleteNamespacedPod({ name, namespace: podNs.name })) as { metadata?: { resourceVersion?: string } };
      need(name, p.metadata?.resourceVersion);
    };
    const churn = async (from: number, to: number) => {
      await pool(
        Array.from({ length: to - from }, (_, i) => from + i),
        8,
        async (i) => {
          const name = `c${i}-${vnode}`;
          const p = await createPod(name, vnode);
          created.push(name);
          if (i % 5 === 0) {
            // graceful: stays with a deletionTimestamp (no kubelet runs) → "deleting"
            need(name, p.metadata?.resourceVersion);
            await gracefulDelete(name);
          } else if (i % 7 === 0) {
            // force: gone from the API at once → "deleted" with its UID (if the watcher saw it at all)
            await core.deleteNamespacedPod({ name, namespace: podNs.name, gracePeriodSeconds: 0 });
            forceDeleted.push(name);
          } else {
            need(name, p.metadata?.resourceVersion);
          }
        },
      );
    };
    const during = churn(0, 60);
    await new Promise((r) => setTimeout(r, 150));
    await first.kill(); // abrupt: mid-churn, nothing flushed or saved
    await during;
    const nudges: PodNudge[] = [];
    await drain(q, nudges);
    // while no watcher runs: more pods, graceful deletions of earlier ones
    await churn(60, 80);
    const survivors = created.filter((n) => !forceDeleted.includes(n) && !(mustSee.get(n)?.length === 2));
    for (const name of survivors.slice(0, 6)) await gracefulDelete(name);
    const second = newWatcher(vnode, q);
    await second.start();
    await waitUntil('synced', () => second.synced);
    /** every state that needs a nudge got one: a nudge about that state or a later one */
    const missing = () =>
      [...mustSee].flatMap(([name, rvs]) =>
        rvs.filter((rv) => !nudges.some((n) => n.name === name && Number(n.resourceVersion) >= rv)).map((rv) => `${name}@${rv}`),
      );
    await waitUntil(
      'every pod and every deletion nudged',
      async () => {
        await drain(q, nudges);
        return missing().length === 0;
      },
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    await drain(q, nudges);
    assert.deepEqual(missing(), []);
    const byPod = new Map<string, string[]>();
    for (const n of nudges) byPod.set(n.name, [...(byPod.get(n.name) ?? []), n.reason]);
    for (const [name, reasons] of byPod) {
      const strict = reasons.filter((r) => r !== 'resync');
      assert.equal(new Set(strict).size, strict.length, `${name} nudged twice: ${reasons.join(',')}`);
    }
    // a pod force-deleted while the first watcher ran was nudged "deleted" if that watcher saw it ("deleting" if it
    // saw only the deletionTimestamp before it was killed: pod-sync then finds the pod gone and cleans up by its UID);
    // one created and force-deleted inside the crash window is invisible to any watcher (gc collects its group, if any)
    for (const n of forceDeleted) {
      const r = byPod.get(n) ?? [];
      assert.ok(r.length === 0 || r.some((x) => ['deleted', 'deleting', 'resync', 'bound'].includes(x)), `${n}: ${r.join(',')}`);
    }
    await second.stop();
  });

  it('after a long outage a restart does not taint the node unhealthy; after a leader change a stale heartbeat does', async () => {
    const path = kubeconfig as string;
    const hbNs = await createTestNamespace(path, 'whealth');
    try {
      const hourAgo = new Date(Date.now() - 3600_000).toISOString();
      // the functions last reported an hour ago (the whole bridge was down, or only the functions are)
      await cluster.createLease(
        hbNs.name,
        heartbeatToLease({ lastRun: hourAgo, lastFunction: 'status-sync', lastSuccess: hourAgo, consecutiveEciFailures: 0 }, hbNs.name),
      );
      /** A node as a previous watcher left it, its status last written `beatAgoMs` ago. */
      const leftover = async (beatAgoMs: number): Promise<string> => {
        const vnode = newVnode();
        await core.createNode({ body: { metadata: { name: vnode } } });
        const beat = new Date(Date.now() - beatAgoMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const conditions = ['Ready', 'BridgeHealthy'].map((type) => ({ type, status: 'True', reason: 'Previous', lastHeartbeatTime: beat, lastTransitionTime: beat }));
        await core.patchNodeStatus({ name: vnode, body: [{ op: 'add', path: '/status/conditions', value: conditions }] });
        return vnode;
      };
      const unhealthyTaint = async (vnode: string) => (await cluster.getNode(vnode)).spec?.taints?.some((t) => t.key === 'eci-bridge.io/unhealthy') ?? false;

      // restart after an hour away: the functions get a fresh stale period before the taint
      const away = await leftover(3600_000);
      const w1 = newWatcher(away, new EmbeddedQueue(), { BRIDGE_NAMESPACE: hbNs.name });
      await w1.start();
      await waitUntil('w1 leads', () => w1.isLeader && w1.synced);
      assert.equal(w1.health.healthy, true);
      assert.equal(w1.health.reason, 'AwaitingFunctions');
      assert.equal(await unhealthyTaint(away), false, 'no spurious unhealthy taint after a restart');
      await w1.kill();

      // a leader change (the node was patched a minute ago): the stale heartbeat is a real outage, tainted at once
      const handover = await leftover(60_000);
      const w2 = newWatcher(handover, new EmbeddedQueue(), { BRIDGE_NAMESPACE: hbNs.name });
      await w2.start();
      await waitUntil('w2 leads', () => w2.isLeader && w2.synced);
      assert.equal(w2.health.healthy, false);
      assert.equal(w2.health.reason, 'FunctionsNotReporting');
      await waitUntil('the unhealthy taint', () => unhealthyTaint(handover));
      await w2.kill();
    } finally {
      await hbNs.cleanup();
    }
  });

  it('hands leadership over when the leader dies, without the node going NotReady', async () => {
    const vnode = newVnode();
    const q = new EmbeddedQueue();
    const env = { LEADER_ELECTION: 'true' };
    const a = newWatcher(vnode, q, { ...env, POD_NAME: 'watcher-a' });
    await a.start();
    await waitUntil('a leads', () => a.isLeader && a.synced);
    const b = newWatcher(vnode, q, { ...env, POD_NAME: 'watcher-b' });
    await b.start();
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(b.isLeader, false, 'one leader at a time');

    let worstLeaseAgeMs = 0;
    let notReady = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [lease, node] = await Promise.all([cluster.getLease('kube-node-lease', vnode), cluster.getNode(vnode)]);
        const age = Date.now() - Date.parse(lease.spec?.renewTime ?? '');
        worstLeaseAgeMs = Math.max(worstLeaseAgeMs, age);
        if (!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) notReady++;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const killedAt = Date.now();
    await a.kill(); // abrupt: the leader lease is not released
    if (process.env.WATCHER_TEST_LOG) {
      void (async () => {
        for (let i = 0; i < 20; i++) {
          const l = await cluster.getLease(bridgeNs.name, `${vnode}-watcher-leader`);
          process.stderr.write(`leader lease ${l.spec?.holderIdentity} ${l.spec?.renewTime} b=${b.isLeader}\n`);
          await new Promise((r) => setTimeout(r, 1000));
        }
      })();
    }
    await waitUntil('b takes over', () => b.isLeader && b.synced, 15_000);
    const handoverMs = Date.now() - killedAt;
    // the new leader renews the node lease
    const before = (await cluster.getLease('kube-node-lease', vnode)).spec?.renewTime;
    await waitUntil('node lease renewed by the new leader', async () => (await cluster.getLease('kube-node-lease', vnode)).spec?.renewTime !== before, 15_000);
    sampling = false;
    await sampler;
    process.stdout.write(`# leader handover ${(handoverMs / 1000).toFixed(1)} s, worst node-lease age ${(worstLeaseAgeMs / 1000).toFixed(1)} s\n`);
    assert.equal(notReady, 0);
    assert.ok(worstLeaseAgeMs < 40_000, `node lease went ${worstLeaseAgeMs} ms without renewal`);
    const leader = await cluster.getLease(bridgeNs.name, `${vnode}-watcher-leader`);
    assert.equal(leader.spec?.holderIdentity, 'watcher-b');
    // the new leader forwards
    await createPod(`after-${vnode}`, vnode);
    const nudges: PodNudge[] = [];
    await waitUntil('nudge from the new leader', async () => (await drain(q, nudges)).some((n) => n.name === `after-${vnode}`));
    await b.stop();
  });
});
