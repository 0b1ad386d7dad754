/**
 * The cluster's Services as pod-sync needs them for the kubelet's service env (shared/domain/serviceEnv.ts): the
 * `kubernetes` Service and its Endpoints (read once), and the Services of each namespace (one list per namespace).
 * One directory lives for one batch of nudges (one invocation), so a batch of 16 creates in one namespace costs
 * one list, and a Service created meanwhile is seen by the next invocation, as a kubelet sees it at the next
 * container start. The `kubernetes` Service and Endpoints (the API server's address, which changes only when the
 * control plane moves) are kept for MASTER_VIEW_SECONDS by the process (`MasterView`), so most batches read only
 * the namespace list. A failed read is not kept: the pod's create fails retryably and the retry reads again.
 */
import type { Service } from '../domain/k8s.js';
import { MASTER_SERVICE_NAME, MASTER_SERVICE_NAMESPACE, type ServiceView } from '../domain/serviceEnv.js';
import type { Clock, Cluster } from '../ports/index.js';
import { unlessNotFound } from './errors.js';

type Reads = Pick<Cluster, 'listServices' | 'getService' | 'getEndpoints'>;
type MasterServiceView = Pick<ServiceView, 'kubernetes' | 'kubernetesEndpoints'>;

/** How long a process keeps the `kubernetes` Service and Endpoints it read (MasterView). */
export const MASTER_VIEW_SECONDS = 60;

/**
 * The `kubernetes` Service and its Endpoints as one process last read them, for MASTER_VIEW_SECONDS: a pod created
 * within a minute of an API server address change may get the old address in its env (its kube-proxy and the
 * ClusterIP still route; only the fallback to the endpoint, with ClusterIPs unreachable, would be stale).
 */
export class MasterView {
  private held: { at: number; view: Promise<MasterServiceView> } | undefined;
  constructor(
    private readonly cluster: Pick<Cluster, 'getService' | 'getEndpoints'>,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  get(): Promise<MasterServiceView> {
    const now = this.clock.now();
    if (this.held && now - this.held.at < MASTER_VIEW_SECONDS * 1000) return this.held.view;
    const view = (async () => {
      const [kubernetes, kubernetesEndpoints] = await Promise.all([
        unlessNotFound(() => this.cluster.getService(MASTER_SERVICE_NAMESPACE, MASTER_SERVICE_NAME)),
        unlessNotFound(() => this.cluster.getEndpoints(MASTER_SERVICE_NAMESPACE, MASTER_SERVICE_NAME)),
      ]);
      return { ...(kubernetes ? { kubernetes } : {}), ...(kubernetesEndpoints ? { kubernetesEndpoints } : {}) };
    })();
    const held = { at: now, view };
    this.held = held;
    view.catch(() => {
      if (this.held === held) this.held = undefined;
    });
    return view;
  }
}

export class ServiceDirectory {
  private readonly namespaces = new Map<string, Promise<Service[]>>();

  /** `master`: the process's MasterView (the `kubernetes` Service and Endpoints, kept for a minute). */
  constructor(
    private readonly cluster: Reads,
    private readonly master: MasterView,
  ) {}

  /** The view for a pod of `namespace`; its Services are listed only when the pod wants service links. */
  async view(namespace: string, serviceLinks: boolean): Promise<ServiceView> {
    const master = await this.master.get();
    if (!serviceLinks) return { ...master, namespace: [] };
    return { ...master, namespace: await this.namespaceServices(namespace) };
  }

  private namespaceServices(namespace: string): Promise<Service[]> {
    return readOnce(this.namespaces, namespace, () => this.cluster.listServices(namespace));
  }
}

/** The read cached under `key`, made once; a failed read is not kept, so the next caller reads again. */
export function readOnce<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = read().catch((err: unknown) => {
      cache.delete(key);
      throw err;
    });
    cache.set(key, p);
  }
  return p;
}
