/**
 * The MNS request signature (MNS signature, docs/architecture.md#sources): HMAC-SHA1 over VERB, Content-MD5, Content-Type, Date, the sorted
 * `x-mns-*` headers and the raw request target, base64-encoded. Used by the emulator to verify and by the
 * emulator's own small client (the EventBridge simulator) to sign.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type HeaderBag = Record<string, string | string[] | number | undefined>;

function one(v: string | string[] | number | undefined): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/** `name:value\n` for every `x-mns-*` header, names lower-cased and sorted. */
export function canonicalizedMnsHeaders(headers: HeaderBag): string {
  return Object.keys(headers)
    .map((k) => [k.toLowerCase(), one(headers[k])] as const)
    .filter(([k]) => k.startsWith('x-mns-'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
}

/** The string to sign. `resource` is the request target exactly as sent (path + `?` + raw query). */
export function stringToSign(verb: string, headers: HeaderBag, resource: string): string {
  const lower: HeaderBag = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const date = lower.date !== undefined ? one(lower.date) : one(lower['x-mns-date']);
  return `${verb}\n${one(lower['content-md5'])}\n${one(lower['content-type'])}\n${date}\n${canonicalizedMnsHeaders(lower)}${resource}`;
}

export function signString(secret: string, toSign: string): string {
  return createHmac('sha1', secret).update(toSign, 'utf8').digest('base64');
}

export function sign(secret: string, verb: string, headers: HeaderBag, resource: string): string {
  return signString(secret, stringToSign(verb, headers, resource));
}

export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The Content-MD5 form every MNS SDK sends: base64 of the lower-case hex MD5 digest. */
export function contentMd5(body: Buffer | string): string {
  return Buffer.from(createHash('md5').update(body).digest('hex'), 'utf8').toString('base64');
}

/** MessageBodyMD5: upper-case hex MD5 of the body text. */
export function bodyMd5(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex').toUpperCase();
}
