/**
 * In-memory fakes of the ports the use-cases need, with call counters, plus a small fake translation domain.
 * Errors mimic the adapters' shapes: ECI errors carry `kind` (+ `code`), Kubernetes errors are named
 * NotFoundError / ConflictError with an HTTP `status`.
 *
 * Over 400 lines: in-process fakes of every port for the use-case unit tests, kept together so they agree.
 */
import type { EciContainerGroup, EciCreateRequest, EciEvent, EciGroupStatusItem, EciKeyValue } from '../../../shared/domain/eci.js';
import { groupToPodStatus, podStatusDiffers } from '../../../shared/domain/status.js';
import { groupStatusDigest } from '../../../shared/domain/statusDigest.js';
import { PodMemory } from '../../../shared/usecases/podMemory.js';
import { violation } from '../../../shared/domain/errors.js';
import type { EventWrite } from '../../../shared/domain/events.js';
import type { ConfigMap, Endpoints, K8sEvent, Lease, Node, Pod, PodStatus, Secret, Service } from '../../../shared/domain/k8s.js';
import { decodeMessage, type PodNudge } from '../../../shared/domain/messages.js';
import { TAG_CLUSTER, TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID, TAG_VNODE } from '../../../shared/domain/names.js';
import { podReferences } from '../../../shared/domain/references.js';
import type {
  Clock,
  Cluster,
  ContainerGroups,
  Logger,
  OutgoingMessage,
  PodWatchHandle,
  QueueSender,
} from '../../../shared/ports/index.js';
import { applyStatusPatch, DEFAULT_SETTINGS, type SyncDomain, type UseCaseDeps } from '../../../shared/usecases/context.js';
import { PodSync } from '../../../shared/usecases/podSync.js';

export class FakeEciError extends Error {
  constructor(
    readonly kind: 'retryable' | 'capacity' | 'permanent' | 'notFound',
    readonly code: string,
  ) {
    super(`${code} (fake)`);
    this.name = 'EciError';
  }
}

export class FakeKubeError extends Error {
  /** the kind of the one error vocabulary (shared/errors.ts), as the Kubernetes adapters set it */
  readonly kind: 'notFound' | 'conflict' | 'retryable';
  readonly service = 'kubernetes';
  constructor(
    name: 'NotFoundError' | 'ConflictError' | 'ServiceUnavailable',
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = name;
    this.kind = name === 'NotFoundError' ? 'notFound' : name === 'ConflictError' ? 'conflict' : 'retryable';
  }
}

