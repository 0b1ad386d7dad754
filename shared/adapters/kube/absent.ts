/**
 * What the FC function bundles get instead of ./index.ts (scripts/build.ts substitutes this file): the functions
 * reach Kubernetes only through the lite client (./lite.ts, KUBE_API_SERVER + KUBE_TOKEN + CA), so
 * @kubernetes/client-node — about 1 MB of bundle and most of its load time — is not in them. Asking such a bundle
 * for the kubeconfig or in-cluster client is a configuration error, said plainly.
 */
import type { KubeCluster, KubeClusterOptions } from './cluster.js';
import type { KubeClientOptions } from './client.js';
import { KubeError } from './errors.js';

export type { KubeClientOptions };

export function createKubeCluster(client: KubeClientOptions, _opts?: KubeClusterOptions): KubeCluster {
  const source = 'kubeconfigPath' in client ? `the kubeconfig ${client.kubeconfigPath}` : 'the in-cluster service account';
  throw new KubeError(
    `cannot use ${source}: this function bundle reaches Kubernetes only with KUBE_API_SERVER, KUBE_TOKEN and KUBE_CA set ` +
      '(the kubeconfig / in-cluster client, @kubernetes/client-node, is not bundled)',
  );
}
