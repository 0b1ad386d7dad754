/**
 * Query-parameter handling: the SDK flattens requests into `Container.1.Name`-style keys (parameter flattening, docs/architecture.md#sources);
 * `unflatten` rebuilds the nested wire-name object (1-based `.N` → arrays). Typed readers turn the string
 * values back into numbers and booleans and raise the cloud's InvalidParameter errors.
 */
import { invalidParameter, missingParameter } from './errors.js';

export type Wire = { [key: string]: WireValue };
export type WireValue = string | Wire | WireValue[];

export function unflatten(params: Record<string, string>): Wire {
  const root: Wire = {};
  for (const [key, value] of Object.entries(params)) {
    const parts = key.split('.');
    let cur: Wire | WireValue[] = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^[1-9][0-9]*$/.test(parts[i + 1] as string);
      if (Array.isArray(cur)) {
        const idx = Number(part) - 1;
        if (!Number.isInteger(idx) || idx < 0 || idx > 10_000) break;
        if (last) cur[idx] = value;
        else {
          const existing: WireValue | undefined = cur[idx];
          const next: Wire | WireValue[] =
            existing !== undefined && typeof existing !== 'string' ? existing : nextIsIndex ? [] : {};
          cur[idx] = next;
          cur = next;
        }
      } else {
        if (last) cur[part] = value;
        else {
          const existing: WireValue | undefined = cur[part];
          const next: Wire | WireValue[] =
            existing !== undefined && typeof existing !== 'string' ? existing : nextIsIndex ? [] : {};
          cur[part] = next;
          cur = next;
        }
      }
    }
  }
  return compact(root) as Wire;
}

/** Removes holes left by sparse indices (`Tag.1`, `Tag.3`). */
function compact(v: WireValue): WireValue {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(compact);
  const out: Wire = {};
  for (const [k, x] of Object.entries(v)) out[k] = compact(x);
  return out;
}

export function str(obj: Wire | undefined, key: string, path = key): string | undefined {
  const v = obj?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidParameter(path, 'expected a scalar value');
  return v;
}

export function num(obj: Wire | undefined, key: string, path = key): number | undefined {
  const v = str(obj, key, path);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw invalidParameter(path, `"${v}" is not a number`);
  return n;
}

export function int(obj: Wire | undefined, key: string, path = key): number | undefined {
  const n = num(obj, key, path);
  if (n !== undefined && !Number.isInteger(n)) throw invalidParameter(path, `"${n}" is not an integer`);
  return n;
}

export function bool(obj: Wire | undefined, key: string, path = key): boolean | undefined {
  const v = str(obj, key, path);
  if (v === undefined || v === '') return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalidParameter(path, `"${v}" is not a boolean`);
}

export function list(obj: Wire | undefined, key: string, path = key): WireValue[] {
  const v = obj?.[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidParameter(path, 'expected a list (.N)');
  return v;
}

export function objects(obj: Wire | undefined, key: string, path = key): Wire[] {
  return list(obj, key, path).map((x, i) => {
    if (typeof x === 'string' || Array.isArray(x)) throw invalidParameter(`${path}.${i + 1}`, 'expected an object');
    return x;
  });
}

export function strings(obj: Wire | undefined, key: string, path = key): string[] {
  return list(obj, key, path).map((x, i) => {
    if (typeof x !== 'string') throw invalidParameter(`${path}.${i + 1}`, 'expected a string');
    return x;
  });
}

export function sub(obj: Wire | undefined, key: string, path = key): Wire | undefined {
  const v = obj?.[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string' || Array.isArray(v)) throw invalidParameter(path, 'expected an object');
  return v;
}

/** A JSON array string parameter (`ContainerGroupIds`, `ExecContainerCommand.Command`). */
export function jsonStringArray(obj: Wire, key: string, max: number): string[] | undefined {
  const v = str(obj, key);
  if (v === undefined || v === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw invalidParameter(key, 'expected a JSON array of strings');
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
    throw invalidParameter(key, 'expected a JSON array of strings');
  }
  if (parsed.length > max) throw invalidParameter(key, `at most ${max} items`);
  return parsed as string[];
}

/** A string parameter that must be present and non-empty (MissingParameter otherwise). */
export function requireStr(obj: Wire | undefined, key: string, path = key): string {
  const v = str(obj, key, path);
  if (v === undefined || v === '') throw missingParameter(path);
  return v;
}
