/**
 * The Kubernetes adapter against a real kube-apiserver (the local test control plane or KUBE_TEST_KUBECONFIG),
 * run once per implementation of the port: the client-node adapter (watcher, CLI) and the lite client over
 * node:https (the FC functions). Both must behave the same: same plain JSON, same typed errors.
 *
 * Over 400 lines: one suite run against both Cluster adapters; its cases share the real apiserver set-up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import {
  AlreadyExistsError,
  ConflictError,
  createKubeCluster,
  ForbiddenError,
  isConflict,
  isNotFound,
  KubeError,
  type KubeClusterOptions,
  NotFoundError,
} from '../../../shared/adapters/kube/index.js';
import { createLiteKubeCluster, type LiteKubeConnection } from '../../../shared/adapters/kube/lite.js';
import type { K8sEvent, Node, PodCondition } from '../../../shared/domain/k8s.js';
import type { Cluster, ClusterStore } from '../../../shared/ports/index.js';
import { reachableMaster, serviceEnv } from '../../../shared/domain/serviceEnv.js';
import { MasterView, ServiceDirectory } from '../../../shared/usecases/services.js';
import {
  clusterCaPem,
  coreApi,
  createTestNamespace,
  loadKubeConfig,
  NO_KUBECONFIG,
  podManifest,
  type TestNamespace,
  testKubeconfig,
  uniqueName,
} from '../../helpers/kube.js';

const kubeconfig = testKubeconfig();

type Port = Cluster & ClusterStore;

/** Server, token and CA of the test kubeconfig (what the functions are configured with). */
function connection(path: string): LiteKubeConnection {
  const kc = loadKubeConfig(path);
  return { server: kc.getCurrentCluster()?.server as string, token: kc.getCurrentUser()?.token as string, caPem: clusterCaPem(kc) };
}

const implementations: { name: string; fromKubeconfig: (path: string, opts: KubeClusterOptions) => Port; direct: (conn: LiteKubeConnection) => Port }[] = [
  { name: 'client-node', fromKubeconfig: (path, opts) => createKubeCluster({ kubeconfigPath: path }, opts), direct: (conn) => createKubeCluster(conn) },
  { name: 'lite', fromKubeconfig: (path, opts) => createLiteKubeCluster(connection(path), opts), direct: (conn) => createLiteKubeCluster(conn) },
];

