/**
 * ECI events (a DescribeContainerGroups item's `Events`, or DescribeContainerGroupEvents) → Kubernetes Events
 * on the pod. Each ECI event gets a deterministic Event name, so a writer creates it once and afterwards only
 * patches `count` / `lastTimestamp` when ECI reports it again.
 */
import type { EciEvent } from './eci.js';
import type { K8sEvent, Pod } from './k8s.js';
import { shortHash } from './names.js';
import { CAPACITY_REASONS } from './status.js';

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
        metadata: { name: `${md.name ?? 'pod'}.eci-${shortHash(`${md.uid ?? ''}|${reason}|${first}|${e.Message ?? ''}`)}`, namespace: md.namespace ?? 'default' },
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

/** True when an Event written earlier must be patched (ECI counted it again). */
export function eventChanged(prev: K8sEvent, next: K8sEvent): boolean {
  return prev.count !== next.count || prev.lastTimestamp !== next.lastTimestamp || prev.message !== next.message;
}
