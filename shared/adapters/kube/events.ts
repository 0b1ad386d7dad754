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
 * What this process wrote is remembered by Event name (a bounded LRU: count, lastTimestamp, resourceVersion), and
 * mirrors of one name are serialised: a repeat that says nothing new (two passes of this process mirroring the same
 * ECI events before the pod's events-seen mark moved) costs no request, and one ECI counted again is a single
 * PATCH under the remembered resourceVersion (no create answered AlreadyExists, no read); a stale resourceVersion
 * falls back to create → read → patch. Both ways share a per-object spam filter (EventSpamFilter, client-go's
 * numbers): a write beyond it is not sent and comes back `dropped` for the caller to log.
 *
 * The wire calls are injected; they reject with KubeErrors.
 */
import { EventSpamFilter, type EventWrite } from '../../domain/events.js';
import type { K8sEvent } from '../../domain/k8s.js';
import { lruSet } from '../../domain/lru.js';
import { isAlreadyExists, isConflict, isNotFound } from './errors.js';
import { formatTime } from './normalize.js';

export type EventInput = Omit<K8sEvent, 'metadata' | 'count' | 'firstTimestamp' | 'lastTimestamp'>;

export interface EventWire {
  /** Creates the Event; `context` names the operation in errors. Resolves with the stored Event, when the server says. */
  create(namespace: string, body: K8sEvent, context: string): Promise<K8sEvent | undefined>;
  /**
   * Merge-patches `count` and `lastTimestamp` (and `message`; with `metadata.resourceVersion` the patch is
   * refused with a Conflict when the Event changed since); resolves with the stored Event, when the server says.
   */
  patch(namespace: string, name: string, body: EventPatch, context: string): Promise<K8sEvent | undefined>;
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
  /** How many mirrored Event names this process remembers (what it wrote). Default 4096, client-go's LRU size. */
  mirrorCacheSize?: number;
  /** Per-object spam filter: `burst` writes at once, then one per `refillMs`. Default client-go's 25 and 300 s. */
  spam?: { burst: number; refillMs: number };
  /** Clock for Event timestamps and aggregation. Default Date.now. */
  now?: () => number;
}

interface CachedEvent {
  namespace: string;
  name: string;
  count: number;
  lastSeen: number;
}

/** What this process knows a mirrored Event on the server says (it wrote or saw that much). */
interface WrittenEvent {
  count: number;
  lastMs: number;
  /** the resourceVersion it last saw, when it did: a repeat is one PATCH under it */
  resourceVersion?: string;
}

export class EventRecorder {
  private readonly events = new Map<string, CachedEvent>();
  /** mirrored Events by `namespace/name`, in LRU order */
  private readonly written = new Map<string, WrittenEvent>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly spam: EventSpamFilter;
  private readonly now: () => number;

  constructor(
    private readonly wire: EventWire,
    private readonly opts: EventRecorderOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.spam = new EventSpamFilter(opts.spam?.burst, opts.spam?.refillMs);
  }

  async record(ev: EventInput): Promise<EventWrite> {
    const io = ev.involvedObject;
    const key = JSON.stringify([io.uid ?? `${io.kind}/${io.namespace ?? ''}/${io.name}`, ev.type, ev.reason, ev.message]);
    return this.serialised(`record ${key}`, () => this.recordNow(key, ev));
  }

  /**
   * Writes an Event the caller named: create it; if it exists, bring its count, lastTimestamp and message up to
   * the given ones unless it already shows as much (never backwards). Idempotent, safe between processes; within
   * this process a repeat that says nothing new costs nothing.
   */
  mirror(ev: K8sEvent): Promise<EventWrite> {
    const namespace = ev.metadata.namespace ?? ev.involvedObject.namespace ?? 'default';
    const name = ev.metadata.name ?? '';
    // one name at a time: a second mirror of it waits for the first and then finds it in `written`
    return this.serialised(`mirror ${namespace}/${name}`, () => this.mirrorNow(namespace, name, ev));
  }

  private async mirrorNow(namespace: string, name: string, ev: K8sEvent): Promise<EventWrite> {
    const body: K8sEvent = { ...ev, metadata: { name, namespace }, count: ev.count ?? 1 };
    const key = `${namespace}/${name}`;
    const known = this.written.get(key);
    if (known && !saysMore(body, known)) {
      this.note(key, known);
      return 'unchanged';
    }
    if (!this.spam.allow(body, this.now())) return 'dropped';
    const what = `event ${namespace}/${name} (${ev.reason})`;
    if (known?.resourceVersion) {
      // ECI counted it again since this process wrote it: one PATCH under the resourceVersion it saw; another
      // writer moved it since (Conflict) or it is gone (NotFound): the full way below.
      const patch = forward(body, known.count, known.lastMs, known.resourceVersion);
      try {
        this.noteStored(key, await this.wire.patch(namespace, name, patch, `update ${what}`), patch);
        return 'updated';
      } catch (err) {
        if (!(isConflict(err) || isNotFound(err))) throw err;
        this.written.delete(key);
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        this.noteStored(key, await this.wire.create(namespace, body, `create ${what}`), body);
        return 'created';
      } catch (err) {
        if (!isAlreadyExists(err) || attempt >= MIRROR_ATTEMPTS) throw err;
      }
      // Seen once (count 1, last = first): the Event under this name (same pod UID, reason, first time and message)
      // already says at least as much, so there is nothing to read or patch.
      if ((body.count ?? 1) <= 1 && timeOf(body.lastTimestamp) <= timeOf(body.firstTimestamp)) {
        this.note(key, { count: 1, lastMs: timeOf(body.lastTimestamp) });
        return 'existed';
      }
      let current: K8sEvent;
      try {
        current = await this.wire.get(namespace, name, `get ${what}`);
      } catch (err) {
        if (isNotFound(err)) continue; // deleted in between: create it again
        throw err;
      }
      if (!newer(body, current)) {
        this.noteStored(key, current, current);
        return 'existed';
      }
      const patch = forward(body, current.count ?? 1, timeOf(current.lastTimestamp), current.metadata.resourceVersion ?? '');
      try {
        this.noteStored(key, await this.wire.patch(namespace, name, patch, `update ${what}`), patch);
        return 'updated';
      } catch (err) {
        if (!(isConflict(err) || isNotFound(err)) || attempt >= MIRROR_ATTEMPTS) throw err;
      }
    }
  }

  /** Runs `fn` after every earlier call of the same key has settled (whatever their outcome). */
  private async serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.chains.set(key, next);
    try {
      return await next;
    } finally {
      if (this.chains.get(key) === next) this.chains.delete(key);
    }
  }

  /** Remembers what the server holds after a write: the stored Event when it answered with one, else what was sent. */
  private noteStored(key: string, stored: K8sEvent | undefined, sent: Pick<K8sEvent, 'count' | 'lastTimestamp'>): void {
    const e = stored ?? sent;
    const resourceVersion = stored?.metadata.resourceVersion;
    this.note(key, { count: e.count ?? 1, lastMs: timeOf(e.lastTimestamp), ...(resourceVersion ? { resourceVersion } : {}) });
  }

  private note(key: string, entry: WrittenEvent): void {
    lruSet(this.written, key, entry, this.opts.mirrorCacheSize ?? 4096);
  }

  private async recordNow(key: string, ev: EventInput): Promise<EventWrite> {
    const nowMs = this.now();
    const source = ev.source ?? { component: this.opts.component ?? 'eci-bridge', ...(this.opts.host ? { host: this.opts.host } : {}) };
    if (!this.spam.allow({ involvedObject: ev.involvedObject, source }, nowMs)) return 'dropped';
    const stamp = formatTime(new Date(Math.floor(nowMs / 1000) * 1000));
    const window = this.opts.eventAggregationWindowMs ?? 10 * 60_000;
    const cached = this.events.get(key);
    if (cached && nowMs - cached.lastSeen <= window) {
      try {
        const stored = await this.wire.patch(
          cached.namespace,
          cached.name,
          { count: cached.count + 1, lastTimestamp: stamp },
          `aggregate event ${cached.namespace}/${cached.name}`,
        );
        this.remember(key, { ...cached, count: stored?.count ?? cached.count + 1, lastSeen: nowMs });
        return 'updated';
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
      source,
    };
    await this.wire.create(namespace, body, `create event ${namespace}/${name} (${ev.reason})`);
    this.remember(key, { namespace, name, count: 1, lastSeen: nowMs });
    return 'created';
  }

  private remember(key: string, entry: CachedEvent): void {
    lruSet(this.events, key, entry, this.opts.eventCacheSize ?? 512);
  }
}

/** Does `next` say more than what this process knows the Event says? */
function saysMore(next: K8sEvent, known: WrittenEvent): boolean {
  return (next.count ?? 1) > known.count || timeOf(next.lastTimestamp) > known.lastMs;
}

/** The patch that moves an Event saying (count, lastMs) forward to `body`, never backwards, under `resourceVersion`. */
function forward(body: K8sEvent, count: number, lastMs: number, resourceVersion: string): EventPatch {
  const last = timeOf(body.lastTimestamp) >= lastMs ? body.lastTimestamp : new Date(lastMs).toISOString().replace(/\.000Z$/, 'Z');
  return { count: Math.max(body.count ?? 1, count), lastTimestamp: last ?? '', message: body.message, metadata: { resourceVersion } };
}

/** Does `next` say more than `current` (a higher count or a later lastTimestamp)? */
function newer(next: K8sEvent, current: K8sEvent): boolean {
  if ((next.count ?? 1) > (current.count ?? 1)) return true;
  return timeOf(next.lastTimestamp) > timeOf(current.lastTimestamp);
}

function timeOf(t: string | undefined): number {
  const ms = Date.parse(t ?? '');
  return Number.isFinite(ms) ? ms : Number.NEGATIVE_INFINITY;
}
