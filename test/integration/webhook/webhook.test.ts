/**
 * eci-profile webhooks against the real apiserver: it really calls our HTTPS server (TLS with a generated CA
 * in caBundle) for pods created in the test namespace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createKubeCluster } from '../../../shared/adapters/kube/index.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import type { VirtualNodeIdentity } from '../../../shared/domain/profile.js';
import { validatePod } from '../../../shared/domain/validate.js';
import type { Logger } from '../../../shared/ports/index.js';
import { generateTls } from '../../../watcher/webhook/certs.js';
import { PROFILE_CONFIGMAP, ProfileStore } from '../../../watcher/webhook/profileStore.js';
import { startWebhookServer, type WebhookServer } from '../../../watcher/webhook/server.js';
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

const vnode: VirtualNodeIdentity = {
  nodeName: 'eci-vnode-webhook-test',
  labels: { type: 'virtual-kubelet', 'k8s.aliyun.com/vnode': 'true' },
  taint: { key: 'virtual-kubelet.io/provider', value: 'alibabacloud', effect: 'NoSchedule' },
  exclusiveLabels: { 'k8s.aliyun.com/vnode': 'true' },
};

describe('eci-profile webhooks (real apiserver → our HTTPS server)', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let adm: AdmissionregistrationV1Api;
  let ns: TestNamespace;
  let bridgeNs: TestNamespace;
  let server: WebhookServer | undefined;
  let store: ProfileStore;
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
    const cluster = createKubeCluster({ kubeconfigPath: kubeconfig as string });
    store = new ProfileStore(cluster, { namespace: bridgeNs.name, intervalMs: 200, logger });
    await writeProfile([{ name: 'burst', objectLabels: { matchLabels: { burst: 'true' } }, effect: { annotations: { 'team.example/cost-center': 'c1' }, labels: { 'eci-bridge.io/burst': 'yes' } }, policy: 'virtualNodeOnly' }]);
    await store.start();
    const tls = await generateTls({ dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    server = await startWebhookServer({
      tls,
      logger,
      host: '127.0.0.1',
      deps: {
        vnode,
        profile: () => store.current(),
        excludedNamespaces: new Set(['kube-system', bridgeNs.name]),
        namespaceLabels: async (n) => (await core.readNamespace({ name: n })).metadata?.labels ?? {},
        validatePod: (pod) => validatePod(pod),
        virtualPodsMatch: async () => false,
      },
    });
    const url = (path: string) => `https://127.0.0.1:${server?.port}${path}`;
    const caBundle = Buffer.from(tls.caPem).toString('base64');
    // Only the test namespace is sent to the webhook, so other test files are never affected.
    const namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': ns.name } };
    await core.patchNamespace({ name: ns.name, body: [{ op: 'add', path: '/metadata/labels/kubernetes.io~1metadata.name', value: ns.name }] });
    const common = { admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Ignore', timeoutSeconds: 5, namespaceSelector };
    await adm.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: cfgName },
        webhooks: [
          {
            ...common,
            name: 'mutate-pods.eci-bridge.io',
            clientConfig: { url: url('/mutate-pods'), caBundle },
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
            clientConfig: { url: url('/validate-pods'), caBundle },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }],
          },
          {
            ...common,
            name: 'validate-workloads.eci-bridge.io',
            clientConfig: { url: url('/validate-workloads'), caBundle },
            rules: [
              { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments', 'statefulsets', 'replicasets', 'daemonsets'] },
              { apiGroups: ['batch'], apiVersions: ['v1', 'v1beta1'], operations: ['CREATE', 'UPDATE'], resources: ['jobs', 'cronjobs'] },
            ],
          },
        ],
      },
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
    store?.stop();
    await adm?.deleteMutatingWebhookConfiguration({ name: cfgName }).catch(() => {});
    await adm?.deleteValidatingWebhookConfiguration({ name: cfgName }).catch(() => {});
    await server?.close();
    await ns?.cleanup();
    await bridgeNs?.cleanup();
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
        nodeName: vnode.nodeName,
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

  it('applies a profile change without a restart', async () => {
    await writeProfile([{ name: 'gpu-jobs', objectLabels: { matchLabels: { gpu: 'true' } }, policy: 'virtualNodeOnly' }]);
    await waitUntil('the new profile to load', () => store.current().selectors[0]?.name === 'gpu-jobs');
    const pod = await createPod(uniqueName('gpu'), { gpu: 'true' });
    assert.equal(pod.metadata.annotations?.['eci-bridge.io/profile-selector'], 'gpu-jobs');
    const old = await createPod(uniqueName('burst'), { burst: 'true' });
    assert.equal(old.spec.nodeSelector, undefined, 'the old selector is gone');
  });

  it('keeps the last good profile when a bad one is written', async () => {
    const before = store.rejected();
    await writeProfile([{ name: 'bad', policy: 'sometimes' }]);
    await waitUntil('the bad profile to be rejected', () => store.rejected() > before);
    assert.equal(store.current().selectors[0]?.name, 'gpu-jobs');
    assert.ok(logs.some((l) => l.level === 'error' && /eci-profile rejected/.test(l.msg)));
  });

  it('with the webhook down, ordinary pods are still created', async () => {
    await server?.close();
    server = undefined;
    const pod = await createPod(uniqueName('outage'), { app: 'x' });
    assert.ok(pod.metadata.uid);
  });
});
