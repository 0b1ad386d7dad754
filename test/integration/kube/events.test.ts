/**
 * Mirroring ECI events against a real kube-apiserver, through the real Cluster adapters (client-node, and lite:
 * what the functions use), each "process" a Cluster of its own behind a request-counting proxy: two processes
 * mirroring the same ECI events at once leave one Event per ECI event with ECI's count, and cost no more requests
 * than shared/adapters/kube/events.ts and PodSync.emitEciEvents claim.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { startKubeFaultProxy, type KubeFaultProxy } from '../../../scripts/chaos/kubeFaultProxy.js';
import { createKubeCluster } from '../../../shared/adapters/kube/index.js';
import { createLiteKubeCluster, type LiteKubeConnection } from '../../../shared/adapters/kube/lite.js';
import type { EciContainerGroup, EciEvent } from '../../../shared/domain/eci.js';
import { eciEventsToK8s } from '../../../shared/domain/events.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import type { Cluster } from '../../../shared/ports/index.js';
import { ANNOTATION_EVENTS_SEEN } from '../../../shared/usecases/context.js';
import { PodSync } from '../../../shared/usecases/podSync.js';
import { world } from '../../unit/usecases/fakes.js';
import { clusterCaPem, coreApi, createTestNamespace, loadKubeConfig, NO_KUBECONFIG, podManifest, type TestNamespace, testKubeconfig } from '../../helpers/kube.js';

const kubeconfig = testKubeconfig();

/** The proxy speaks plain HTTP on loopback: client-node takes that only from a kubeconfig skipping TLS verification. */
function proxyKubeconfig(conn: LiteKubeConnection): string {
  const path = join(mkdtempSync(join(tmpdir(), 'events-proxy-')), 'kubeconfig');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'proxy', cluster: { server: conn.server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'test', user: { token: conn.token } }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'test' } }],
      'current-context': 'proxy',
    }),
  );
  return path;
}

const implementations: { name: string; make: (conn: LiteKubeConnection) => Cluster }[] = [
  { name: 'client-node', make: (conn) => createKubeCluster({ kubeconfigPath: proxyKubeconfig(conn) }) },
  { name: 'lite', make: (conn) => createLiteKubeCluster(conn) },
];

