/**
 * A short digest of what the status flow keeps current on a pod — phase, readiness, IP, and per container its
 * state (running / waiting with its reason / terminated with exit code and reason), ready flag and restart count.
 *
 * The watcher sends each changing pod's digest in its status ticks; pod-sync computes the digest its own mapping
 * (`groupToPodStatus`) would give the described group, and reads and converges only the pods whose digests differ.
 * So a tick naming 100 pods of which 5 changed reads 5 pods from the API server, not 100. A difference only in
 * finer fields (a container's start time, a message text) waits for the next coarse change or the minutely sweep;
 * a difference the digest cannot judge (readiness gates, an IP the group no longer reports) only costs a read.
 * Pure; no I/O.
 */
import type { EciContainerGroup } from './eci.js';
import type { ContainerStatus, Pod, PodStatus } from './k8s.js';
import { groupToPodStatus } from './status.js';

/** FNV-1a over the text, twice with different offsets: 16 hex characters. */
function hash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 + 2) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

function containerKey(c: ContainerStatus): string {
  const s = c.state ?? {};
  const state = s.running
    ? 'R'
    : s.terminated
      ? `T${s.terminated.exitCode}/${s.terminated.reason ?? ''}`
      : `W${s.waiting?.reason ?? ''}`;
  return `${c.name}=${state}/${c.ready ? 1 : 0}/${c.restartCount ?? 0}`;
}

const byName = (a: ContainerStatus, b: ContainerStatus): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The digest of a pod's status as the API server holds it. */
export function podStatusDigest(status: PodStatus | undefined): string {
  const s = status ?? {};
  const ready = s.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  const parts = [
    s.phase ?? '',
    ready,
    s.podIP ?? '',
    ...[...(s.initContainerStatuses ?? [])].sort(byName).map((c) => `i:${containerKey(c)}`),
    ...[...(s.containerStatuses ?? [])].sort(byName).map(containerKey),
  ];
  return hash(parts.join('|'));
}

/**
 * The digest the pod would have once pod-sync applied `group`, given the pod's current phase (a Running pod stays
 * Running while ECI restarts it). The group's own containers stand in for the pod spec (translation keeps names).
 */
export function groupStatusDigest(group: EciContainerGroup, phase: string | undefined): string {
  // a terminal pod is never written again: judge the group by itself
  const prev = phase === 'Succeeded' || phase === 'Failed' ? undefined : phase;
  const pod: Pod = {
    metadata: {},
    spec: {
      containers: (group.Containers ?? []).map((c) => ({ name: c.Name, image: c.Image ?? '' })),
      ...(group.InitContainers?.length ? { initContainers: group.InitContainers.map((c) => ({ name: c.Name, image: c.Image ?? '' })) } : {}),
    },
    ...(prev ? { status: { phase: prev as NonNullable<PodStatus['phase']> } } : {}),
  };
  return podStatusDigest(groupToPodStatus(group, pod, '1970-01-01T00:00:00Z'));
}
