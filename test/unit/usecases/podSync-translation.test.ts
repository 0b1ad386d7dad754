/**
 * pod-sync with the real SyncDomain (shared/usecases/domain.ts, as compose.ts builds it): the translation gaps of
 * issue 13 seen where production decides — create-failure policy annotations, and pods carrying fields the 1.20
 * test apiserver drops (pod-level resources, preStop.sleep, native sidecars), given as a newer apiserver returns
 * them. The fake cluster and ECI are in-memory (fakes.ts); the domain is the production one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EciCreateRequest } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { createSyncDomain } from '../../../shared/usecases/domain.js';
import { PodSync } from '../../../shared/usecases/podSync.js';
import { processQueueBatch } from '../../../shared/usecases/queueBatch.js';
import { MASTER_VIEW_SECONDS } from '../../../shared/usecases/services.js';
import { StatusSync } from '../../../shared/usecases/statusSync.js';
import { FakeEciError, makePod, nudgeOf, silentLogger, type World, world } from './fakes.js';

const BASE = { clusterName: 'c1', vnodeName: 'vnode', regionId: 'cn-hangzhou', vSwitchIds: ['vsw-a'], clusterDns: '10.96.0.10', clusterDomain: 'cluster.local' };

function realWorld(): World {
  const w = world();
  w.deps.domain = createSyncDomain({
    ...BASE,
    kubernetesService: { host: '10.96.0.1', port: 443 },
  });
  return w;
}

const noStock = (): FakeEciError => new FakeEciError('capacity', 'OperationDenied.NoStock');

describe('pod-sync: policy annotations (real domain)', () => {
  it('eci-spot-fallback "True" falls back to on-demand (one boolean rule, case-insensitive)', async () => {
    // Prepare
    const w = realWorld();
    w.eci.noSpotStock = true;
    const pod = w.cluster.put(
      makePod({ annotations: { 'k8s.aliyun.com/eci-spot-strategy': 'SpotAsPriceGo', 'k8s.aliyun.com/eci-spot-fallback': 'True' } }),
    );
    // Act
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    // Assess
    assert.equal(res.outcome, 'created');
    assert.deepEqual(
      w.eci.createRequests.map((r) => [r.SpotStrategy, r.ClientToken]),
      [
        ['SpotAsPriceGo', pod.metadata.uid],
        ['NoSpot', `${pod.metadata.uid}-f1`],
      ],
    );
  });

  for (const [name, annotations] of [
    ['eci-fail-strategy: fail-fast', { 'k8s.aliyun.com/eci-fail-strategy': 'fail-fast' }],
    ['pod-fail-on-create-err: "TRUE"', { 'k8s.aliyun.com/pod-fail-on-create-err': 'TRUE' }],
  ] as const) {
    it(`${name}: no capacity fails the pod at once (ProviderFailed), no retry`, async () => {
      const w = realWorld();
      w.eci.createFailures = [noStock()];
      const pod = w.cluster.put(makePod({ annotations: { ...annotations } }));
      const res = await new PodSync(w.deps).handle(nudgeOf(pod));
      assert.equal(res.outcome, 'failed');
      const after = w.cluster.get('default', pod.metadata.name ?? '');
      assert.equal(after?.status?.phase, 'Failed');
      assert.equal(after?.status?.reason, 'ProviderFailed');
      assert.equal(w.queue.sent.length, 0, 'no re-nudge');
      assert.ok(w.cluster.events.some((e) => e.reason === 'ProviderFailed' && e.type === 'Warning'));
    });
  }

  for (const [name, annotations] of [
    ['eci-fail-strategy: fail-back', { 'k8s.aliyun.com/eci-fail-strategy': 'fail-back' }],
    ['eci-fail-strategy: fail-over wins over pod-fail-on-create-err', { 'k8s.aliyun.com/eci-fail-strategy': 'fail-over', 'k8s.aliyun.com/pod-fail-on-create-err': 'true' }],
    ['no annotation', {}],
  ] as const) {
    it(`${name}: no capacity keeps the pod Pending and retries later`, async () => {
      const w = realWorld();
      w.eci.createFailures = [noStock()];
      const pod = w.cluster.put(makePod({ annotations: { ...annotations } }));
      const res = await new PodSync(w.deps).handle(nudgeOf(pod));
      assert.equal(res.outcome, 'capacity-retry');
      assert.notEqual(w.cluster.get('default', pod.metadata.name ?? '')?.status?.phase, 'Failed');
      assert.equal(w.queue.sent.length, 1);
    });
  }

  it('eci-reschedule-enable: "true" is warned on the pod (an Event), the pod is created', async () => {
    const w = realWorld();
    const pod = w.cluster.put(makePod({ annotations: { 'k8s.aliyun.com/eci-reschedule-enable': 'true' } }));
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    const ev = w.cluster.events.find((e) => e.reason === 'RescheduleIgnored');
    assert.equal(ev?.type, 'Warning');
    assert.match(ev?.message ?? '', /fail-fast/);
  });
});

describe('pod-sync: pods as a newer apiserver returns them (real domain)', () => {
  it('pod-level spec.resources sizes the created group (Cpu 1, Memory 200Mi), not the 0.5-CPU container', async () => {
    const w = realWorld();
    const pod = w.cluster.put(
      makePod({ spec: { resources: { limits: { cpu: '1', memory: '200Mi' } }, containers: [{ name: 'app', image: 'nginx', resources: { limits: { cpu: '500m' } } }] } }),
    );
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    assert.equal(w.eci.createRequests[0]?.Cpu, 1);
    assert.equal(w.eci.createRequests[0]?.Memory, 0.196);
  });
});

describe('pod-sync: ConfigFile size limits are checked where the data is known (real domain)', () => {
  it('a 40 KiB ConfigMap file refuses the pod after the ConfigMap is read: no CreateContainerGroup, the limit named', async () => {
    const w = realWorld();
    w.cluster.configMaps.set('default/big', { metadata: { name: 'big', namespace: 'default' }, data: { 'rules.json': 'x'.repeat(40 * 1024) } });
    const pod = w.cluster.put(makePod({ spec: { volumes: [{ name: 'cfg', configMap: { name: 'big' } }] } }));
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'refused');
    assert.equal(w.eci.calls.create, 0);
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.match(after?.status?.message ?? '', /spec\.volumes\[0\]\.configMap \(key rules\.json\): volume cfg: file rules\.json is 40\.0 KiB .* ECI allows 32\.0 KiB \(32768 bytes\) per file/);
  });
});

describe('pod-sync: preStop sleep (real domain)', () => {
  it('a pod with preStop sleep is created with the exec equivalent (was refused before)', async () => {
    const w = realWorld();
    const pod = w.cluster.put(makePod({ spec: { containers: [{ name: 'app', image: 'nginx', lifecycle: { preStop: { sleep: { seconds: 10 } } } }] } }));
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    assert.deepEqual(w.eci.createRequests[0]?.Container[0]?.LifecyclePreStopHandlerExec, ['sleep', '10']);
  });
});

describe('pod-sync: native sidecars (real domain)', () => {
  it('a Job pod with a native sidecar is created (was refused): the sidecar an ECI sidecar container, its status among the init statuses', async () => {
    const w = realWorld();
    const pod = w.cluster.put(
      makePod({
        spec: {
          restartPolicy: 'Never',
          initContainers: [{ name: 'logs', image: 'fluent-bit:3', restartPolicy: 'Always' }],
          containers: [{ name: 'job', image: 'busybox' }],
        },
      }),
    );
    const sync = new PodSync(w.deps);
    const res = await sync.handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    const req = w.eci.createRequests[0];
    assert.deepEqual(req?.Container.map((c) => c.Name), ['job', 'logs']);
    assert.equal(req?.InitContainer, undefined);
    assert.ok(req?.Container[1]?.EnvironmentVar?.some((e) => e.Key === 'ECI_CONTAINER_TYPE' && e.Value === 'sidecar'));
    // ECI reports both as running containers: the sidecar's status goes where Kubernetes keeps it
    const id = res.groupId ?? '';
    const state = { State: 'Running', StartTime: '2026-01-01T00:00:10Z' };
    w.eci.set(id, {
      Status: 'Running',
      Containers: [
        { Name: 'job', Image: 'busybox', Ready: true, RestartCount: 0, CurrentState: state },
        { Name: 'logs', Image: 'fluent-bit:3', Ready: true, RestartCount: 0, CurrentState: state },
      ],
    });
    await sync.handle(nudgeOf(pod, 'changed'));
    const after = w.cluster.get('default', pod.metadata.name ?? '');
    assert.deepEqual(after?.status?.initContainerStatuses?.map((c) => [c.name, !!c.state?.running]), [['logs', true]]);
    assert.deepEqual(after?.status?.containerStatuses?.map((c) => c.name), ['job']);
  });
});

describe('pod-sync: the kubelet service env, read when the group is created', () => {
  function serviceWorld(clusterIpReachable: boolean): World {
    const w = world();
    w.deps.domain = createSyncDomain({
      ...BASE,
      clusterIpReachable,
    });
    w.cluster.services.set('shop', [
      { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: '10.96.5.5', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] } },
      { metadata: { name: 'headless', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
    ]);
    return w;
  }
  const envOf = (r: EciCreateRequest | undefined): Record<string, string> =>
    Object.fromEntries((r?.Container?.[0]?.EnvironmentVar ?? []).map((e) => [e.Key, e.Value ?? '']));
  const inShop = (name: string, spec?: Partial<Pod['spec']>): Pod => {
    const p = makePod({ name, ...(spec ? { spec } : {}) });
    p.metadata.namespace = 'shop';
    return p;
  };

  it('a batch of creates in one namespace reads the Services once (one list, one kubernetes Service and Endpoints)', async () => {
    // Prepare
    const w = serviceWorld(true);
    const pods = ['a', 'b', 'c'].map((n) => w.cluster.put(inShop(n)));
    // Act
    const report = await processQueueBatch(
      pods.map((p) => ({ ok: true, messageId: p.metadata.name ?? '', message: nudgeOf(p) })),
      { podSync: new PodSync(w.deps), statusSync: new StatusSync(w.deps), deadLetter: w.queue, logger: silentLogger, now: () => 0 },
    );
    // Assess
    assert.equal(report.outcomes.created, 3);
    assert.deepEqual([w.cluster.calls.listServices, w.cluster.calls.getService, w.cluster.calls.getEndpoints], [1, 1, 1]);
    for (const req of w.eci.createRequests) {
      const env = envOf(req);
      assert.equal(env.DB_SERVICE_HOST, '10.96.5.5');
      assert.equal(env.DB_SERVICE_PORT_PG, '5432');
      assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
      assert.equal(env.HEADLESS_SERVICE_HOST, undefined);
    }
    // the next invocation reads again (a Service created meanwhile is seen)
    await new PodSync(w.deps).forBatch().handle(nudgeOf(w.cluster.put(inShop('d'))));
    assert.equal(w.cluster.calls.listServices, 2);
  });

  it('the kubernetes Service and Endpoints are kept by the process for MASTER_VIEW_SECONDS; the namespace list is per batch', async () => {
    const w = serviceWorld(true);
    const sync = new PodSync(w.deps); // one per process (compose.ts)
    await sync.forBatch().handle(nudgeOf(w.cluster.put(inShop('a'))));
    w.clock.t += (MASTER_VIEW_SECONDS - 1) * 1000;
    await sync.forBatch().handle(nudgeOf(w.cluster.put(inShop('b'))));
    assert.deepEqual([w.cluster.calls.listServices, w.cluster.calls.getService, w.cluster.calls.getEndpoints], [2, 1, 1]);
    w.clock.t += 2000;
    await sync.forBatch().handle(nudgeOf(w.cluster.put(inShop('c'))));
    assert.deepEqual([w.cluster.calls.listServices, w.cluster.calls.getService, w.cluster.calls.getEndpoints], [3, 2, 2]);
    assert.equal(w.eci.createRequests.length, 3);
  });

  it('a batch of creates reads each referenced ConfigMap and Secret once; an absent one once; a failed read again', async () => {
    // Prepare: three pods of one Deployment referencing the same ConfigMap, pull Secret and a ConfigMap that is not there
    const w = serviceWorld(true);
    w.cluster.configMaps.set('shop/app', { metadata: { name: 'app', namespace: 'shop' }, data: { 'app.conf': 'x=1' } });
    w.cluster.secrets.set('shop/pull', {
      metadata: { name: 'pull', namespace: 'shop' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { 'registry.example.com': { username: 'u', password: 'p' } } })).toString('base64') },
    });
    const spec: Partial<Pod['spec']> = {
      imagePullSecrets: [{ name: 'pull' }],
      volumes: [
        { name: 'cfg', configMap: { name: 'app' } },
        { name: 'opt', configMap: { name: 'absent', optional: true } },
      ],
    };
    const pods = ['a', 'b', 'c'].map((n) => w.cluster.put(inShop(n, spec)));
    const batch = () =>
      processQueueBatch(
        pods.map((p) => ({ ok: true, messageId: p.metadata.name ?? '', message: nudgeOf(w.cluster.get('shop', p.metadata.name ?? '') as Pod) })),
        { podSync: new PodSync(w.deps), statusSync: new StatusSync(w.deps), deadLetter: w.queue, logger: silentLogger, now: () => 0 },
      );
    // Act: a batch whose ConfigMap read fails (the pods sharing it retry), then the next batch
    w.cluster.configMapFailures = 1;
    const failed = await batch();
    const readsAfterFailure = w.cluster.calls.getConfigMap;
    const report = await batch();
    // Assess: the failure was not kept; 'app' and 'absent' read once and the Secret once for three creates
    assert.deepEqual(failed.outcomes, { retry: 3 });
    assert.equal(readsAfterFailure, 1);
    assert.equal(report.outcomes.created, 3);
    assert.equal(w.cluster.calls.getConfigMap - readsAfterFailure, 2);
    assert.equal(w.cluster.calls.getSecret, 1);
    assert.equal(w.eci.createRequests.length, 3);
    for (const req of w.eci.createRequests) assert.equal(req.ImageRegistryCredential?.[0]?.Server, 'registry.example.com');
  });

  it('ClusterIPs unreachable: KUBERNETES_SERVICE_HOST/PORT are the apiserver endpoint; links off: no namespace list', async () => {
    const w = serviceWorld(false);
    const pod = w.cluster.put(inShop('x', { enableServiceLinks: false }));
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(res.outcome, 'created');
    const env = envOf(w.eci.createRequests[0]);
    assert.deepEqual([env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT, env.DB_SERVICE_HOST], ['192.168.0.10', '6443', undefined]);
    assert.equal(w.cluster.calls.listServices, 0);
  });

  it('a failed Service list fails the create retryably (no group without its env), the retry reads again', async () => {
    const w = serviceWorld(true);
    const pod = w.cluster.put(inShop('y'));
    const list = w.cluster.listServices.bind(w.cluster);
    let fail = true;
    w.cluster.listServices = async (ns: string) => {
      if (fail) {
        fail = false;
        throw Object.assign(new Error('etcdserver: request timed out'), { name: 'KubeError', status: 500 });
      }
      return list(ns);
    };
    const first = await new PodSync(w.deps).handle(nudgeOf(pod));
    assert.equal(first.outcome, 'retry');
    assert.equal(w.eci.createRequests.length, 0);
    const second = await new PodSync(w.deps).handle(nudgeOf(w.cluster.get('shop', 'y') as Pod, 'bound', 1));
    assert.equal(second.outcome, 'created');
    assert.equal(envOf(w.eci.createRequests[0]).DB_SERVICE_HOST, '10.96.5.5');
  });
});

/** The real domain with the kube-proxy sidecar configured (KUBE_PROXY_IMAGE set, on by default). */
function proxyWorld(): World {
  const w = world();
  w.deps.domain = createSyncDomain({
    ...BASE,
    kubeProxy: {
      image: 'registry.example.com/kube-proxy:v1.20.2',
      defaultOn: true,
      cpu: 0.25,
      memoryGiB: 0.25,
      serviceAccount: { namespace: 'eci-bridge', name: 'eci-bridge-kube-proxy' },
      tokenSeconds: 86400,
    },
  });
  return w;
}

