/**
 * What the pod benchmarks (e2e, pipeline, burst) do alike: create the burst of plain web pods bound straight to the
 * virtual node (one builder, so the benches measure the same pod and their figures stay comparable), and read the
 * ECI emulator's groups as they change.
 */
import type { EciEmulator, GroupState } from '../emulators/eci/index.js';
import type { Manifest } from '../shared/adapters/kube/provision.js';
import { TAG_CLUSTER, TAG_POD_UID } from '../shared/domain/names.js';

/** `n` nginx pods `web-0000`, `web-0001`, … in `namespace`, bound to `vnode`, with a 10 s grace period. */
export function webPods(n: number, namespace: string, vnode: string): Manifest[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `web-${String(i).padStart(4, '0')}`, namespace },
    spec: { nodeName: vnode, terminationGracePeriodSeconds: 10, containers: [{ name: 'web', image: 'nginx:1.25-alpine' }] },
  }));
}

/**
 * Polls the ECI emulator every 20 ms and calls `visit` with each group of `clusterName` (and its pod UID tag, when
 * it has one): the emulator's own times of each group's transitions, which the benches set beside the pods'.
 * Returns the stop, which waits for the poll in progress.
 */
export function pollGroups(emulator: Pick<EciEmulator, 'states'>, clusterName: string, visit: (g: GroupState, uid: string | undefined) => void): () => Promise<void> {
  let polling = true;
  const poller = (async () => {
    while (polling) {
      for (const g of emulator.states()) {
        if (g.tags.find((t) => t.Key === TAG_CLUSTER)?.Value !== clusterName) continue;
        visit(
          g,
          g.tags.find((t) => t.Key === TAG_POD_UID)?.Value,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    polling = false;
    await poller;
  };
}
