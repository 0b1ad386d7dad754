/**
 * ECI events (a DescribeContainerGroups item's `Events`, or DescribeContainerGroupEvents) → Kubernetes Events
 * on the pod. Each ECI event gets a deterministic Event name (pod name, then a hash of pod UID, reason, first
 * occurrence and message), so every writer — two function invocations mirroring the same group at once included —
 * creates it under the same name, and afterwards only `count` / `lastTimestamp` move when ECI counts it again
 * (Cluster.mirrorEvent).
 */
import type { EciEvent } from './eci.js';
import type { K8sEvent, Pod } from './k8s.js';
import { lruSet } from './lru.js';
import { shortHash } from './names.js';
import { CAPACITY_REASONS } from './status.js';

/**
 * What writing one Event came to (the Cluster port's recordEvent / mirrorEvent):
 * - `created`: a new Event; `updated`: an existing one's count / lastTimestamp moved (one PATCH);
 * - `unchanged`: this process wrote the Event already and it says as much: no request at all;
 * - `existed`: another writer (another invocation, another instance) had written it already, saying as much: the
 *   create was answered AlreadyExists (or, for a repeat counted again, a read showed nothing newer);
 * - `dropped`: the per-object spam filter (EventSpamFilter) had no token left: nothing written, on purpose.
 */
export type EventWrite = 'created' | 'updated' | 'unchanged' | 'existed' | 'dropped';

/** Event names are DNS subdomains (≤ 253); the `.eci-<10 hex>` suffix takes 15. */
const MAX_EVENT_NAME = 253;
const SUFFIX_LENGTH = 15;

const WARNING_REASONS = new Set([...CAPACITY_REASONS, 'UnknownError', 'DiskCapacityQuotaFull', 'OOMKilled', 'SpotToBeReleased', 'BackOff', 'Failed', 'Unhealthy', 'FailedMount', 'FailedCreatePodSandBox']);

/** Kubernetes Events for the pod, sorted by last occurrence. */
export function eciEventsToK8s(events: EciEvent[] | undefined, pod: Pod, opts: { now: string; host?: string }): K8sEvent[] {
  const md = pod.metadata ?? {};
  return (events ?? [])
    .map((e): K8sEvent => {
      const reason = e.Reason || e.Name || 'EciEvent';
      const first = e.FirstTimestamp || e.LastTimestamp || opts.now;
      const type = e.Type === 'Warning' || e.Type === 'Normal' ? e.Type : WARNING_REASONS.has(reason) ? 'Warning' : 'Normal';
      return {
        metadata: {
          name: `${(md.name ?? 'pod').slice(0, MAX_EVENT_NAME - SUFFIX_LENGTH)}.eci-${shortHash(`${md.uid ?? ''}|${reason}|${first}|${e.Message ?? ''}`)}`,
          namespace: md.namespace ?? 'default',
        },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', name: md.name ?? '', namespace: md.namespace ?? 'default', ...(md.uid ? { uid: md.uid } : {}) },
        reason,
        message: e.Message || reason,
        type,
        count: e.Count && e.Count > 0 ? e.Count : 1,
        firstTimestamp: first,
        lastTimestamp: e.LastTimestamp || first,
        source: { component: 'eci', ...(opts.host ? { host: opts.host } : {}) },
      };
    })
    .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''));
}

/**
 * The pod's "ECI events seen" mark: the last occurrence time mirrored, plus the sum of the counts of the events last
 * seen at exactly that time (`<ISO time>;<sum>`). ECI's times have one-second precision, so an event counted again
 * within the same second keeps its lastTimestamp: the sum tells that apart (counts only grow, and a new event at
 * that second adds at least 1). A mark without a sum (older bridges, or one set just before a failed write) makes
 * the events at its time count as new.
 */
export interface EventsSeen {
  atMs: number;
  sum?: number;
}

export function parseEventsSeen(raw: string | undefined): EventsSeen {
  if (!raw) return { atMs: 0 };
  const [time, sum] = raw.split(';');
  const atMs = Date.parse(time ?? '');
  if (!Number.isFinite(atMs)) return { atMs: 0 };
  const n = Number(sum);
  return sum !== undefined && Number.isInteger(n) && n >= 0 ? { atMs, sum: n } : { atMs };
}

function lastMs(e: K8sEvent): number {
  return Date.parse(e.lastTimestamp ?? '');
}

function countsAt(events: readonly K8sEvent[], atMs: number): number {
  return events.filter((e) => lastMs(e) === atMs).reduce((a, e) => a + (e.count ?? 1), 0);
}

/**
 * Of `events` (each last seen at or after `seen.atMs`, oldest first), the ones not mirrored yet: those seen later,
 * and those seen at the mark's time unless their counts still add up to the mark's sum.
 */
export function unseenEvents(events: readonly K8sEvent[], seen: EventsSeen): K8sEvent[] {
  const same = seen.sum !== undefined && countsAt(events, seen.atMs) === seen.sum;
  return events.filter((e) => lastMs(e) > seen.atMs || (!same && lastMs(e) === seen.atMs));
}

/** The mark after mirroring everything of `events` last seen up to `atMs`. */
export function formatEventsSeen(events: readonly K8sEvent[], atMs: number): string {
  return `${new Date(atMs).toISOString()};${countsAt(events, atMs)}`;
}

/**
 * Per involved object and source, a token bucket over Event writes, as client-go's EventSourceObjectSpamFilter
 * (tools/record/events_cache.go: burst 25, refill 1 per 300 s, an LRU of 4096 objects): a pod whose containers
 * crash in a loop, or whose sync keeps failing, may say 25 things at once and then one every five minutes; what
 * exceeds that is dropped (the caller logs it at debug), so a burst of such pods cannot flood the API server with
 * Events. Per process, like client-go's (each process protects the API server from itself). Pure: the caller
 * passes the time.
 */
export const SPAM_BURST = 25;
export const SPAM_REFILL_MS = 300_000;
export const SPAM_OBJECTS = 4096;

interface Bucket {
  tokens: number;
  atMs: number;
}

export class EventSpamFilter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly burst: number = SPAM_BURST,
    private readonly refillMs: number = SPAM_REFILL_MS,
    private readonly maxObjects: number = SPAM_OBJECTS,
  ) {}

  /** Takes one token of the Event's (source, object) bucket: false when it has none (drop the write). */
  allow(ev: Pick<K8sEvent, 'involvedObject' | 'source'>, nowMs: number): boolean {
    const key = spamKey(ev);
    const b = this.buckets.get(key) ?? { tokens: this.burst, atMs: nowMs };
    const tokens = Math.min(this.burst, b.tokens + Math.max(0, nowMs - b.atMs) / this.refillMs);
    const ok = tokens >= 1;
    // an object dropped from the LRU is forgotten: it starts again with a full bucket, as in client-go
    lruSet(this.buckets, key, { tokens: ok ? tokens - 1 : tokens, atMs: nowMs }, this.maxObjects);
    return ok;
  }
}

/** client-go's getSpamKey: source component and host, involved object kind, namespace, name, UID, apiVersion. */
export function spamKey(ev: Pick<K8sEvent, 'involvedObject' | 'source'>): string {
  const io = ev.involvedObject;
  return [ev.source?.component ?? '', ev.source?.host ?? '', io.kind, io.namespace ?? '', io.name, io.uid ?? '', io.apiVersion ?? ''].join('\u0000');
}
