/**
 * Wire names <-> the SDK's Tea models, driven by each model's own `names()` / `types()` (so `NFSVolume`, `TTY` and
 * friends map exactly as the SDK does). Pure: takes the model classes as arguments and imports nothing of the SDK,
 * so the adapter can use it before the SDK is loaded (./sdk.ts is loaded on the first call).
 *
 * A field the SDK's model does not know (ECI documents fields newer than @alicloud/eci20180808 2.0.3:
 * `GpuDriverVersion`, `ComputeCategory.N`, `MaxPendingMinute`) is not lost: `toSdkModel` returns it flattened into
 * the query parameters ECI expects (`flattenQuery`, the SDK's own `OpenApiUtil.query` rules; docs/architecture.md#sources), and
 * the adapter sends them on the same signed call (./sdk.ts `createContainerGroup`).
 */
// ---------------------------------------------------------------- wire <-> model

interface TeaModelClass {
  names(): Record<string, string>;
  types(): Record<string, unknown>;
  new (map?: Record<string, unknown>): object;
}

function isModelClass(t: unknown): t is TeaModelClass {
  return typeof t === 'function' && typeof (t as { names?: unknown }).names === 'function';
}

function isArrayType(t: unknown): t is { type: 'array'; itemType: unknown } {
  return typeof t === 'object' && t !== null && (t as { type?: unknown }).type === 'array';
}

/** A field the SDK model does not have, with its wire path (`.N` 1-based in lists) and value. */
interface Beyond {
  path: string;
  value: unknown;
}

function convert(type: unknown, value: unknown, path: string, dropped: Beyond[]): unknown {
  if (value === undefined || value === null) return undefined;
  if (isModelClass(type)) {
    if (typeof value !== 'object' || Array.isArray(value)) return undefined;
    return wireToTs(type, value as Record<string, unknown>, path, dropped);
  }
  if (isArrayType(type)) {
    if (!Array.isArray(value)) return undefined;
    return value.map((v, i) => convert(type.itemType, v, `${path}.${i + 1}`, dropped));
  }
  return value;
}

/** A wire-name object → the TS-name map a Tea model's constructor takes (recursively). Unknown fields are dropped. */
function wireToTs(model: TeaModelClass, wire: Record<string, unknown>, path: string, dropped: Beyond[]): Record<string, unknown> {
  const names = model.names();
  const types = model.types();
  const byWire = new Map<string, string>();
  for (const [ts, w] of Object.entries(names)) byWire.set(w, ts);
  const out: Record<string, unknown> = {};
  for (const [w, value] of Object.entries(wire)) {
    const ts = byWire.get(w);
    if (ts === undefined) {
      if (value !== undefined) dropped.push({ path: path ? `${path}.${w}` : w, value });
      continue;
    }
    const v = convert(types[ts], value, path ? `${path}.${w}` : w, dropped);
    if (v !== undefined) out[ts] = v;
  }
  return out;
}

/**
 * Builds an SDK request model from a wire-name object. `extraQuery` holds every field this SDK version does not
 * know, flattened into query parameters (empty when the model knows them all).
 */
export function toSdkModel<T extends object>(
  model: new (map?: Record<string, unknown>) => T,
  wire: Record<string, unknown>,
): { request: T; extraQuery: Record<string, string> } {
  const dropped: Beyond[] = [];
  const map = wireToTs(model as unknown as TeaModelClass, wire, '', dropped);
  const extraQuery: Record<string, string> = {};
  for (const d of dropped) flattenQuery(d.path, d.value, extraQuery);
  return { request: new model(map), extraQuery };
}

/**
 * RPC query flattening, as the SDK's `OpenApiUtil.query` does it: lists → `.N` (1-based), objects → `.Field`,
 * scalars → `String(value)`; undefined and null are left out.
 */
export function flattenQuery(prefix: string, value: unknown, into: Record<string, string> = {}): Record<string, string> {
  if (value === undefined || value === null) return into;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) flattenQuery(`${prefix}.${i + 1}`, v, into);
  } else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) flattenQuery(prefix ? `${prefix}.${k}` : k, v, into);
  else into[prefix] = String(value);
  return into;
}

/** A Tea model (response body) → its wire-name map. */
export function toWire(model: { toMap(): Record<string, unknown> }): Record<string, unknown> {
  return model.toMap();
}
