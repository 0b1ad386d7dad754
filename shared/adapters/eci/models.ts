/**
 * Wire names <-> the SDK's Tea models, driven by each model's own `names()` / `types()` (so `NFSVolume`, `TTY` and
 * friends map exactly as the SDK does). Pure: takes the model classes as arguments and imports nothing of the SDK,
 * so the adapter can use it before the SDK is loaded (./sdk.ts is loaded on the first call).
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

function convert(type: unknown, value: unknown, path: string, dropped: string[]): unknown {
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
function wireToTs(model: TeaModelClass, wire: Record<string, unknown>, path: string, dropped: string[]): Record<string, unknown> {
  const names = model.names();
  const types = model.types();
  const byWire = new Map<string, string>();
  for (const [ts, w] of Object.entries(names)) byWire.set(w, ts);
  const out: Record<string, unknown> = {};
  for (const [w, value] of Object.entries(wire)) {
    const ts = byWire.get(w);
    if (ts === undefined) {
      if (value !== undefined) dropped.push(path ? `${path}.${w}` : w);
      continue;
    }
    const v = convert(types[ts], value, path ? `${path}.${w}` : w, dropped);
    if (v !== undefined) out[ts] = v;
  }
  return out;
}

/** Builds an SDK request model from a wire-name object; `dropped` lists fields this SDK version does not know. */
export function toSdkModel<T extends object>(
  model: new (map?: Record<string, unknown>) => T,
  wire: Record<string, unknown>,
): { request: T; dropped: string[] } {
  const dropped: string[] = [];
  const map = wireToTs(model as unknown as TeaModelClass, wire, '', dropped);
  return { request: new model(map), dropped };
}

/** A Tea model (response body) → its wire-name map. */
export function toWire(model: { toMap(): Record<string, unknown> }): Record<string, unknown> {
  return model.toMap();
}
