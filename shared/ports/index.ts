/**
 * The interfaces the use-cases, the watcher and the CLI need. Declared here, by the consumer; adapters in
 * `shared/adapters/` implement them. Each method documents its contract; errors are the typed families of
 * `shared/adapters/*` errors (for ECI: `EciError` with a `kind`; for Kubernetes: `KubeError` subclasses).
 */
import type { EciContainerGroup, EciCreateRequest, EciEvent, EciGroupStatusItem, EciKeyValue } from '../domain/eci.js';
import type { EventWrite } from '../domain/events.js';
import type { ConfigMap, Endpoints, K8sEvent, Lease, Namespace, Node, Pod, PodStatus, Secret, Service } from '../domain/k8s.js';

/** pino-compatible structured logger. */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface Clock {
  /** epoch milliseconds */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------- ECI

export interface EciLogOptions {
  tail?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  /** RFC 3339: only lines at or after this time */
  startTime?: string;
  /** the previous (restarted) container's log: ECI's LastTime */
  previous?: boolean;
  timestamps?: boolean;
}

/** One group's latest metric record (DescribeMultiContainerGroupMetric, MetricType=summary). */
export interface EciGroupMetric {
  containerGroupId: string;
  /** RFC 3339, the sample's time */
  timestamp: string;
  cpu: { usageCoreNanoSeconds?: number; usageNanoCores?: number };
  memory: { workingSetBytes?: number; usageBytes?: number; rssBytes?: number; availableBytes?: number };
  containers: { name: string; cpu: EciGroupMetric['cpu']; memory: EciGroupMetric['memory'] }[];
}

export interface ContainerGroups {
  /** CreateContainerGroup. `req.ClientToken` must be the pod UID: calling again returns the same group id. */
  create(req: EciCreateRequest): Promise<{ containerGroupId: string }>;
  /** DeleteContainerGroup. Idempotent: a group that is already gone resolves. */
  delete(containerGroupId: string): Promise<void>;
  /** DescribeContainerGroups by ids, batched <= 20 per call. Unknown ids are simply absent from the result. */
  describe(ids: readonly string[]): Promise<EciContainerGroup[]>;
  /** DescribeContainerGroups filtered by tags (and status), all pages (Limit 20, NextToken). */
  list(filter: { tags: readonly EciKeyValue[]; status?: string }): Promise<EciContainerGroup[]>;
  /**
   * DescribeContainerGroupStatus filtered by tags and `SinceSecond`: the groups whose status changed in the last
   * `sinceSeconds`, all pages (<= 200 per call; quota 10,000/min). Optional: without it steady ticks do nothing.
   */
  changedSince?(filter: { tags: readonly EciKeyValue[]; sinceSeconds: number }): Promise<EciGroupStatusItem[]>;
  /** DescribeContainerGroupEvents for up to 20 groups at a time; keyed by group id. */
  events(ids: readonly string[], sinceSecond?: number): Promise<Map<string, EciEvent[]>>;
  /** DescribeContainerLog (Tail default 500, at most 2000; content at most 1 MiB; no follow). */
  logs(containerGroupId: string, container: string, opts?: EciLogOptions): Promise<string>;
  /** DescribeMultiContainerGroupMetric (summary: the latest record), <= 20 groups per call; groups without data absent. */
  metrics?(ids: readonly string[]): Promise<EciGroupMetric[]>;
  /** ExecContainerCommand (sync mode returns output; otherwise a WebSocket URI). */
  exec(
    containerGroupId: string,
    container: string,
    command: readonly string[],
    opts?: { tty?: boolean; stdin?: boolean; sync?: boolean },
  ): Promise<{ webSocketUri?: string; syncResponse?: string }>;
  /** DescribeContainerGroupPrice: the trade price per hour, in the currency given. */
  price(spec: {
    cpu?: number;
    memory?: number;
    instanceType?: string;
    zoneId?: string;
    spotStrategy?: string;
  }): Promise<{ tradePrice: number; originalPrice: number; currency: string }>;
}

/** One command running in a container over ECI's exec WebSocket (shared/adapters/eci/exec.ts). */
export interface EciExecSession {
  stdin(data: Buffer): void;
  /** stdin reached its end */
  closeStdin(): void;
  resize(width: number, height: number): void;
  close(): void;
}

/** What an exec session delivers, given when it is opened (nothing arrives before the handlers exist). */
export interface EciExecHandlers {
  output(channel: 1 | 2, data: Buffer): void;
  /** the final status (metav1.Status: Success, or Failure with reason NonZeroExitCode and an ExitCode cause) */
  status(status: Record<string, unknown>): void;
  /** the session ended; `reason` when not normally */
  closed(reason?: string): void;
}

// ---------------------------------------------------------------- Queue

export interface OutgoingMessage {
  /** The message body exactly as it goes on the queue (the bridge sends base64(JSON)). */
  body: string;
  delaySeconds?: number;
  priority?: number;
}

export interface ReceivedMessage {
  messageId: string;
  body: string;
  receiptHandle: string;
  dequeueCount: number;
  enqueueTime: number;
  firstDequeueTime: number;
}

export interface QueueSender {
  /** Sends all messages (batched <= 16 per call by the adapter). Rejects with a QueueError when the queue is down. */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
}

export interface QueueReceiver {
  /** Receives up to `max` (<= 16) messages, long-polling up to `waitSeconds`; an empty queue gives []. */
  receive(max: number, waitSeconds: number): Promise<ReceivedMessage[]>;
  /** Deletes a received message. A stale receipt handle rejects with QueueError (code ReceiptHandleError). */
  delete(receiptHandle: string): Promise<void>;
  /** Makes a received message visible again after `seconds`; returns the new receipt handle. */
  changeVisibility(receiptHandle: string, seconds: number): Promise<string>;
}

export interface PodQueue extends QueueSender, QueueReceiver {}

// ---------------------------------------------------------------- Kubernetes

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  /** The consumer's view was rebuilt after a relist (410 Gone or first list): `objects` is the full set. */
  | { type: 'RESYNC'; objects: T[] };

export interface PodWatchHandle {
  /** Resolves once the first list has been delivered. */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export interface Cluster {
  getPod(namespace: string, name: string): Promise<Pod>;
  listPods(opts: { nodeName?: string; namespace?: string; labelSelector?: string }): Promise<Pod[]>;
  /**
   * List+watch pods with `spec.nodeName=<node>`, forever: resourceVersion tracking, bookmarks, relist on 410,
   * reconnect with backoff and jitter. ADDED/MODIFIED/DELETED are delivered in order; a relist delivers the
   * differences as events (so the consumer's view matches the server without duplicates or losses).
   * `slim`: the adapter remembers only each pod's identity (name, namespace, uid, resourceVersion) instead of
   * the whole object (memory with thousands of pods); a DELETED found by a relist then carries only that identity.
   */
  watchPods(
    opts: { nodeName: string; slim?: boolean },
    onEvent: (ev: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Pod }) => void,
    onError?: (err: Error) => void,
  ): PodWatchHandle;
  /**
   * Strategic-merge patch of pods/status (conditions and container statuses merge by key). `annotations` ride on
   * the same write: the pods/status subresource resets only spec, deletionTimestamp and ownerReferences from what
   * it is sent (kube-apiserver's podStatusStrategy; test/integration/kube/cluster.test.ts checks it), so an
   * annotation written with the status costs no metadata patch of its own. `null` removes a key. With
   * `resourceVersion` the patch is a conditional write: refused with a Conflict when the pod changed since.
   */
  patchPodStatus(namespace: string, name: string, status: PodStatus, annotations?: Record<string, string | null>, resourceVersion?: string): Promise<Pod>;
  /**
   * Strategic-merge patch of metadata (annotations, labels); `null` removes a key. With `resourceVersion` the patch
   * is a conditional write: refused with a Conflict when the pod changed since that version.
   */
  patchPodMetadata(
    namespace: string,
    name: string,
    patch: { annotations?: Record<string, string | null>; labels?: Record<string, string | null>; resourceVersion?: string },
  ): Promise<Pod>;
  /** Delete with a grace period and a UID precondition. Conflict if the UID differs; NotFound if gone. */
  deletePod(namespace: string, name: string, opts: { uid: string; gracePeriodSeconds: number }): Promise<void>;
  /**
   * Record an Event; a repeat of the same (object, reason, message) within the aggregation window bumps `count`.
   * Resolves with what was written (`dropped`: the per-object spam filter held it back; the caller logs at debug).
   */
  recordEvent(ev: Omit<K8sEvent, 'metadata' | 'count' | 'firstTimestamp' | 'lastTimestamp'>): Promise<EventWrite>;
  /**
   * Write an Event under the name the caller gives (deterministic: an ECI event mirrored on its pod): created
   * once; when it exists, its count, lastTimestamp and message move to the given ones if those are newer (never
   * backwards), so concurrent writers of the same event leave one Event with the latest count. Resolves with what
   * was written: `existed` tells the caller another writer got there first.
   */
  mirrorEvent(ev: K8sEvent): Promise<EventWrite>;
  getConfigMap(namespace: string, name: string): Promise<ConfigMap>;
  getSecret(namespace: string, name: string): Promise<Secret>;
  /** TokenRequest bound to the pod (unbound without podName/podUid: the kube-proxy sidecar's token). */
  requestPodToken(
    namespace: string,
    serviceAccount: string,
    opts: { podName?: string; podUid?: string; audiences?: string[]; expirationSeconds?: number },
  ): Promise<{ token: string; expirationTimestamp: string }>;
  /** The Services of a namespace (pod-sync: the kubelet's service env, one list per namespace and batch). */
  listServices(namespace: string): Promise<Service[]>;
  getService(namespace: string, name: string): Promise<Service>;
  getEndpoints(namespace: string, name: string): Promise<Endpoints>;
  getNode(name: string): Promise<Node>;
  /**
   * List+watch one node by name, forever (same loop as watchPods). Optional: the watcher then notices a deleted
   * node at once; without it, at its next status patch.
   */
  watchNode?(
    name: string,
    onEvent: (ev: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Node }) => void,
    onError?: (err: Error) => void,
  ): PodWatchHandle;
  createNode(node: Node): Promise<Node>;
  /** Strategic-merge patch of nodes/status; `addresses`, when given, replace the node's (other types are removed). */
  patchNodeStatus(name: string, status: NonNullable<Node['status']>): Promise<Node>;
  patchNode(name: string, patch: { metadata?: Node['metadata']; spec?: Node['spec'] }): Promise<Node>;
  getLease(namespace: string, name: string): Promise<Lease>;
  createLease(namespace: string, lease: Lease): Promise<Lease>;
  /** Replace with the lease's resourceVersion: Conflict when someone else renewed in between. */
  replaceLease(namespace: string, lease: Lease): Promise<Lease>;
}

