/**
 * s.yaml resolved the way Serverless Devs 3 resolves it, with the values a user (or a test) supplies: `${env('X')}` and
 * `${env('X', 'default')}`, `${config('AccountID')}`, `${vars.*}` (scalars inline, objects whole) and
 * `${resources.<id>.output.<Key>}` for a `ros` resource (the stack's Outputs, computed from its template: an output
 * `Fn::GetAtt [Res, Prop]` whose property is `Ref: Param` takes the parameter the resource passes, else its default).
 * Used by `eci-bridge doctor` (with the env files) and test/unit/deploy/s-yaml.test.ts (with the largest values).
 *
 * It also measures each function's environment as FC counts it at most: FC allows 4 KB of environment variables
 * per function; `envBytes` is the UTF-8 length of the JSON object (keys, values, quotes and separators), which is
 * never less than the sum of the keys' and values' lengths.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { BridgeError } from '../../shared/errors.js';

export class SYamlError extends BridgeError {}

export const FC_ENV_LIMIT_BYTES = 4096;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Resource {
  component: string;
  props: Obj;
}
export interface SYaml {
  edition?: unknown;
  name?: unknown;
  access?: unknown;
  vars?: Obj;
  resources: Record<string, Resource>;
}

export interface ResolveInput {
  /** values for `${env('X')}` */
  env: Record<string, string | undefined>;
  /** `${config('AccountID')}` */
  accountId?: string;
}

export interface Resolved {
  doc: SYaml;
  /** `${env('X')}` without a default and without a value */
  missingEnv: string[];
  /** expressions this resolver does not know (left in place) */
  unsupported: string[];
}

export function loadSYaml(file: string): { doc: SYaml; dir: string } {
  const doc = parse(readFileSync(file, 'utf8')) as SYaml;
  if (!isObj(doc) || !isObj(doc.resources)) throw new SYamlError(`${file}: no resources`);
  return { doc, dir: dirname(file) };
}

function get(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const k of path.split('.')) cur = isObj(cur) ? cur[k] : undefined;
  return cur;
}

/** Every `${env('X'…)}` name in the file, sorted (what a user must or may set). */
export function envNames(doc: SYaml): { required: string[]; optional: string[] } {
  const text = JSON.stringify(doc);
  const required = new Set<string>();
  const optional = new Set<string>();
  for (const m of text.matchAll(/env\('(\w+)'(\s*,\s*'[^']*')?\)/g)) (m[2] ? optional : required).add(m[1] ?? '');
  return { required: [...required].sort(), optional: [...optional].filter((n) => !required.has(n)).sort() };
}

/** The Outputs of a `ros` resource's template, with its parameters as the stack would receive them. */
function rosOutputs(res: Resource, dir: string, resolveValue: (v: unknown) => unknown): Record<string, string> {
  const tpl = parse(readFileSync(join(dir, String(res.props.template)), 'utf8')) as Obj;
  const params = (resolveValue(res.props.parameters ?? {}) ?? {}) as Obj;
  const paramValue = (name: string): unknown => params[name] ?? get(tpl, `Parameters.${name}.Default`);
  const out: Record<string, string> = {};
  for (const [key, def] of Object.entries((tpl.Outputs ?? {}) as Obj)) {
    const att = get(def, 'Value.Fn::GetAtt');
    if (!Array.isArray(att)) continue;
    const [resName, prop] = att as [string, string];
    const v = get(tpl, `Resources.${resName}.Properties.${prop}`);
    const ref = isObj(v) && typeof v.Ref === 'string' ? paramValue(v.Ref) : v;
    if (ref !== undefined && !isObj(ref)) out[key] = String(ref);
  }
  return out;
}

export function resolveSYaml(doc: SYaml, dir: string, input: ResolveInput): Resolved {
  const missing = new Set<string>();
  const unsupported = new Set<string>();
  const outputs = new Map<string, Record<string, string>>();

  const expr = (e: string): unknown => {
    const env = /^env\('(\w+)'(?:\s*,\s*'([^']*)')?\)$/.exec(e);
    if (env?.[1]) {
      const v = input.env[env[1]];
      if (v !== undefined && v !== '') return v;
      if (env[2] !== undefined) return env[2];
      missing.add(env[1]);
      return '';
    }
    if (/^config\(["']AccountID["']\)$/.test(e)) {
      if (!input.accountId) missing.add('AccountID');
      return input.accountId ?? '';
    }
    const v = /^vars\.([\w.-]+)$/.exec(e);
    if (v?.[1]) return value(get(doc.vars, v[1]));
    const r = /^resources\.([\w-]+)\.output\.(\w+)$/.exec(e);
    if (r?.[1] && r[2]) {
      const res = doc.resources[r[1]];
      if (res?.component === 'ros') {
        if (!outputs.has(r[1])) outputs.set(r[1], rosOutputs(res, dir, value));
        const o = outputs.get(r[1])?.[r[2]];
        if (o !== undefined) return o;
      }
    }
    unsupported.add(e);
    return `\${${e}}`;
  };

  function value(v: unknown): unknown {
    if (typeof v === 'string') {
      const whole = /^\$\{([^}]+)\}$/.exec(v);
      if (whole?.[1]) return expr(whole[1]);
      return v.replace(/\$\{([^}]+)\}/g, (_m, e: string) => String(expr(e)));
    }
    if (Array.isArray(v)) return v.map(value);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
    return v;
  }

  const resolved = value(doc) as SYaml;
  return { doc: resolved, missingEnv: [...missing].sort(), unsupported: [...unsupported].sort() };
}

/** The fc3 resources (the functions). */
export function functionsOf(doc: SYaml): [string, Resource][] {
  return Object.entries(doc.resources).filter(([, r]) => r.component === 'fc3');
}

/** FC's measure of a function's environment, at most (see the top of this file). */
export function envBytes(env: unknown): number {
  return Buffer.byteLength(JSON.stringify(env ?? {}), 'utf8');
}

/** Every string in `v` that still holds a `${…}` expression, with its path. */
export function leftExpressions(v: unknown, path = ''): string[] {
  if (typeof v === 'string') return v.includes('${') ? [`${path}: ${v}`] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => leftExpressions(x, `${path}[${i}]`));
  if (isObj(v)) return Object.entries(v).flatMap(([k, x]) => leftExpressions(x, path ? `${path}.${k}` : k));
  return [];
}