export class FakeClock implements Clock {
  constructor(public t = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** ContainerGroups in memory: ClientToken idempotency, tag filters, injectable failures, counters. */
export class FakeEci {
  groups = new Map<string, EciContainerGroup>();
  tokens = new Map<string, string>();
  calls = { create: 0, delete: 0, describe: 0, list: 0, events: 0, price: 0, changedSince: 0 };
  /** group id → when its status last changed (DescribeContainerGroupStatus SinceSecond) */
  changedAt = new Map<string, number>();
  createRequests: EciCreateRequest[] = [];
  /** errors thrown by the next create calls (in order) */
  createFailures: Error[] = [];
  /** when set, a create succeeds on the server but its response is lost (throws a retryable error) */
  loseCreateResponse = false;
  /** spot requests fail with NoStock */
  noSpotStock = false;
  /** delete leaves the group Terminating (it disappears on the next describe after `terminateDescribes`) */
  graceful = false;
  private seq = 0;
  constructor(private readonly clock: Clock) {}

  async create(req: EciCreateRequest): Promise<{ containerGroupId: string }> {
    this.calls.create++;
    this.createRequests.push(req);
    const fail = this.createFailures.shift();
    if (fail) throw fail;
    if (this.noSpotStock && req.SpotStrategy && req.SpotStrategy !== 'NoSpot') {
      throw new FakeEciError('capacity', 'OperationDenied.NoStock');
    }
    const existing = req.ClientToken ? this.tokens.get(req.ClientToken) : undefined;
    if (existing) return { containerGroupId: existing };
    const id = `eci-${String(++this.seq).padStart(6, '0')}`;
    if (req.ClientToken) this.tokens.set(req.ClientToken, id);
    this.changedAt.set(id, this.clock.now());
    this.groups.set(id, {
      ContainerGroupId: id,
      ContainerGroupName: req.ContainerGroupName,
      Status: 'Pending',
      CreationTime: new Date(this.clock.now()).toISOString(),
      Tags: req.Tag ?? [],
      Events: [],
      ...(req.SpotStrategy ? { SpotStrategy: req.SpotStrategy } : {}),
      Containers: req.Container.map((c) => ({ Name: c.Name, Image: c.Image, Ready: false, RestartCount: 0 })),
    });
    if (this.loseCreateResponse) {
      this.loseCreateResponse = false;
      throw new FakeEciError('retryable', 'ServiceUnavailable');
    }
    return { containerGroupId: id };
  }

  async delete(id: string): Promise<void> {
    this.calls.delete++;
    const g = this.groups.get(id);
    if (!g) return;
    if (this.graceful) g.Status = 'Terminating';
    else this.groups.delete(id);
  }

  async describe(ids: readonly string[]): Promise<EciContainerGroup[]> {
    this.calls.describe += Math.ceil(ids.length / 20);
    return ids.map((id) => this.groups.get(id)).filter((g): g is EciContainerGroup => !!g).map((g) => structuredClone(g));
  }

  async list(filter: { tags: readonly EciKeyValue[]; status?: string }): Promise<EciContainerGroup[]> {
    const all = [...this.groups.values()].filter((g) =>
      filter.tags.every((t) => g.Tags?.some((x) => x.Key === t.Key && x.Value === t.Value)),
    );
    this.calls.list += Math.max(1, Math.ceil(all.length / 20));
    return all.map((g) => structuredClone(g));
  }

  /** DescribeContainerGroupStatus with tags and SinceSecond: one call per 200 groups. */
  async changedSince(filter: { tags: readonly EciKeyValue[]; sinceSeconds: number }): Promise<EciGroupStatusItem[]> {
    const from = this.clock.now() - filter.sinceSeconds * 1000;
    const all = [...this.groups.values()].filter(
      (g) =>
        (this.changedAt.get(g.ContainerGroupId) ?? 0) >= from &&
        filter.tags.every((t) => g.Tags?.some((x) => x.Key === t.Key && x.Value === t.Value)),
    );
    this.calls.changedSince += Math.max(1, Math.ceil(all.length / 200));
    return all.map((g) => ({ ContainerGroupId: g.ContainerGroupId, Status: g.Status }));
  }

  async events(ids: readonly string[]): Promise<Map<string, EciEvent[]>> {
    this.calls.events++;
    return new Map(ids.map((id) => [id, this.groups.get(id)?.Events ?? []]));
  }

  async logs(): Promise<string> {
    return '';
  }
  async exec(): Promise<{ syncResponse?: string }> {
    return {};
  }
  async price(): Promise<{ tradePrice: number; originalPrice: number; currency: string }> {
    this.calls.price++;
    return { tradePrice: 0.5, originalPrice: 0.6, currency: 'CNY' };
  }

  /** test helper: sets a group's status (and container states) */
  set(id: string, patch: Partial<EciContainerGroup>): void {
    const g = this.groups.get(id);
    if (!g) throw new Error(`no group ${id}`);
    if (patch.Status !== undefined && patch.Status !== g.Status) this.changedAt.set(id, this.clock.now());
    Object.assign(g, patch);
  }
  /** test helper: adds a group as if created by someone else */
  add(group: EciContainerGroup): void {
    this.groups.set(group.ContainerGroupId, group);
  }
}

/** Cluster in memory: pods, events, ConfigMaps, Secrets, tokens, leases; counters per write. */
export class FakeCluster {
  pods = new Map<string, Pod>();
  events: Omit<K8sEvent, 'metadata' | 'count' | 'firstTimestamp' | 'lastTimestamp'>[] = [];
  configMaps = new Map<string, ConfigMap>();
  secrets = new Map<string, Secret>();
  leases = new Map<string, Lease>();
  serviceAccounts = new Set<string>(['default/default']);
  /** Services by namespace; `default/kubernetes` and its Endpoints as a kubeadm cluster has them */
  services = new Map<string, Service[]>([
    [
      'default',
      [{ metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } }],
    ],
  ]);
  endpoints = new Map<string, Endpoints>([
    ['default/kubernetes', { metadata: { name: 'kubernetes', namespace: 'default' }, subsets: [{ addresses: [{ ip: '192.168.0.10' }], ports: [{ name: 'https', port: 6443 }] }] }],
  ]);
  calls = { getPod: 0, listPods: 0, patchStatus: 0, patchMeta: 0, deletePod: 0, token: 0, listServices: 0, getService: 0, getEndpoints: 0, getConfigMap: 0, getSecret: 0 };
  /** the next this-many getConfigMap calls fail with a transient 503 */
  configMapFailures = 0;
  deletes: { key: string; uid: string; grace: number }[] = [];
  /** the next this-many deletePod calls fail with a transient 409 (the object has been modified) */
  deleteConflicts = 0;
  /** runs at the start of every deletePod (a test replaces or removes the pod in between) */
  beforeDelete?: (key: string) => void;
  private rv = 1;

  put(pod: Pod): Pod {
    const p = structuredClone(pod);
    p.metadata.resourceVersion = String(++this.rv);
    this.pods.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
    return p;
  }
  get(ns: string, name: string): Pod | undefined {
    return this.pods.get(`${ns}/${name}`);
  }

  async getPod(namespace: string, name: string): Promise<Pod> {
    this.calls.getPod++;
    const p = this.pods.get(`${namespace}/${name}`);
    if (!p) throw new FakeKubeError('NotFoundError', 404, `pods "${name}" not found`);
    return structuredClone(p);
  }
  async listPods(opts: { nodeName?: string }): Promise<Pod[]> {
    this.calls.listPods++;
    return [...this.pods.values()].filter((p) => !opts.nodeName || p.spec.nodeName === opts.nodeName).map((p) => structuredClone(p));
  }
  watchPods(): PodWatchHandle {
    return { synced: Promise.resolve(), stop: async () => {} };
  }
  /** Like pods/status of kube-apiserver: annotations sent along are kept (test/integration/kube/cluster.test.ts). */
  async patchPodStatus(namespace: string, name: string, status: PodStatus, annotations?: Record<string, string | null>, resourceVersion?: string): Promise<Pod> {
    this.calls.patchStatus++;
    const p = this.pods.get(`${namespace}/${name}`);
    if (!p) throw new FakeKubeError('NotFoundError', 404, 'not found');
    if (resourceVersion !== undefined && resourceVersion !== p.metadata.resourceVersion) {
      throw new FakeKubeError('ConflictError', 409, 'Operation cannot be fulfilled on pods: the object has been modified');
    }
    p.status = applyStatusPatch(p.status, status);
    if (annotations) p.metadata.annotations = mergeAnnotations(p.metadata.annotations, annotations);
    p.metadata.resourceVersion = String(++this.rv);
    return structuredClone(p);
  }
  async patchPodMetadata(
    namespace: string,
    name: string,
    patch: { annotations?: Record<string, string | null>; labels?: Record<string, string | null>; resourceVersion?: string },
  ): Promise<Pod> {
    this.calls.patchMeta++;
    const p = this.pods.get(`${namespace}/${name}`);
    if (!p) throw new FakeKubeError('NotFoundError', 404, 'not found');
    if (patch.resourceVersion !== undefined && patch.resourceVersion !== p.metadata.resourceVersion) {
      throw new FakeKubeError('ConflictError', 409, 'Operation cannot be fulfilled on pods: the object has been modified');
    }
    p.metadata.resourceVersion = String(++this.rv);
    p.metadata.annotations = mergeAnnotations(p.metadata.annotations, patch.annotations ?? {});
    return structuredClone(p);
  }
  async deletePod(namespace: string, name: string, opts: { uid: string; gracePeriodSeconds: number }): Promise<void> {
    this.calls.deletePod++;
    const key = `${namespace}/${name}`;
    this.beforeDelete?.(key);
    if (this.deleteConflicts > 0) {
      this.deleteConflicts--;
      throw new FakeKubeError('ConflictError', 409, 'Operation cannot be fulfilled on pods: the object has been modified');
    }
    const p = this.pods.get(key);
    if (!p) throw new FakeKubeError('NotFoundError', 404, 'not found');
    if (p.metadata.uid !== opts.uid) throw new FakeKubeError('ConflictError', 409, 'Precondition failed: UID');
    this.deletes.push({ key, uid: opts.uid, grace: opts.gracePeriodSeconds });
    this.pods.delete(key);
  }
  async recordEvent(ev: Omit<K8sEvent, 'metadata' | 'count' | 'firstTimestamp' | 'lastTimestamp'>): Promise<EventWrite> {
    this.events.push(ev);
    return 'created';
  }
  /** Named Events (mirrored ECI events) by name, as the apiserver would hold them; each is in `events` once. */
  readonly mirrored = new Map<string, K8sEvent>();
  async mirrorEvent(ev: K8sEvent): Promise<EventWrite> {
    const name = ev.metadata.name ?? '';
    const prev = this.mirrored.get(name);
    if (!prev) this.events.push(ev);
    if (!prev || (ev.count ?? 1) > (prev.count ?? 1)) this.mirrored.set(name, structuredClone(ev));
    return !prev ? 'created' : (ev.count ?? 1) > (prev.count ?? 1) ? 'updated' : 'existed';
  }
  async getConfigMap(namespace: string, name: string): Promise<ConfigMap> {
    this.calls.getConfigMap++;
    if (this.configMapFailures > 0) {
      this.configMapFailures--;
      throw new FakeKubeError('ServiceUnavailable', 503, 'the server is currently unable to handle the request');
    }
    const c = this.configMaps.get(`${namespace}/${name}`);
    if (!c) throw new FakeKubeError('NotFoundError', 404, 'not found');
    return c;
  }
  async getSecret(namespace: string, name: string): Promise<Secret> {
    this.calls.getSecret++;
    const s = this.secrets.get(`${namespace}/${name}`);
    if (!s) throw new FakeKubeError('NotFoundError', 404, 'not found');
    return s;
  }
  async requestPodToken(namespace: string, sa: string): Promise<{ token: string; expirationTimestamp: string }> {
    this.calls.token++;
    if (!this.serviceAccounts.has(`${namespace}/${sa}`)) throw new FakeKubeError('NotFoundError', 404, 'no sa');
    return { token: `token-for-${sa}`, expirationTimestamp: '2026-01-01T01:00:00Z' };
  }
  async listServices(namespace: string): Promise<Service[]> {
    this.calls.listServices++;
    return structuredClone(this.services.get(namespace) ?? []);
  }
  async getService(namespace: string, name: string): Promise<Service> {
    this.calls.getService++;
    const s = (this.services.get(namespace) ?? []).find((x) => x.metadata.name === name);
    if (!s) throw new FakeKubeError('NotFoundError', 404, 'not found');
    return structuredClone(s);
  }
  async getEndpoints(namespace: string, name: string): Promise<Endpoints> {
    this.calls.getEndpoints++;
    const e = this.endpoints.get(`${namespace}/${name}`);
    if (!e) throw new FakeKubeError('NotFoundError', 404, 'not found');
    return structuredClone(e);
  }
  async getNode(): Promise<Node> {
    throw new FakeKubeError('NotFoundError', 404, 'not found');
  }
  async createNode(n: Node): Promise<Node> {
    return n;
  }
  async patchNodeStatus(): Promise<Node> {
    throw new Error('unused');
  }
  async patchNode(): Promise<Node> {
    throw new Error('unused');
  }
  async getLease(namespace: string, name: string): Promise<Lease> {
    const l = this.leases.get(`${namespace}/${name}`);
    if (!l) throw new FakeKubeError('NotFoundError', 404, 'not found');
    return structuredClone(l);
  }
  async createLease(namespace: string, lease: Lease): Promise<Lease> {
    const key = `${namespace}/${lease.metadata.name}`;
    if (this.leases.has(key)) throw new FakeKubeError('ConflictError', 409, 'exists');
    const l = structuredClone(lease);
    l.metadata.resourceVersion = String(++this.rv);
    this.leases.set(key, l);
    return l;
  }
  async replaceLease(namespace: string, lease: Lease): Promise<Lease> {
    const key = `${namespace}/${lease.metadata.name}`;
    const cur = this.leases.get(key);
    if (!cur) throw new FakeKubeError('NotFoundError', 404, 'not found');
    if (cur.metadata.resourceVersion !== lease.metadata.resourceVersion) throw new FakeKubeError('ConflictError', 409, 'modified');
    const l = structuredClone(lease);
    l.metadata.resourceVersion = String(++this.rv);
    this.leases.set(key, l);
    return l;
  }
}

export class FakeQueue {
  sent: { message: PodNudge; delaySeconds: number }[] = [];
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const m of messages) {
      const msg = decodeMessage(m.body);
      if (msg.kind === 'pod') this.sent.push({ message: msg, delaySeconds: m.delaySeconds ?? 0 });
    }
  }
}

