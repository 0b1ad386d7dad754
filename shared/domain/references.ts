/**
 * What a pod references outside itself (ConfigMaps, Secrets, service-account tokens, pull secrets), so the
 * caller can fetch them before translating and translation stays pure; and the lookup translation uses.
 */
import type { ConfigMap, Pod, Secret } from './k8s.js';

/** A pod-bound TokenRequest the caller must mint (path-independent: one per distinct request). */
export interface TokenRequestSpec {
  serviceAccountName: string;
  audience?: string;
  expirationSeconds: number;
}

export interface PodReferences {
  configMaps: string[];
  secrets: string[];
  serviceAccountTokens: TokenRequestSpec[];
  imagePullSecrets: string[];
}

/** Kubernetes' default for projected tokens (the kubelet asks for 3607 s on kube-api-access-*). */
export const DEFAULT_TOKEN_EXPIRATION = 3600;
/** The ConfigMap every namespace gets with the cluster CA (`ca.crt`). */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

/** Marks an object or token that could not be read offline: translation writes a placeholder instead. */
export const UNRESOLVED = Symbol('unresolved');
export type Resolved<T> = T | typeof UNRESOLVED;

export function serviceAccountOf(pod: Pod): string {
  return name(pod?.spec?.serviceAccountName) || name(pod?.spec?.serviceAccount) || 'default';
}

/**
 * The pod comes from the API server, a file or a queue-triggered read, and `validate` may not have run yet: an array
 * field that is not an array reads as empty, and a name that is not a non-empty string as absent, so a malformed pod
 * yields fewer references instead of a throw (translation then refuses it with reasons).
 */
function list<T>(v: readonly T[] | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}
function name(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The key of `tokens` in the translate context for one token request. */
export function tokenKey(t: TokenRequestSpec): string {
  return `${t.serviceAccountName}|${t.audience ?? ''}|${t.expirationSeconds}`;
}

/** Everything the caller must fetch before translating the pod. Never throws. */
export function podReferences(pod: Pod): PodReferences {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  const tokens = new Map<string, TokenRequestSpec>();
  const spec = pod?.spec;
  const sa = serviceAccountOf(pod);
  const add = (into: Set<string>, v: unknown): void => {
    const n = name(v);
    if (n) into.add(n);
  };
  const containers = [...list(spec?.initContainers), ...list(spec?.containers)];
  for (const c of containers) {
    for (const e of list(c?.env)) {
      add(cms, e?.valueFrom?.configMapKeyRef?.name);
      add(secrets, e?.valueFrom?.secretKeyRef?.name);
    }
    for (const f of list(c?.envFrom)) {
      add(cms, f?.configMapRef?.name);
      add(secrets, f?.secretRef?.name);
    }
  }
  for (const v of list(spec?.volumes)) {
    add(cms, v?.configMap?.name);
    add(secrets, v?.secret?.secretName);
    for (const src of list(v?.projected?.sources)) {
      add(cms, src?.configMap?.name);
      add(secrets, src?.secret?.name);
      const t = src?.serviceAccountToken;
      if (t && typeof t === 'object') {
        // the same request (and key) volumes.ts builds when it looks the token up
        const req: TokenRequestSpec = {
          serviceAccountName: sa,
          ...(t.audience ? { audience: t.audience } : {}),
          expirationSeconds: t.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION,
        };
        tokens.set(tokenKey(req), req);
      }
    }
  }
  const pulls = list(spec?.imagePullSecrets)
    .map((s) => name(s?.name))
    .filter((n): n is string => n !== undefined);
  return {
    configMaps: [...cms].sort(),
    secrets: [...secrets].sort(),
    serviceAccountTokens: [...tokens.values()],
    imagePullSecrets: [...new Set(pulls)].sort(),
  };
}

export type Lookup<T> = { kind: 'found'; value: T } | { kind: 'missing' } | { kind: 'unresolved' };

/** The resolved objects translation reads, with the offline policy applied. */
export class Sources {
  constructor(
    private readonly configMaps: ReadonlyMap<string, Resolved<ConfigMap>>,
    private readonly secrets: ReadonlyMap<string, Resolved<Secret>>,
    private readonly tokens: ReadonlyMap<string, Resolved<string>>,
    /** When true, anything absent is treated as unresolvable offline rather than missing. */
    private readonly offline: boolean,
  ) {}

  private get<T>(m: ReadonlyMap<string, Resolved<T>>, k: string): Lookup<T> {
    const v = m.get(k);
    if (v === UNRESOLVED || (v === undefined && this.offline)) return { kind: 'unresolved' };
    if (v === undefined) return { kind: 'missing' };
    return { kind: 'found', value: v };
  }
  configMap(name: string): Lookup<ConfigMap> {
    return this.get(this.configMaps, name);
  }
  secret(name: string): Lookup<Secret> {
    return this.get(this.secrets, name);
  }
  token(key: string): Lookup<string> {
    return this.get(this.tokens, key);
  }
}
