/**
 * Helpers for integration tests against a real cluster: the local test control plane started by `npm test`
 * (scripts/testenv: kube-apiserver, kube-scheduler and kube-controller-manager with every default controller, no
 * kubelet), or any cluster named by KUBE_TEST_KUBECONFIG.
 *
 * What that means for a test: the scheduler binds any unbound pod a node can take; the garbage collector deletes
 * pods whose owner does not exist; pod GC force-deletes pods bound to a node that does not exist (after 40 s);
 * the node-lifecycle controller taints nodes whose lease is not renewed; the namespace controller finalises a
 * deleted namespace, and the serviceaccount and root-ca-cert-publisher controllers fill a new one. A bound pod
 * deleted with a grace period stays until its kubelet (the bridge) or a grace-0 delete removes it. Tests use
 * unique names: other test runs share the plane.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { CoordinationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, V1MicroTime, type V1Pod } from '@kubernetes/client-node';
import { sharedKubeconfigPath } from '../../scripts/testenv/controlPlane.js';

/** The kubeconfig the integration tests use, or undefined (the test file then skips, saying why). */
export function testKubeconfig(): string | undefined {
  const p = process.env.KUBE_TEST_KUBECONFIG;
  return p && p.trim() !== '' ? p : undefined;
}

export const NO_KUBECONFIG =
  'KUBE_TEST_KUBECONFIG is not set: run the integration tests with `npm test` (it starts the local control plane) ' +
  'or point KUBE_TEST_KUBECONFIG at a test cluster';

/**
 * Tests that kill and restart the apiserver start a private control plane; they need the local kube-apiserver
 * build, so they run only when the tests run against the local test control plane. Returns the reason to skip.
 */
export function privateControlPlaneSkipReason(): string | undefined {
  const kc = testKubeconfig();
  if (!kc) return NO_KUBECONFIG;
  if (resolve(kc) !== resolve(sharedKubeconfigPath())) {
    return `KUBE_TEST_KUBECONFIG points at a foreign cluster (${kc}); apiserver restart tests need the local test control plane`;
  }
  return undefined;
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export function coreApi(path: string): CoreV1Api {
  return loadKubeConfig(path).makeApiClient(CoreV1Api);
}

export function rbacApi(path: string): RbacAuthorizationV1Api {
  return loadKubeConfig(path).makeApiClient(RbacAuthorizationV1Api);
}

/** The cluster's CA (PEM) from the kubeconfig's current cluster. */
export function clusterCaPem(kc: KubeConfig): string {
  const c = kc.getCurrentCluster();
  if (c?.caData) return Buffer.from(c.caData, 'base64').toString('utf8');
  throw new Error('the test kubeconfig has no certificate-authority-data');
}

/** The bridge's environment for reaching the test cluster as the kubeconfig's current user (server, token, CA). */
export function kubeConnectionEnv(kc: KubeConfig): { KUBE_API_SERVER: string | undefined; KUBE_TOKEN: string | undefined; KUBE_CA: string } {
  return {
    KUBE_API_SERVER: kc.getCurrentCluster()?.server,
    KUBE_TOKEN: kc.getCurrentUser()?.token,
    KUBE_CA: Buffer.from(clusterCaPem(kc)).toString('base64'),
  };
}

/** A short random DNS-1123 suffix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestNamespace {
  readonly name: string;
  /**
   * Force-deletes the pods (a pod bound to a virtual node whose bridge has stopped would hold the namespace in
   * Terminating), then deletes the namespace; the namespace controller removes the rest and finalises it.
   */
  cleanup(): Promise<void>;
}

/**
 * Creates a uniquely named namespace and waits until it is usable for pods: the serviceaccount controller has
 * created the `default` ServiceAccount and the root-ca-cert-publisher the `kube-root-ca.crt` ConfigMap (so pods get
 * the kube-api-access projected volume). Nothing is created by hand: a cluster without those controllers fails
 * here, loudly, rather than in a test that looks unrelated.
 */
export async function createTestNamespace(kubeconfigPath: string, prefix = 'test'): Promise<TestNamespace> {
  const kc = loadKubeConfig(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { 'eci-bridge.test/ns': 'true' } } } });
  const exists = (read: () => Promise<unknown>) =>
    read().then(
      () => true,
      () => false,
    );
  await waitUntil(
    `the default ServiceAccount and kube-root-ca.crt in ${name} (serviceaccount and root-ca-cert-publisher controllers)`,
    async () =>
      (await exists(() => core.readNamespacedServiceAccount({ namespace: name, name: 'default' }))) &&
      (await exists(() => core.readNamespacedConfigMap({ namespace: name, name: 'kube-root-ca.crt' }))),
    30_000,
  );
  return {
    name,
    async cleanup() {
      const ignore = () => {};
      await core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }).catch(ignore);
      await core.deleteNamespace({ name }).catch(ignore);
    },
  };
}

/**
 * A minimal pod, bound to `nodeName` when given (the scheduler is skipped). Bind only to a node that exists (or
 * the test's own virtual node): pod GC force-deletes a pod bound to a missing node after 40 s.
 */
export function podManifest(name: string, nodeName: string | undefined, extra: Partial<V1Pod> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'test' }, ...extra.metadata },
    spec: {
      nodeName,
      containers: [{ name: 'main', image: 'registry.example/busybox:1', command: ['sleep', '3600'] }],
      ...extra.spec,
    },
  };
}

/**
 * The pod with a schedulerName nobody serves: kube-scheduler leaves it alone (it writes no PodScheduled condition
 * and binds nothing), so the test binds it itself, as a custom scheduler would.
 */
export function unscheduled(pod: V1Pod): V1Pod {
  return { ...pod, spec: { ...(pod.spec as NonNullable<V1Pod['spec']>), schedulerName: 'eci-bridge-test-binder' } };
}

/** Polls `check` until it returns true (or a value); fails with `what` after `timeoutMs`. Not a timing assertion. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface FakeRealNode {
  readonly name: string;
  /** Stops renewing its lease (the node-lifecycle controller then marks it Unknown). */
  stop(): void;
}

/**
 * A "real" node without a kubelet: Ready with the given capacity, its Lease in kube-node-lease renewed every
 * second by the test, as a kubelet would, so the node-lifecycle controller counts it healthy (with one healthy node
 * the cluster is not in full-disruption mode, and evictions from an unreachable virtual node go ahead).
 */
export async function startFakeRealNode(kubeconfigPath: string, name: string, capacity?: Record<string, string>): Promise<FakeRealNode> {
  const kc = loadKubeConfig(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const leases = kc.makeApiClient(CoordinationV1Api);
  const node = await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name } } } });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ready = { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now };
  await core.patchNodeStatus({
    name,
    body: [{ op: 'add', path: '/status', value: { ...(capacity ? { capacity, allocatable: capacity } : {}), conditions: [ready] } }],
  });
  let lease = await leases.createNamespacedLease({
    namespace: 'kube-node-lease',
    body: {
      metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata?.uid ?? '' }] },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new V1MicroTime() },
    },
  });
  const timer = setInterval(() => {
    lease.spec = { ...lease.spec, renewTime: new V1MicroTime() };
    leases.replaceNamespacedLease({ namespace: 'kube-node-lease', name, body: lease }).then(
      (l) => {
        lease = l;
      },
      () => {},
    );
  }, 1000);
  return { name, stop: () => clearInterval(timer) };
}