for (const impl of implementations) {
  describe(`kube adapter (${impl.name}): Cluster against a real kube-apiserver`, { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
    let ns: TestNamespace;
    let cluster: Port;
    let core: CoreV1Api;
    const nodeName = uniqueName('vnode');
    const createdNodes: string[] = [];

    before(async () => {
      const path = kubeconfig as string;
      ns = await createTestNamespace(path, 'adapter');
      cluster = impl.fromKubeconfig(path, { component: 'eci-bridge-test', host: nodeName });
      core = coreApi(path);
    });
    after(async () => {
      for (const n of createdNodes) await core.deleteNode({ name: n }).catch(() => {});
      await ns?.cleanup();
    });

    async function createPod(name: string, node: string | undefined = nodeName) {
      return core.createNamespacedPod({ namespace: ns.name, body: podManifest(name, node) });
    }

    it('maps a missing object to NotFoundError (no HTTP codes, no ApiException)', async () => {
      const err = await cluster.getPod(ns.name, 'does-not-exist').then(
        () => assert.fail('expected NotFound'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof NotFoundError);
      assert.ok(isNotFound(new Error('wrapped', { cause: err })));
      assert.match(err.message, /^get pod .*\/does-not-exist: pods "does-not-exist" not found$/);
      await assert.rejects(cluster.getSecret(ns.name, 'nope'), NotFoundError);
      await assert.rejects(cluster.getNode(uniqueName('nope')), NotFoundError);
      await assert.rejects(cluster.getPod(uniqueName('no-such-ns'), 'x'), NotFoundError);
    });

    it('builds a client from server + token + CA; a wrong token is ForbiddenError without the token in the message', async () => {
      const kc = loadKubeConfig(kubeconfig as string);
      const server = kc.getCurrentCluster()?.server as string;
      const token = kc.getCurrentUser()?.token as string;
      const caPem = clusterCaPem(kc);
      const direct = impl.direct({ server, token, caPem });
      const cm = await direct.getConfigMap(ns.name, 'kube-root-ca.crt');
      assert.equal(cm.data?.['ca.crt'], caPem);
      assert.equal(typeof cm.metadata.creationTimestamp, 'string');

      const badToken = `bad-${token.slice(0, 8)}-token`;
      const bad = impl.direct({ server, token: badToken, caPem });
      const err = await bad.getConfigMap(ns.name, 'kube-root-ca.crt').then(
        () => assert.fail('expected Forbidden'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ForbiddenError);
      assert.equal(err.status, 401);
      assert.ok(!err.message.includes(badToken) && !err.message.includes(token));
    });

    it('reads ConfigMaps and Secrets as plain JSON (base64 data unchanged)', async () => {
      await core.createNamespacedSecret({
        namespace: ns.name,
        body: { metadata: { name: 'creds' }, type: 'Opaque', data: { password: Buffer.from('s3cret').toString('base64') } },
      });
      const s = await cluster.getSecret(ns.name, 'creds');
      assert.equal(Buffer.from(s.data?.password ?? '', 'base64').toString(), 's3cret');
      assert.equal(s.type, 'Opaque');
      assert.match(s.metadata.creationTimestamp ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    });

    it('reads the Services for the kubelet service env: the kubernetes Service and Endpoints, a namespace list', async () => {
      await core.createNamespacedService({
        namespace: ns.name,
        body: { metadata: { name: 'db-main' }, spec: { ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }], selector: { app: 'db' } } },
      });
      await core.createNamespacedService({
        namespace: ns.name,
        body: { metadata: { name: 'peers' }, spec: { clusterIP: 'None', ports: [{ port: 80 }], selector: { app: 'db' } } },
      });
      // one directory = one pod-sync batch, over this adapter
      const view = await new ServiceDirectory(cluster, new MasterView(cluster, { now: () => Date.now() })).view(ns.name, true);
      // the shared test plane listens on loopback, which the apiserver never publishes: no Endpoints there
      // (the networking test's private plane publishes its veth address)
      const apiserver = await core.readNamespacedEndpoints({ namespace: 'default', name: 'kubernetes' }).catch(() => undefined);
      const master = await core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
      assert.equal(view.kubernetes?.spec?.clusterIP, master.spec?.clusterIP);
      assert.equal(view.kubernetesEndpoints?.subsets?.[0]?.addresses?.[0]?.ip, apiserver?.subsets?.[0]?.addresses?.[0]?.ip);
      const env = (reachable: boolean) =>
        Object.fromEntries(
          serviceEnv(ns.name, true, reachableMaster(view, reachable), view.namespace).map((e) => [e.name, e.value]),
        );
      const db = view.namespace?.find((x) => x.metadata.name === 'db-main');
      assert.match(db?.spec?.clusterIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
      assert.equal(env(true).DB_MAIN_SERVICE_HOST, db?.spec?.clusterIP);
      assert.equal(env(true).DB_MAIN_SERVICE_PORT_PG, '5432');
      assert.equal(env(true).PEERS_SERVICE_HOST, undefined);
      assert.equal(env(true).KUBERNETES_SERVICE_HOST, master.spec?.clusterIP);
      const ep = apiserver?.subsets?.[0];
      assert.equal(env(false).KUBERNETES_SERVICE_HOST, ep?.addresses?.[0]?.ip);
      assert.equal(env(false).KUBERNETES_SERVICE_PORT, ep ? String(ep.ports?.[0]?.port) : undefined);
    });

    it('a pod gets the kube-api-access projected volume (ServiceAccount admission, bound tokens)', async () => {
      await createPod('with-sa');
      const pod = await cluster.getPod(ns.name, 'with-sa');
      assert.equal(pod.spec.serviceAccountName, 'default');
      const vol = pod.spec.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
      assert.ok(vol?.projected, `no kube-api-access volume in ${JSON.stringify(pod.spec.volumes)}`);
      const sources = vol.projected.sources ?? [];
      assert.equal(sources.find((s) => s.serviceAccountToken)?.serviceAccountToken?.path, 'token');
      assert.equal(sources.find((s) => s.configMap)?.configMap?.name, 'kube-root-ca.crt');
      assert.ok(sources.some((s) => s.downwardAPI?.items?.some((i) => i.fieldRef?.fieldPath === 'metadata.namespace')));
      const mount = pod.spec.containers[0]?.volumeMounts?.find((m) => m.name === vol.name);
      assert.equal(mount?.mountPath, '/var/run/secrets/kubernetes.io/serviceaccount');
    });

    it('TokenRequest returns a token bound to the pod', async () => {
      const pod = await createPod('token-holder');
      const uid = pod.metadata?.uid as string;
      const res = await cluster.requestPodToken(ns.name, 'default', {
        podName: 'token-holder',
        podUid: uid,
        expirationSeconds: 3600,
      });
      const payload = JSON.parse(Buffer.from(res.token.split('.')[1] ?? '', 'base64url').toString()) as {
        sub: string;
        'kubernetes.io': { namespace: string; pod: { name: string; uid: string } };
      };
      assert.equal(payload.sub, `system:serviceaccount:${ns.name}:default`);
      assert.deepStrictEqual(payload['kubernetes.io'].pod, { name: 'token-holder', uid });
      assert.ok(Date.parse(res.expirationTimestamp) > Date.now());
      // A token for a pod UID that does not match is refused.
      await assert.rejects(
        cluster.requestPodToken(ns.name, 'default', { podName: 'token-holder', podUid: '00000000-0000-0000-0000-000000000000' }),
        KubeError,
      );
    });

    it('strategic-merge patch of pods/status: adding one condition keeps the others', async () => {
      await createPod('status');
      const t = '2026-01-01T00:00:00Z';
      const cond = (type: string, status: PodCondition['status']): PodCondition => ({ type, status, lastTransitionTime: t });
      await cluster.patchPodStatus(ns.name, 'status', {
        phase: 'Pending',
        conditions: [cond('PodScheduled', 'True'), cond('Initialized', 'True')],
      });
      const after = await cluster.patchPodStatus(ns.name, 'status', { conditions: [cond('Ready', 'False')] });
      const types = (after.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort();
      assert.deepStrictEqual(types, ['Initialized=True', 'PodScheduled=True', 'Ready=False']);
      assert.equal(after.status?.phase, 'Pending');
      // Changing one condition by type leaves the rest.
      const flipped = await cluster.patchPodStatus(ns.name, 'status', { phase: 'Running', conditions: [cond('Ready', 'True')] });
      assert.deepStrictEqual(
        (flipped.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort(),
        ['Initialized=True', 'PodScheduled=True', 'Ready=True'],
      );
      assert.equal(flipped.status?.phase, 'Running');
      assert.equal(flipped.status?.conditions?.[0]?.lastTransitionTime, t);
    });

    it('a pods/status patch carries annotations in the same write (the status strategy keeps them)', async () => {
      await createPod('status-ann');
      const before = await cluster.getPod(ns.name, 'status-ann');
      const written = await cluster.patchPodStatus(ns.name, 'status-ann', { phase: 'Pending', reason: 'ContainerGroupCreating' }, { rides: 'eci-1' });
      assert.equal(written.metadata.annotations?.rides, 'eci-1');
      assert.equal(written.status?.reason, 'ContainerGroupCreating');
      const read = await cluster.getPod(ns.name, 'status-ann');
      assert.equal(read.metadata.annotations?.rides, 'eci-1');
      // one write: the resourceVersion moved once, and the spec is what it was
      assert.equal(BigInt(read.metadata.resourceVersion ?? '0') > BigInt(before.metadata.resourceVersion ?? '0'), true);
      assert.deepStrictEqual(read.spec.containers, before.spec.containers);
      // null removes the key; a status patch without annotations leaves the others alone
      await cluster.patchPodStatus(ns.name, 'status-ann', { reason: 'Other' }, { rides: null, kept: 'yes' });
      const after = await cluster.patchPodStatus(ns.name, 'status-ann', { message: 'm' });
      assert.equal(after.metadata.annotations?.rides, undefined);
      assert.equal(after.metadata.annotations?.kept, 'yes');
      assert.equal(after.metadata.labels?.app, 'test');
    });

    it('a pods/status patch with a resourceVersion is conditional: Conflict once the pod moved on, and nothing written', async () => {
      await createPod('status-rv');
      const held = await cluster.getPod(ns.name, 'status-rv');
      const rv = held.metadata.resourceVersion;
      const ok = await cluster.patchPodStatus(ns.name, 'status-rv', { reason: 'First' }, undefined, rv);
      assert.equal(ok.status?.reason, 'First');
      // the copy at `rv` is stale now: a write conditional on it is refused, with or without annotations
      await assert.rejects(() => cluster.patchPodStatus(ns.name, 'status-rv', { reason: 'Stale' }, undefined, rv), (err: unknown) => isConflict(err));
      await assert.rejects(() => cluster.patchPodStatus(ns.name, 'status-rv', { reason: 'Stale' }, { rides: 'x' }, rv), (err: unknown) => isConflict(err));
      const read = await cluster.getPod(ns.name, 'status-rv');
      assert.equal(read.status?.reason, 'First');
      assert.equal(read.metadata.annotations?.rides, undefined);
      assert.equal(read.metadata.resourceVersion, ok.metadata.resourceVersion);
    });

    it('patches pod metadata (null removes a key)', async () => {
      await createPod('meta');
      await cluster.patchPodMetadata(ns.name, 'meta', { annotations: { a: '1', b: '2' }, labels: { tier: 'x' } });
      const p = await cluster.patchPodMetadata(ns.name, 'meta', { annotations: { a: null } });
      assert.equal(p.metadata.annotations?.a, undefined);
      assert.equal(p.metadata.annotations?.b, '2');
      assert.equal(p.metadata.labels?.tier, 'x');
      assert.equal(p.metadata.labels?.app, 'test');
    });

    it('a metadata patch with a resourceVersion is conditional: a stale version is a ConflictError and writes nothing', async () => {
      await createPod('claim');
      const read = await cluster.getPod(ns.name, 'claim');
      const first = await cluster.patchPodMetadata(ns.name, 'claim', {
        annotations: { claim: 'a' },
        resourceVersion: read.metadata.resourceVersion ?? '',
      });
      assert.notEqual(first.metadata.resourceVersion, read.metadata.resourceVersion);
      const err = await cluster
        .patchPodMetadata(ns.name, 'claim', { annotations: { claim: 'b' }, resourceVersion: read.metadata.resourceVersion ?? '' })
        .then(
          () => assert.fail('expected Conflict'),
          (e: unknown) => e,
        );
      assert.ok(err instanceof ConflictError && isConflict(err));
      assert.equal((await cluster.getPod(ns.name, 'claim')).metadata.annotations?.claim, 'a');
    });

    it('delete with a stale UID precondition fails with ConflictError; the right UID deletes', async () => {
      const pod = await createPod('victim');
      const err = await cluster
        .deletePod(ns.name, 'victim', { uid: '11111111-2222-3333-4444-555555555555', gracePeriodSeconds: 0 })
        .then(
          () => assert.fail('expected Conflict'),
          (e: unknown) => e,
        );
      assert.ok(err instanceof ConflictError && isConflict(err));
      assert.equal((await cluster.getPod(ns.name, 'victim')).metadata.uid, pod.metadata?.uid);
      await cluster.deletePod(ns.name, 'victim', { uid: pod.metadata?.uid as string, gracePeriodSeconds: 0 });
      await assert.rejects(cluster.getPod(ns.name, 'victim'), NotFoundError);
      await assert.rejects(
        cluster.deletePod(ns.name, 'victim', { uid: pod.metadata?.uid as string, gracePeriodSeconds: 0 }),
        NotFoundError,
      );
    });

    it('a graceful delete of a bound pod sets deletionTimestamp and keeps the object', async () => {
      const pod = await createPod('graceful');
      await cluster.deletePod(ns.name, 'graceful', { uid: pod.metadata?.uid as string, gracePeriodSeconds: 30 });
      const p = await cluster.getPod(ns.name, 'graceful');
      assert.equal(p.metadata.deletionGracePeriodSeconds, 30);
      assert.match(p.metadata.deletionTimestamp ?? '', /Z$/);
    });

    it('aggregates repeated Events: count goes to 2 on one Event; a vanished Event is created again', async () => {
      const pod = await createPod('evented');
      const involvedObject = { kind: 'Pod', namespace: ns.name, name: 'evented', uid: pod.metadata?.uid, apiVersion: 'v1' };
      const list = async () =>
        (await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.uid=${pod.metadata?.uid}` })).items;
      await cluster.recordEvent({ involvedObject, reason: 'Pulling', message: 'pulling image', type: 'Normal' });
      await cluster.recordEvent({ involvedObject, reason: 'Pulling', message: 'pulling image', type: 'Normal' });
      await cluster.recordEvent({ involvedObject, reason: 'Failed', message: 'quota exceeded', type: 'Warning' });
      const events = await list();
      const pulling = events.filter((e) => e.reason === 'Pulling');
      assert.equal(pulling.length, 1);
      assert.equal(pulling[0]?.count, 2);
      assert.equal(pulling[0]?.source?.component, 'eci-bridge-test');
      assert.equal(pulling[0]?.source?.host, nodeName);
      assert.ok((pulling[0]?.lastTimestamp?.getTime() ?? 0) >= (pulling[0]?.firstTimestamp?.getTime() ?? 1));
      assert.equal(events.filter((e) => e.reason === 'Failed')[0]?.count, 1);

      // The aggregated Event disappears (TTL, someone deleted it): the next repeat creates a new one.
      await core.deleteNamespacedEvent({ namespace: ns.name, name: pulling[0]?.metadata?.name as string });
      await cluster.recordEvent({ involvedObject, reason: 'Pulling', message: 'pulling image', type: 'Normal' });
      const again = (await list()).filter((e) => e.reason === 'Pulling');
      assert.equal(again.length, 1);
      assert.equal(again[0]?.count, 1);
      assert.notEqual(again[0]?.metadata?.name, pulling[0]?.metadata?.name);
    });

    it('concurrent repeats of one Event still aggregate into one', async () => {
      const pod = await createPod('burst');
      const involvedObject = { kind: 'Pod', namespace: ns.name, name: 'burst', uid: pod.metadata?.uid };
      await Promise.all(
        Array.from({ length: 5 }, () => cluster.recordEvent({ involvedObject, reason: 'Tick', message: 'same', type: 'Normal' })),
      );
      const events = (await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.name=burst` })).items;
      assert.equal(events.length, 1);
      assert.equal(events[0]?.count, 5);
    });

    it('mirrors a named Event: created once, count and lastTimestamp only move forward, concurrent writers leave one', async () => {
      const pod = await createPod('mirrored');
      const uid = pod.metadata?.uid as string;
      const name = `mirrored.eci-${uniqueName('h').slice(-10)}`;
      const ev = (count: number, last: string): K8sEvent => ({
        metadata: { name, namespace: ns.name },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: ns.name, name: 'mirrored', uid },
        reason: 'BackOff',
        message: 'Back-off restarting failed container app',
        type: 'Warning',
        count,
        firstTimestamp: '2026-01-01T00:00:00Z',
        lastTimestamp: last,
        source: { component: 'eci', host: nodeName },
      });
      const read = async () => (await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.uid=${uid}` })).items;

      // five writers at once with the same ECI snapshot: one Event, ECI's count
      await Promise.all(Array.from({ length: 5 }, () => cluster.mirrorEvent(ev(3, '2026-01-01T00:00:30Z'))));
      let events = await read();
      assert.equal(events.length, 1);
      assert.equal(events[0]?.metadata?.name, name);
      assert.equal(events[0]?.count, 3);

      // ECI counted it again; then a writer holding an older snapshot comes late: the count never goes back
      await Promise.all([cluster.mirrorEvent(ev(5, '2026-01-01T00:01:00Z')), cluster.mirrorEvent(ev(4, '2026-01-01T00:00:45Z'))]);
      await cluster.mirrorEvent(ev(4, '2026-01-01T00:00:45Z'));
      events = await read();
      assert.equal(events.length, 1);
      assert.equal(events[0]?.count, 5);
      assert.equal(events[0]?.lastTimestamp?.toISOString(), '2026-01-01T00:01:00.000Z');
      assert.equal(events[0]?.firstTimestamp?.toISOString(), '2026-01-01T00:00:00.000Z');

      // deleted (TTL): mirrored again under the same name
      await core.deleteNamespacedEvent({ namespace: ns.name, name });
      await cluster.mirrorEvent(ev(6, '2026-01-01T00:02:00Z'));
      events = await read();
      assert.deepEqual(
        events.map((e) => [e.metadata?.name, e.count]),
        [[name, 6]],
      );
    });

    it('creates and renews a Lease with MicroTime (6 fractional digits), Conflict on a stale resourceVersion', async () => {
      const created = await cluster.createLease(ns.name, {
        metadata: { name: nodeName },
        spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: new Date().toISOString() },
      });
      assert.match(created.spec?.renewTime ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      const renewAt = '2030-01-02T03:04:05.123456Z';
      const renewed = await cluster.replaceLease(ns.name, { ...created, spec: { ...created.spec, renewTime: renewAt } });
      assert.equal(renewed.spec?.renewTime, renewAt);
      assert.notEqual(renewed.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.equal((await cluster.getLease(ns.name, nodeName)).spec?.renewTime, renewAt);
      // Someone else renewed in between: replacing with the old resourceVersion is a Conflict.
      await assert.rejects(cluster.replaceLease(ns.name, created), ConflictError);
      await assert.rejects(cluster.createLease(ns.name, created), (e: unknown) => isConflict(e));
    });

    it('creates a Node, patches its status (conditions merge by type) and its metadata/spec', async () => {
      const name = uniqueName('vnode');
      createdNodes.push(name);
      const hb = '2026-01-01T00:00:00Z';
      const node: Node = {
        metadata: { name, labels: { type: 'virtual-kubelet' } },
        spec: { taints: [{ key: 'virtual-kubelet.io/provider', value: 'eci', effect: 'NoSchedule' }] },
      };
      const created = await cluster.createNode(node);
      assert.equal(created.metadata.name, name);
      await cluster.patchNodeStatus(name, {
        capacity: { cpu: '1000', memory: '4Ti', pods: '1000' },
        allocatable: { cpu: '1000', memory: '4Ti', pods: '1000' },
        conditions: [
          { type: 'Ready', status: 'False', reason: 'Starting', lastHeartbeatTime: hb, lastTransitionTime: hb },
          { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: hb, lastTransitionTime: hb },
        ],
        addresses: [{ type: 'InternalIP', address: '10.0.0.5' }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      });
      const patched = await cluster.patchNodeStatus(name, {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: hb, lastTransitionTime: hb }],
      });
      const conds = Object.fromEntries((patched.status?.conditions ?? []).map((c) => [c.type, c.status]));
      assert.deepStrictEqual(conds, { Ready: 'True', MemoryPressure: 'False' });
      assert.equal(patched.status?.capacity?.memory, '4Ti');
      assert.equal(patched.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
      assert.equal(patched.status?.conditions?.[0]?.lastHeartbeatTime, hb);

      const relabelled = await cluster.patchNode(name, { metadata: { labels: { 'kubernetes.io/role': 'agent' } } });
      assert.equal(relabelled.metadata.labels?.type, 'virtual-kubelet');
      assert.equal(relabelled.metadata.labels?.['kubernetes.io/role'], 'agent');
      assert.equal(relabelled.spec?.taints?.[0]?.key, 'virtual-kubelet.io/provider');
      await assert.rejects(cluster.createNode(node), (e: unknown) => isConflict(e));
    });

    it('given addresses replace the node\'s: a Hostname published before is removed, the InternalIP changes', async () => {
      const name = uniqueName('vnode');
      createdNodes.push(name);
      await cluster.createNode({ metadata: { name } });
      await cluster.patchNodeStatus(name, {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.5' },
          { type: 'Hostname', address: name },
        ],
      });
      const moved = await cluster.patchNodeStatus(name, { addresses: [{ type: 'InternalIP', address: '10.0.0.6' }] });
      assert.deepEqual(moved.status?.addresses, [{ type: 'InternalIP', address: '10.0.0.6' }]);
      const kept = await cluster.patchNodeStatus(name, { capacity: { cpu: '1' } });
      assert.deepEqual(kept.status?.addresses, [{ type: 'InternalIP', address: '10.0.0.6' }]);
    });

    it('lists pods by node and by label', async () => {
      const node = uniqueName('vnode');
      await createPod('on-node-1', node);
      await createPod('on-node-2', node);
      await createPod('elsewhere', uniqueName('other'));
      const onNode = await cluster.listPods({ nodeName: node });
      assert.deepStrictEqual(onNode.map((p) => p.metadata.name).sort(), ['on-node-1', 'on-node-2']);
      const inNs = await cluster.listPods({ namespace: ns.name, labelSelector: 'app=test' });
      assert.ok(inNs.length >= 3);
      assert.ok(inNs.every((p) => p.metadata.namespace === ns.name && typeof p.metadata.creationTimestamp === 'string'));
    });

    it('stores ConfigMaps (create, replace with resourceVersion, Conflict when stale, AlreadyExists) and lists namespaces', async () => {
      const created = await cluster.createConfigMap(ns.name, { metadata: { name: 'report', labels: { app: 'test' } }, data: { a: '1' } });
      assert.equal(created.data?.a, '1');
      assert.match(created.metadata.resourceVersion ?? '', /^\d+$/);
      const replaced = await cluster.replaceConfigMap(ns.name, { ...created, data: { a: '2', b: '3' } });
      assert.deepStrictEqual(replaced.data, { a: '2', b: '3' });
      assert.equal((await cluster.getConfigMap(ns.name, 'report')).data?.b, '3');
      await assert.rejects(cluster.replaceConfigMap(ns.name, { ...created, data: { a: 'stale' } }), ConflictError);
      await assert.rejects(cluster.createConfigMap(ns.name, { metadata: { name: 'report' }, data: {} }), AlreadyExistsError);
      await assert.rejects(cluster.replaceConfigMap(ns.name, { metadata: { name: 'missing' }, data: {} }), NotFoundError);
      const names = (await cluster.listNamespaces()).map((n) => n.metadata.name);
      assert.ok(names.includes(ns.name) && names.includes('default'), names.join(','));
    });
  });
}
