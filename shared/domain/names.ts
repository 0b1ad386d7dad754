/**
 * Identity of a pod's container group: its ECI name, its tags and the pod annotations the bridge records.
 * Lookups are by the pod-UID tag or the recorded group id, never by name (docs/architecture.md#the-flow, point 2); the name is for
 * people, but it is still unique and stable. The cost tags (namespace, owner, team labels) are built here once, for
 * the translation (tags on the group) and for billing (the report's owner), so ECI's split bills line up with it.
 */
import type { EciKeyValue } from './eci.js';
import type { Pod } from './k8s.js';

/** Tag keys every container group carries (ECI tag keys ≤ 128 chars, values ≤ 128; no `aliyun`/`acs:` prefix). */
export const TAG_CLUSTER = 'eci-bridge.io/cluster';
export const TAG_VNODE = 'eci-bridge.io/vnode';
export const TAG_NAMESPACE = 'eci-bridge.io/namespace';
export const TAG_POD_NAME = 'eci-bridge.io/pod-name';
export const TAG_POD_UID = 'eci-bridge.io/pod-uid';
export const TAG_OWNER_KIND = 'eci-bridge.io/owner-kind';
export const TAG_OWNER_NAME = 'eci-bridge.io/owner-name';
export const BRIDGE_TAG_KEYS = [
  TAG_CLUSTER,
  TAG_VNODE,
  TAG_NAMESPACE,
  TAG_POD_NAME,
  TAG_POD_UID,
  TAG_OWNER_KIND,
  TAG_OWNER_NAME,
] as const;

/** Pod annotation where the bridge records the container group id (same key as ACK's virtual node). */
export const ANNOTATION_INSTANCE_ID = 'k8s.aliyun.com/eci-instance-id';

export const MAX_TAGS = 20;
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 128;
export const MAX_GROUP_NAME = 128;
export const MIN_GROUP_NAME = 2;
export const GROUP_NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** 32-bit FNV-1a with a seed; pure and stable across runs. */
function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** 10 lowercase hex characters (40 bits) of a stable hash. */
export function shortHash(s: string): string {
  const a = fnv1a(s, 0x811c9dc5).toString(16).padStart(8, '0');
  const b = fnv1a(s, 0x9747b28c).toString(16).padStart(8, '0');
  return (a + b).slice(0, 10);
}

/** True when `name` obeys ECI's ContainerGroupName rules. */
export function isValidGroupName(name: string): boolean {
  return name.length >= MIN_GROUP_NAME && name.length <= MAX_GROUP_NAME && GROUP_NAME_RE.test(name);
}

/**
 * ContainerGroupName for a pod: `<namespace>-<name>` when that is already a valid, unambiguous ECI name (the
 * namespace has no `-`, the name no `.`, and it fits in 128 characters); otherwise the sanitised form (`.` and
 * any other invalid character → `-`), shortened to leave room, plus `-` and 10 hex characters of a hash of
 * `namespace/name`. Stable for a given namespace/name; distinct pods get distinct names (up to a 40-bit hash).
 */
export function containerGroupName(namespace: string, name: string): string {
  const plain = `${namespace}-${name}`;
  if (!namespace.includes('-') && !name.includes('.') && isValidGroupName(plain)) return plain;
  const hash = shortHash(`${namespace}/${name}`);
  const room = MAX_GROUP_NAME - hash.length - 1;
  const base = plain
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, room)
    .replace(/^-+|-+$/g, '');
  return base ? `${base}-${hash}` : `p-${hash}`;
}

