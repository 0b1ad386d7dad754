/**
 * Helpers for integration tests against a real kube-apiserver: the local test control plane started by
 * `npm test` (scripts/testenv), or any cluster named by KUBE_TEST_KUBECONFIG.
 *
 * Only the apiserver runs: no scheduler, controller-manager or kubelet. Pods with spec.nodeName set skip
 * scheduling; a bound pod deleted with a grace period stays until deleted with grace 0; namespaces are not
 * finalised by a controller, so `createTestNamespace` cleans up and finalises its own.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
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

/** The cluster's CA (PEM) from the kubeconfig's current cluster. */
export function clusterCaPem(kc: KubeConfig): string {
  const c = kc.getCurrentCluster();
  if (c?.caData) return Buffer.from(c.caData, 'base64').toString('utf8');
  throw new Error('the test kubeconfig has no certificate-authority-data');
}

/** A short random DNS-1123 suffix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestNamespace {
  readonly name: string;
  /** Deletes everything the tests put in it, then the namespace itself (finalised by hand: no controller runs). */
  cleanup(): Promise<void>;
}

/**
 * Creates a uniquely named namespace with what a controller-manager would add: the `default` ServiceAccount and
 * the `kube-root-ca.crt` ConfigMap (so pods get the kube-api-access projected volume).
 */
export async function createTestNamespace(kubeconfigPath: string, prefix = 'test'): Promise<TestNamespace> {
  const kc = loadKubeConfig(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { 'eci-bridge.test/ns': 'true' } } } });
  await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } });
  let ca: string | undefined;
  try {
    ca = clusterCaPem(kc);
  } catch {
    ca = undefined;
  }
  if (ca) {
    await core.createNamespacedConfigMap({
      namespace: name,
      body: { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': ca } },
    });
  }
  return {
    name,
    async cleanup() {
      const ignore = () => {};
      await core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }).catch(ignore);
      await core.deleteCollectionNamespacedEvent({ namespace: name }).catch(ignore);
      await core.deleteCollectionNamespacedConfigMap({ namespace: name }).catch(ignore);
      await core.deleteCollectionNamespacedSecret({ namespace: name }).catch(ignore);
      await core.deleteCollectionNamespacedServiceAccount({ namespace: name }).catch(ignore);
      await core.deleteNamespace({ name }).catch(ignore);
      // No namespace controller: drop the `kubernetes` finaliser ourselves.
      await core
        .replaceNamespaceFinalize({ name, body: { metadata: { name }, spec: { finalizers: [] } } })
        .catch(ignore);
    },
  };
}

/** A minimal pod bound to `nodeName` (no scheduler runs, so nodeName is how pods land on a node). */
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

/** Polls `check` until it returns true (or a value); fails with `what` after `timeoutMs`. Not a timing assertion. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
