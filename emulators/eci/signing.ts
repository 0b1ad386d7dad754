/**
 * Alibaba Cloud OpenAPI request signatures, as the ECI service checks them (request signatures, docs/architecture.md#sources):
 * - ACS3-HMAC-SHA256 (V3, the SDK default): `Authorization` header over a canonical request;
 * - legacy HMAC-SHA1 (V1, `signatureAlgorithm: 'v2'` in the SDK): `Signature` query parameter.
 * Pure functions (node:crypto only), unit-tested against the published vectors.
 */
import { createHash, createHmac } from 'node:crypto';

/** The strict percent-encoding of V3 canonical query values: encodeURIComponent plus `!'()*`. */
export function acs3Encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 3986 encoding of V1: only `A-Za-z0-9-_.~` stay as they are. */
export function rpcEncode(value: string): string {
  return acs3Encode(value);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface Acs3Input {
  method: string;
  /** Path, e.g. `/`. */
  pathname: string;
  /** Decoded query parameters (raw keys, decoded values). */
  query: Record<string, string>;
  /** Header values by lower-case name; only those in `signedHeaders` are used. */
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: readonly string[];
  /** hex(sha256(body)) */
  hashedPayload: string;
}

export function acs3CanonicalRequest(input: Acs3Input): string {
  const keys = Object.keys(input.query).sort();
  const canonicalQuery = keys.map((k) => `${k}=${acs3Encode(input.query[k] ?? '')}`).join('&');
  const names = [...input.signedHeaders].map((h) => h.toLowerCase()).sort();
  let canonicalHeaders = '';
  for (const name of names) {
    const raw = input.headers[name];
    const values = (Array.isArray(raw) ? raw : [raw ?? '']).map((v) => v.trim()).sort();
    canonicalHeaders += `${name}:${values.join(',')}\n`;
  }
  const uri = input.pathname || '/';
  return [input.method.toUpperCase(), uri, canonicalQuery, canonicalHeaders, names.join(';'), input.hashedPayload].join(
    '\n',
  );
}

export function acs3StringToSign(canonicalRequest: string): string {
  return `ACS3-HMAC-SHA256\n${sha256Hex(canonicalRequest)}`;
}

/** hex(HMAC-SHA256(secret, StringToSign)) */
export function acs3Signature(input: Acs3Input, secret: string): string {
  return createHmac('sha256', secret)
    .update(acs3StringToSign(acs3CanonicalRequest(input)))
    .digest('hex');
}

export interface Acs3Authorization {
  credential: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=...,SignedHeaders=a;b,Signature=hex`; undefined when malformed. */
export function parseAcs3Authorization(header: string): Acs3Authorization | undefined {
  const m = /^ACS3-HMAC-SHA256\s+(.*)$/.exec(header.trim());
  if (!m?.[1]) return undefined;
  const parts = new Map<string, string>();
  for (const piece of m[1].split(',')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) return undefined;
    parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!credential || !signedHeaders || !signature) return undefined;
  return { credential, signedHeaders: signedHeaders.split(';').filter(Boolean), signature };
}

/** V1: `base64(HMAC-SHA1(secret + "&", method & enc("/") & enc(canonicalized)))` over every param but Signature. */
export function rpcStringToSign(method: string, params: Record<string, string>): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${rpcEncode(k)}=${rpcEncode(params[k] ?? '')}`)
    .join('&');
  return `${method.toUpperCase()}&${rpcEncode('/')}&${rpcEncode(canonical)}`;
}

export function rpcSignature(method: string, params: Record<string, string>, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(rpcStringToSign(method, params)).digest('base64');
}
