/**
 * Pod events → nudges. `decide` is an ordered list of pure "why / why not" predicates (like Pepr's
 * adjudicators): the first that answers wins, and the answer is logged. The `Coalescer` merges bursts per pod
 * (many events within a short window → one nudge carrying the strongest reason).
 */
import type { NudgeReason, PodNudge } from '../shared/domain/messages.js';
import type { Pod } from '../shared/domain/k8s.js';
import { compactPod, MESSAGE_VERSION, NUDGE_VERSION } from '../shared/domain/messages.js';
import type { PodRecord } from './podState.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Decision {
  /** the nudge reason, or undefined to skip */
  reason?: NudgeReason;
  /** why (logged and counted) */
  why: string;
}

/** What the previous leader left behind: nothing newer than `completed` needs a nudge; up to `attempted` maybe. */
export interface StartupMarks {
  completed?: bigint;
  attempted?: bigint;
}

type Predicate = (ctx: {
  type: EventType;
  prev?: PodRecord;
  next: PodRecord;
  rv?: bigint;
  marks: StartupMarks;
}) => Decision | undefined;

const predicates: readonly Predicate[] = [
  ({ type }) => (type === 'DELETED' ? { reason: 'deleted', why: 'pod deleted from the API' } : undefined),
  ({ prev, rv, marks }) =>
    !prev && rv !== undefined && marks.completed !== undefined && rv <= marks.completed
      ? { why: 'already forwarded before the restart' }
      : undefined,
  ({ prev, rv, marks }) =>
    !prev && rv !== undefined && marks.attempted !== undefined && rv <= marks.attempted
      ? { reason: 'resync', why: 'may have been forwarded just before the restart' }
      : undefined,
  ({ prev, next }) => (!prev && next.deletion ? { reason: 'deleting', why: 'first seen terminating' } : undefined),
  ({ prev }) => (!prev ? { reason: 'bound', why: 'newly bound to the node' } : undefined),
  ({ prev, next }) =>
    prev && prev.deletion !== next.deletion && next.deletion ? { reason: 'deleting', why: 'deletionTimestamp set' } : undefined,
  ({ prev, next }) => (prev && prev.specHash !== next.specHash ? { reason: 'changed', why: 'spec changed' } : undefined),
  ({ prev, next }) =>
    prev && prev.annotationsHash !== next.annotationsHash ? { reason: 'changed', why: 'annotations changed' } : undefined,
];

/** Decides whether an event needs a nudge, and says why. */
export function decide(type: EventType, prev: PodRecord | undefined, next: PodRecord, rv?: bigint, marks: StartupMarks = {}): Decision {
  for (const p of predicates) {
    const d = p({ type, prev, next, rv, marks });
    if (d) return d;
  }
  return { why: 'only status or bridge-written metadata changed' };
}

const PRIORITY: Record<NudgeReason, number> = { deleted: 6, deleting: 5, bound: 4, changed: 3, retry: 2, resync: 1 };

/** The stronger of two reasons (a burst "bound, changed, deleting" becomes one "deleting"). */
export function strongerReason(a: NudgeReason, b: NudgeReason): NudgeReason {
  return PRIORITY[b] > PRIORITY[a] ? b : a;
}

/**
 * A nudge for the pod record; with `pod` (the object the watch just delivered) a version 2 nudge carrying it
 * (compactPod), so pod-sync need not read it — except for a `deleted` pod (nothing to read), a snapshot of another
 * version than the record, or a pod too large to carry.
 */
export function makeNudge(r: Pick<PodRecord, 'namespace' | 'name' | 'uid' | 'resourceVersion'>, reason: NudgeReason, pod?: Pod): PodNudge {
  const n: PodNudge = { v: MESSAGE_VERSION, kind: 'pod', namespace: r.namespace, name: r.name, uid: r.uid, reason };
  if (r.resourceVersion && r.resourceVersion.length <= 64) n.resourceVersion = r.resourceVersion;
  const snapshot = pod && reason !== 'deleted' && n.resourceVersion ? compactPod(pod) : undefined;
  const m = snapshot?.metadata;
  if (snapshot && m?.uid === r.uid && m.name === r.name && m.namespace === r.namespace && m.resourceVersion === n.resourceVersion) {
    n.v = NUDGE_VERSION;
    n.pod = snapshot;
  }
  return n;
}

/**
 * Nudges waiting to be sent carry their pod only while fewer than this many wait: when the queue is down the send
 * buffer (SEND_BUFFER_MAX, 10,000) takes the rest without it (pod-sync reads those pods), so the buffer's memory
 * stays bounded (at most this many pods of ≤ 16 KiB each).
 */
export const SNAPSHOT_BUFFER_MAX = 1000;

/** The nudge without the pod it carries (version 1). */
export function withoutPod(p: PendingNudge): PendingNudge {
  if (!p.nudge.pod) return p;
  const { pod: _pod, ...bare } = p.nudge;
  return { ...p, nudge: { ...bare, v: MESSAGE_VERSION } };
}

export interface PendingNudge {
  nudge: PodNudge;
  /** the lowest resourceVersion this nudge covers (for the completed mark) */
  firstRv?: bigint;
  /** the highest resourceVersion this nudge covers (for the write-ahead attempted mark) */
  lastRv?: bigint;
  /** epoch ms the first event arrived (for latency metrics) */
  since: number;
}

/** Per-pod coalescing: the first event opens a window; events within it merge; the window's end emits one nudge. */
export class Coalescer {
  readonly #pending = new Map<string, PendingNudge & { timer?: NodeJS.Timeout }>();
  constructor(
    private readonly windowMs: number,
    private readonly emit: (p: PendingNudge) => void,
    private readonly now: () => number = Date.now,
  ) {}

  add(nudge: PodNudge, rv?: bigint): void {
    const cur = this.#pending.get(nudge.uid);
    if (cur) {
      cur.nudge = { ...nudge, reason: strongerReason(cur.nudge.reason, nudge.reason) };
      if (rv !== undefined && (cur.firstRv === undefined || rv < cur.firstRv)) cur.firstRv = rv;
      if (rv !== undefined && (cur.lastRv === undefined || rv > cur.lastRv)) cur.lastRv = rv;
      return;
    }
    const entry: PendingNudge & { timer?: NodeJS.Timeout } = { nudge, firstRv: rv, lastRv: rv, since: this.now() };
    this.#pending.set(nudge.uid, entry);
    if (this.windowMs <= 0) {
      this.#emit(nudge.uid);
      return;
    }
    entry.timer = setTimeout(() => this.#emit(nudge.uid), this.windowMs);
  }

  #emit(uid: string): void {
    const e = this.#pending.get(uid);
    if (!e) return;
    this.#pending.delete(uid);
    if (e.timer) clearTimeout(e.timer);
    this.emit({ nudge: e.nudge, firstRv: e.firstRv, lastRv: e.lastRv, since: e.since });
  }

  /** Emits everything pending now (shutdown). */
  flush(): void {
    for (const uid of [...this.#pending.keys()]) this.#emit(uid);
  }

  /** Drops everything pending without emitting (losing leadership / crash). */
  clear(): void {
    for (const e of this.#pending.values()) if (e.timer) clearTimeout(e.timer);
    this.#pending.clear();
  }

  get size(): number {
    return this.#pending.size;
  }

  /** The lowest resourceVersion still waiting here. */
  minRv(): bigint | undefined {
    let min: bigint | undefined;
    for (const e of this.#pending.values()) if (e.firstRv !== undefined && (min === undefined || e.firstRv < min)) min = e.firstRv;
    return min;
  }
}
