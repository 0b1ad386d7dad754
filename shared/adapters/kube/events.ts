/**
 * Event recording, shared by both Kubernetes clients (client-node and lite), in two ways:
 *
 * - `record`: the bridge's own Events, aggregated in this process: a repeat of the same (involved object, type,
 *   reason, message) within the window patches `count` and `lastTimestamp` of the Event created first instead of
 *   creating another (client-go's recorder does the same). Repeats of one key are serialised; a vanished Event is
 *   created again.
 * - `mirror`: an Event whose name, count and timestamps the caller computed (an ECI event mirrored on its pod;
 *   the name is deterministic): created under that name; when it exists already (another invocation mirrored
 *   the same ECI event, or an earlier one counted it fewer times), its `count`, `lastTimestamp` and `message` are
 *   patched to the given ones, under a resourceVersion precondition and only when they are newer, so concurrent
 *   and stale writers converge on one Event with ECI's latest count. An event seen once (count 1) that exists
 *   already costs no read: nothing about it can be newer.
 *
 * The wire calls are injected; they reject with KubeErrors.
 */
import type { K8sEvent } from '../../domain/k8s.js';
import { isAlreadyExists, isConflict, isNotFound } from './errors.js';
import { formatTime } from './normalize.js';

export type EventInput = Omit<K8sEvent, 'metadata' | 'count' | 'firstTimestamp' | 'lastTimestamp'>;

export interface EventWire {
  /** Creates the Event; `context` names the operation in errors. */
  create(namespace: string, body: K8sEvent, context: string): Promise<void>;
  /**
   * Merge-patches `count` and `lastTimestamp` (and `message`; with `metadata.resourceVersion` the patch is
   * refused with a Conflict when the Event changed since); resolves with the count the server stored, when it says.
   */
  patch(namespace: string, name: string, body: EventPatch, context: string): Promise<number | undefined>;
  /** Reads one Event. */
  get(namespace: string, name: string, context: string): Promise<K8sEvent>;
}

export interface EventPatch {
  count: number;
  lastTimestamp: string;
  message?: string;
  metadata?: { resourceVersion: string };
}

/** How often `mirror` re-reads and re-patches after losing a race (a Conflict, or the Event vanishing). */
const MIRROR_ATTEMPTS = 5;

export interface EventRecorderOptions {
  /** `source.component` of recorded Events. Default `eci-bridge`. */
  component?: string;
  /** `source.host` of recorded Events (the virtual node's name, usually). */
  host?: string;
  /** Events with the same (object, reason, message) within this window are aggregated. Default 10 min. */
  eventAggregationWindowMs?: number;
  /** How many recent Events the aggregation cache remembers. Default 512. */
  eventCacheSize?: number;
  /** Clock for Event timestamps and aggregation. Default Date.now. */
  now?: () => number;
}

interface CachedEvent {
  namespace: string;
  name: string;
  count: number;
  lastSeen: number;
}

