/**
 * What one batch of nudges (one invocation) reads once and shares: the Services for the kubelet's service env
 * (ServiceDirectory) and the ConfigMaps and Secrets the batch's pods reference. A burst of one Deployment's pods
 * references the same objects (the token volume's `kube-root-ca.crt`, an image pull Secret), so a batch of 10
 * creates reads each once instead of ten times. An object changed during the batch is seen by the next invocation,
 * as a kubelet's watch-based object cache sees it a moment later. A failed read is not kept (the pod's create fails
 * retryably and the retry reads again); an absent object is (translation turns a required one into a transient
 * violation for each pod that needs it).
 */
import type { ConfigMap, Secret } from '../domain/k8s.js';
import type { Cluster } from '../ports/index.js';
import { unlessNotFound } from './errors.js';
import { type MasterView, readOnce, ServiceDirectory } from './services.js';

type Reads = Pick<Cluster, 'getConfigMap' | 'getSecret' | 'listServices' | 'getService' | 'getEndpoints'>;

export class BatchReads {
  readonly services: ServiceDirectory;
  private readonly configMaps = new Map<string, Promise<ConfigMap | undefined>>();
  private readonly secrets = new Map<string, Promise<Secret | undefined>>();

  /** `master`: the process's MasterView, shared by its batches. */
  constructor(
    private readonly cluster: Reads,
    master: MasterView,
  ) {
    this.services = new ServiceDirectory(cluster, master);
  }

  /** The ConfigMap, or undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return readOnce(this.configMaps, `${namespace}/${name}`, () => unlessNotFound(() => this.cluster.getConfigMap(namespace, name)));
  }

  /** The Secret, or undefined when it does not exist. Kept in memory for this batch only. */
  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return readOnce(this.secrets, `${namespace}/${name}`, () => unlessNotFound(() => this.cluster.getSecret(namespace, name)));
  }
}