const PHASE: Record<string, PodStatus['phase']> = {
  Scheduling: 'Pending',
  Pending: 'Pending',
  Restarting: 'Pending',
  Running: 'Running',
  Terminating: 'Running',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Expired: 'Failed',
  ScheduleFailed: 'Failed',
};

/** A small translation: hostPath refused, configMap volumes required, Tag set from the pod; status by phase. */
export const fakeDomain: SyncDomain = {
  references: podReferences,
  validate(pod) {
    return (pod.spec.volumes ?? [])
      .filter((v) => v.hostPath)
      .map((v) => violation('HostPathVolume', `spec.volumes[${v.name}].hostPath`, 'hostPath volumes are not available on ECI.'));
  },
  translate(pod, refs) {
    const missing = podReferences(pod).configMaps.filter((n) => !refs.configMaps.has(n));
    if (missing.length > 0) {
      return { ok: false, violations: missing.map((n) => violation('MissingConfigMap', 'spec.volumes', `ConfigMap ${n} not found`)) };
    }
    const ann = pod.metadata.annotations ?? {};
    const request: EciCreateRequest = {
      RegionId: 'cn-hangzhou',
      ContainerGroupName: `${pod.metadata.namespace}-${pod.metadata.name}`,
      Container: pod.spec.containers.map((c) => ({ Name: c.name, Image: c.image ?? '' })),
      Tag: [
        { Key: TAG_CLUSTER, Value: 'c1' },
        { Key: TAG_VNODE, Value: 'vnode' },
        { Key: TAG_NAMESPACE, Value: pod.metadata.namespace ?? '' },
        { Key: TAG_POD_NAME, Value: pod.metadata.name ?? '' },
        { Key: TAG_POD_UID, Value: pod.metadata.uid ?? '' },
      ],
      ...(ann['k8s.aliyun.com/eci-spot-strategy'] ? { SpotStrategy: 'SpotAsPriceGo' as const } : {}),
    };
    return { ok: true, request, warnings: [] };
  },
  toStatus(group) {
    return {
      phase: PHASE[group.Status] ?? 'Pending',
      ...(group.IntranetIp ? { podIP: group.IntranetIp } : {}),
      conditions: [{ type: 'Ready', status: group.Status === 'Running' ? 'True' : 'False' }],
    };
  },
  differs(a, b) {
    return JSON.stringify(a ?? {}) !== JSON.stringify(b ?? {});
  },
  events(group, pod, since) {
    return (group.Events ?? [])
      .filter((e) => Date.parse(e.LastTimestamp ?? '') > since)
      .map((e) => ({
        metadata: { name: `${pod.metadata.name}.${e.Reason}.${e.FirstTimestamp ?? e.LastTimestamp}`, namespace: pod.metadata.namespace ?? 'default' },
        involvedObject: { kind: 'Pod', name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? 'default', uid: pod.metadata.uid ?? '' },
        reason: e.Reason ?? 'Unknown',
        message: e.Message ?? '',
        type: e.Type === 'Warning' ? ('Warning' as const) : ('Normal' as const),
        count: e.Count ?? 1,
        lastTimestamp: e.LastTimestamp ?? '',
      }));
  },
  transient: new Set(['MissingConfigMap', 'MissingSecret', 'MissingKey', 'MissingServiceAccountToken']),
};

