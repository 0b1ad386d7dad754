/**
 * Container environment: env values, valueFrom (configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef),
 * envFrom (with prefix) and `$(VAR)` expansion, as the kubelet resolves them — except `status.podIP` (and the
 * host IP, which on ECI is the pod IP), which ECI resolves itself through `EnvironmentVar.FieldRef`.
 */
import type { Collector } from './collector.js';
import { fromBase64 } from './collector.js';
import type { EciEnvironmentVar } from './eci.js';
import type { Container, EnvVar, Pod } from './k8s.js';
import type { Sources } from './references.js';
import { parseQuantity } from './resources.js';

/** `resourceFieldRef` value source: base-unit amount for a container's resource (e.g. `limits.cpu`). */
export type ResourceValue = (containerName: string, resource: string) => number | undefined;

export interface EnvContext {
  pod: Pod;
  sources: Sources;
  col: Collector;
  nodeName: string;
  resourceValue: ResourceValue;
  /** Variables every container gets first (KUBERNETES_SERVICE_HOST, ...). */
  base: { name: string; value: string }[];
}

interface Entry {
  value?: string;
  fieldRef?: string;
  secret: boolean;
}

export interface ResolvedEnv {
  vars: EciEnvironmentVar[];
  /** Literal values by name, for `$(VAR)` expansion of command, args and subPathExpr. */
  literal: Map<string, string>;
  /** Names whose value came from a Secret. */
  secretNames: Set<string>;
}

const ENV_NAME_RE = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const IP_FIELDS = new Set(['status.podIP', 'status.podIPs', 'status.hostIP', 'status.hostIPs']);

/** Kubernetes `$(VAR)` expansion: `$$` escapes, unknown references stay as written. */
export function expand(
  s: string,
  literal: Map<string, string>,
  secretNames?: Set<string>,
): { value: string; usedSecret: boolean } {
  let usedSecret = false;
  const value = s.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    if (name !== undefined && literal.has(name)) {
      if (secretNames?.has(name)) usedSecret = true;
      return literal.get(name) ?? '';
    }
    return m;
  });
  return { value, usedSecret };
}

function fieldRefValue(ctx: EnvContext, fieldPath: string): { value?: string; fieldRef?: string } | undefined {
  const md = ctx.pod.metadata ?? {};
  const sel = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (sel?.[2] !== undefined) {
    const map = sel[1] === 'labels' ? md.labels : md.annotations;
    return { value: map?.[sel[2]] ?? '' };
  }
  switch (fieldPath) {
    case 'metadata.name':
      return { value: md.name ?? '' };
    case 'metadata.namespace':
      return { value: md.namespace ?? '' };
    case 'metadata.uid':
      return { value: md.uid ?? '' };
    case 'spec.nodeName':
      return { value: ctx.pod.spec?.nodeName || ctx.nodeName };
    case 'spec.serviceAccountName':
      return { value: ctx.pod.spec?.serviceAccountName || ctx.pod.spec?.serviceAccount || 'default' };
    default:
      return IP_FIELDS.has(fieldPath) ? { fieldRef: 'status.podIP' } : undefined;
  }
}

/** Formats a resourceFieldRef amount like the kubelet: divided by the divisor and rounded up. */
export function resourceString(amount: number, resource: string, divisor: string | number | undefined): string {
  const d = parseQuantity(divisor ?? (resource.endsWith('cpu') ? '1' : '1')) || 1;
  return String(Math.ceil(amount / d - 1e-9));
}

function resolveOne(ctx: EnvContext, c: Container, e: EnvVar, field: string): Entry | undefined {
  const { col, sources } = ctx;
  const vf = e.valueFrom;
  if (!vf) return { value: e.value ?? '', secret: false };
  if (vf.fieldRef) {
    const r = fieldRefValue(ctx, vf.fieldRef.fieldPath);
    if (!r) {
      col.refuse('UnsupportedFieldRef', `${field}.valueFrom.fieldRef`, `fieldRef ${vf.fieldRef.fieldPath} is not supported`);
      return undefined;
    }
    return { ...r, secret: false };
  }
  if (vf.resourceFieldRef) {
    const ref = vf.resourceFieldRef;
    const amount = ctx.resourceValue(ref.containerName || c.name, ref.resource);
    if (amount === undefined) {
      col.refuse('UnsupportedFieldRef', `${field}.valueFrom.resourceFieldRef`, `resource ${ref.resource} is not supported`);
      return undefined;
    }
    return { value: resourceString(amount, ref.resource, ref.divisor), secret: false };
  }
  const cmRef = vf.configMapKeyRef;
  if (cmRef) {
    const name = cmRef.name ?? '';
    const r = sources.configMap(name);
    if (r.kind === 'unresolved') {
      return { value: col.unresolved(`ConfigMap ${name} key ${cmRef.key}`, `${field}.valueFrom.configMapKeyRef`), secret: false };
    }
    const v = r.kind === 'found' ? (r.value.data?.[cmRef.key] ?? decodeBinary(r.value.binaryData?.[cmRef.key])) : undefined;
    if (v !== undefined) return { value: v, secret: false };
    return missing(ctx, cmRef.optional, r.kind === 'missing' ? 'MissingConfigMap' : 'MissingKey', `${field}.valueFrom.configMapKeyRef`, r.kind === 'missing' ? `ConfigMap ${name} not found` : `key ${cmRef.key} not found in ConfigMap ${name}`);
  }
  const sRef = vf.secretKeyRef;
  if (sRef) {
    const name = sRef.name ?? '';
    const r = sources.secret(name);
    if (r.kind === 'unresolved') {
      return { value: col.unresolved(`Secret ${name} key ${sRef.key}`, `${field}.valueFrom.secretKeyRef`), secret: false };
    }
    const raw = r.kind === 'found' ? r.value.data?.[sRef.key] : undefined;
    if (raw !== undefined) return { value: fromBase64(raw), secret: true };
    return missing(ctx, sRef.optional, r.kind === 'missing' ? 'MissingSecret' : 'MissingKey', `${field}.valueFrom.secretKeyRef`, r.kind === 'missing' ? `Secret ${name} not found` : `key ${sRef.key} not found in Secret ${name}`);
  }
  return { value: e.value ?? '', secret: false };
}