export class EventRecorder {
  private readonly events = new Map<string, CachedEvent>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(
    private readonly wire: EventWire,
    private readonly opts: EventRecorderOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async record(ev: EventInput): Promise<void> {
    const io = ev.involvedObject;
    const key = JSON.stringify([io.uid ?? `${io.kind}/${io.namespace ?? ''}/${io.name}`, ev.type, ev.reason, ev.message]);
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(() => this.recordNow(key, ev));
    this.chains.set(key, next);
    try {
      await next;
    } finally {
      if (this.chains.get(key) === next) this.chains.delete(key);
    }
  }

  /**
   * Writes an Event the caller named: create it; if it exists, bring its count, lastTimestamp and message up to
   * the given ones unless it already shows as much (never backwards). Idempotent, safe between processes.
   */
  async mirror(ev: K8sEvent): Promise<void> {
    const namespace = ev.metadata.namespace ?? ev.involvedObject.namespace ?? 'default';
    const name = ev.metadata.name ?? '';
    const body: K8sEvent = { ...ev, metadata: { name, namespace }, count: ev.count ?? 1 };
    const what = `event ${namespace}/${name} (${ev.reason})`;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.wire.create(namespace, body, `create ${what}`);
        return;
      } catch (err) {
        if (!isAlreadyExists(err) || attempt >= MIRROR_ATTEMPTS) throw err;
      }
      // Seen once (count 1, last = first): the Event under this name (same pod UID, reason, first time and message)
      // already says at least as much, so there is nothing to read or patch.
      if ((body.count ?? 1) <= 1 && timeOf(body.lastTimestamp) <= timeOf(body.firstTimestamp)) return;
      let current: K8sEvent;
      try {
        current = await this.wire.get(namespace, name, `get ${what}`);
      } catch (err) {
        if (isNotFound(err)) continue; // deleted in between: create it again
        throw err;
      }
      if (!newer(body, current)) return;
      try {
        await this.wire.patch(
          namespace,
          name,
          {
            count: Math.max(body.count ?? 1, current.count ?? 1),
            lastTimestamp: later(body.lastTimestamp, current.lastTimestamp) ?? '',
            message: body.message,
            metadata: { resourceVersion: current.metadata.resourceVersion ?? '' },
          },
          `update ${what}`,
        );
        return;
      } catch (err) {
        if (!(isConflict(err) || isNotFound(err)) || attempt >= MIRROR_ATTEMPTS) throw err;
      }
    }
  }

  private async recordNow(key: string, ev: EventInput): Promise<void> {
    const nowMs = this.now();
    const stamp = formatTime(new Date(Math.floor(nowMs / 1000) * 1000));
    const window = this.opts.eventAggregationWindowMs ?? 10 * 60_000;
    const cached = this.events.get(key);
    if (cached && nowMs - cached.lastSeen <= window) {
      try {
        const count = await this.wire.patch(
          cached.namespace,
          cached.name,
          { count: cached.count + 1, lastTimestamp: stamp },
          `aggregate event ${cached.namespace}/${cached.name}`,
        );
        this.remember(key, { ...cached, count: count ?? cached.count + 1, lastSeen: nowMs });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.events.delete(key); // expired or deleted: record it afresh
      }
    }
    const io = ev.involvedObject;
    const namespace = io.namespace ?? 'default';
    const name = `${io.name}.${(BigInt(nowMs) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;
    const body: K8sEvent = {
      metadata: { name, namespace },
      involvedObject: io,
      reason: ev.reason,
      message: ev.message,
      type: ev.type,
      count: 1,
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      source: ev.source ?? { component: this.opts.component ?? 'eci-bridge', ...(this.opts.host ? { host: this.opts.host } : {}) },
    };
    await this.wire.create(namespace, body, `create event ${namespace}/${name} (${ev.reason})`);
    this.remember(key, { namespace, name, count: 1, lastSeen: nowMs });
  }

  private remember(key: string, entry: CachedEvent): void {
    this.events.delete(key); // re-insert: Map order is the LRU order
    this.events.set(key, entry);
    const max = this.opts.eventCacheSize ?? 512;
    while (this.events.size > max) {
      const oldest = this.events.keys().next().value;
      if (oldest === undefined) break;
      this.events.delete(oldest);
    }
  }
}

/** Does `next` say more than `current` (a higher count or a later lastTimestamp)? */
function newer(next: K8sEvent, current: K8sEvent): boolean {
  if ((next.count ?? 1) > (current.count ?? 1)) return true;
  return timeOf(next.lastTimestamp) > timeOf(current.lastTimestamp);
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  return timeOf(a) >= timeOf(b) ? (a ?? b) : b;
}

function timeOf(t: string | undefined): number {
  const ms = Date.parse(t ?? '');
  return Number.isFinite(ms) ? ms : Number.NEGATIVE_INFINITY;
}
