/**
 * Identity of a pod's container group: its ECI name, its tags and the pod annotations the bridge records.
 * Lookups are by the pod-UID tag or the recorded group id, never by name (ARCHITECTURE.md §2); the name is for
 * people, but it is still unique and stable.
 */

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