// ---------------------------------------------------------------- Function Compute

export interface InvokeResult {
  /** HTTP-like status: 200 for a synchronous result, 202 for an accepted asynchronous invocation. */
  status: number;
  /** The function's response body (synchronous invocations only). */
  body?: Buffer;
  /** Set when the function itself failed (FC's `x-fc-error-type`, e.g. UnhandledInvocationError). */
  functionError?: string;
  requestId?: string;
}

export interface FunctionInvoker {
  /**
   * Invokes a function by its short name (`pod-sync`, `status-sync`, `gc`) with `payload` as the event.
   * `async: true` queues the invocation (FC retries it per its async config) and resolves with status 202.
   * A function error is reported in `functionError`, not thrown; transport and API errors reject with an
   * `InvokeError`.
   */
  invoke(name: string, payload: Buffer | string, opts?: { async?: boolean }): Promise<InvokeResult>;
}

/**
 * Cluster operations the billing function needs beyond `Cluster` (kept apart so every fake of `Cluster` need not
 * implement them; the Kubernetes adapter implements both).
 */
export interface ClusterStore {
  /** Create a ConfigMap; AlreadyExists (a Conflict) when it exists. */
  createConfigMap(namespace: string, cm: ConfigMap): Promise<ConfigMap>;
  /** Replace a ConfigMap with its resourceVersion: Conflict when someone else wrote it in between. */
  replaceConfigMap(namespace: string, cm: ConfigMap): Promise<ConfigMap>;
  /** All namespaces (budgets are namespace annotations). */
  listNamespaces(): Promise<Namespace[]>;
}

