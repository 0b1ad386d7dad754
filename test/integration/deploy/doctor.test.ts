/**
 * `eci-bridge doctor` as a user runs it (the CLI, a kubeconfig, env files) against the real test apiserver and the
 * ECI and MNS emulators: before deploying (files ok, cluster objects missing: warnings, exit 0), after deploying
 * (the virtual node registered by the watcher's own code, the PodDisruptionBudget, webhook caBundles, a fresh
 * functions heartbeat: ok), and each breakage a fail with exit 1: a placeholder left, a stale heartbeat, an empty
 * caBundle, an unreachable queue. The 1.20 test plane serves PodDisruptionBudget only as policy/v1beta1 (deploy/ uses
 * policy/v1, Kubernetes >= 1.21): the doctor reads either. No credential appears in the output.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { type MnsEmulator, startMnsEmulator } from '../../../emulators/mns/index.js';
import { createKubeClient, KubeCluster } from '../../../shared/adapters/kube/index.js';
import { applyManifests } from '../../../shared/adapters/kube/provision.js';
import { parseConfig } from '../../../shared/domain/config.js';
import { FUNCTIONS_HEARTBEAT_NAME } from '../../../shared/domain/heartbeat.js';
import { compactCa } from '../../../shared/domain/kubeCa.js';
import { buildNode, microTime } from '../../../watcher/node.js';

const kubeconfig = process.env.KUBE_TEST_KUBECONFIG;
const root = join(import.meta.dirname, '..', '..', '..');
const KEY = { accessKeyId: 'LTAIdoctorTest', accessKeySecret: 'doctor-secret-value' };
const TOKEN = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(200).toString('base64url')}.sig`;

describe('eci-bridge doctor', { skip: kubeconfig ? false : 'KUBE_TEST_KUBECONFIG not set' }, () => {
  const id = randomBytes(3).toString('hex');
  const ns = `ecib-doc-${id}`;
  const vnode = `vnode-doc-${id}`;
  const cluster = `doc-${id}`;
  const hooks = `eci-bridge-doc-${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
  const checkout = join(dir, 'checkout');
  const envFile = join(dir, 'env');
  let eci: EciEmulator;
  let mns: MnsEmulator;
  let env: Record<string, string>;
  const admin = () => createKubeClient({ kubeconfigPath: kubeconfig ?? '' });

  // async: the emulators answer from this process, so its event loop must keep running
  const doctor = async (extra: Record<string, string> = {}) => {
    writeFileSync(envFile, Object.entries({ ...env, ...extra }).map(([k, v]) => `${k}=${v}`).join('\n'));
    const res = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts', 'cli.ts'), 'doctor', '--kubeconfig', kubeconfig ?? '', '--env-file', envFile, '--root', checkout],
      { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } },
    ).then(
      (r) => ({ ...r, status: 0 }),
      (e: { stdout: string; stderr: string; code: number }) => ({ stdout: e.stdout, stderr: e.stderr, status: e.code }),
    );
    const lines = res.stdout.split('\n').filter((l) => /^(ok|warn|fail) /.test(l));
    const find = (check: string, detail = ''): string | undefined => lines.find((l) => l.includes(` ${check}:`) && l.includes(detail));
    return { ...res, lines, find };
  };
  const statusOf = (l: string | undefined) => l?.split(' ')[0];

  before(async () => {
    eci = await startEciEmulator({ credentials: [KEY] });
    mns = await startMnsEmulator({ accountId: '1234567890', credentials: [KEY] });
    mns.createQueue({ name: `q-${id}` });
    // a checkout the user has edited: the placeholders replaced, names of this test
    cpSync(join(root, 's.yaml'), join(checkout, 's.yaml'));
    cpSync(join(root, 'deploy'), join(checkout, 'deploy'), { recursive: true });
    const cm = join(checkout, 'deploy', 'configmap.yaml');
    writeFileSync(
      cm,
      readFileSync(cm, 'utf8')
        .replace('{{REGION}}', 'cn-hangzhou')
        .replace('{{ACCOUNT_ID}}', '1234567890')
        .replace('CLUSTER_NAME: "default-cluster"', `CLUSTER_NAME: "${cluster}"`)
        .replace('VNODE_NAME: "eci-bridge-vnode"', `VNODE_NAME: "${vnode}"`)
        .replace('BRIDGE_NAMESPACE: "eci-bridge"', `BRIDGE_NAMESPACE: "${ns}"`),
    );
    const k = join(checkout, 'deploy', 'kustomization.yaml');
    writeFileSync(k, readFileSync(k, 'utf8').replace('newName: REGISTRY/eci-bridge-watcher', 'newName: registry.example.com/acme/eci-bridge-watcher').replace('newTag: VERSION', 'newTag: 1.2.3'));
    env = {
      REGION: 'cn-hangzhou',
      VPC_ID: 'vpc-1',
      VSWITCH_ID: 'vsw-1',
      SECURITY_GROUP_ID: 'sg-1',
      ECI_VSWITCH_IDS: 'vsw-1',
      ECI_SECURITY_GROUP_ID: 'sg-1',
      CLUSTER_NAME: cluster,
      VNODE_NAME: vnode,
      BRIDGE_NAMESPACE: ns,
      KUBE_API_SERVER: 'https://10.0.0.1:6443',
      KUBE_TOKEN: TOKEN,
      KUBE_CA: compactCa(readFileSync(join(root, 'test', 'fixtures', 'deploy', 'ca-rsa2048.pem'), 'utf8')),
      WEBHOOK_CONFIG_NAME: hooks,
      ALIBABA_CLOUD_ACCOUNT_ID: '1234567890',
      ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
      ECI_ENDPOINT: eci.endpoint,
      ECI_PROTOCOL: 'http',
      MNS_ENDPOINT: mns.endpoint,
      MNS_QUEUE: `q-${id}`,
    };
    await admin().core.createNamespace({ body: { metadata: { name: ns } } });
    // the cluster DNS the network check looks for: a kube-system Service at CLUSTER_DNS (its own, on a shared plane)
    const dns = await admin().core.createNamespacedService({
      namespace: 'kube-system',
      body: { metadata: { name: `doc-dns-${id}` }, spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
    });
    env.CLUSTER_DNS = dns.spec?.clusterIP ?? '';
    // the apiserver of the test plane advertises 127.0.0.1: ECI pods are given this address instead
    env.KUBERNETES_SERVICE_ADDRESS = '10.0.0.1:6443';
  });

  after(async () => {
    const c = admin();
    await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
    await c.core.deleteNamespacedService({ namespace: 'kube-system', name: `doc-dns-${id}` }).catch(() => undefined);
    await c.core.deleteNode({ name: vnode }).catch(() => undefined);
    await deleteWebhooks().catch(() => undefined);
    await eci.close();
    await mns.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function deleteWebhooks(): Promise<void> {
    const { AdmissionregistrationV1Api } = await import('@kubernetes/client-node');
    const api = admin().config.makeApiClient(AdmissionregistrationV1Api);
    await api.deleteMutatingWebhookConfiguration({ name: hooks }).catch(() => undefined);
    await api.deleteValidatingWebhookConfiguration({ name: hooks }).catch(() => undefined);
  }

  it('before deploying: the files pass, the cluster objects are missing (warnings), the cloud answers; exit 0', async () => {
    const r = await doctor();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(statusOf(r.find('watcher image')), 'ok');
    assert.equal(statusOf(r.find('watcher settings')), 'ok');
    assert.equal(statusOf(r.find('RAM ram-policy.json')), 'ok');
    assert.equal(statusOf(r.find('s.yaml values')), 'ok');
    const functions = [...readFileSync(join(root, 's.yaml'), 'utf8').matchAll(/^ {4}component: fc3$/gm)].length;
    assert.ok(functions >= 5, 's.yaml declares the functions');
    assert.equal(r.lines.filter((l) => l.includes(' function environment:')).length, functions, 'one environment line per function');
    for (const check of ['virtual node', 'watcher', 'functions heartbeat', 'webhook caBundle']) assert.equal(statusOf(r.find(check)), 'warn', check);
    assert.equal(statusOf(r.find('ECI')), 'ok');
    assert.equal(statusOf(r.find('MNS')), 'ok');
    for (const secret of [TOKEN, KEY.accessKeySecret]) assert.ok(!r.stdout.includes(secret), 'a credential was printed');
  });

  it('after deploying: the virtual node, the disruption budget, the caBundles and a fresh heartbeat are ok', async () => {
    const c = admin();
    const kube = new KubeCluster(c);
    const cfg = parseConfig({ ...env, VNODE_LABELS: 'type=worker,k8s.aliyun.com/vnode=false' });
    const node = buildNode(cfg, { healthy: true, reason: 'FunctionsReporting', message: 'ok' }, Date.now());
    await kube.createNode(node);
    if (node.status) await kube.patchNodeStatus(vnode, node.status);
    // the PDB of deploy/pdb.yaml, as the 1.20 plane serves it when it does not serve policy/v1
    const pdb = readFileSync(join(checkout, 'deploy', 'pdb.yaml'), 'utf8');
    assert.match(pdb, /apiVersion: policy\/v1\n/);
    const budget = (apiVersion: string) => ({
      apiVersion,
      kind: 'PodDisruptionBudget',
      metadata: { name: 'eci-bridge-watcher', namespace: ns },
      spec: { minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'eci-bridge-watcher' } } },
    });
    await applyManifests(c, [budget('policy/v1')]).catch(() => applyManifests(c, [budget('policy/v1beta1')]));
    await applyManifests(c, [
      ...['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].map((kind) => ({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind,
        metadata: { name: hooks },
        webhooks: [
          {
            name: `doctor-${id}.eci-bridge.io`,
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Ignore',
            // matches nothing: the shared test plane's other tests never call it
            objectSelector: { matchLabels: { 'eci-bridge.io/doctor-test': id } },
            clientConfig: { service: { name: 'absent', namespace: ns, path: '/x' }, caBundle: Buffer.from('not checked').toString('base64') },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
          },
        ],
      })),
    ]);
    await kube.createLease(ns, {
      metadata: { name: FUNCTIONS_HEARTBEAT_NAME, namespace: ns },
      spec: { holderIdentity: 'functions', leaseDurationSeconds: 180, renewTime: microTime(Date.now()) },
    });
    // the watcher would keep the node's heartbeat fresh; without it the plane's node-lifecycle controller marks the
    // node Unknown after 40 s, which a slow doctor run on a loaded machine can outlast
    const keepalive = setInterval(() => {
      const status = buildNode(cfg, { healthy: true, reason: 'FunctionsReporting', message: 'ok' }, Date.now()).status;
      if (status) kube.patchNodeStatus(vnode, status).catch(() => undefined);
    }, 5000);
    const r = await doctor().finally(() => clearInterval(keepalive));
    assert.equal(statusOf(r.find('virtual node')), 'ok', r.stdout);
    assert.equal(statusOf(r.find('watcher disruption budget')), 'ok', r.stdout);
    assert.equal(r.lines.filter((l) => l.startsWith('ok   webhook caBundle')).length, 2, r.stdout);
    assert.equal(statusOf(r.find('functions heartbeat')), 'ok', r.stdout);
    // no watcher Deployment here: a warning, not a fail (the budget without it is checked above)
    assert.equal(statusOf(r.find('watcher', 'no Deployment')), 'warn');
    // the network prerequisites of ECI pods
    assert.equal(statusOf(r.find('network apiserver-endpoint', 'KUBERNETES_SERVICE_ADDRESS=10.0.0.1:6443')), 'ok');
    assert.equal(statusOf(r.find('network cluster-dns', `doc-dns-${id}`)), 'ok');
    assert.equal(statusOf(r.find('network kube-proxy')), 'warn');
    assert.equal(r.status, 0, r.stdout);
  });

  it('fails (exit 1) on a stale heartbeat, an empty caBundle, a placeholder left and an unreachable queue, each with its fix', async () => {
    const c = admin();
    const kube = new KubeCluster(c);
    const lease = await kube.getLease(ns, FUNCTIONS_HEARTBEAT_NAME);
    await kube.replaceLease(ns, { ...lease, spec: { ...lease.spec, renewTime: microTime(Date.now() - 600_000) } });
    const { AdmissionregistrationV1Api } = await import('@kubernetes/client-node');
    const api = c.config.makeApiClient(AdmissionregistrationV1Api);
    const m = await api.readMutatingWebhookConfiguration({ name: hooks });
    for (const w of m.webhooks ?? []) w.clientConfig.caBundle = undefined;
    await api.replaceMutatingWebhookConfiguration({ name: hooks, body: m });
    const k = join(checkout, 'deploy', 'kustomization.yaml');
    writeFileSync(k, readFileSync(k, 'utf8').replace('newTag: 1.2.3', 'newTag: VERSION'));

    const r = await doctor({ MNS_QUEUE: `absent-${id}`, CLUSTER_DNS: '10.96.255.254' });
    assert.equal(r.status, 1, r.stdout);
    assert.equal(statusOf(r.find('network cluster-dns', '10.96.255.254 is no Service')), 'fail');
    assert.equal(statusOf(r.find('functions heartbeat')), 'fail');
    assert.equal(statusOf(r.find('webhook caBundle', 'MutatingWebhookConfiguration')), 'fail');
    assert.equal(statusOf(r.find('webhook caBundle', 'ValidatingWebhookConfiguration')), 'ok');
    assert.equal(statusOf(r.find('watcher image')), 'fail');
    assert.equal(statusOf(r.find('MNS')), 'fail');
    const fixes = r.stdout.split('\n').filter((l) => l.trim().startsWith('fix:'));
    assert.ok(fixes.length >= r.lines.filter((l) => l.startsWith('fail')).length, 'every fail has its fix');
    assert.match(r.stdout, /doctor: \d+ ok, \d+ warn, [1-9]\d* fail/);
  });
});
