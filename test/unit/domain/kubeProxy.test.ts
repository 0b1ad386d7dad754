/**
 * The kube-proxy sidecar in the request translatePod builds (as pod-sync and the CLI call it): when it is added,
 * what it runs with, what it costs, and that the pod never sees it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EciContainerGroup, EciCreateRequest } from '../../../shared/domain/eci.js';
import type { KubeProxySettings } from '../../../shared/domain/kubeProxy.js';
import { groupToPodStatus } from '../../../shared/domain/status.js';
import { redactRequest, translatePod } from '../../../shared/domain/translate.js';
import { baseCtx, withPod } from './helpers.js';

const settings: KubeProxySettings = {
  image: 'registry.example.com/k8s/kube-proxy:v1.20.2',
  defaultOn: true,
  cpu: 0.25,
  memoryGiB: 0.25,
  serviceAccount: { namespace: 'eci-bridge', name: 'eci-bridge-kube-proxy' },
  tokenSeconds: 2592000,
};
const services = {
  kubernetes: { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] } },
  kubernetesEndpoints: {
    metadata: { name: 'kubernetes', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '192.168.0.10' }], ports: [{ name: 'https', port: 6443 }] }],
  },
  namespace: [],
};
const caMap = new Map([['kube-root-ca.crt', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'CA-PEM' } }]]);

function translate(pod = withPod(() => {}), over: Partial<KubeProxySettings> = {}, ctxOver: Parameters<typeof baseCtx>[0] = {}) {
  return translatePod(
    pod,
    baseCtx({
      kubernetesService: undefined,
      services,
      kubeProxy: { ...settings, ...over },
      kubeProxyToken: 'proxy-token-secret',
      configMaps: caMap,
      ...ctxOver,
    }),
  );
}
function request(r: ReturnType<typeof translatePod>): EciCreateRequest {
  assert.ok(r.ok, JSON.stringify(!r.ok && r.violations));
  return r.request;
}
const proxyOf = (req: EciCreateRequest) => req.Container?.find((c) => c.Name === 'eci-bridge-kube-proxy');
const env = (c: { EnvironmentVar?: { Key: string; Value?: string }[] } | undefined) =>
  Object.fromEntries((c?.EnvironmentVar ?? []).map((e) => [e.Key, e.Value]));
const decode = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString();

describe('kube-proxy sidecar', () => {
  it('on by default with an image: the real kube-proxy, iptables, NET_ADMIN only, ECI sidecar, gates the app on synced rules', () => {
    const req = request(translate());
    const p = proxyOf(req);
    assert.ok(p);
    assert.equal(p.Image, settings.image);
    assert.deepEqual(p.Command, ['kube-proxy']);
    assert.ok(p.Arg?.includes('--proxy-mode=iptables'));
    assert.ok(p.Arg?.includes('--hostname-override=vnode-1'));
    assert.deepEqual(p.SecurityContext, { Capability: { Add: ['NET_ADMIN'] } });
    assert.deepEqual(env(p), {
      ECI_CONTAINER_TYPE: 'sidecar',
      ECI_CONTAINER_IGNORE_EXIT_CODE: 'true',
      ECI_CONTAINER_LAUNCH_PRIORITY: '1000',
      ECI_CONTAINER_EXIT_PRIORITY: '-1000',
    });
    assert.deepEqual(p.ReadinessProbe?.Exec?.Command, ['iptables', '-w', '-t', 'nat', '-S', 'KUBE-SERVICES']);
    // the app container has the default launch priority (0): ECI starts it after the proxy is Ready
    assert.equal(env(req.Container?.[0]).ECI_CONTAINER_LAUNCH_PRIORITY, undefined);
    // with kube-proxy in the group, the kubernetes Service is reached at its ClusterIP
    assert.equal(env(req.Container?.[0]).KUBERNETES_SERVICE_HOST, '10.96.0.1');
    // its kubeconfig names the apiserver's real endpoint (kube-proxy makes the ClusterIPs, it cannot use one)
    const vol = req.Volume?.find((v) => v.Name === 'eci-bridge-kube-proxy');
    const files = Object.fromEntries((vol?.ConfigFileVolume?.ConfigFileToPath ?? []).map((f) => [f.Path, decode(f.Content)]));
    assert.match(files.kubeconfig ?? '', /server: https:\/\/192\.168\.0\.10:6443/);
    assert.equal(files.token, 'proxy-token-secret');
    assert.equal(files['ca.crt'], 'CA-PEM');
    // the token never shows in a dry run
    assert.doesNotMatch(JSON.stringify(redactRequest(req)), /cHJveHktdG9rZW4tc2VjcmV0|proxy-token-secret/);
  });

  it('the annotation decides per pod ("false" opts out, "True" opts in when off by default); eci-profile sets it', () => {
    const ann = (v: string) => withPod((p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-kube-proxy-enabled': v }; });
    assert.equal(proxyOf(request(translate(ann('false')))), undefined);
    assert.ok(proxyOf(request(translate(ann('True'), { defaultOn: false }))));
    assert.equal(proxyOf(request(translate(undefined, { defaultOn: false }))), undefined);
  });

  it('without it, KUBERNETES_SERVICE_HOST is the apiserver endpoint; asked for without an image: KubeProxyUnavailable', () => {
    const r = translate(withPod((p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-kube-proxy-enabled': 'true' }; }), { image: undefined });
    const req = request(r);
    assert.equal(proxyOf(req), undefined);
    assert.ok(r.warnings.some((w) => w.code === 'KubeProxyUnavailable'));
    assert.equal(env(req.Container?.[0]).KUBERNETES_SERVICE_HOST, '192.168.0.10');
  });

  it('its resources are added to a sized group, with a warning when that moves it to the next ECI spec', () => {
    const sized = (cpu: string, mem: string) =>
      withPod((p) => {
        const c = p.spec.containers[0];
        if (c) c.resources = { limits: { cpu, memory: mem } };
      });
    const r = translate(sized('1', '2Gi'));
    const req = request(r);
    assert.deepEqual([req.Cpu, req.Memory], [1.25, 2.25]);
    assert.ok(r.warnings.some((w) => w.code === 'KubeProxyRaisesSpec' && /from ECI spec 1-2Gi to 2-4Gi/.test(w.message)), JSON.stringify(r.warnings));
    // 1.5 vCPU / 3 GiB already runs on 2-4Gi: the proxy fits, no warning
    const fits = translate(sized('1500m', '3Gi'));
    assert.deepEqual([request(fits).Cpu, request(fits).Memory], [1.75, 3.25]);
    assert.equal(fits.warnings.some((w) => w.code === 'KubeProxyRaisesSpec'), false);
    // unsized pod: ECI's default 2 vCPU / 4 GiB holds the proxy, the group stays unsized
    const unsized = request(translate());
    assert.deepEqual([unsized.Cpu, unsized.Memory], [undefined, undefined]);
  });

  it('a pod container named eci-bridge-kube-proxy is refused (the name is reserved)', () => {
    const r = translate(withPod((p) => { p.spec.containers.push({ name: 'eci-bridge-kube-proxy', image: 'x' }); }));
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.violations.some((v) => v.code === 'ReservedContainerName'));
  });

  it('the pod never sees it: no container status, and readiness comes from the pod\'s own containers', () => {
    const pod = withPod(() => {});
    const g: EciContainerGroup = {
      ContainerGroupId: 'eci-1',
      Status: 'Running',
      Containers: [
        { Name: 'app', Ready: true, CurrentState: { State: 'Running', StartTime: '2026-01-01T00:00:10Z' } },
        { Name: 'eci-bridge-kube-proxy', Ready: false, CurrentState: { State: 'Running', StartTime: '2026-01-01T00:00:05Z' } },
      ],
    } as EciContainerGroup;
    const st = groupToPodStatus(g, pod, '2026-01-01T00:01:00Z');
    assert.deepEqual(st.containerStatuses?.map((c) => c.name), ['app']);
    assert.equal(st.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });
});
