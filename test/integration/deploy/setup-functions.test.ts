/**
 * `eci-bridge setup-functions` against a real kube-apiserver (RBAC on): it applies the functions' RBAC, issues
 * a token, writes the env file — and the token can do what the functions do and nothing more.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { createKubeClient, isForbidden, isNotFound, KubeCluster } from '../../../shared/adapters/kube/index.js';
import { caPemFrom } from '../../../shared/domain/kubeCa.js';

const kubeconfig = process.env.KUBE_TEST_KUBECONFIG;
const root = join(import.meta.dirname, '..', '..', '..');

function readEnv(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m?.[1]) out[m[1]] = m[2] ?? '';
  }
  return out;
}

describe('setup-functions', { skip: kubeconfig ? false : 'KUBE_TEST_KUBECONFIG not set' }, () => {
  const ns = `ecib-fn-${randomBytes(3).toString('hex')}`;
  const vnode = `vnode-${randomBytes(3).toString('hex')}`;
  // a namespace enabled for the virtual node, and one that is not
  const appNs = `ecib-app-${randomBytes(3).toString('hex')}`;
  const otherNs = `ecib-off-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'setup-functions-'));
  const out = join(dir, 'env');
  let stdout = '';
  let env: Record<string, string> = {};

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'cli.ts'), 'setup-functions', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: '', VNODE_NAME: vnode },
    });

  before(async () => {
    const admin = createKubeClient({ kubeconfigPath: kubeconfig ?? '' });
    for (const n of [appNs, otherNs]) await admin.core.createNamespace({ body: { metadata: { name: n } } });
    const res = cli('--kubeconfig', kubeconfig ?? '', '--namespace', ns, '--out', out, '--token-ttl', '3600', '--enable-namespaces', appNs);
    stdout = res.stdout;
    assert.equal(res.status, 0, res.stderr);
    env = readEnv(out);
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (!kubeconfig) return;
    const admin = createKubeClient({ kubeconfigPath: kubeconfig });
    const rbac = admin.config.makeApiClient(RbacAuthorizationV1Api);
    await rbac.deleteClusterRoleBinding({ name: 'eci-bridge-functions' }).catch(() => undefined);
    await rbac.deleteClusterRole({ name: 'eci-bridge-functions' }).catch(() => undefined);
    await rbac.deleteClusterRole({ name: 'eci-bridge-functions-namespace' }).catch(() => undefined);
    for (const n of [ns, appNs, otherNs]) await admin.core.deleteNamespace({ name: n }).catch(() => undefined);
  });

  it('writes the API server, a token and the CA into a private env file, and never prints the token', () => {
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.match(env.KUBE_API_SERVER ?? '', /^https:\/\//);
    assert.ok((env.KUBE_TOKEN ?? '').length > 20);
    assert.doesNotMatch(env.KUBE_CA ?? '', /BEGIN|\n/, 'compact CA');
    assert.match(caPemFrom(env.KUBE_CA ?? ''), /BEGIN CERTIFICATE/);
    assert.equal(env.BRIDGE_NAMESPACE, ns);
    assert.ok(!stdout.includes(env.KUBE_TOKEN ?? '<none>'), 'token printed');
    assert.match(stdout, /applied ServiceAccount/);
  });

  it('is idempotent', () => {
    const res = cli('--kubeconfig', kubeconfig ?? '', '--namespace', ns, '--out', out, '--token-ttl', '3600');
    assert.equal(res.status, 0, res.stderr);
  });

  describe('the token', () => {
    const fn = () =>
      createKubeClient({
        server: env.KUBE_API_SERVER ?? '',
        token: env.KUBE_TOKEN ?? '',
        caPem: caPemFrom(env.KUBE_CA ?? ''),
      });

    it('can do what the functions do: list pods everywhere, events, heartbeat Lease, read config', async () => {
      const client = fn();
      const cluster = new KubeCluster(client);
      await cluster.listPods({ nodeName: 'eci-bridge-vnode' });
      await cluster.recordEvent({
        involvedObject: { kind: 'Pod', namespace: ns, name: 'p', uid: 'u-1', apiVersion: 'v1' },
        reason: 'Test',
        message: 'setup-functions test',
        type: 'Normal',
      });
      const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
      await cluster.createLease(ns, {
        metadata: { name: 'eci-bridge-functions', namespace: ns },
        spec: { holderIdentity: 'functions', leaseDurationSeconds: 180, renewTime: now },
      });
      const lease = await cluster.getLease(ns, 'eci-bridge-functions');
      await cluster.replaceLease(ns, lease);
      // in an enabled namespace get is allowed: a missing ConfigMap is NotFound, not Forbidden
      await assert.rejects(cluster.getConfigMap(appNs, 'absent'), (e: unknown) => isNotFound(e));
      await assert.rejects(cluster.getSecret(appNs, 'absent'), (e: unknown) => isNotFound(e));
      await assert.rejects(cluster.getPod(appNs, 'absent'), (e: unknown) => isNotFound(e));
      // the service links of the pods created there, and the API server address of the `kubernetes` Service
      assert.ok(Array.isArray(await cluster.listServices(appNs)));
      assert.equal((await cluster.getService('default', 'kubernetes')).metadata.name, 'kubernetes');
      // allowed (the test plane may publish no Endpoints: NotFound, never Forbidden)
      await cluster.getEndpoints('default', 'kubernetes').catch((e: unknown) => assert.ok(isNotFound(e), String(e)));
    });

    it('reads no Secret, mints no token and writes no pod in a namespace that is not enabled, but may say so in an Event', async () => {
      const admin = createKubeClient({ kubeconfigPath: kubeconfig ?? '' });
      await admin.core.createNamespacedSecret({ namespace: otherNs, body: { metadata: { name: 's' }, stringData: { k: 'v' } } });
      // the test plane may run without the service-account controller: create the namespace's default account
      await admin.core.createNamespacedServiceAccount({ namespace: otherNs, body: { metadata: { name: 'default' } } }).catch(() => undefined);
      await admin.core.createNamespacedPod({
        namespace: otherNs,
        body: { metadata: { name: 'p' }, spec: { nodeName: vnode, containers: [{ name: 'c', image: 'busybox' }] } },
      });
      const cluster = new KubeCluster(fn());
      await assert.rejects(cluster.getSecret(otherNs, 's'), (e: unknown) => isForbidden(e));
      await assert.rejects(cluster.getConfigMap(otherNs, 'kube-root-ca.crt'), (e: unknown) => isForbidden(e));
      await assert.rejects(cluster.getPod(otherNs, 'p'), (e: unknown) => isForbidden(e));
      await assert.rejects(cluster.patchPodMetadata(otherNs, 'p', { annotations: { x: 'y' } }), (e: unknown) => isForbidden(e));
      await assert.rejects(cluster.deletePod(otherNs, 'p', { uid: 'u', gracePeriodSeconds: 0 }), (e: unknown) => isForbidden(e));
      await assert.rejects(
        cluster.requestPodToken(otherNs, 'default', { podName: 'p', podUid: 'u' }),
        (e: unknown) => isForbidden(e),
      );
      // the sweep still sees the pod (list is cluster-wide), and an Event can name it
      assert.ok((await cluster.listPods({ nodeName: vnode })).some((p) => p.metadata.namespace === otherNs));
      await cluster.recordEvent({
        involvedObject: { kind: 'Pod', namespace: otherNs, name: 'p', uid: 'u', apiVersion: 'v1' },
        reason: 'NamespaceNotEnabled',
        message: 'setup-functions test',
        type: 'Warning',
      });
    });

    it('can do what billing does: report and budget ConfigMaps in the bridge namespace, list namespaces, get the virtual node', async () => {
      const cluster = new KubeCluster(fn());
      // Act: what Billing.store / evaluateBudgets do
      const created = await cluster.createConfigMap(ns, { metadata: { name: 'eci-bridge-cost-2024-05-01', namespace: ns }, data: { a: '1' } });
      await cluster.replaceConfigMap(ns, { metadata: { ...created.metadata }, data: { a: '1', b: '2' } });
      const namespaces = await cluster.listNamespaces();
      // Assess
      assert.ok(namespaces.some((n) => n.metadata.name === ns));
      assert.deepEqual((await cluster.getConfigMap(ns, 'eci-bridge-cost-2024-05-01')).data, { a: '1', b: '2' });
      // the virtual node (named by VNODE_NAME at setup) is readable: missing is NotFound, not Forbidden
      await assert.rejects(cluster.getNode(vnode), (e: unknown) => isNotFound(e));
      // budget Events about a Namespace, recorded in that namespace
      await cluster.recordEvent({
        involvedObject: { kind: 'Namespace', name: ns, namespace: ns, apiVersion: 'v1' },
        reason: 'BudgetThreshold',
        message: 'setup-functions test',
        type: 'Warning',
      });
    });

    it('cannot write ConfigMaps outside the bridge namespace', async () => {
      const cluster = new KubeCluster(fn());
      await assert.rejects(
        cluster.createConfigMap('default', { metadata: { name: `x-${randomBytes(3).toString('hex')}`, namespace: 'default' }, data: {} }),
        (e: unknown) => isForbidden(e),
      );
    });

    it('cannot do anything else: list secrets, create pods, read nodes, other leases', async () => {
      const client = fn();
      const cluster = new KubeCluster(client);
      await assert.rejects(cluster.getNode('any'), (e: unknown) => isForbidden(e));
      await assert.rejects(cluster.getLease(ns, 'someone-else'), (e: unknown) => isForbidden(e));
      await assert.rejects(cluster.listServices(otherNs), (e: unknown) => isForbidden(e));
      await assert.rejects(cluster.getService('kube-system', 'kube-dns'), (e: unknown) => isForbidden(e));
      await assert.rejects(
        client.core.listSecretForAllNamespaces().catch((e: unknown) => {
          throw Object.assign(new Error('list secrets'), { code: (e as { code?: number }).code });
        }),
        (e: unknown) => (e as { code?: number }).code === 403,
      );
      await assert.rejects(
        client.core
          .createNamespacedPod({
            namespace: ns,
            body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
          })
          .catch((e: unknown) => {
            throw Object.assign(new Error('create pod'), { code: (e as { code?: number }).code });
          }),
        (e: unknown) => (e as { code?: number }).code === 403,
      );
    });
  });
});