describe('pod-sync: the kube-proxy sidecar', () => {
  it('mints an unbound token of the kube-proxy ServiceAccount, reads the CA, and sends the sidecar in the group', async () => {
    // Prepare
    const w = proxyWorld();
    w.cluster.serviceAccounts.add('eci-bridge/eci-bridge-kube-proxy');
    w.cluster.configMaps.set('default/kube-root-ca.crt', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'PEM' } });
    const asked: unknown[] = [];
    const mint = w.cluster.requestPodToken.bind(w.cluster);
    w.cluster.requestPodToken = async (ns: string, sa: string, opts?: unknown) => {
      asked.push([ns, sa, opts]);
      return mint(ns, sa);
    };
    const pod = w.cluster.put(makePod({ spec: { restartPolicy: 'Never' } }));
    // Act
    const res = await new PodSync(w.deps).handle(nudgeOf(pod));
    // Assess
    assert.equal(res.outcome, 'created');
    assert.deepEqual(asked, [['eci-bridge', 'eci-bridge-kube-proxy', { expirationSeconds: 86400 }]]);
    const req = w.eci.createRequests[0];
    const proxy = req?.Container?.find((c) => c.Name === 'eci-bridge-kube-proxy');
    assert.equal(proxy?.Image, 'registry.example.com/kube-proxy:v1.20.2');
    const files = req?.Volume?.find((v) => v.Name === 'eci-bridge-kube-proxy')?.ConfigFileVolume?.ConfigFileToPath ?? [];
    assert.deepEqual(files.map((f) => [f.Path, Buffer.from(f.Content, 'base64').toString()]).slice(1), [
      ['token', 'token-for-eci-bridge-kube-proxy'],
      ['ca.crt', 'PEM'],
    ]);
    // kube-proxy present: the app reaches the kubernetes Service at its ClusterIP
    assert.equal(req?.Container?.[0]?.EnvironmentVar?.find((e) => e.Key === 'KUBERNETES_SERVICE_HOST')?.Value, '10.96.0.1');
  });

  it('without its ServiceAccount the create waits (retry with the reason), nothing is created', async () => {
    const w = proxyWorld();
    w.cluster.configMaps.set('default/kube-root-ca.crt', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'PEM' } });
    const res = await new PodSync(w.deps).handle(nudgeOf(w.cluster.put(makePod())));
    assert.equal(res.outcome, 'retry');
    assert.equal(w.eci.createRequests.length, 0);
  });
});