/** What the eci-profile webhooks need beyond `Cluster` (served by the watcher). */
export interface AdmissionSupport {
  getNamespace(name: string): Promise<Namespace>;
  /** Create a Secret; AlreadyExistsError when it already exists (so replicas agree on one). */
  createSecret(namespace: string, secret: Secret): Promise<Secret>;
  /**
   * Sets `clientConfig.caBundle` on every webhook of the Mutating- and ValidatingWebhookConfiguration named
   * `name` (only where it differs). Missing configurations are skipped. Returns how many webhooks changed.
   */
  setWebhookCaBundle(name: string, caPem: string): Promise<number>;
}

// ---------------------------------------------------------------- Billing (BSS OpenAPI)

/** The account's actual bill (BSS OpenAPI 2017-12-14; docs/billing-reconciliation.md). */
export interface BillReader {
  /**
   * DescribeInstanceBill with Granularity DAILY for one product code and billing day (`YYYY-MM-DD`, in the bill's
   * own time zone), all pages (MaxResults 300, NextToken): the items in wire names (`InstanceID`, `Tag`,
   * `PretaxAmount`, ...). Rejects with a `BssError`.
   */
  instanceBill(q: { billingDate: string; productCode: string }): Promise<Record<string, unknown>[]>;
}

/** An authenticated caller of the kubelet API (TokenReview's or a client certificate's user). */
export interface KubeletUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** One log archive: the tail of each container's log of a finished pod, kept after ECI forgets the group. */
export interface LogArchiveRecord {
  podUid: string;
  namespace: string;
  pod: string;
  /** epoch ms */
  archivedAt: number;
  /** container name → gzip of its log lines, each with its RFC 3339 timestamp prefix */
  containers: Record<string, Buffer>;
}

