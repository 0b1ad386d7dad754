/**
 * The service environment against the kubelet's rules (pkg/kubelet/envvars/envvars.go FromServices and
 * kubelet_pods.go getServiceEnvVarMap, v1.20), through translatePod as pod-sync and the CLI call it. The expected
 * values of the first case are those of the kubelet's own TestMakeEnvironmentVariables ("api server = Y, kubelet = Y").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service, ServicePort } from '../../../shared/domain/k8s.js';
import { envName, serviceEnv } from '../../../shared/domain/serviceEnv.js';
import { translatePod } from '../../../shared/domain/translate.js';
import { baseCtx, ok, withPod } from './helpers.js';

function svc(namespace: string, name: string, clusterIP: string, ports: ServicePort[]): Service {
  return { metadata: { name, namespace }, spec: { clusterIP, ...(ports ? { ports } : {}) } };
}

const master = svc('default', 'kubernetes', '1.2.3.1', [{ name: 'https', port: 8081, protocol: 'TCP' }]);
const masterEndpoints = {
  metadata: { name: 'kubernetes', namespace: 'default' },
  subsets: [{ addresses: [{ ip: '192.168.0.10' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }],
};

/** The env of the first container as a name → value record (FieldRef entries left out). */
function envOf(pod = withPod((p) => { p.metadata.namespace = 'test1'; }), services: Parameters<typeof baseCtx>[0] = {}): Record<string, string> {
  const req = ok(pod, baseCtx({ kubernetesService: undefined, ...services }));
  const out: Record<string, string> = {};
  for (const e of req.Container?.[0]?.EnvironmentVar ?? []) if (e.Value !== undefined) out[e.Key] = e.Value;
  return out;
}

const ns1 = [
  svc('test1', 'test-service', '1.2.3.3', [{ protocol: 'TCP', port: 8083 }]),
  svc('test1', 'kubernetes', '1.2.3.4', [{ protocol: 'TCP', port: 8084 }]),
  svc('test1', 'not-special', '1.2.3.8', [{ protocol: 'TCP', port: 8088 }]),
  svc('test1', 'headless', 'None', [{ protocol: 'TCP', port: 8089 }]),
  svc('test1', 'external', '', [{ protocol: 'TCP', port: 8090 }]),
];

