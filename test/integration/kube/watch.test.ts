/**
 * watchPods against a real kube-apiserver: field selector, bindings, status changes, deletes, and the same plain
 * JSON whether an object came from the list or from a watch event.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import { createKubeCluster } from '../../../shared/adapters/kube/index.js';
import { createLiteKubeCluster } from '../../../shared/adapters/kube/lite.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import type { Cluster, PodWatchHandle } from '../../../shared/ports/index.js';
import {
  clusterCaPem,
  coreApi,
  loadKubeConfig,
  createTestNamespace,
  NO_KUBECONFIG,
  podManifest,
  type TestNamespace,
  testKubeconfig,
  uniqueName,
  unscheduled,
  waitUntil,
} from '../../helpers/kube.js';
import { PodView } from './podView.js';

const kubeconfig = testKubeconfig();

/** Both implementations of the port: client-node (watcher, CLI) and the lite client over node:https (functions). */
const implementations: { name: string; make: (path: string) => Cluster }[] = [
  { name: 'client-node', make: (path) => createKubeCluster({ kubeconfigPath: path }) },
  {
    name: 'lite',
    make: (path) => {
      const kc = loadKubeConfig(path);
      return createLiteKubeCluster({ server: kc.getCurrentCluster()?.server as string, token: kc.getCurrentUser()?.token as string, caPem: clusterCaPem(kc) });
    },
  },
];

for (const impl of implementations) {
  describe(`kube adapter (${impl.name}): watchPods`, { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
    let ns: TestNamespace;
    let cluster: Cluster;
    let core: CoreV1Api;
    const handles: PodWatchHandle[] = [];

    before(async () => {
      ns = await createTestNamespace(kubeconfig as string, 'watch');
      cluster = impl.make(kubeconfig as string);
      core = coreApi(kubeconfig as string);
    });
    after(async () => {
      for (const h of handles) await h.stop();
      await ns?.cleanup();
    });

    it('delivers list, adds (incl. a binding), status changes and deletes for its node only, as plain JSON', async () => {
      // Prepare
      const node = uniqueName('vnode');
      await core.createNamespacedPod({ namespace: ns.name, body: podManifest('a', node) });
      const view = new PodView();
      const errors: Error[] = [];
      const h = cluster.watchPods({ nodeName: node }, (ev) => view.apply(ev), (e) => errors.push(e));
      handles.push(h);
      await h.synced;
      assert.deepStrictEqual(view.names(), [`${ns.name}/a`]);

      // Act
      await core.createNamespacedPod({ namespace: ns.name, body: podManifest('b', node) });
      await core.createNamespacedPod({ namespace: ns.name, body: podManifest('elsewhere', uniqueName('other')) });
      // bound by the test (as a custom scheduler would): a schedulerName nobody serves keeps kube-scheduler away
      await core.createNamespacedPod({ namespace: ns.name, body: unscheduled(podManifest('bound-later', undefined)) });
      await core.createNamespacedPodBinding({
        namespace: ns.name,
        name: 'bound-later',
        body: { metadata: { name: 'bound-later' }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
      });
      await cluster.patchPodStatus(ns.name, 'b', { phase: 'Running' });
      const a = await cluster.getPod(ns.name, 'a');
      await cluster.deletePod(ns.name, 'a', { uid: a.metadata.uid as string, gracePeriodSeconds: 0 });
      const server = await cluster.listPods({ nodeName: node });
      await waitUntil('the view to match the server', () => view.matches(server));

      // Assess
      assert.deepStrictEqual(view.names(), [`${ns.name}/b`, `${ns.name}/bound-later`]);
      const log = view.log.map((e) => `${e.type} ${e.name}`);
      assert.deepStrictEqual(log.filter((l) => l.endsWith(' a')), ['ADDED a', 'MODIFIED a', 'DELETED a']);
      assert.deepStrictEqual(log.filter((l) => l.endsWith(' b')), ['ADDED b', 'MODIFIED b']);
      assert.deepStrictEqual(log.filter((l) => l.endsWith(' bound-later')), ['ADDED bound-later']);
      assert.ok(!log.some((l) => l.includes('elsewhere')));
      // The watch delivered `b` as raw JSON; getPod deserialises and normalises: the two must be identical.
      const fromWatch = view.get(`${ns.name}/b`) as Pod;
      assert.deepStrictEqual(fromWatch, await cluster.getPod(ns.name, 'b'));
      assert.equal(fromWatch.status?.phase, 'Running');
      assert.deepStrictEqual(errors, []);
      await h.stop();
    });
  });
}
