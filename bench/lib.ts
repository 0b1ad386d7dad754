/**
 * What the pod benchmarks (e2e, pipeline, burst) create alike: the burst of plain web pods bound straight to the
 * virtual node. One builder, so the three benches measure the same pod and their figures stay comparable.
 */
import type { Manifest } from '../shared/adapters/kube/provision.js';

/** `n` nginx pods `web-0000`, `web-0001`, … in `namespace`, bound to `vnode`, with a 10 s grace period. */
export function webPods(n: number, namespace: string, vnode: string): Manifest[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `web-${String(i).padStart(4, '0')}`, namespace },
    spec: { nodeName: vnode, terminationGracePeriodSeconds: 10, containers: [{ name: 'web', image: 'nginx:1.25-alpine' }] },
  }));
}
