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
  return pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default';
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
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  for (const c of containers) {
    for (const e of c?.env ?? []) {
      const cm = e?.valueFrom?.configMapKeyRef?.name;
      const s = e?.valueFrom?.secretKeyRef?.name;
      if (cm) cms.add(cm);
      if (s) secrets.add(s);
    }
    for (const f of c?.envFrom ?? []) {
      if (f?.configMapRef?.name) cms.add(f.configMapRef.name);
      if (f?.secretRef?.name) secrets.add(f.secretRef.name);
    }
  }
  for (const v of spec?.volumes ?? []) {
    if (v?.configMap?.name) cms.add(v.configMap.name);
    if (v?.secret?.secretName) secrets.add(v.secret.secretName);
    for (const src of v?.projected?.sources ?? []) {
      if (src?.configMap?.name) cms.add(src.configMap.name);
      if (src?.secret?.name) secrets.add(src.secret.name);
      const t = src?.serviceAccountToken;
      if (t) {
        const req: TokenRequestSpec = {
          serviceAccountName: sa,
          ...(t.audience ? { audience: t.audience } : {}),
          expirationSeconds: t.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION,
        };
        tokens.set(tokenKey(req), req);
      }
    }
  }
  const pulls = (spec?.imagePullSecrets ?? []).map((s) => s?.name).filter((n): n is string => !!n);
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
