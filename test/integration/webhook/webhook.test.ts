/**
 * eci-profile webhooks against the real apiserver: it really calls our HTTPS server (TLS with a generated CA
 * in caBundle) for pods created in the test namespace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createServer } from 'node:net';
import { createKubeAdmissionSupport, createKubeCluster } from '../../../shared/adapters/kube/index.js';
import { systemClock } from '../../../shared/compose.js';
import { parseConfig } from '../../../shared/domain/config.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import type { Logger } from '../../../shared/ports/index.js';
import { type AdmissionRuntime, startAdmission } from '../../../watcher/webhook/index.js';
import { PROFILE_CONFIGMAP } from '../../../watcher/webhook/profileStore.js';
import { createTestNamespace, loadKubeConfig, NO_KUBECONFIG, type TestNamespace, testKubeconfig, uniqueName, waitUntil } from '../../helpers/kube.js';

const kubeconfig = testKubeconfig();

const logs: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug: (obj, msg = '') => logs.push({ level: 'debug', msg, obj }),
  info: (obj, msg = '') => logs.push({ level: 'info', msg, obj }),
  warn: (obj, msg = '') => logs.push({ level: 'warn', msg, obj }),
  error: (obj, msg = '') => logs.push({ level: 'error', msg, obj }),
  child: () => logger,
};

const vnodeName = 'eci-vnode-webhook-test';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('eci-profile webhooks (real apiserver → our HTTPS server)', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let adm: AdmissionregistrationV1Api;
  let ns: TestNamespace;
  let bridgeNs: TestNamespace;
  let runtime: AdmissionRuntime | undefined;
  const cfgName = uniqueName('eci-bridge-test');

  async function writeProfile(selectors: unknown): Promise<void> {
    const body = { metadata: { name: PROFILE_CONFIGMAP }, data: { selectors: JSON.stringify(selectors) } };
    await core
      .replaceNamespacedConfigMap({ name: PROFILE_CONFIGMAP, namespace: bridgeNs.name, body })
      .catch(() => core.createNamespacedConfigMap({ namespace: bridgeNs.name, body }));
  }

  async function createPod(name: string, labels: Record<string, string>, spec: Partial<Pod['spec']> = {}): Promise<Pod> {
    const pod = await core.createNamespacedPod({
      namespace: ns.name,
      body: { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }], ...spec } as never },
    });
    return JSON.parse(JSON.stringify(pod)) as Pod;
  }

  before(async () => {
    kc = loadKubeConfig(kubeconfig as string);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    adm = kc.makeApiClient(AdmissionregistrationV1Api);
    ns = await createTestNamespace(kubeconfig as string, 'webhook');
    bridgeNs = await createTestNamespace(kubeconfig as string, 'bridge');
    await writeProfile([{ name: 'burst', objectLabels: { matchLabels: { burst: 'true' } }, effect: { annotations: { 'team.example/cost-center': 'c1' }, labels: { 'eci-bridge.io/burst': 'yes' } }, policy: 'virtualNodeOnly' }]);
    const port = await freePort();
    const url = (path: string) => `https://127.0.0.1:${port}${path}`;
    // Only the test namespace is sent to the webhook, so other test files are never affected.
    const namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': ns.name } };
    await core.patchNamespace({ name: ns.name, body: [{ op: 'add', path: '/metadata/labels/kubernetes.io~1metadata.name', value: ns.name }] });
    // No caBundle in the configurations: the runtime generates the CA and writes it in, as in a cluster.
    const common = { admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Ignore', timeoutSeconds: 5, namespaceSelector };
    await adm.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: cfgName },
        webhooks: [
          {
            ...common,
            name: 'mutate-pods.eci-bridge.io',
            clientConfig: { url: url('/mutate-pods') },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
            reinvocationPolicy: 'Never',
          },
        ],
      },
    });
    await adm.createValidatingWebhookConfiguration({
      body: {
        metadata: { name: cfgName },
        webhooks: [
          {
            ...common,
            name: 'validate-pods.eci-bridge.io',
            clientConfig: { url: url('/validate-pods') },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }],
          },
          {
            ...common,
            name: 'validate-workloads.eci-bridge.io',
            clientConfig: { url: url('/validate-workloads') },
            rules: [
              { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments', 'statefulsets', 'replicasets', 'daemonsets'] },
              { apiGroups: ['batch'], apiVersions: ['v1', 'v1beta1'], operations: ['CREATE', 'UPDATE'], resources: ['jobs', 'cronjobs'] },
              { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['replicationcontrollers'] },
            ],
          },
        ],
      },
    });
    const config = parseConfig({
      BRIDGE_NAMESPACE: bridgeNs.name,
      VNODE_NAME: vnodeName,
      WEBHOOK_PORT: String(port),
      WEBHOOK_CONFIG_NAME: cfgName,
      PROFILE_RELOAD_SECONDS: '0.2',
    });
    runtime = await startAdmission({
      cluster: createKubeCluster({ kubeconfigPath: kubeconfig as string }),
      support: createKubeAdmissionSupport({ kubeconfigPath: kubeconfig as string }),
      clock: systemClock,
      log: logger,
      config,
      certIps: ['127.0.0.1'],
      host: '127.0.0.1',
    });
    // The apiserver picks webhook configurations up asynchronously: wait until a matching pod is mutated.
    await waitUntil(
      'the webhook configuration to take effect',
      async () => {
        const name = uniqueName('probe');
        const dry = await core.createNamespacedPod({
          namespace: ns.name,
          dryRun: 'All',
          body: { metadata: { name, labels: { burst: 'true' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
        });
        return dry.spec?.nodeSelector?.['k8s.aliyun.com/vnode'] === 'true';
      },
      20_000,
    );
  });

  after(async () => {
    await adm?.deleteMutatingWebhookConfiguration({ name: cfgName }).catch(() => {});
    await adm?.deleteValidatingWebhookConfiguration({ name: cfgName }).catch(() => {});
    await runtime?.stop();
    await ns?.cleanup();
    await bridgeNs?.cleanup();
  });

  it('stores one shared certificate and writes its CA into both configurations', async () => {
    const secret = await core.readNamespacedSecret({ name: 'eci-bridge-webhook-tls', namespace: bridgeNs.name });
    const ca = Buffer.from(secret.data?.['ca.crt'] ?? '', 'base64').toString();
    assert.match(ca, /BEGIN CERTIFICATE/);
    const m = await adm.readMutatingWebhookConfiguration({ name: cfgName });
    const v = await adm.readValidatingWebhookConfiguration({ name: cfgName });
    const bundles = [...(m.webhooks ?? []), ...(v.webhooks ?? [])].map((w) => Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString());
    assert.equal(bundles.length, 3);
    for (const b of bundles) assert.equal(b, ca);
  });

  it('sends a pod matching a selector to the virtual node with the effect', async () => {
    const pod = await createPod(uniqueName('burst'), { burst: 'true', 'eci-bridge.io/burst': 'mine' });
    assert.equal(pod.spec.nodeSelector?.['k8s.aliyun.com/vnode'], 'true');
    assert.ok(pod.spec.tolerations?.some((t) => t.key === 'virtual-kubelet.io/provider' && t.effect === 'NoSchedule'));
    assert.equal(pod.metadata.annotations?.['team.example/cost-center'], 'c1');
    assert.equal(pod.metadata.annotations?.['eci-bridge.io/profile-selector'], 'burst');
    assert.equal(pod.metadata.labels?.['eci-bridge.io/burst'], 'mine', 'the effect never overwrites the pod');
  });

  it('leaves a pod that matches nothing untouched', async () => {
    const pod = await createPod(uniqueName('plain'), { app: 'x' });
    assert.equal(pod.spec.nodeSelector, undefined);
    assert.equal(pod.metadata.annotations?.['eci-bridge.io/profile-selector'], undefined);
  });

  it('refuses a hostPath pod aimed at the virtual node, with the reason and the alternative (dry-run too)', async () => {
    const body = {
      metadata: { name: uniqueName('hostpath') },
      spec: {
        nodeName: vnodeName,
        containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'h', mountPath: '/h' }] }],
        volumes: [{ name: 'h', hostPath: { path: '/var/log' } }],
      },
    };
    for (const dryRun of ['All', undefined]) {
      await assert.rejects(core.createNamespacedPod({ namespace: ns.name, body, dryRun }), (err: unknown) => {
        const text = String((err as { body?: string }).body ?? err);
        assert.match(text, /hostPath/);
        assert.match(text, /cannot run on the ECI virtual node/);
        assert.match(text, /emptyDir/);
        return true;
      });
    }
  });

  it('refuses a Deployment whose template would be refused', async () => {
    const name = uniqueName('web');
    await assert.rejects(
      apps.createNamespacedDeployment({
        namespace: ns.name,
        body: {
          metadata: { name },
          spec: {
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name, burst: 'true' } },
              spec: { containers: [{ name: 'c', image: 'nginx' }], hostNetwork: true },
            },
          },
        },
      }),
      (err: unknown) => {
        assert.match(String((err as { body?: string }).body ?? err), /Deployment .* \(pod template\) cannot run on the ECI virtual node/);
        return true;
      },
    );
  });

  it('refuses a ReplicationController whose template would be refused', async () => {
    const name = uniqueName('legacy');
    await assert.rejects(
      core.createNamespacedReplicationController({
        namespace: ns.name,
        body: {
          metadata: { name },
          spec: {
            selector: { app: name },
            template: {
              metadata: { labels: { app: name, burst: 'true' } },
              spec: { containers: [{ name: 'c', image: 'nginx' }], hostNetwork: true },
            },
          },
        },
      }),
      (err: unknown) => {
        assert.match(String((err as { body?: string }).body ?? err), /ReplicationController .* \(pod template\) cannot run on the ECI virtual node/);
        return true;
      },
    );
  });

  it('applies a profile change without a restart', async () => {
    await writeProfile([{ name: 'gpu-jobs', objectLabels: { matchLabels: { gpu: 'true' } }, policy: 'virtualNodeOnly' }]);
    await waitUntil('the new profile to load', () => runtime?.profile.current().selectors[0]?.name === 'gpu-jobs');
    const pod = await createPod(uniqueName('gpu'), { gpu: 'true' });
    assert.equal(pod.metadata.annotations?.['eci-bridge.io/profile-selector'], 'gpu-jobs');
    const old = await createPod(uniqueName('burst'), { burst: 'true' });
    assert.equal(old.spec.nodeSelector, undefined, 'the old selector is gone');
  });

  it('keeps the last good profile when a bad one is written', async () => {
    const profile = runtime?.profile;
    assert.ok(profile);
    const before = profile.rejected();
    await writeProfile([{ name: 'bad', policy: 'sometimes' }]);
    await waitUntil('the bad profile to be rejected', () => profile.rejected() > before);
    assert.equal(profile.current().selectors[0]?.name, 'gpu-jobs');
    assert.ok(logs.some((l) => l.level === 'error' && /eci-profile rejected/.test(l.msg)));
  });

  it('with the webhook down, ordinary pods are still created', async () => {
    await runtime?.stop();
    runtime = undefined;
    const pod = await createPod(uniqueName('outage'), { app: 'x' });
    assert.ok(pod.metadata.uid);
  });
});
