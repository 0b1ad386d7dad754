/**
 * The Kubernetes permissions the watcher needs: every Cluster port method it calls, mapped to the RBAC rule it
 * needs. deploy/rbac.yaml grants exactly these (a unit test compares both, and checks that the watcher's
 * sources call no other Cluster method).
 */
export interface Permission {
  /** the Cluster port method */
  method: string;
  apiGroup: '' | 'coordination.k8s.io' | 'admissionregistration.k8s.io';
  resource: string;
  verbs: readonly string[];
  /** cluster-wide (ClusterRole) or in a namespace (Role) */
  scope: 'cluster' | 'kube-node-lease' | 'bridge';
}

export const WATCHER_PERMISSIONS: readonly Permission[] = [
  { method: 'watchPods', apiGroup: '', resource: 'pods', verbs: ['list', 'watch'], scope: 'cluster' },
  { method: 'getNode', apiGroup: '', resource: 'nodes', verbs: ['get'], scope: 'cluster' },
  { method: 'watchNode', apiGroup: '', resource: 'nodes', verbs: ['list', 'watch'], scope: 'cluster' },
  { method: 'createNode', apiGroup: '', resource: 'nodes', verbs: ['create'], scope: 'cluster' },
  { method: 'patchNode', apiGroup: '', resource: 'nodes', verbs: ['patch'], scope: 'cluster' },
  { method: 'patchNodeStatus', apiGroup: '', resource: 'nodes/status', verbs: ['patch'], scope: 'cluster' },
  // the node lease (kube-node-lease/<node>)
  { method: 'getLease', apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['get'], scope: 'kube-node-lease' },
  { method: 'createLease', apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['create'], scope: 'kube-node-lease' },
  { method: 'replaceLease', apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['update'], scope: 'kube-node-lease' },
  // leader election, the checkpoint, and reading the functions heartbeat (bridge namespace)
  { method: 'getLease', apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['get'], scope: 'bridge' },
  { method: 'createLease', apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['create'], scope: 'bridge' },
  { method: 'replaceLease', apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['update'], scope: 'bridge' },
  // the eci-profile webhooks (watcher/webhook/, when WEBHOOK_ENABLED)
  { method: 'getConfigMap', apiGroup: '', resource: 'configmaps', verbs: ['get'], scope: 'bridge' },
  { method: 'getSecret', apiGroup: '', resource: 'secrets', verbs: ['get'], scope: 'bridge' },
  { method: 'createSecret', apiGroup: '', resource: 'secrets', verbs: ['create'], scope: 'bridge' },
  { method: 'listPods', apiGroup: '', resource: 'pods', verbs: ['list'], scope: 'cluster' },
  { method: 'getNamespace', apiGroup: '', resource: 'namespaces', verbs: ['get'], scope: 'cluster' },
  {
    method: 'setWebhookCaBundle',
    apiGroup: 'admissionregistration.k8s.io',
    resource: 'mutatingwebhookconfigurations',
    verbs: ['get', 'patch'],
    scope: 'cluster',
  },
  {
    method: 'setWebhookCaBundle',
    apiGroup: 'admissionregistration.k8s.io',
    resource: 'validatingwebhookconfigurations',
    verbs: ['get', 'patch'],
    scope: 'cluster',
  },
];
