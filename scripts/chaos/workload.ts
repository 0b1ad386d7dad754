/**
 * The chaos campaign's seeded workload: which pods (standalone servers, pods of ReplicaSet-like owners, Jobs, pods
 * pinned to the sold-out vSwitch, spot pods with the on-demand fallback), in which wave, which the harness deletes
 * while pending or running; and each pod's manifest.
 */
import type { Manifest } from '../../shared/adapters/kube/provision.js';

export const CHAOS_NAMESPACE = 'chaos';
/** The sold-out vSwitch (its zone has no stock while the faults are on); pods get both, pinned pods only this. */
export const SOLD_OUT_VSWITCH = 'vsw-sandbox-h';
export const OTHER_VSWITCH = 'vsw-sandbox-i';
const TOLERATION = { key: 'virtual-kubelet.io/provider', operator: 'Equal', value: 'alibabacloud', effect: 'NoSchedule' };

type PodKind = 'web' | 'rs' | 'job' | 'pinned' | 'spot';
type DeletePlan = 'none' | 'pending' | 'running';

export interface PlannedPod {
  name: string;
  kind: PodKind;
  wave: number;
  owner?: string;
  deletion: DeletePlan;
  /** simulated seconds a Job runs */
  jobSeconds: number;
}

/** The seeded workload: which pods, in which wave, and which get deleted when. */
export function planWorkload(pods: number, random: () => number, waves = 6): PlannedPod[] {
  const owners = ['rs-alpha', 'rs-beta', 'rs-gamma'];
  const out: PlannedPod[] = [];
  const pinnedEvery = Math.max(10, Math.round(pods / Math.max(1, Math.round(pods * 0.03))));
  for (let i = 0; i < pods; i++) {
    const r = random();
    let kind: PodKind = r < 0.15 ? 'job' : r < 0.5 ? 'rs' : 'web';
    if (i % pinnedEvery === pinnedEvery - 1) kind = 'pinned';
    if (i % pinnedEvery === Math.floor(pinnedEvery / 2)) kind = 'spot';
    const d = random();
    const deletion: DeletePlan = kind === 'job' || kind === 'pinned' || kind === 'spot' ? 'none' : d < 0.1 ? 'pending' : d < 0.28 ? 'running' : 'none';
    const owner = kind === 'rs' ? owners[Math.floor(random() * owners.length)] : undefined;
    out.push({
      name: `${kind}-${String(i).padStart(4, '0')}`,
      kind,
      wave: Math.min(waves - 1, Math.floor((i * waves) / pods)),
      ...(owner ? { owner } : {}),
      deletion,
      jobSeconds: 10 + Math.floor(random() * 50),
    });
  }
  return out;
}

const OWNER_UIDS: Record<string, string> = {
  'rs-alpha': '0a1b2c3d-0000-4000-8000-00000000a1fa',
  'rs-beta': '0a1b2c3d-0000-4000-8000-00000000be7a',
  'rs-gamma': '0a1b2c3d-0000-4000-8000-00000000ca4a',
};

export function podManifest(p: PlannedPod, namespace: string, nodeName: string): Manifest {
  const server = { name: 'web', image: 'nginx:1.25-alpine', resources: { requests: { cpu: '250m', memory: '512Mi' } } };
  const job = {
    name: 'job',
    image: 'busybox:1.36',
    command: ['sh', '-c', `sleep ${p.jobSeconds}; echo done # eci-sim: sleep ${p.jobSeconds}; exit 0`],
  };
  const metadata: Manifest['metadata'] & { ownerReferences?: unknown[] } = {
    name: p.name,
    namespace,
    labels: { app: 'chaos', 'chaos.eci-bridge.io/kind': p.kind, ...(p.owner ? { 'chaos.eci-bridge.io/owner': p.owner } : {}) },
  };
  if (p.kind === 'pinned') metadata.annotations = { 'k8s.aliyun.com/eci-vswitch': SOLD_OUT_VSWITCH };
  if (p.kind === 'spot') metadata.annotations = { 'k8s.aliyun.com/eci-spot-strategy': 'SpotAsPriceGo', 'k8s.aliyun.com/eci-spot-fallback': 'true' };
  if (p.owner) {
    // a ReplicaSet-like owner that does not exist: no controller-manager runs, the harness scales it by hand
    metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: p.owner, uid: OWNER_UIDS[p.owner], controller: true }];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      nodeName,
      tolerations: [TOLERATION],
      terminationGracePeriodSeconds: 5,
      ...(p.kind === 'job' ? { restartPolicy: 'Never', containers: [job] } : { containers: [server] }),
    },
  };
}