/** ECI events as a DescribeContainerGroups item carries them, relative to `t0` (seconds). */
function eciEvents(t0: number, backOffCount: number): EciEvent[] {
  const at = (s: number) => new Date(t0 + s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [
    { Type: 'Normal', Reason: 'Scheduled', Message: 'assigned to a node', FirstTimestamp: at(0), LastTimestamp: at(0), Count: 1 },
    { Type: 'Normal', Reason: 'Pulling', Message: 'pulling image "nginx"', FirstTimestamp: at(1), LastTimestamp: at(1), Count: 1 },
    { Type: 'Normal', Reason: 'Pulled', Message: 'pulled image "nginx"', FirstTimestamp: at(2), LastTimestamp: at(2), Count: 1 },
    { Type: 'Normal', Reason: 'Started', Message: 'started container app', FirstTimestamp: at(3), LastTimestamp: at(3), Count: 1 },
    { Type: 'Warning', Reason: 'BackOff', Message: 'back-off restarting failed container', FirstTimestamp: at(3), LastTimestamp: at(3 + backOffCount), Count: backOffCount },
  ];
}

for (const impl of implementations) {
  describe(`mirrored ECI events (${impl.name}), two processes against a real kube-apiserver`, { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
    let ns: TestNamespace;
    let core: CoreV1Api;
    let proxy: KubeFaultProxy;
    let conn: LiteKubeConnection;

    before(async () => {
      const path = kubeconfig as string;
      ns = await createTestNamespace(path, 'events');
      core = coreApi(path);
      const kc = loadKubeConfig(path);
      const caPem = clusterCaPem(kc);
      proxy = await startKubeFaultProxy({ upstream: kc.getCurrentCluster()?.server as string, caPem });
      conn = { server: proxy.url, token: kc.getCurrentUser()?.token as string, caPem };
    });
    after(async () => {
      await proxy?.close();
      await ns?.cleanup();
    });

    /** Requests through the proxy while `fn` runs, by verb and resource. */
    async function counted(fn: () => Promise<unknown>): Promise<Record<string, number>> {
      const before = proxy.requests();
      await fn();
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(proxy.requests())) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
      return out;
    }

    async function makePod(name: string): Promise<Pod> {
      return (await core.createNamespacedPod({ namespace: ns.name, body: podManifest(name, 'vnode') })) as unknown as Pod;
    }

    const listFor = async (uid: string) => (await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.uid=${uid}` })).items;

    it('the adapter: one Event per ECI event with its count; a repeat costs nothing in the process that wrote it, one PATCH when counted again', async () => {
      const pod = await makePod('mirror-two');
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const [a, b] = [impl.make(conn), impl.make(conn)];
      const snapshot = eciEventsToK8s(eciEvents(t0, 3), pod, { now: new Date(t0).toISOString() });
      const both = await counted(() =>
        Promise.all([a, b].map(async (c) => { for (const ev of snapshot) await c.mirrorEvent(ev); })),
      );
      let events = await listFor(pod.metadata.uid ?? '');
      assert.equal(events.length, 5);
      assert.equal(events.find((e) => e.reason === 'BackOff')?.count, 3);
      // each Event created once; the loser's creates answered AlreadyExists; the count-3 one read once by the loser
      assert.equal(both['create events'], 10);
      assert.equal(proxy.refused()['409 create events'], 5, 'the loser\'s five creates answered AlreadyExists (409)');
      assert.ok((both['get events'] ?? 0) <= 1, JSON.stringify(both));
      assert.equal(both['patch events'], undefined, 'nothing newer to patch');

      // the same snapshot again, in both processes: no request at all
      assert.deepEqual(await counted(() => Promise.all(snapshot.map((ev) => Promise.all([a.mirrorEvent(ev), b.mirrorEvent(ev)])))), {});

      // ECI counted the back-off again: the process that created it sends one PATCH (whichever that was, the other
      // then finds it says as much: its create is answered AlreadyExists and it reads it, or its PATCH is refused)
      const again = eciEventsToK8s(eciEvents(t0, 5), pod, { now: new Date(t0).toISOString() }).find((e) => e.reason === 'BackOff');
      assert.ok(again);
      const first = await counted(async () => {
        const results = await Promise.all([a.mirrorEvent(again), b.mirrorEvent(again)]);
        assert.ok(results.includes('updated'), String(results));
      });
      events = await listFor(pod.metadata.uid ?? '');
      assert.equal(events.length, 5);
      assert.equal(events.find((e) => e.reason === 'BackOff')?.count, 5);
      assert.equal(first['patch events'] !== undefined && first['patch events'] <= 2, true, JSON.stringify(first));
      assert.ok((first['create events'] ?? 0) <= 1 && (first['get events'] ?? 0) <= 2, JSON.stringify(first));
    });

    it('pod-sync: two passes mirroring the same group at once write each Event once, plus one refused create, and one mark', async () => {
      const pod = await makePod('mirror-race');
      const t0 = Date.now() - 5000; // recent: the race window applies
      const group = { ContainerGroupId: 'eci-race', Status: 'Running', Events: eciEvents(t0, 2), Containers: [] } as unknown as EciContainerGroup;
      const passes = [impl.make(conn), impl.make(conn)].map((cluster) => {
        const w = world({ vnodeName: 'vnode' });
        w.clock.t = Date.now();
        const domain = { ...w.deps.domain, toStatus: () => ({}), differs: () => false, events: (g: EciContainerGroup, p: Pod, since: number) => eciEventsToK8s(g.Events, p, { now: new Date(since).toISOString() }).filter((e) => Date.parse(e.lastTimestamp ?? '') > since) };
        return new PodSync({ ...w.deps, cluster, domain });
      });
      // both read the pod before either moved the mark
      const copies = [structuredClone(pod), structuredClone(pod)];
      const used = await counted(() => Promise.all(passes.map((p, i) => p.applyGroup(copies[i] as Pod, group))));
      const events = await listFor(pod.metadata.uid ?? '');
      assert.equal(events.length, 5);
      assert.equal(events.find((e) => e.reason === 'BackOff')?.count, 2);
      // both write the newest Event first; the loser's is answered AlreadyExists and it leaves the rest to the winner
      assert.equal(used['create events'], 6, JSON.stringify(used));
      assert.equal(used['patch pods'], 1, JSON.stringify(used));
      assert.equal(proxy.patchedAnnotations()[`pods ${ANNOTATION_EVENTS_SEEN}`], 1, 'the one pod patch is the events-seen mark');
      const stored = await core.readNamespacedPod({ namespace: ns.name, name: 'mirror-race' });
      assert.ok(stored.metadata?.annotations?.[ANNOTATION_EVENTS_SEEN]);
    });
  });
}