export interface World {
  eci: FakeEci;
  cluster: FakeCluster;
  queue: FakeQueue;
  clock: FakeClock;
  deps: UseCaseDeps;
}

export function world(settings: Partial<UseCaseDeps['settings']> = {}): World {
  const clock = new FakeClock();
  const eci = new FakeEci(clock);
  const cluster = new FakeCluster();
  const queue = new FakeQueue();
  const deps: UseCaseDeps = {
    cluster: cluster satisfies Cluster,
    eci: eci satisfies ContainerGroups,
    queue: queue satisfies QueueSender,
    clock,
    logger: silentLogger,
    settings: { ...DEFAULT_SETTINGS, clusterName: 'c1', vnodeName: 'vnode', ...settings },
    domain: fakeDomain,
    memory: new PodMemory(),
  };
  return { eci, cluster, queue, clock, deps };
}

/** The use-case fakes with the real status mapping and digest (what status ticks compare and write). */
export function statusWorld(): World {
  const w = world();
  w.deps.domain = {
    ...w.deps.domain,
    toStatus: (g, pod, now) => groupToPodStatus(g, pod, new Date(now).toISOString()),
    differs: podStatusDiffers,
    groupDigest: groupStatusDigest,
  };
  return w;
}

let n = 0;
export function makePod(over: { name?: string; annotations?: Record<string, string>; spec?: Partial<Pod['spec']>; status?: PodStatus } = {}): Pod {
  n++;
  return {
    metadata: {
      name: over.name ?? `pod-${n}`,
      namespace: 'default',
      uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(over.annotations ? { annotations: over.annotations } : {}),
    },
    spec: { nodeName: 'vnode', containers: [{ name: 'app', image: 'nginx' }], ...(over.spec ?? {}) },
    ...(over.status ? { status: over.status } : {}),
  };
}

export function nudgeOf(pod: Pod, reason: PodNudge['reason'] = 'bound', attempt?: number): PodNudge {
  return {
    v: 1,
    kind: 'pod',
    namespace: pod.metadata.namespace ?? '',
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
    reason,
    ...(attempt !== undefined ? { attempt } : {}),
  };
}

/** Strategic-merge of annotations: `null` removes a key. */
function mergeAnnotations(cur: Record<string, string> | undefined, patch: Record<string, string | null>): Record<string, string> {
  const ann = { ...(cur ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete ann[k];
    else ann[k] = v;
  }
  return ann;
}

/** `count` pods, each created through pod-sync (one nudge): the pod and its group id. */
export async function createPods(w: ReturnType<typeof world>, count: number): Promise<{ pod: Pod; groupId: string }[]> {
  const sync = new PodSync(w.deps);
  const pods = [];
  for (let i = 0; i < count; i++) {
    const pod = w.cluster.put(makePod());
    const res = await sync.handle(nudgeOf(pod));
    pods.push({ pod, groupId: res.groupId ?? '' });
  }
  return pods;
}