function decodeBinary(b: string | undefined): string | undefined {
  return b === undefined ? undefined : fromBase64(b);
}

function missing(
  ctx: EnvContext,
  optional: boolean | undefined,
  code: 'MissingConfigMap' | 'MissingSecret' | 'MissingKey',
  field: string,
  message: string,
): undefined {
  if (optional) ctx.col.warn('OptionalSourceMissing', field, `${message} (optional: skipped)`);
  else ctx.col.refuse(code, field, message);
  return undefined;
}

/** Resolves a container's environment; `wirePath` is the container's request path (e.g. `Container[0]`). */
export function resolveEnv(ctx: EnvContext, c: Container, path: string, wirePath: string): ResolvedEnv {
  const entries = new Map<string, Entry>();
  for (const b of ctx.base) entries.set(b.name, { value: b.value, secret: false });
  (c.envFrom ?? []).forEach((f, i) => {
    addEnvFrom(ctx, entries, f, `${path}.envFrom[${i}]`);
  });
  const literal = new Map<string, string>();
  const secretNames = new Set<string>();
  const snapshot = (): void => {
    literal.clear();
    secretNames.clear();
    for (const [k, v] of entries) {
      if (v.value !== undefined) literal.set(k, v.value);
      if (v.secret) secretNames.add(k);
    }
  };
  snapshot();
  (c.env ?? []).forEach((e, i) => {
    if (!e || typeof e.name !== 'string') return;
    const r = resolveOne(ctx, c, e, `${path}.env[${i}]`);
    if (!r) return;
    if (r.value !== undefined && !e.valueFrom) {
      const x = expand(r.value, literal, secretNames);
      r.value = x.value;
      r.secret = x.usedSecret;
    }
    entries.delete(e.name);
    entries.set(e.name, r);
    if (r.value !== undefined) literal.set(e.name, r.value);
    else literal.delete(e.name);
    if (r.secret) secretNames.add(e.name);
    else secretNames.delete(e.name);
  });
  const vars: EciEnvironmentVar[] = [];
  for (const [k, v] of entries) {
    if (v.fieldRef) vars.push({ Key: k, FieldRef: { FieldPath: v.fieldRef } });
    else {
      if (v.secret) ctx.col.secretPaths.add(`${wirePath}.EnvironmentVar[${vars.length}].Value`);
      vars.push({ Key: k, Value: v.value ?? '' });
    }
  }
  return { vars, literal, secretNames };
}

function addEnvFrom(
  ctx: EnvContext,
  entries: Map<string, Entry>,
  f: NonNullable<Container['envFrom']>[number],
  field: string,
): void {
  const prefix = f?.prefix ?? '';
  const put = (data: Record<string, string>, secret: boolean): void => {
    for (const [k, v] of Object.entries(data)) {
      const name = prefix + k;
      if (!ENV_NAME_RE.test(name)) {
        ctx.col.warn('EnvFromKeySkipped', field, `key "${k}" is not a valid environment variable name`);
        continue;
      }
      entries.delete(name);
      entries.set(name, { value: secret ? fromBase64(v) : v, secret });
    }
  };
  if (f?.configMapRef) {
    const name = f.configMapRef.name ?? '';
    const r = ctx.sources.configMap(name);
    if (r.kind === 'unresolved') {
      const ph = ctx.col.unresolved(`ConfigMap ${name} (envFrom)`, `${field}.configMapRef`);
      entries.set(`${prefix}__UNRESOLVED_CONFIGMAP_${name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`, { value: ph, secret: false });
    } else if (r.kind === 'missing') {
      missing(ctx, f.configMapRef.optional, 'MissingConfigMap', `${field}.configMapRef`, `ConfigMap ${name} not found`);
    } else {
      put(r.value.data ?? {}, false);
    }
  }
  if (f?.secretRef) {
    const name = f.secretRef.name ?? '';
    const r = ctx.sources.secret(name);
    if (r.kind === 'unresolved') {
      const ph = ctx.col.unresolved(`Secret ${name} (envFrom)`, `${field}.secretRef`);
      entries.set(`${prefix}__UNRESOLVED_SECRET_${name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`, { value: ph, secret: false });
    } else if (r.kind === 'missing') {
      missing(ctx, f.secretRef.optional, 'MissingSecret', `${field}.secretRef`, `Secret ${name} not found`);
    } else {
      put(r.value.data ?? {}, true);
    }
  }
}
