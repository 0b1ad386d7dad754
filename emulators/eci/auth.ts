/**
 * Request authentication as the OpenAPI gateway does it: V3 (ACS3-HMAC-SHA256 `Authorization` header) or
 * V1 (HMAC-SHA1 `Signature` query parameter), STS security tokens, the 15-minute clock-skew window and
 * signature-nonce reuse (request signatures, docs/architecture.md#sources).
 */
import { timingSafeEqual } from 'node:crypto';
import { EciEmulatorError } from './errors.js';
import { acs3Signature, parseAcs3Authorization, rpcSignature, sha256Hex } from './signing.js';

export interface EmulatorCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** When set, requests with this key must carry exactly this token (STS). */
  securityToken?: string;
  /** Epoch ms after which the token is refused with InvalidSecurityToken.Expired. */
  expiresAt?: number;
}

export interface IncomingSigned {
  method: string;
  pathname: string;
  /** decoded query */
  query: Record<string, string>;
  /** lower-case header names */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Authenticated {
  accessKeyId: string;
  action: string;
  version: string;
  signature: 'v3' | 'v1';
}

const SKEW_MS = 15 * 60 * 1000;
/** hex(sha256('')): most calls have no body */
const EMPTY_SHA256 = sha256Hex('');

function header(h: IncomingSigned['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Authenticator {
  private readonly keys = new Map<string, EmulatorCredential>();
  private readonly nonces = new Map<string, number>();
  private lastPurge = 0;

  constructor(
    credentials: readonly EmulatorCredential[],
    private readonly now: () => number,
  ) {
    for (const c of credentials) this.keys.set(c.accessKeyId, c);
  }

  setCredentials(credentials: readonly EmulatorCredential[]): void {
    this.keys.clear();
    for (const c of credentials) this.keys.set(c.accessKeyId, c);
  }

  authenticate(req: IncomingSigned): Authenticated {
    const authz = header(req.headers, 'authorization');
    if (authz) return this.v3(req, authz);
    if (req.query.Signature !== undefined) return this.v1(req);
    throw new EciEmulatorError('IncompleteSignature', 'The request is not signed: no Authorization header and no Signature.');
  }

  private v3(req: IncomingSigned, authz: string): Authenticated {
    const parsed = parseAcs3Authorization(authz);
    if (!parsed) throw new EciEmulatorError('IncompleteSignature');
    const cred = this.keys.get(parsed.credential);
    if (!cred) throw new EciEmulatorError('InvalidAccessKeyId.NotFound');
    const signed = new Set(parsed.signedHeaders.map((h) => h.toLowerCase()));
    for (const required of ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
      if (!signed.has(required) || header(req.headers, required) === undefined) {
        throw new EciEmulatorError('IncompleteSignature', `The header ${required} must be present and signed.`);
      }
    }
    if (header(req.headers, 'x-acs-content-sha256') !== (req.body.length === 0 ? EMPTY_SHA256 : sha256Hex(req.body))) {
      throw new EciEmulatorError('SignatureDoesNotMatch', 'The x-acs-content-sha256 header does not match the body.');
    }
    const expected = acs3Signature(
      {
        method: req.method,
        pathname: req.pathname,
        query: req.query,
        headers: req.headers,
        signedHeaders: parsed.signedHeaders,
        hashedPayload: header(req.headers, 'x-acs-content-sha256') ?? '',
      },
      cred.accessKeySecret,
    );
    if (!same(expected, parsed.signature)) throw new EciEmulatorError('SignatureDoesNotMatch');
    this.checkTime(header(req.headers, 'x-acs-date') ?? '');
    this.checkNonce(cred.accessKeyId, header(req.headers, 'x-acs-signature-nonce') ?? '');
    const token = header(req.headers, 'x-acs-security-token');
    if (token !== undefined && !signed.has('x-acs-security-token')) {
      throw new EciEmulatorError('IncompleteSignature', 'The header x-acs-security-token must be signed.');
    }
    this.checkToken(cred, token);
    return {
      accessKeyId: cred.accessKeyId,
      action: header(req.headers, 'x-acs-action') ?? '',
      version: header(req.headers, 'x-acs-version') ?? '',
      signature: 'v3',
    };
  }

  private v1(req: IncomingSigned): Authenticated {
    const q = req.query;
    for (const k of ['AccessKeyId', 'SignatureMethod', 'SignatureNonce', 'Timestamp', 'Action', 'Version']) {
      if (!q[k]) throw new EciEmulatorError('IncompleteSignature', `The parameter ${k} is missing.`);
    }
    if (q.SignatureMethod !== 'HMAC-SHA1' || (q.SignatureVersion ?? '1.0') !== '1.0') {
      throw new EciEmulatorError('IncompleteSignature', 'Only SignatureMethod HMAC-SHA1, SignatureVersion 1.0.');
    }
    const cred = this.keys.get(q.AccessKeyId as string);
    if (!cred) throw new EciEmulatorError('InvalidAccessKeyId.NotFound');
    const params: Record<string, string> = { ...q };
    const ctype = header(req.headers, 'content-type') ?? '';
    if (req.body.length > 0 && ctype.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(req.body.toString())) params[k] = v;
    }
    const expected = rpcSignature(req.method, params, cred.accessKeySecret);
    if (!same(expected, q.Signature ?? '')) throw new EciEmulatorError('SignatureDoesNotMatch');
    this.checkTime(q.Timestamp as string);
    this.checkNonce(cred.accessKeyId, q.SignatureNonce as string);
    this.checkToken(cred, q.SecurityToken);
    return { accessKeyId: cred.accessKeyId, action: q.Action as string, version: q.Version as string, signature: 'v1' };
  }

  private checkTime(value: string): void {
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) throw new EciEmulatorError('InvalidTimeStamp.Format');
    const t = Date.parse(value);
    if (Number.isNaN(t)) throw new EciEmulatorError('InvalidTimeStamp.Format');
    if (Math.abs(this.now() - t) > SKEW_MS) throw new EciEmulatorError('InvalidTimeStamp.Expired');
  }

  private checkNonce(accessKeyId: string, nonce: string): void {
    const now = this.now();
    if (now - this.lastPurge > 60_000) {
      for (const [k, exp] of this.nonces) if (exp <= now) this.nonces.delete(k);
      this.lastPurge = now;
    }
    const key = `${accessKeyId}\n${nonce}`;
    const exp = this.nonces.get(key);
    if (exp !== undefined && exp > now) throw new EciEmulatorError('SignatureNonceUsed');
    this.nonces.set(key, now + 2 * SKEW_MS);
  }

  private checkToken(cred: EmulatorCredential, token: string | undefined): void {
    if (cred.securityToken === undefined) return;
    if (token === undefined || token === '') throw new EciEmulatorError('MissingSecurityToken');
    if (!same(token, cred.securityToken)) throw new EciEmulatorError('InvalidSecurityToken.MismatchWithAccessKey');
    if (cred.expiresAt !== undefined && cred.expiresAt <= this.now()) {
      throw new EciEmulatorError('InvalidSecurityToken.Expired');
    }
  }
}