describe('service env: the kubelet rules', () => {
  it('the namespace\'s Services with links, its own `kubernetes` Service replacing the master one (kubelet test values)', () => {
    const env = envOf(undefined, { clusterIpReachable: true, services: { kubernetes: master, namespace: ns1 } });
    assert.deepEqual(env, {
      TEST_SERVICE_SERVICE_HOST: '1.2.3.3',
      TEST_SERVICE_SERVICE_PORT: '8083',
      TEST_SERVICE_PORT: 'tcp://1.2.3.3:8083',
      TEST_SERVICE_PORT_8083_TCP: 'tcp://1.2.3.3:8083',
      TEST_SERVICE_PORT_8083_TCP_PROTO: 'tcp',
      TEST_SERVICE_PORT_8083_TCP_PORT: '8083',
      TEST_SERVICE_PORT_8083_TCP_ADDR: '1.2.3.3',
      KUBERNETES_SERVICE_HOST: '1.2.3.4',
      KUBERNETES_SERVICE_PORT: '8084',
      KUBERNETES_PORT: 'tcp://1.2.3.4:8084',
      KUBERNETES_PORT_8084_TCP: 'tcp://1.2.3.4:8084',
      KUBERNETES_PORT_8084_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_8084_TCP_PORT: '8084',
      KUBERNETES_PORT_8084_TCP_ADDR: '1.2.3.4',
      NOT_SPECIAL_SERVICE_HOST: '1.2.3.8',
      NOT_SPECIAL_SERVICE_PORT: '8088',
      NOT_SPECIAL_PORT: 'tcp://1.2.3.8:8088',
      NOT_SPECIAL_PORT_8088_TCP: 'tcp://1.2.3.8:8088',
      NOT_SPECIAL_PORT_8088_TCP_PROTO: 'tcp',
      NOT_SPECIAL_PORT_8088_TCP_PORT: '8088',
      NOT_SPECIAL_PORT_8088_TCP_ADDR: '1.2.3.8',
    });
  });

  it('enableServiceLinks false: only the master Service (kubelet test "api server = Y, kubelet = Y, links off")', () => {
    const pod = withPod((p) => {
      p.metadata.namespace = 'test1';
      p.spec.enableServiceLinks = false;
    });
    const env = envOf(pod, { clusterIpReachable: true, services: { kubernetes: master, namespace: ns1 } });
    assert.deepEqual(Object.keys(env).sort(), [
      'KUBERNETES_PORT',
      'KUBERNETES_PORT_8081_TCP',
      'KUBERNETES_PORT_8081_TCP_ADDR',
      'KUBERNETES_PORT_8081_TCP_PORT',
      'KUBERNETES_PORT_8081_TCP_PROTO',
      'KUBERNETES_SERVICE_HOST',
      'KUBERNETES_SERVICE_PORT',
      'KUBERNETES_SERVICE_PORT_HTTPS',
    ]);
    assert.equal(env.KUBERNETES_SERVICE_HOST, '1.2.3.1');
  });

  it('named ports, UDP and several ports: _SERVICE_PORT_<NAME> per named port, the docker-link family per port', () => {
    const dns = svc('kube-system', 'kube-dns', '10.96.0.10', [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ]);
    const env = Object.fromEntries(serviceEnv('kube-system', true, undefined, [dns]).map((e) => [e.name, e.value]));
    assert.deepEqual(env, {
      KUBE_DNS_SERVICE_HOST: '10.96.0.10',
      KUBE_DNS_SERVICE_PORT: '53',
      KUBE_DNS_SERVICE_PORT_DNS: '53',
      KUBE_DNS_SERVICE_PORT_DNS_TCP: '53',
      KUBE_DNS_SERVICE_PORT_METRICS: '9153',
      KUBE_DNS_PORT: 'udp://10.96.0.10:53',
      KUBE_DNS_PORT_53_UDP: 'udp://10.96.0.10:53',
      KUBE_DNS_PORT_53_UDP_PROTO: 'udp',
      KUBE_DNS_PORT_53_UDP_PORT: '53',
      KUBE_DNS_PORT_53_UDP_ADDR: '10.96.0.10',
      KUBE_DNS_PORT_53_TCP: 'tcp://10.96.0.10:53',
      KUBE_DNS_PORT_53_TCP_PROTO: 'tcp',
      KUBE_DNS_PORT_53_TCP_PORT: '53',
      KUBE_DNS_PORT_53_TCP_ADDR: '10.96.0.10',
      KUBE_DNS_PORT_9153_TCP: 'tcp://10.96.0.10:9153',
      KUBE_DNS_PORT_9153_TCP_PROTO: 'tcp',
      KUBE_DNS_PORT_9153_TCP_PORT: '9153',
      KUBE_DNS_PORT_9153_TCP_ADDR: '10.96.0.10',
    });
  });

  it('which Services count: ClusterIP set and not None, of the pod\'s namespace only; IPv6 addresses bracketed', () => {
    const env = Object.fromEntries(
      serviceEnv('a', true, undefined, [
        svc('a', 'headless', 'None', [{ port: 80 }]),
        svc('a', 'external-name', '', [{ port: 80 }]),
        svc('b', 'elsewhere', '10.0.0.9', [{ port: 80 }]),
        svc('a', 'v6', 'fd00::10', [{ port: 80 }]),
      ]).map((e) => [e.name, e.value]),
    );
    assert.deepEqual(Object.keys(env).filter((k) => !k.startsWith('V6_')), []);
    assert.equal(env.V6_PORT, 'tcp://[fd00::10]:80');
    assert.equal(env.V6_SERVICE_HOST, 'fd00::10');
  });

  it('name mangling: upper case, dashes to underscores (dots cannot occur in Service names)', () => {
    assert.equal(envName('my-db-0'), 'MY_DB_0');
    assert.equal(envName('https-alt'), 'HTTPS_ALT');
  });

  it('the container\'s own env and envFrom win; $(VAR) can refer to service variables', () => {
    const pod = withPod((p) => {
      p.metadata.namespace = 'test1';
      const c = p.spec.containers[0];
      if (!c) throw new Error('no container');
      c.env = [
        { name: 'TEST_SERVICE_SERVICE_HOST', value: 'mine' },
        { name: 'URL', value: 'http://$(NOT_SPECIAL_SERVICE_HOST):$(NOT_SPECIAL_SERVICE_PORT)/' },
      ];
    });
    const env = envOf(pod, { clusterIpReachable: true, services: { kubernetes: master, namespace: ns1 } });
    assert.equal(env.TEST_SERVICE_SERVICE_HOST, 'mine');
    assert.equal(env.URL, 'http://1.2.3.8:8088/');
  });

  it('ClusterIPs unreachable (no kube-proxy in the group, no VPC route): KUBERNETES_* name the apiserver\'s endpoint', () => {
    const env = envOf(undefined, { clusterIpReachable: false, services: { kubernetes: master, kubernetesEndpoints: masterEndpoints, namespace: [] } });
    assert.deepEqual(env, {
      KUBERNETES_SERVICE_HOST: '192.168.0.10',
      KUBERNETES_SERVICE_PORT: '6443',
      KUBERNETES_SERVICE_PORT_HTTPS: '6443',
      KUBERNETES_PORT: 'tcp://192.168.0.10:6443',
      KUBERNETES_PORT_6443_TCP: 'tcp://192.168.0.10:6443',
      KUBERNETES_PORT_6443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_6443_TCP_PORT: '6443',
      KUBERNETES_PORT_6443_TCP_ADDR: '192.168.0.10',
    });
    // in `default`, the namespace's own `kubernetes` Service does not put the unreachable ClusterIP back
    const inDefault = envOf(withPod(() => {}), { services: { kubernetes: master, kubernetesEndpoints: masterEndpoints, namespace: [master] } });
    assert.equal(inDefault.KUBERNETES_SERVICE_HOST, '192.168.0.10');
  });

  it('a configured address (KUBERNETES_SERVICE_ADDRESS / --api-server) overrides what was read', () => {
    const env = envOf(undefined, { kubernetesService: { host: '172.16.0.5', port: 6443 }, services: { kubernetes: master, namespace: [] } });
    assert.equal(env.KUBERNETES_SERVICE_HOST, '172.16.0.5');
    assert.equal(env.KUBERNETES_PORT_6443_TCP_ADDR, '172.16.0.5');
  });

  it('nothing known about the API server: no KUBERNETES_* and, with a token mounted, KubernetesServiceUnknown', () => {
    const pod = withPod((p) => {
      p.metadata.namespace = 'test1';
      p.spec.volumes = [{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }];
    });
    const r = translatePod(pod, baseCtx({ kubernetesService: undefined, services: { kubernetes: master, namespace: [] } }));
    assert.ok(r.warnings.some((w) => w.code === 'KubernetesServiceUnknown'));
  });
});
