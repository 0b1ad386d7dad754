/**
 * What `npm start` shows and checks: every pod on the virtual node as a watch sees it (through the Cluster port),
 * with the time each phase, readiness and the deletion were first seen (the benchmark's "pod status update seen by
 * a watch"), and the rows of the live table.
 */
import type { Pod } from '../../shared/domain/k8s.js';
import { ANNOTATION_INSTANCE_ID } from '../../shared/domain/names.js';
import type { Cluster, PodWatchHandle } from '../../shared/ports/index.js';

export interface TrackedPod {
  uid: string;
  namespace: string;
  name: string;
  pod: Pod;
  createdAt: number;
  /** epoch ms each phase was first seen */
  phaseSeen: Partial<Record<string, number>>;
  readySeen?: number;
  deletionSeen?: number;
  /** the DELETED event */
  goneAt?: number;
}

export interface Row {
  pod: string;
  phase: string;
  reason: string;
  groupId: string;
  eciStatus: string;
  ready: string;
  age: string;
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function groupIdOf(pod: Pod): string | undefined {
  return pod.metadata.annotations?.[ANNOTATION_INSTANCE_ID] || undefined;
}

/** The reason a user would look at: the pod's, else the first waiting/terminated container's. */
export function reasonOf(pod: Pod): string {
  if (pod.status?.reason) return pod.status.reason;
  for (const c of pod.status?.containerStatuses ?? []) {
    const r = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (r) return c.state?.terminated ? `${r} (exit ${c.state.terminated.exitCode})` : r;
  }
  const cond = pod.status?.conditions?.find((c) => c.status === 'False' && c.reason);
  return cond?.reason ?? '';
}

function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export class PodTracker {
  readonly #pods = new Map<string, TrackedPod>();
  #watch?: PodWatchHandle;
  #listeners = new Set<(p: TrackedPod, type: 'ADDED' | 'MODIFIED' | 'DELETED') => void>();

  constructor(
    private readonly cluster: Cluster,
    private readonly nodeName: string,
  ) {}

  /** Starts the watch; resolves once the first list arrived. */
  async start(): Promise<void> {
    this.#watch = this.cluster.watchPods({ nodeName: this.nodeName }, (ev) => this.#on(ev.type, ev.object));
    await this.#watch.synced;
  }

  async stop(): Promise<void> {
    await this.#watch?.stop();
    this.#watch = undefined;
  }

  onChange(fn: (p: TrackedPod, type: 'ADDED' | 'MODIFIED' | 'DELETED') => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #on(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const uid = pod.metadata.uid;
    if (!uid) return;
    const now = Date.now();
    let t = this.#pods.get(uid);
    if (!t) {
      const created = Date.parse(pod.metadata.creationTimestamp ?? '');
      t = {
        uid,
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name ?? '',
        pod,
        createdAt: Number.isNaN(created) ? now : created,
        phaseSeen: {},
      };
      this.#pods.set(uid, t);
    }
    t.pod = pod;
    const phase = pod.status?.phase;
    if (phase && t.phaseSeen[phase] === undefined) t.phaseSeen[phase] = now;
    if (t.readySeen === undefined && isReady(pod)) t.readySeen = now;
    if (t.deletionSeen === undefined && pod.metadata.deletionTimestamp) t.deletionSeen = now;
    if (type === 'DELETED') t.goneAt = now;
    for (const l of this.#listeners) l(t, type);
  }

  all(): TrackedPod[] {
    return [...this.#pods.values()];
  }

  /** The latest pod of that name (a name may be reused by a new pod). */
  byName(namespace: string, name: string): TrackedPod | undefined {
    let found: TrackedPod | undefined;
    for (const t of this.#pods.values()) {
      if (t.namespace === namespace && t.name === name && (!found || t.createdAt >= found.createdAt)) found = t;
    }
    return found;
  }

  get(uid: string): TrackedPod | undefined {
    return this.#pods.get(uid);
  }

  /** Table rows, oldest pod first; `eciStatus(uid)` supplies the group status when it is known. */
  rows(eciStatus: (uid: string) => string | undefined, now = Date.now()): Row[] {
    return this.all()
      .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name))
      .map((t) => {
        const gone = t.goneAt !== undefined;
        const terminating = !gone && t.pod.metadata.deletionTimestamp !== undefined;
        return {
          pod: `${t.namespace}/${t.name}`,
          phase: gone ? 'Deleted' : terminating ? `Terminating` : (t.pod.status?.phase ?? '-'),
          reason: reasonOf(t.pod) || '-',
          groupId: groupIdOf(t.pod) ?? '-',
          eciStatus: eciStatus(t.uid) ?? '-',
          ready: gone ? '-' : isReady(t.pod) ? 'yes' : 'no',
          age: age((t.goneAt ?? now) - t.createdAt),
        };
      });
  }
}
