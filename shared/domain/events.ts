/**
 * ECI events (a DescribeContainerGroups item's `Events`, or DescribeContainerGroupEvents) → Kubernetes Events
 * on the pod. Each ECI event gets a deterministic Event name (pod name, then a hash of pod UID, reason, first
 * occurrence and message), so every writer — two function invocations mirroring the same group at once included —
 * creates it under the same name, and afterwards only `count` / `lastTimestamp` move when ECI counts it again
 * (Cluster.mirrorEvent).
 */
import type { EciEvent } from './eci.js';
import type { K8sEvent, Pod } from './k8s.js';
import { shortHash } from './names.js';
import { CAPACITY_REASONS } from './status.js';

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
