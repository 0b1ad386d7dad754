/**
 * What the watcher remembers about each pod on the node: a compact record (hashes, not objects), so 10,000
 * pods cost little memory. Pure functions only.
 */
import { createHash } from 'node:crypto';
import { ANNOTATION_INSTANCE_SPEC } from '../shared/domain/billing.js';
import type { Pod } from '../shared/domain/k8s.js';
import { ANNOTATION_INSTANCE_ID } from '../shared/domain/names.js';
import { podStatusDigest } from '../shared/domain/statusDigest.js';

/** Annotation where pod-sync records the container group id. */
export const GROUP_ANNOTATION = ANNOTATION_INSTANCE_ID;
/** Optional: the time (RFC 3339) pod-sync / status-sync last converged the pod's status. */
export const SYNCED_AT_ANNOTATION = 'eci-bridge.io/synced-at';
/** Annotations the bridge itself writes: changes to them are echoes, never nudges. */
export const BRIDGE_ANNOTATION_PREFIX = 'eci-bridge.io/';
export const BRIDGE_WRITTEN_ANNOTATIONS: ReadonlySet<string> = new Set([
  GROUP_ANNOTATION,
  ANNOTATION_INSTANCE_SPEC,
  'k8s.aliyun.com/eci-instance-zone',
  'k8s.aliyun.com/allocated-eipAddress',
  'kubectl.kubernetes.io/last-applied-configuration',
]);

export interface PodRecord {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion?: string;
  specHash: string;
  annotationsHash: string;
  deletion?: string;
  phase?: string;
  ready: boolean;
  groupId?: string;
  syncedAt?: number;
  /** epoch ms since which the pod has been "changing" (see isChanging) */
  changingSince?: number;
  /** digest of the pod status (shared/domain/statusDigest.ts), sent in status ticks */
  digest?: string;
  /** restartPolicy Never or OnFailure: the pod can finish by itself (a Job's pod), see steadyPeriodSeconds */
  canFinish?: boolean;
}

/** JSON with sorted keys, so equal objects hash equally whatever the key order (list vs watch objects). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

function hash(value: unknown): string {
  return createHash('sha1').update(canonicalJson(value)).digest('base64');
}

export function isBridgeAnnotation(key: string): boolean {
  return key.startsWith(BRIDGE_ANNOTATION_PREFIX) || BRIDGE_WRITTEN_ANNOTATIONS.has(key);
}

/** Annotations that matter to the bridge: everything the user (or other controllers) wrote. */
export function userAnnotations(pod: Pod): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pod.metadata.annotations ?? {})) if (!isBridgeAnnotation(k)) out[k] = v;
  return out;
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isTerminal(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Changing = not terminal, and no group yet, or not Running, or not Ready, or terminating. */
export function isChanging(r: Pick<PodRecord, 'phase' | 'groupId' | 'ready' | 'deletion'>): boolean {
  if (isTerminal(r.phase)) return false;
  return !r.groupId || r.phase !== 'Running' || !r.ready || r.deletion !== undefined;
}

function parseTime(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

export function toRecord(pod: Pod, nowMs: number, prev?: PodRecord): PodRecord {
  const m = pod.metadata;
  const deletion = m.deletionTimestamp ? `${m.deletionTimestamp}/${m.deletionGracePeriodSeconds ?? ''}` : undefined;
  const rec: PodRecord = {
    namespace: m.namespace ?? 'default',
    name: m.name ?? '',
    uid: m.uid ?? '',
    resourceVersion: m.resourceVersion,
    specHash: hash(pod.spec),
    annotationsHash: hash(userAnnotations(pod)),
    deletion,
    phase: pod.status?.phase,
    ready: isReady(pod),
    groupId: m.annotations?.[GROUP_ANNOTATION] || undefined,
    syncedAt: parseTime(m.annotations?.[SYNCED_AT_ANNOTATION]),
    digest: podStatusDigest(pod.status),
    ...(pod.spec?.restartPolicy === 'Never' || pod.spec?.restartPolicy === 'OnFailure' ? { canFinish: true } : {}),
  };
  // A deletion starts a change of its own: a pod that was stuck (and so left out of the ticks) is ticked again
  // while its group terminates, so the tick, not a per-pod poll, finishes the deletion.
  const deletionStarted = rec.deletion !== undefined && prev?.deletion !== rec.deletion;
  if (isChanging(rec)) rec.changingSince = deletionStarted ? nowMs : (prev?.changingSince ?? nowMs);
  return rec;
}

/** Resource versions of an etcd-backed apiserver are integers; anything else disables the checkpoint. */
export function parseRv(rv: string | undefined): bigint | undefined {
  if (!rv || !/^\d{1,30}$/.test(rv)) return undefined;
  return BigInt(rv);
}
