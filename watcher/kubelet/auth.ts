/**
 * Authentication and authorization of kubelet API callers, as the kubelet does them with webhook auth:
 *
 * 1. A client certificate the TLS layer verified against the client CA (the apiserver's
 *    `--kubelet-client-certificate`, kubeadm's apiserver-kubelet-client): user = CN, groups = O.
 * 2. Otherwise a bearer token, checked with a TokenReview (metrics-server and direct callers).
 * 3. Neither: 401. Then a SubjectAccessReview on `nodes/<subresource>` of this node (paths.ts has the mapping);
 *    denied: 403 with the reason.
 *
 * Decisions are cached like the kubelet's webhook authorizer: token reviews 2 min, allows 5 min, denials 30 s.
 * The token itself is never logged nor kept as a cache key (its SHA-256 is).
 */
import { createHash } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { KubeletSupport, KubeletUser } from '../../shared/ports/index.js';
import { KubeletError } from './errors.js';

export interface AuthOptions {
  support: KubeletSupport;
  nodeName: string;
  now: () => number;
  tokenTtlMs?: number;
  allowTtlMs?: number;
  denyTtlMs?: number;
}

interface Cached<T> {
  value: T;
  until: number;
}

/** The user of a verified client certificate (CN, O), or undefined when none was presented or it did not verify. */
export function certificateUser(socket: TLSSocket): KubeletUser | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate() as PeerCertificate | undefined;
  const cn = cert?.subject?.CN;
  if (!cn) return undefined;
  const o = cert.subject.O as string | string[] | undefined;
  const cnName = Array.isArray(cn) ? cn[0] : cn;
  if (!cnName) return undefined;
  return { username: cnName, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

export class KubeletAuth {
  readonly #o: Required<AuthOptions>;
  readonly #tokens = new Map<string, Cached<KubeletUser | undefined>>();
  readonly #decisions = new Map<string, Cached<{ allowed: boolean; reason: string }>>();

  constructor(opts: AuthOptions) {
    this.#o = { tokenTtlMs: 120_000, allowTtlMs: 300_000, denyTtlMs: 30_000, ...opts };
  }

  /** The caller, or a 401 KubeletError. */
  async authenticate(socket: TLSSocket, authorization: string | undefined): Promise<KubeletUser> {
    const fromCert = certificateUser(socket);
    if (fromCert) return fromCert;
    const token = bearerToken(authorization);
    if (!token) throw new KubeletError('Unauthorized: a client certificate or a bearer token is required', 401);
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.#o.now();
    let hit = this.#tokens.get(key);
    if (!hit || hit.until <= now) {
      let user: KubeletUser | undefined;
      try {
        user = await this.#o.support.reviewToken(token);
      } catch (err) {
        throw new KubeletError('Unauthorized: the token could not be reviewed', 401, { cause: err });
      }
      hit = { value: user, until: now + this.#o.tokenTtlMs };
      this.#tokens.set(key, hit);
      this.#prune(this.#tokens, now);
    }
    if (!hit.value) throw new KubeletError('Unauthorized: the bearer token is not valid', 401);
    return hit.value;
  }

  /** Resolves when allowed; a 403 KubeletError otherwise. */
  async authorize(user: KubeletUser, attrs: { verb: string; subresource: string }): Promise<void> {
    const key = JSON.stringify([user.username, user.uid, [...user.groups].sort(), user.extra ?? {}, attrs.verb, attrs.subresource]);
    const now = this.#o.now();
    let hit = this.#decisions.get(key);
    if (!hit || hit.until <= now) {
      let d: { allowed: boolean; reason: string };
      try {
        d = await this.#o.support.reviewAccess(user, { ...attrs, name: this.#o.nodeName });
      } catch (err) {
        throw new KubeletError('Forbidden: the access review failed', 403, { cause: err });
      }
      hit = { value: d, until: now + (d.allowed ? this.#o.allowTtlMs : this.#o.denyTtlMs) };
      this.#decisions.set(key, hit);
      this.#prune(this.#decisions, now);
    }
    if (!hit.value.allowed) {
      const why = hit.value.reason ? `: ${hit.value.reason}` : '';
      throw new KubeletError(
        `Forbidden (user=${user.username}, verb=${attrs.verb}, resource=nodes, subresource=${attrs.subresource})${why}`,
        403,
      );
    }
  }

  #prune<T>(m: Map<string, Cached<T>>, now: number): void {
    if (m.size < 1000) return;
    for (const [k, v] of m) if (v.until <= now) m.delete(k);
  }
}
