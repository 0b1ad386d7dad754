/**
 * Builds the client-node handles the adapter uses, from a kubeconfig file, the in-cluster service account, or an
 * explicit server URL + bearer token + CA (what the FC functions use: the token comes from their config).
 */
import { existsSync } from 'node:fs';
import { CoordinationV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { KubeError } from './errors.js';

export type KubeClientOptions =
  | { kubeconfigPath: string; context?: string }
  | { inCluster: true }
  | { server: string; token: string; caPem: string };

export interface KubeClient {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly watch: Watch;
  /** The API server URL (no credentials). */
  readonly server: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function createKubeClient(opts: KubeClientOptions): KubeClient {
  const kc = new KubeConfig();
  try {
    if ('kubeconfigPath' in opts) {
      kc.loadFromFile(opts.kubeconfigPath);
      if (opts.context) kc.setCurrentContext(opts.context);
    } else if ('inCluster' in opts) {
      if (!process.env.KUBERNETES_SERVICE_HOST || !existsSync(`${SA_DIR}/token`)) {
        throw new Error(`not running in a cluster (KUBERNETES_SERVICE_HOST unset or no ${SA_DIR}/token)`);
      }
      kc.loadFromCluster();
    } else {
      if (!/^https?:\/\//.test(opts.server)) throw new Error('server must be an http(s) URL');
      kc.loadFromClusterAndUser(
        { name: 'bridge', server: opts.server.replace(/\/+$/, ''), caData: Buffer.from(opts.caPem).toString('base64'), skipTLSVerify: false },
        { name: 'bridge', token: opts.token },
      );
    }
  } catch (err) {
    // The message names the source, never the token.
    const source = 'kubeconfigPath' in opts ? opts.kubeconfigPath : 'inCluster' in opts ? 'in-cluster config' : opts.server;
    throw new KubeError(`cannot build a Kubernetes client from ${source}: ${(err as Error).message}`, {}, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError('the kubeconfig has no current cluster');
  return {
    config: kc,
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    watch: new Watch(kc),
    server: cluster.server,
  };
}
