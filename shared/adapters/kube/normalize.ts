/**
 * client-node hands back two shapes: objects from typed calls (get, list, create, patch) are deserialised class
 * instances with `Date` timestamps, while watch events carry raw JSON with RFC 3339 strings. Everything leaving
 * the adapter goes through `toPlain`, so the rest of the bridge sees only the plain JSON of shared/domain/k8s.ts
 * and an object compares equal whichever way it arrived.
 */
import type { Lease, Node, ObjectMeta } from '../../domain/k8s.js';

/** metav1.Time: RFC 3339 in UTC with whole seconds, as the API server writes it (`2026-11-27T20:14:23Z`). */
export function formatTime(d: Date): string {
  const iso = d.toISOString();
  return d.getUTCMilliseconds() === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

/**
 * metav1.MicroTime: RFC 3339 with exactly 6 fractional digits (`2026-11-27T20:14:23.123000Z`); the API server
 * rejects 3 (what `Date.toISOString()` gives). Accepts a Date, epoch milliseconds or any RFC 3339 string; a string
 * that already has 6 digits is kept as is (its microseconds are not lost).
 */
export function formatMicroTime(value: Date | number | string): string {
  if (typeof value === 'string') {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(value);
    if (m?.[3] === 'Z') return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}Z`;
    const parsed = Date.parse(value);
    if (Number.isNaN(parsed)) throw new RangeError(`not an RFC 3339 time: ${JSON.stringify(value)}`);
    return formatMicroTime(parsed);
  }
  const d = typeof value === 'number' ? new Date(value) : value;
  return `${d.toISOString().slice(0, 23)}000Z`;
}

/**
 * Deep copy into plain JSON: Dates → RFC 3339 (`formatTime`), class instances → plain objects, `undefined`
 * members dropped. Raw JSON passes through as a copy. (client-node renames one member, ListMeta `continue` →
 * `_continue`; list metadata never leaves the adapter, so it is not mapped back here: a ConfigMap key may
 * legitimately be `_continue`.)
 */
export function toPlain<T>(value: unknown): T {
  return plain(value, 0) as T;
}

function plain(value: unknown, depth: number): unknown {
  if (depth > 64) throw new RangeError('object nesting too deep to normalise');
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return formatTime(value);
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] = plain(v, depth + 1);
  }
  return out;
}

/** A create carries no server-set identity (the API server rejects a resourceVersion on create). */
export function forCreate<T extends { metadata: ObjectMeta }>(obj: T): T {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** A Lease as written: MicroTime fields get exactly 6 fractional digits whatever the caller passed. */
export function leaseForWire(lease: Lease): Lease {
  const spec = lease.spec ? { ...lease.spec } : undefined;
  if (spec?.renewTime) spec.renewTime = formatMicroTime(spec.renewTime);
  if (spec?.acquireTime) spec.acquireTime = formatMicroTime(spec.acquireTime);
  return { ...lease, spec };
}

/** Every NodeAddressType of core/v1. */
const NODE_ADDRESS_TYPES = ['Hostname', 'InternalIP', 'ExternalIP', 'InternalDNS', 'ExternalDNS'] as const;

/**
 * The strategic-merge body of a nodes/status patch. `addresses` merge by `type`, so the types not given are deleted
 * explicitly and the given list replaces the node's (a Hostname an older version published would otherwise stay).
 */
export function nodeStatusPatch(status: NonNullable<Node['status']>): { status: Record<string, unknown> } {
  const given = status.addresses;
  if (!given) return { status };
  const deletes = NODE_ADDRESS_TYPES.filter((t) => !given.some((a) => a.type === t)).map((type) => ({ type, $patch: 'delete' }));
  return { status: { ...status, addresses: [...given, ...deletes] } };
}