/**
 * What the watcher's kubelet API needs from the cluster beyond `Cluster` (the watcher's identity; see
 * watcher/permissions.ts): authenticate tokens, authorize callers, request a serving certificate, keep log archives.
 */
export interface KubeletSupport {
  /** TokenReview: the user behind a bearer token, or undefined when the token is not valid. */
  reviewToken(token: string): Promise<KubeletUser | undefined>;
  /** SubjectAccessReview on `nodes/<subresource>` of the node `name`. */
  reviewAccess(user: KubeletUser, attrs: { verb: string; subresource: string; name: string }): Promise<{ allowed: boolean; reason: string }>;
  /** Creates a CertificateSigningRequest (AlreadyExists is a ConflictError). */
  createCsr(csr: { name: string; requestPem: string; signerName: string; usages: string[] }): Promise<void>;
  /** The CSR's issued certificate (PEM), undefined while not issued; `denied` when denied or failed. */
  getCsrCertificate(name: string): Promise<{ certificatePem?: string; denied?: string }>;
  /** Log archives of `node`, in the bridge namespace. */
  listLogArchives(namespace: string, node: string): Promise<LogArchiveRecord[]>;
  /** One pod's archive, undefined when there is none. */
  getLogArchive(namespace: string, node: string, podUid: string): Promise<LogArchiveRecord | undefined>;
  putLogArchive(namespace: string, node: string, archive: LogArchiveRecord): Promise<void>;
  /** Idempotent: an archive already gone resolves. */
  deleteLogArchive(namespace: string, node: string, podUid: string): Promise<void>;
}
