/**
 * The network prerequisite checks `doctor` runs (shared/usecases/networkChecks.ts) over the Cluster port.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkPrerequisiteChecks } from '../../../shared/usecases/networkChecks.js';
import { FakeCluster, makePod } from './fakes.js';

const config = { CLUSTER_DNS: '10.96.0.10', CLUSTER_IP_ROUTED: false };

function cluster(podNames: string[] = []): FakeCluster {
  const c = new FakeCluster();
  c.services.set('kube-system', [{ metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] } }]);
  for (const n of podNames) {
    const p = makePod({ name: n });
    p.metadata.namespace = 'kube-system';
    c.put(p);
  }
  return c;
}
const byId = async (c: FakeCluster, cfg: Parameters<typeof networkPrerequisiteChecks>[1] = config) =>
  Object.fromEntries((await networkPrerequisiteChecks(c, cfg)).map((x) => [x.id, x]));

describe('network prerequisite checks (for doctor)', () => {
  it('a Terway cluster with kube-proxy configured: every check ok, naming the apiserver address and port', async () => {
    const r = await byId(cluster(['terway-eniip-abcde']), { ...config, KUBE_PROXY_IMAGE: 'reg/kube-proxy:v1.20.2' });
    assert.deepEqual(Object.values(r).map((x) => x.status), ['ok', 'ok', 'ok', 'ok']);
    assert.match(r['apiserver-endpoint']?.message ?? '', /192\.168\.0\.10:6443.*TCP 6443/);
  });

  it('flannel warns about VPC routes; no kube-proxy and no route warns; a wrong CLUSTER_DNS fails', async () => {
    const r = await byId(cluster(['kube-flannel-ds-x1']), { ...config, CLUSTER_DNS: '10.96.0.99' });
    assert.equal(r.cni?.status, 'warn');
    assert.match(r.cni?.message ?? '', /route controller/);
    assert.equal(r['kube-proxy']?.status, 'warn');
    assert.equal(r['cluster-dns']?.status, 'fail');
  });

  it('an apiserver that publishes loopback, or no endpoints at all, fails', async () => {
    const c = cluster();
    c.endpoints.set('default/kubernetes', { metadata: { name: 'kubernetes' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 6443 }] }] });
    assert.equal((await byId(c))['apiserver-endpoint']?.status, 'fail');
    c.endpoints.clear();
    assert.match((await byId(c))['apiserver-endpoint']?.message ?? '', /no address/);
    // a configured address is what pods get: ok
    assert.equal((await byId(c, { ...config, KUBERNETES_SERVICE_ADDRESS: '10.0.0.5:6443' }))['apiserver-endpoint']?.status, 'ok');
  });
});
