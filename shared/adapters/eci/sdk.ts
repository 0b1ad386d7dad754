/**
 * The `@alicloud/eci20180808` edge: builds the SDK client (endpoint, protocol, timeouts, a credentials provider
 * asked on every request so rotated STS keys are used), and converts between the domain's wire-name objects and
 * the SDK's Tea models, driven by each model's own `names()` / `types()` (so `NFSVolume`, `TTY` and friends map
 * exactly as the SDK does).
 */
import * as eciSdk from '@alicloud/eci20180808';

// A CJS module imported from ESM: `default` is the module object (Node, tsx, esbuild's CJS output and tsc's
// NodeNext view agree), so the client class is `default.default`.
export const EciSdkClient = eciSdk.default.default;
export type EciSdkClient = InstanceType<typeof EciSdkClient>;
type EciSdkConfig = ConstructorParameters<typeof EciSdkClient>[0];
export { eciSdk };

export interface EciCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token (FC passes fresh ones per invocation) */
  securityToken?: string;
}

export type EciCredentialsProvider = () => EciCredentials | Promise<EciCredentials>;

export interface EciClientOptions {
  regionId: string;
  /** host[:port], no scheme; default `eci-vpc.<region>.aliyuncs.com` */
  endpoint?: string;
  protocol?: 'https' | 'http';
  credentials: EciCredentials | EciCredentialsProvider;
  /** `'v2'` = legacy HMAC-SHA1; default ACS3-HMAC-SHA256 */
  signatureAlgorithm?: 'v2';
  readTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** called with every credential set used, so the adapter can keep them out of messages */
  onCredentials?: (c: EciCredentials) => void;
}

export function defaultEndpoint(regionId: string): string {
  return `eci-vpc.${regionId}.aliyuncs.com`;
}

/** Builds the SDK client. The credentials are never cached by us: the SDK asks the provider on every request. */
export function createEciSdkClient(opts: EciClientOptions): EciSdkClient {
  const provider: EciCredentialsProvider =
    typeof opts.credentials === 'function' ? opts.credentials : () => opts.credentials as EciCredentials;
  const credential = {
    getCredential: async () => {
      const c = await provider();
      opts.onCredentials?.(c);
      return {
        accessKeyId: c.accessKeyId,
        accessKeySecret: c.accessKeySecret,
        securityToken: c.securityToken,
        type: c.securityToken ? 'sts' : 'access_key',
      };
    },
  };
  // The SDK's Config is a Tea model that only reads these fields, and `credential` only needs getCredential():
  // one cast at the SDK edge.
  const config = {
    credential,
    regionId: opts.regionId,
    endpoint: opts.endpoint ?? defaultEndpoint(opts.regionId),
    protocol: opts.protocol ?? 'https',
    signatureAlgorithm: opts.signatureAlgorithm,
    readTimeout: opts.readTimeoutMs ?? 15_000,
    connectTimeout: opts.connectTimeoutMs ?? 5_000,
  } as unknown as EciSdkConfig;
  return new EciSdkClient(config);
}

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
