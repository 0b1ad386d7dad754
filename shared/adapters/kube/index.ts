/** The Kubernetes adapter: the `Cluster` port over @kubernetes/client-node 1.4.0. */
export { createKubeClient, type KubeClient, type KubeClientOptions } from './client.js';
export { createKubeCluster, KubeCluster, type KubeClusterOptions } from './cluster.js';
export * from './errors.js';
export { formatMicroTime, formatTime, toPlain } from './normalize.js';
export { backoffDelay, diffRelist, type ListWatchOptions } from './watch.js';
export { createKubeAdmissionSupport, KubeAdmissionSupport } from './admission.js';
export { createKubeKubeletSupport, KubeKubeletSupport, LOG_ARCHIVE_LABEL, logArchiveName } from './kubelet.js';
