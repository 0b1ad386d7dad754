/**
 * The cluster's Services as pod-sync needs them for the kubelet's service env (shared/domain/serviceEnv.ts): the
 * `kubernetes` Service and its Endpoints (read once), and the Services of each namespace (one list per namespace).
 * One directory lives for one batch of nudges (one invocation), so a batch of 16 creates in one namespace costs
 * three reads, and a Service created meanwhile is seen by the next invocation, as a kubelet sees it at the next
 * container start. A failed read is not kept: the pod's create fails retryably and the retry reads again.
 */
import type { Endpoints, Service } from '../domain/k8s.js';
import { MASTER_SERVICE_NAME, MASTER_SERVICE_NAMESPACE, type ServiceView } from '../domain/serviceEnv.js';
import type { Cluster } from '../ports/index.js';
import { isNotFound } from './errors.js';

type Reads = Pick<Cluster, 'listServices' | 'getService' | 'getEndpoints'>;

export class ServiceDirectory {
  private master: Promise<Pick<ServiceView, 'kubernetes' | 'kubernetesEndpoints'>> | undefined;
  private readonly namespaces = new Map<string, Promise<Service[]>>();

  constructor(private readonly cluster: Reads) {}

  /** The view for a pod of `namespace`; its Services are listed only when the pod wants service links. */
  async view(namespace: string, serviceLinks: boolean): Promise<ServiceView> {
    const master = await this.masterView();
    if (!serviceLinks) return { ...master, namespace: [] };
    return { ...master, namespace: await this.namespaceServices(namespace) };
  }

  private masterView(): Promise<Pick<ServiceView, 'kubernetes' | 'kubernetesEndpoints'>> {
    this.master ??= this.forget(
      (async () => {
        const [kubernetes, kubernetesEndpoints] = await Promise.all([
          absent(() => this.cluster.getService(MASTER_SERVICE_NAMESPACE, MASTER_SERVICE_NAME)),
          absent(() => this.cluster.getEndpoints(MASTER_SERVICE_NAMESPACE, MASTER_SERVICE_NAME)),
        ]);
        return { ...(kubernetes ? { kubernetes } : {}), ...(kubernetesEndpoints ? { kubernetesEndpoints } : {}) };
      })(),
      () => {
        this.master = undefined;
      },
    );
    return this.master;
  }

  private namespaceServices(namespace: string): Promise<Service[]> {
    let p = this.namespaces.get(namespace);
    if (!p) {
      p = this.forget(this.cluster.listServices(namespace), () => this.namespaces.delete(namespace));
      this.namespaces.set(namespace, p);
    }
    return p;
  }

  private forget<T>(p: Promise<T>, drop: () => void): Promise<T> {
    return p.catch((err: unknown) => {
      drop();
      throw err;
    });
  }
}

async function absent<T extends Service | Endpoints>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
