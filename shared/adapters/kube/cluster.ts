/**
 * The `Cluster` port over @kubernetes/client-node 1.4.0. Plain JSON in and out (shared/domain/k8s.ts), typed
 * errors (./errors.ts), strategic-merge patches where Kubernetes merges by key (conditions by `type`), Events
 * aggregated like client-go's recorder, and a pod list+watch that survives API-server restarts and 410s (./watch.ts).
 */
import {
  type CoreV1Event,
  type CoreV1Api,
  type CoordinationV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Lease,
  type V1Node,
  type Watch,
} from '@kubernetes/client-node';
import type { EventWrite } from '../../domain/events.js';
import type { ConfigMap, Endpoints, K8sEvent, Lease, Namespace, Node, Pod, PodStatus, Secret, Service } from '../../domain/k8s.js';
import type { Cluster, ClusterStore, PodWatchHandle } from '../../ports/index.js';
import { createKubeClient, type KubeClient, type KubeClientOptions } from './client.js';
import { toKubeError } from './errors.js';
import { type EventInput, EventRecorder, type EventRecorderOptions } from './events.js';
import { forCreate, leaseForWire, nodeStatusPatch, toPlain } from './normalize.js';
import { type ListResult, type ListWatchOptions, startListWatch, type WatchSource } from './watch.js';
import { LIST_PAGE, listAllPages, watchObject, watchStream } from './wire.js';

export interface KubeClusterOptions extends EventRecorderOptions {
  /** Server-side watch timeout: each watch lasts a random time in [t, 2t) seconds. Default 300. */
  watchTimeoutSeconds?: number;
  /** Backoff, sleep, randomness and clock of the watch loop (tests inject them). */
  watch?: ListWatchOptions;
}

const SMP = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * The domain's plain JSON is the wire shape client-node serialises from (string timestamps pass through its
 * serialiser unchanged), but its TypeScript types say `Date`: this is the one cast at the SDK edge.
 */
function asSdk<T>(value: unknown): T {
  return value as T;
}

async function call<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKubeError(err, context);
  }
}

export class KubeCluster implements Cluster, ClusterStore {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly watcher: Watch;
  private readonly recorder: EventRecorder;

  constructor(
    client: KubeClient,
    private readonly opts: KubeClusterOptions = {},
  ) {
    this.core = client.core;
    this.coordination = client.coordination;
    this.watcher = client.watch;
    this.recorder = new EventRecorder(
      {
        create: async (namespace, body, context) =>
          toPlain<K8sEvent>(await call(context, () => this.core.createNamespacedEvent({ namespace, body: asSdk<CoreV1Event>(body) }))),
        patch: async (namespace, name, body, context) =>
          toPlain<K8sEvent>(await call(context, () => this.core.patchNamespacedEvent({ namespace, name, body }, MERGE))),
        get: async (namespace, name, context) => toPlain<K8sEvent>(await call(context, () => this.core.readNamespacedEvent({ namespace, name }))),
      },
      opts,
    );
  }

  // ---------------------------------------------------------------- pods

  async getPod(namespace: string, name: string): Promise<Pod> {
    const pod = await call(`get pod ${namespace}/${name}`, () => this.core.readNamespacedPod({ namespace, name }));
    return toPlain<Pod>(pod);
  }

  async listPods(opts: { nodeName?: string; namespace?: string; labelSelector?: string }): Promise<Pod[]> {
    const fieldSelector = opts.nodeName !== undefined ? `spec.nodeName=${opts.nodeName}` : undefined;
    const { items } = await this.listPodsPaged(fieldSelector, opts.labelSelector, opts.namespace);
    return items;
  }

  private listPodsPaged(fieldSelector: string | undefined, labelSelector?: string, namespace?: string): Promise<ListResult<Pod>> {
    const context = `list pods${namespace ? ` in ${namespace}` : ''}${fieldSelector ? ` (${fieldSelector})` : ''}`;
    return listAllPages<Pod>(async (cont) => {
      const q = { fieldSelector, labelSelector, limit: LIST_PAGE, _continue: cont };
      const page = await call(context, () =>
        namespace ? this.core.listNamespacedPod({ namespace, ...q }) : this.core.listPodForAllNamespaces(q),
      );
      return { items: page.items, resourceVersion: page.metadata?.resourceVersion, continue: page.metadata?._continue };
    });
  }

