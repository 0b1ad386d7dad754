/**
 * Small in-memory fakes of the ports the watcher uses (checked with `satisfies`). Not mocks: they keep state
 * (resourceVersions, leases, pods) and answer like the apiserver where the watcher relies on it (404, 409).
 */
import type { Lease, Node, Pod } from '../../../shared/domain/k8s.js';
import type { Clock, Cluster, Logger, OutgoingMessage, PodWatchHandle, QueueSender } from '../../../shared/ports/index.js';

class FakeKubeError extends Error {
  /** the kind of the one error vocabulary (shared/errors.ts), as the Kubernetes adapters set it */
  readonly kind: 'notFound' | 'conflict' | 'retryable';
  readonly service = 'kubernetes';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.kind = status === 404 ? 'notFound' : status === 409 ? 'conflict' : 'retryable';
  }
}
export class NotFoundError extends FakeKubeError {
  constructor(what: string) {
    super(`${what} not found`, 404);
    this.name = 'NotFoundError';
  }
}
export class ConflictError extends FakeKubeError {
  constructor(what: string) {
    super(`${what}: the object has been modified`, 409);
    this.name = 'ConflictError';
  }
}

const clone = <T>(v: T): T => structuredClone(v);
type PodEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Pod };

export function newFakeCluster() {
  let rv = 100;
  const nextRv = (): string => String(++rv);
  const pods = new Map<string, Pod>();
  const nodes = new Map<string, Node>();
  const leases = new Map<string, Lease>();
  const watchers = new Set<{ nodeName: string; onEvent: (ev: PodEvent) => void }>();
  const calls: string[] = [];
  const key = (ns: string, n: string): string => `${ns}/${n}`;
  const notify = (type: PodEvent['type'], pod: Pod): void => {
    for (const w of watchers) if (pod.spec.nodeName === w.nodeName) w.onEvent({ type, object: clone(pod) });
  };
  let failLeases = false;

  const notImplemented = (what: string) => (): never => {
    throw new Error(`fake cluster: ${what} not implemented`);
  };

  const cluster = {
    async getPod(namespace: string, name: string): Promise<Pod> {
      const p = pods.get(key(namespace, name));
      if (!p) throw new NotFoundError(`pod ${name}`);
      return clone(p);
    },
    async listPods(opts: { nodeName?: string }): Promise<Pod[]> {
      return [...pods.values()].filter((p) => !opts.nodeName || p.spec.nodeName === opts.nodeName).map(clone);
    },
    watchPods(opts: { nodeName: string }, onEvent: (ev: PodEvent) => void): PodWatchHandle {
      const w = { nodeName: opts.nodeName, onEvent };
      for (const p of pods.values()) if (p.spec.nodeName === opts.nodeName) onEvent({ type: 'ADDED', object: clone(p) });
      watchers.add(w);
      return {
        synced: Promise.resolve(),
        async stop() {
          watchers.delete(w);
        },
      };
    },
    async patchPodStatus(
      namespace: string,
      name: string,
      status: NonNullable<Pod['status']>,
      annotations?: Record<string, string | null>,
    ): Promise<Pod> {
      const p = pods.get(key(namespace, name));
      if (!p) throw new NotFoundError(`pod ${name}`);
      p.status = { ...p.status, ...status };
      if (annotations) p.metadata.annotations = mergeAnnotations(p.metadata.annotations, annotations);
      p.metadata.resourceVersion = nextRv();
      notify('MODIFIED', p);
      return clone(p);
    },
    async patchPodMetadata(
      namespace: string,
      name: string,
      patch: { annotations?: Record<string, string | null> },
    ): Promise<Pod> {
      const p = pods.get(key(namespace, name));
      if (!p) throw new NotFoundError(`pod ${name}`);
      p.metadata.annotations = mergeAnnotations(p.metadata.annotations, patch.annotations ?? {});
      p.metadata.resourceVersion = nextRv();
      notify('MODIFIED', p);
      return clone(p);
    },
    async deletePod(namespace: string, name: string): Promise<void> {
      const p = pods.get(key(namespace, name));
      if (!p) throw new NotFoundError(`pod ${name}`);
      pods.delete(key(namespace, name));
      p.metadata.resourceVersion = nextRv();
      notify('DELETED', p);
    },
    recordEvent: notImplemented('recordEvent'),
    mirrorEvent: notImplemented('mirrorEvent'),
    getConfigMap: notImplemented('getConfigMap'),
    getSecret: notImplemented('getSecret'),
    requestPodToken: notImplemented('requestPodToken'),
    listServices: notImplemented('listServices'),
    getService: notImplemented('getService'),
    getEndpoints: notImplemented('getEndpoints'),
    async getNode(name: string): Promise<Node> {
      calls.push('getNode');
      const n = nodes.get(name);
      if (!n) throw new NotFoundError(`node ${name}`);
      return clone(n);
    },
    async createNode(node: Node): Promise<Node> {
      calls.push('createNode');
      const name = node.metadata.name ?? '';
      if (nodes.has(name)) throw new ConflictError(`node ${name} already exists`);
      // like the apiserver: create keeps no status conditions
      const stored: Node = { ...clone(node), metadata: { ...clone(node.metadata), uid: `uid-${name}`, resourceVersion: nextRv() } };
      stored.status = {};
      nodes.set(name, stored);
      return clone(stored);
    },
    async patchNodeStatus(name: string, status: NonNullable<Node['status']>): Promise<Node> {
      calls.push('patchNodeStatus');
      const n = nodes.get(name);
      if (!n) throw new NotFoundError(`node ${name}`);
      const merged = [...(n.status?.conditions ?? [])];
      for (const c of status.conditions ?? []) {
        const i = merged.findIndex((m) => m.type === c.type);
        if (i >= 0) merged[i] = c;
        else merged.push(c);
      }
      n.status = { ...n.status, ...clone(status), conditions: merged };
      n.metadata.resourceVersion = nextRv();
      return clone(n);
    },
    async patchNode(name: string, patch: { metadata?: Node['metadata']; spec?: Node['spec'] }): Promise<Node> {
      calls.push('patchNode');
      const n = nodes.get(name);
      if (!n) throw new NotFoundError(`node ${name}`);
      if (patch.metadata?.labels) n.metadata.labels = { ...n.metadata.labels, ...patch.metadata.labels };
      if (patch.spec) n.spec = { ...n.spec, ...clone(patch.spec) };
      n.metadata.resourceVersion = nextRv();
      return clone(n);
    },
    async getLease(namespace: string, name: string): Promise<Lease> {
      calls.push(`getLease ${name}`);
      if (failLeases) throw new FakeKubeError('apiserver unavailable', 503);
      const l = leases.get(key(namespace, name));
      if (!l) throw new NotFoundError(`lease ${name}`);
      return clone(l);
    },
    async createLease(namespace: string, lease: Lease): Promise<Lease> {
      if (failLeases) throw new FakeKubeError('apiserver unavailable', 503);
      const k = key(namespace, lease.metadata.name ?? '');
      if (leases.has(k)) throw new ConflictError(`lease ${k} already exists`);
      const stored = { ...clone(lease), metadata: { ...clone(lease.metadata), namespace, resourceVersion: nextRv() } };
      leases.set(k, stored);
      return clone(stored);
    },
    async replaceLease(namespace: string, lease: Lease): Promise<Lease> {
      if (failLeases) throw new FakeKubeError('apiserver unavailable', 503);
      const k = key(namespace, lease.metadata.name ?? '');
      const cur = leases.get(k);
      if (!cur) throw new NotFoundError(`lease ${k}`);
      if (lease.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new ConflictError(`lease ${k}`);
      const stored = { ...clone(lease), metadata: { ...clone(lease.metadata), namespace, resourceVersion: nextRv() } };
      leases.set(k, stored);
      return clone(stored);
    },
  } satisfies Cluster;

  return {
    cluster,
    pods,
    nodes,
    leases,
    calls,
    set failLeases(v: boolean) {
      failLeases = v;
    },
    /** Creates (binds) a pod on a node, as the scheduler would; returns it. */
    addPod(name: string, nodeName: string, extra: Partial<Pod['metadata']> = {}, namespace = 'default'): Pod {
      const pod: Pod = {
        metadata: { name, namespace, uid: `uid-${namespace}-${name}-${rv}`, resourceVersion: nextRv(), creationTimestamp: new Date().toISOString(), ...extra },
        spec: { nodeName, containers: [{ name: 'c', image: 'nginx' }] },
        status: { phase: 'Pending' },
      };
      pods.set(key(namespace, name), pod);
      notify('ADDED', pod);
      return clone(pod);
    },
    /** Applies a change to a stored pod and notifies watchers. */
    modifyPod(namespace: string, name: string, change: (p: Pod) => void): Pod {
      const p = pods.get(key(namespace, name));
      if (!p) throw new Error(`no pod ${name}`);
      change(p);
      p.metadata.resourceVersion = nextRv();
      notify('MODIFIED', p);
      return clone(p);
    },
  };
}

export type FakeCluster = ReturnType<typeof newFakeCluster>;

export function newFakeQueue() {
  const sent: OutgoingMessage[] = [];
  let failing = false;
  const queue = {
    async send(messages: readonly OutgoingMessage[]): Promise<void> {
      if (failing) throw new Error('queue unavailable');
      sent.push(...messages);
    },
  } satisfies QueueSender;
  return {
    queue,
    sent,
    set failing(v: boolean) {
      failing = v;
    },
  };
}

/** A real-time clock whose `now` can be shifted forward (for staleness rules) without waiting. */
export function newClock(offsetMs = 0) {
  let offset = offsetMs;
  const clock = {
    now: () => Date.now() + offset,
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(new Error('aborted'));
          return;
        }
        const t = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('aborted'));
        });
      }),
  } satisfies Clock;
  return {
    clock,
    advance(ms: number) {
      offset += ms;
    },
  };
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg?: string;
}

export function newLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const make = (bindings: Record<string, unknown>): Logger & { lines: LogLine[] } => ({
    lines,
    debug: (obj, msg) => lines.push({ level: 'debug', obj: { ...bindings, ...obj }, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj: { ...bindings, ...obj }, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: { ...bindings, ...obj }, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj: { ...bindings, ...obj }, msg }),
    child: (b) => make({ ...bindings, ...b }),
  });
  return make({});
}

/** Polls until `pred` holds (or fails after `ms`). */
export async function until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A merge patch of annotations, as the apiserver applies it: `null` removes a key. */
function mergeAnnotations(current: Record<string, string> | undefined, patch: Record<string, string | null>): Record<string, string> {
  const a = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete a[k];
    else a[k] = v;
  }
  return a;
}