/** A tag value within ECI's limit: kept when it fits, else truncated with a hash suffix (stable). */
export function tagValue(value: string): string {
  const v = value.replace(/^acs:/i, 'acs-').replace(/https?:\/\//gi, '');
  if (v.length <= MAX_TAG_VALUE) return v;
  const hash = shortHash(value);
  return `${v.slice(0, MAX_TAG_VALUE - hash.length - 1)}-${hash}`;
}

/** Problems of a user-supplied tag (ECI/Alibaba tag rules), or undefined when valid. */
export function tagProblem(key: string, value: string): string | undefined {
  if (key.length === 0) return 'tag key is empty';
  if (key.length > MAX_TAG_KEY) return `tag key longer than ${MAX_TAG_KEY} characters`;
  if (/^(aliyun|acs:)/i.test(key)) return 'tag key must not start with "aliyun" or "acs:"';
  if (/https?:\/\//i.test(key) || /https?:\/\//i.test(value)) return 'tags must not contain http:// or https://';
  if (value.length > MAX_TAG_VALUE) return `tag value longer than ${MAX_TAG_VALUE} characters`;
  if (/^acs:/i.test(value)) return 'tag value must not start with "acs:"';
  return undefined;
}

// ---------------------------------------------------------------- owners and cost tags

export interface Owner {
  kind: string;
  name: string;
}

/**
 * The workload that owns a pod: the controller reference, lifted from a ReplicaSet to its Deployment when the pod
 * carries `pod-template-hash` (the ReplicaSet is named `<deployment>-<hash>`); none for a bare pod. The one owner
 * rule: the group's owner tags and the billing report both use it.
 */
export function podOwner(pod: Pod): Owner | undefined {
  const refs = pod.metadata.ownerReferences ?? [];
  const ref = refs.find((r) => r?.controller) ?? refs[0];
  if (!ref) return undefined;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) {
    return { kind: 'Deployment', name: ref.name.slice(0, -(hash.length + 1)) };
  }
  return { kind: ref.kind, name: ref.name };
}

/**
 * The controller that would replace this pod at once if it failed: any controller owner except a Job (a Job
 * counts failures against its backoffLimit and stops). A refused pod of such an owner stays Pending instead of
 * failing, so its ReplicaSet (StatefulSet, ...) sees a replica and creates no replacement (no storm).
 */
export function replacingController(pod: Pod): Owner | undefined {
  const ref = (pod.metadata.ownerReferences ?? []).find((r) => r?.controller);
  if (!ref || ref.kind === 'Job') return undefined;
  return podOwner(pod);
}

/** Tag keys on every container group, so ECI's split bills line up with the report. */
export const COST_TAG_KEYS = {
  namespace: TAG_NAMESPACE,
  ownerKind: TAG_OWNER_KIND,
  ownerName: TAG_OWNER_NAME,
} as const;

/** At most this many team-label tags: the bridge's own tags must always fit in ECI's 20. */
export const MAX_TEAM_LABELS = MAX_TAGS - BRIDGE_TAG_KEYS.length;

/**
 * Why a list of team labels (BILLING_TEAM_LABELS) cannot become tag keys, or undefined when it can: too many to fit
 * beside the bridge's tags, a bridge tag key, or a key ECI refuses.
 */
export function teamLabelsProblem(labels: readonly string[]): string | undefined {
  if (labels.length > MAX_TEAM_LABELS) {
    return `${labels.length} team labels; at most ${MAX_TEAM_LABELS} fit beside the bridge's ${BRIDGE_TAG_KEYS.length} tags (ECI allows ${MAX_TAGS})`;
  }
  for (const l of labels) {
    if ((BRIDGE_TAG_KEYS as readonly string[]).includes(l)) return `team label '${l}' is one of the bridge's own tag keys`;
    const p = tagProblem(l, '');
    if (p) return `team label '${l}': ${p}`;
  }
  if (new Set(labels).size !== labels.length) return 'team labels are listed twice';
  return undefined;
}

/**
 * The cost tags of a pod: namespace, owner kind and name (`podOwner`), and one tag per configured team label present
 * on the pod (key = the label name, value = the label value). Values go through `tagValue` (ECI's 128 characters).
 */
export function costTags(pod: Pod, teamLabels: readonly string[] = []): EciKeyValue[] {
  const tags: EciKeyValue[] = [];
  const add = (Key: string, Value: string | undefined): void => {
    if (Value !== undefined && Value !== '' && !tags.some((t) => t.Key === Key)) tags.push({ Key, Value: tagValue(Value) });
  };
  add(COST_TAG_KEYS.namespace, pod.metadata.namespace);
  const owner = podOwner(pod);
  add(COST_TAG_KEYS.ownerKind, owner?.kind);
  add(COST_TAG_KEYS.ownerName, owner?.name);
  for (const l of teamLabels) add(l, pod.metadata.labels?.[l]);
  return tags;
}
