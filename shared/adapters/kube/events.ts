/**
 * Event recording with aggregation, shared by both Kubernetes clients (client-node and lite): a repeat of the same
 * (involved object, type, reason, message) within the window patches `count` and `lastTimestamp` of the Event
 * created first instead of creating another (client-go's recorder does the same). Repeats of one key are
 * serialised; a vanished Event is created again. The wire calls are injected; they reject with KubeErrors.
 */
import type { K8sEvent } from '../../domain/k8s.js';
import { isNotFound } from './errors.js';
import { formatTime } from './normalize.js';

export type EventInput = Omit<K8sEvent, 'metadata' | 'count' | 'firstTimestamp' | 'lastTimestamp'>;

export interface EventWire {
  /** Creates the Event; `context` names the operation in errors. */
  create(namespace: string, body: K8sEvent, context: string): Promise<void>;
  /** Merge-patches `count` and `lastTimestamp`; resolves with the count the server stored, when it says. */
  patch(namespace: string, name: string, body: { count: number; lastTimestamp: string }, context: string): Promise<number | undefined>;
}

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