  watchPods(
    opts: { nodeName: string; slim?: boolean },
    onEvent: (ev: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Pod }) => void,
    onError?: (err: Error) => void,
  ): PodWatchHandle {
    const fieldSelector = `spec.nodeName=${opts.nodeName}`;
    const source: WatchSource<Pod> = {
      list: () => this.listPodsPaged(fieldSelector),
      watch: (resourceVersion, onRaw, signal) => this.stream('/api/v1/pods', fieldSelector, resourceVersion, onRaw, signal),
    };
    return startListWatch(source, `watch pods (${fieldSelector})`, onEvent, onError, {
      ...this.opts.watch,
      slimView: opts.slim ?? false,
    });
  }

  watchNode(
    name: string,
    onEvent: (ev: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Node }) => void,
    onError?: (err: Error) => void,
  ): PodWatchHandle {
    const fieldSelector = `metadata.name=${name}`;
    const source: WatchSource<Node> = {
      list: async () => {
        const page = await call(`list nodes (${fieldSelector})`, () => this.core.listNode({ fieldSelector }));
        return { items: page.items.map((n) => toPlain<Node>(n)), resourceVersion: page.metadata?.resourceVersion ?? '' };
      },
      watch: (resourceVersion, onRaw, signal) => this.stream('/api/v1/nodes', fieldSelector, resourceVersion, onRaw, signal),
    };
    return startListWatch(source, `watch node ${name}`, onEvent, onError, { ...this.opts.watch, slimView: true });
  }

  /** One watch stream of `path` from `resourceVersion` (bookmarks, a random server timeout, a client-side guard). */
  private stream(
    path: string,
    fieldSelector: string,
    resourceVersion: string,
    onRaw: (type: string, object: unknown) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const watcher = this.watcher;
    return watchStream({
      what: `watch ${path} (${fieldSelector})`,
      baseTimeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
      random: this.opts.watch?.random ?? Math.random,
      signal,
      open: (timeoutSeconds, finish) =>
        watcher.watch(
          path,
          { fieldSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          (type: string, obj: unknown) => onRaw(type, watchObject(type, obj)),
          (err: unknown) => finish(err ?? undefined),
        ),
    });
  }

  async patchPodStatus(namespace: string, name: string, status: PodStatus, annotations?: Record<string, string | null>, resourceVersion?: string): Promise<Pod> {
    const metadata = { ...(annotations ? { annotations } : {}), ...(resourceVersion ? { resourceVersion } : {}) };
    const body = annotations || resourceVersion ? { metadata, status } : { status };
    const pod = await call(`patch pod status ${namespace}/${name}`, () =>
      this.core.patchNamespacedPodStatus({ namespace, name, body }, SMP),
    );
    return toPlain<Pod>(pod);
  }

  async patchPodMetadata(
    namespace: string,
    name: string,
    patch: { annotations?: Record<string, string | null>; labels?: Record<string, string | null>; resourceVersion?: string },
  ): Promise<Pod> {
    const pod = await call(`patch pod metadata ${namespace}/${name}`, () =>
      this.core.patchNamespacedPod({ namespace, name, body: { metadata: patch } }, SMP),
    );
    return toPlain<Pod>(pod);
  }

  async deletePod(namespace: string, name: string, opts: { uid: string; gracePeriodSeconds: number }): Promise<void> {
    await call(`delete pod ${namespace}/${name} (uid ${opts.uid})`, () =>
      this.core.deleteNamespacedPod({
        namespace,
        name,
        gracePeriodSeconds: opts.gracePeriodSeconds,
        body: { gracePeriodSeconds: opts.gracePeriodSeconds, preconditions: { uid: opts.uid } },
      }),
    );
  }

  // ---------------------------------------------------------------- events

  /** Records an Event, aggregating repeats (./events.ts). */
  recordEvent(ev: EventInput): Promise<EventWrite> {
    return this.recorder.record(ev);
  }

  /** Writes a named Event (created once, then only its count and lastTimestamp move; ./events.ts). */
  mirrorEvent(ev: K8sEvent): Promise<EventWrite> {
    return this.recorder.mirror(ev);
  }

  // ---------------------------------------------------------------- config, secrets, tokens

  async getConfigMap(namespace: string, name: string): Promise<ConfigMap> {
    const cm = await call(`get configmap ${namespace}/${name}`, () => this.core.readNamespacedConfigMap({ namespace, name }));
    return toPlain<ConfigMap>(cm);
  }

  async createConfigMap(namespace: string, cm: ConfigMap): Promise<ConfigMap> {
    const out = await call(`create configmap ${namespace}/${cm.metadata.name ?? ''}`, () =>
      this.core.createNamespacedConfigMap({ namespace, body: asSdk<V1ConfigMap>(cm) }),
    );
    return toPlain<ConfigMap>(out);
  }

  async replaceConfigMap(namespace: string, cm: ConfigMap): Promise<ConfigMap> {
    const name = cm.metadata.name ?? '';
    const out = await call(`replace configmap ${namespace}/${name}`, () =>
      this.core.replaceNamespacedConfigMap({ namespace, name, body: asSdk<V1ConfigMap>(cm) }),
    );
    return toPlain<ConfigMap>(out);
  }

  async listNamespaces(): Promise<Namespace[]> {
    const list = await call('list namespaces', () => this.core.listNamespace());
    return list.items.map((n) => toPlain<Namespace>(n));
  }

  async getSecret(namespace: string, name: string): Promise<Secret> {
    // Errors name the Secret only; its data never reaches a message.
    const s = await call(`get secret ${namespace}/${name}`, () => this.core.readNamespacedSecret({ namespace, name }));
    return toPlain<Secret>(s);
  }

  async requestPodToken(
    namespace: string,
    serviceAccount: string,
    opts: { podName?: string; podUid?: string; audiences?: string[]; expirationSeconds?: number },
  ): Promise<{ token: string; expirationTimestamp: string }> {
    const tr = await call(`request token for ${namespace}/${serviceAccount}${opts.podName ? ` bound to pod ${opts.podName}` : ''}`, () =>
      this.core.createNamespacedServiceAccountToken({
        namespace,
        name: serviceAccount,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: opts.audiences ?? [],
            expirationSeconds: opts.expirationSeconds,
            ...(opts.podName && opts.podUid ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: opts.podName, uid: opts.podUid } } : {}),
          },
        },
      }),
    );
    const status = toPlain<{ token?: string; expirationTimestamp?: string }>(tr.status ?? {});
    if (!status.token || !status.expirationTimestamp) {
      throw toKubeError(new Error('the TokenRequest response has no token'), `request token for ${namespace}/${serviceAccount}`);
    }
    return { token: status.token, expirationTimestamp: status.expirationTimestamp };
  }

  // ---------------------------------------------------------------- nodes

  // ---------------------------------------------------------------- services (the kubelet's service env)

  async listServices(namespace: string): Promise<Service[]> {
    const list = await call(`list services in ${namespace}`, () => this.core.listNamespacedService({ namespace }));
    return list.items.map((s) => toPlain<Service>(s));
  }

  async getService(namespace: string, name: string): Promise<Service> {
    return toPlain<Service>(await call(`get service ${namespace}/${name}`, () => this.core.readNamespacedService({ namespace, name })));
  }

  async getEndpoints(namespace: string, name: string): Promise<Endpoints> {
    return toPlain<Endpoints>(await call(`get endpoints ${namespace}/${name}`, () => this.core.readNamespacedEndpoints({ namespace, name })));
  }

  async getNode(name: string): Promise<Node> {
    return toPlain<Node>(await call(`get node ${name}`, () => this.core.readNode({ name })));
  }

  async createNode(node: Node): Promise<Node> {
    const created = await call(`create node ${node.metadata.name ?? ''}`, () =>
      this.core.createNode({ body: asSdk<V1Node>(forCreate(node)) }),
    );
    return toPlain<Node>(created);
  }

  async patchNodeStatus(name: string, status: NonNullable<Node['status']>): Promise<Node> {
    const body = nodeStatusPatch(status);
    const n = await call(`patch node status ${name}`, () => this.core.patchNodeStatus({ name, body }, SMP));
    return toPlain<Node>(n);
  }

  async patchNode(name: string, patch: { metadata?: Node['metadata']; spec?: Node['spec'] }): Promise<Node> {
    const n = await call(`patch node ${name}`, () => this.core.patchNode({ name, body: patch }, SMP));
    return toPlain<Node>(n);
  }

  // ---------------------------------------------------------------- leases

  async getLease(namespace: string, name: string): Promise<Lease> {
    const l = await call(`get lease ${namespace}/${name}`, () => this.coordination.readNamespacedLease({ namespace, name }));
    return toPlain<Lease>(l);
  }

  async createLease(namespace: string, lease: Lease): Promise<Lease> {
    const l = await call(`create lease ${namespace}/${lease.metadata.name ?? ''}`, () =>
      this.coordination.createNamespacedLease({ namespace, body: asSdk<V1Lease>(forCreate(leaseForWire(lease))) }),
    );
    return toPlain<Lease>(l);
  }

  async replaceLease(namespace: string, lease: Lease): Promise<Lease> {
    const name = lease.metadata.name ?? '';
    const l = await call(`replace lease ${namespace}/${name}`, () =>
      this.coordination.replaceNamespacedLease({ namespace, name, body: asSdk<V1Lease>(leaseForWire(lease)) }),
    );
    return toPlain<Lease>(l);
  }
}

/** The composition root's entry: a Cluster from a kubeconfig, the in-cluster account, or server + token + CA. */
export function createKubeCluster(client: KubeClientOptions, opts: KubeClusterOptions = {}): KubeCluster {
  return new KubeCluster(createKubeClient(client), opts);
}
