/**
 * watchPods through API-server failures, on a PRIVATE control plane (own etcd and apiserver) so that killing the
 * apiserver disturbs no other test:
 * 1. the apiserver is SIGKILLed and restarted; every change made while the watch was disconnected is delivered;
 * 2. a too-old resourceVersion after the restart (410) leads to a relist that delivers exactly the differences.
 * The watch loop's backoff sleep is gated by the test, so "while it was down" is deterministic.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from '../../../scripts/testenv/controlPlane.js';
import { createKubeCluster, isGone, isTransient, type KubeCluster } from '../../../shared/adapters/kube/index.js';
import {
  coreApi,
  createTestNamespace,
  podManifest,
  privateControlPlaneSkipReason,
  type TestNamespace,
  uniqueName,
  waitUntil,
} from '../../helpers/kube.js';
import { PodView } from './podView.js';

/** A sleep the test can hold: while held, the watch loop waits in its backoff (disconnected) until released. */
class Gate {
  private held = false;
  private waiters: (() => void)[] = [];
  waiting = 0;
  hold(): void {
    this.held = true;
  }
  release(): void {
    this.held = false;
    for (const w of this.waiters.splice(0)) w();
  }
  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        if (!this.held) return finish();
        this.waiting++;
        this.waiters.push(() => {
          this.waiting--;
          finish();
        });
      }, ms);
      signal.addEventListener('abort', finish, { once: true });
    });
}

const skip = privateControlPlaneSkipReason();

describe('kube adapter: watchPods across apiserver restarts (private control plane)', { skip: skip ?? false }, () => {
  let cp: ControlPlane;
  let ns: TestNamespace;
  let core: CoreV1Api;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    // with the controllers, as every cluster: they fill the test namespaces (default ServiceAccount, root CA) and
    // reconnect by themselves after the apiserver restarts
    cp = await startControlPlane({ controllers: true });
    core = coreApi(cp.kubeconfigPath);
  });
  beforeEach(async () => {
    ns = await createTestNamespace(cp.kubeconfigPath, 'restart');
  });
  after(async () => {
    for (const s of stops) await s();
    await cp?.stop();
  });

  async function watched(node: string) {
    const gate = new Gate();
    const errors: Error[] = [];
    const view = new PodView();
    const cluster: KubeCluster = createKubeCluster(
      { kubeconfigPath: cp.kubeconfigPath },
      { watch: { sleep: gate.sleep, backoff: { baseMs: 50, maxMs: 400 } } },
    );
    const h = cluster.watchPods({ nodeName: node }, (ev) => view.apply(ev), (e) => errors.push(e));
    stops.push(() => h.stop());
    await h.synced;
    return { gate, errors, view, cluster, h };
  }

  async function createPods(node: string, names: string[]) {
    for (const n of names) await core.createNamespacedPod({ namespace: ns.name, body: podManifest(n, node) });
  }

  /** Kill the apiserver, wait until the watch is disconnected and held in backoff, start the apiserver again. */
  async function restartWhileHeld(w: Awaited<ReturnType<typeof watched>>) {
    w.gate.hold();
    await cp.killApiserver();
    await waitUntil('the watch loop to be disconnected and backing off', () => w.gate.waiting > 0);
    assert.ok(w.errors.some(isTransient), 'the disconnection was reported as a TransientError');
    await cp.startApiserver();
  }

  /** Changes made while the watch is disconnected: delete p1, change p2, create p4 (p3 stays as it was). */
  async function changeWhileDisconnected(node: string, cluster: KubeCluster) {
    const p1 = await cluster.getPod(ns.name, 'p1');
    await cluster.deletePod(ns.name, 'p1', { uid: p1.metadata.uid as string, gracePeriodSeconds: 0 });
    await cluster.patchPodStatus(ns.name, 'p2', { phase: 'Running' });
    await createPods(node, ['p4']);
    await core.createNamespacedPod({ namespace: ns.name, body: podManifest(uniqueName('other'), uniqueName('other-node')) });
  }

  function eventsSince(view: PodView, from: number): string[] {
    return view.log.slice(from).map((e) => `${e.type} ${e.name}`);
  }

  it('resumes after the apiserver is SIGKILLed and restarted, delivering every change made while it was down', async () => {
    // Prepare
    const node = uniqueName('vnode');
    await createPods(node, ['p1', 'p2', 'p3']);
    const w = await watched(node);
    assert.deepStrictEqual(w.view.names(), ['p1', 'p2', 'p3'].map((n) => `${ns.name}/${n}`));
    const mark = w.view.log.length;

    // Act
    await restartWhileHeld(w);
    await changeWhileDisconnected(node, w.cluster);
    w.gate.release();
    const server = await w.cluster.listPods({ nodeName: node });
    await waitUntil('the view to match the server after the restart', () => w.view.matches(server));

    // Assess: exactly the changes, once each (PodView also rejects duplicate ADDED/MODIFIED and unknown DELETED).
    const seen = eventsSince(w.view, mark);
    assert.deepStrictEqual(seen.filter((e) => e.endsWith(' p1')).at(-1), 'DELETED p1');
    assert.deepStrictEqual(seen.filter((e) => e.endsWith(' p2')), ['MODIFIED p2']);
    assert.deepStrictEqual(seen.filter((e) => e.endsWith(' p4')), ['ADDED p4']);
    assert.deepStrictEqual(seen.filter((e) => e.endsWith(' p3')), []);
    assert.deepStrictEqual(w.view.names(), ['p2', 'p3', 'p4'].map((n) => `${ns.name}/${n}`));
    assert.equal(w.view.get(`${ns.name}/p2`)?.status?.phase, 'Running');

    // And the watch is live again afterwards.
    await createPods(node, ['p5']);
    await waitUntil('p5 to arrive', () => w.view.get(`${ns.name}/p5`) !== undefined);
  });

  it('a 410 (resourceVersion too old after the restart) relists and delivers exactly the differences', async () => {
    // Prepare
    const node = uniqueName('vnode');
    await createPods(node, ['p1', 'p2', 'p3']);
    const w = await watched(node);
    const mark = w.view.log.length;
    // A write this watch does not see moves etcd's revision past the watch's resourceVersion; after a restart the
    // apiserver's watch cache starts at the current revision, so resuming from the old one is "too old" (410).
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: uniqueName('bump') } } });

    // Act
    await restartWhileHeld(w);
    await changeWhileDisconnected(node, w.cluster);
    w.gate.release();
    await waitUntil('a 410 to be reported', () => w.errors.some(isGone));
    const server = await w.cluster.listPods({ nodeName: node });
    await waitUntil('the view to match the server after the relist', () => w.view.matches(server));

    // Assess
    assert.deepStrictEqual(eventsSince(w.view, mark).sort(), ['ADDED p4', 'DELETED p1', 'MODIFIED p2']);
    assert.deepStrictEqual(w.view.names(), ['p2', 'p3', 'p4'].map((n) => `${ns.name}/${n}`));
    for (const p of server) assert.deepStrictEqual(w.view.get(`${ns.name}/${p.metadata.name}`), p);
  });
});
