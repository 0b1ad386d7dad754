/**
 * imagePullSecrets → ImageRegistryCredential. Reads `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`,
 * `{auths: {server: {...}}}`) and `kubernetes.io/dockercfg` (`.dockercfg`, `{server: {...}}`); an entry with only
 * `auth` (base64 `user:password`) is decoded. Messages never include secret content.
 */
import type { Collector } from './collector.js';
import { fromBase64 } from './collector.js';
import type { Secret } from './k8s.js';
import type { Sources } from './references.js';

export interface RegistryCredential {
  Server: string;
  UserName: string;
  Password: string;
}

/** Registry host from a docker config key: scheme and path removed (`https://index.docker.io/v1/` → `index.docker.io`). */
export function registryServer(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

function entries(secret: Secret): Record<string, unknown> | undefined {
  const data = secret.data ?? {};
  const raw = data['.dockerconfigjson'] ?? data['.dockercfg'];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64(raw));
  } catch {
    return undefined; // the parse error would quote secret content: never surface it
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const obj = parsed as Record<string, unknown>;
  if (data['.dockerconfigjson'] !== undefined) {
    const auths = obj.auths;
    return auths && typeof auths === 'object' ? (auths as Record<string, unknown>) : undefined;
  }
  return obj;
}

/** Credentials from one pull secret; `undefined` when it is not a readable docker config. */
export function credentialsFromSecret(secret: Secret): RegistryCredential[] | undefined {
  const e = entries(secret);
  if (!e) return undefined;
  const out: RegistryCredential[] = [];
  for (const [server, v] of Object.entries(e)) {
    if (!v || typeof v !== 'object') continue;
    const r = v as Record<string, unknown>;
    let user = typeof r.username === 'string' ? r.username : '';
    let pass = typeof r.password === 'string' ? r.password : '';
    if ((!user || !pass) && typeof r.auth === 'string') {
      const decoded = fromBase64(r.auth);
      const i = decoded.indexOf(':');
      if (i > 0) {
        user = decoded.slice(0, i);
        pass = decoded.slice(i + 1);
      }
    }
    if (!user || !pass) continue;
    out.push({ Server: registryServer(server), UserName: user, Password: pass });
  }
  return out;
}

/** Resolves every imagePullSecret; unreadable or missing ones are warnings (as the kubelet does). */
export function pullCredentials(
  col: Collector,
  sources: Sources,
  names: { name?: string }[] | undefined,
): RegistryCredential[] {
  const out: RegistryCredential[] = [];
  (names ?? []).forEach((ref, i) => {
    const field = `spec.imagePullSecrets[${i}]`;
    const name = ref?.name ?? '';
    const r = sources.secret(name);
    if (r.kind === 'unresolved') {
      const ph = col.unresolved(`pull Secret ${name}`, field);
      out.push({ Server: `<registries of ${name}>`, UserName: ph, Password: ph });
      return;
    }
    if (r.kind === 'missing') {
      col.warn('ImagePullSecretMissing', field, `imagePullSecret ${name} not found: pulls from its registries may fail`);
      return;
    }
    const creds = credentialsFromSecret(r.value);
    if (!creds) {
      col.warn('ImagePullSecretMissing', field, `imagePullSecret ${name} is not a readable .dockerconfigjson or .dockercfg secret`);
      return;
    }
    for (const c of creds) {
      if (!out.some((o) => o.Server === c.Server)) out.push(c);
    }
  });
  return out;
}
