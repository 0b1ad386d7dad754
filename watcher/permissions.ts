/**
 * The Kubernetes permissions the watcher needs: every Cluster port method it calls, mapped to the RBAC rule it
 * needs. deploy/rbac.yaml grants exactly these (a unit test compares both, and checks that the watcher's
 * sources call no other Cluster method).
 */
export interface Permission {
  /** the Cluster port method */
  method: string;
  apiGroup: '' | 'coordination.k8s.io' | 'admissionregistration.k8s.io' | 'authentication.k8s.io' | 'authorization.k8s.io' | 'certificates.k8s.io';
  resource: string;
  verbs: readonly string[];
  /** cluster-wide (ClusterRole) or in a namespace (Role) */
  scope: 'cluster' | 'kube-node-lease' | 'bridge' | 'log-archive';
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
  // the kubelet API (watcher/kubelet/, when KUBELET_ENABLED): the pod behind a log request, the kubelet's webhook
  // authentication and authorization, its serving certificate's CSR (never approved by the watcher itself)
  { method: 'getPod', apiGroup: '', resource: 'pods', verbs: ['get'], scope: 'cluster' },
  { method: 'reviewToken', apiGroup: 'authentication.k8s.io', resource: 'tokenreviews', verbs: ['create'], scope: 'cluster' },
  { method: 'reviewAccess', apiGroup: 'authorization.k8s.io', resource: 'subjectaccessreviews', verbs: ['create'], scope: 'cluster' },
  { method: 'createCsr', apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests', verbs: ['create'], scope: 'cluster' },
  { method: 'getCsrCertificate', apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests', verbs: ['get'], scope: 'cluster' },
  // log archives of finished pods, in their own namespace (KUBELET_LOG_ARCHIVE_NAMESPACE)
  { method: 'listLogArchives', apiGroup: '', resource: 'configmaps', verbs: ['list'], scope: 'log-archive' },
  { method: 'getLogArchive', apiGroup: '', resource: 'configmaps', verbs: ['list'], scope: 'log-archive' },
  { method: 'putLogArchive', apiGroup: '', resource: 'configmaps', verbs: ['create', 'update'], scope: 'log-archive' },
  { method: 'deleteLogArchive', apiGroup: '', resource: 'configmaps', verbs: ['delete'], scope: 'log-archive' },
];
