/**
 * The queue body codec: base64(UTF-8(JSON)). MNS bodies travel inside XML that @alicloud/mns builds without
 * escaping, and EventBridge base64-decodes bodies before delivery (IsBase64Decode, default true), so the bridge
 * sends base64 and receives the JSON text back. Schema-free: `messages.ts` validates what the JSON means.
 */

export class BodyCodecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BodyCodecError';
  }
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * UTF-8 text → base64. Through Buffer: btoa over String.fromCharCode of every byte was 5 % of the watcher's busy
 * CPU in the burst profile (`npm run bench -- burst --profile`).
 */
export function base64FromText(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** base64 → UTF-8 text; throws BodyCodecError on bad base64 or bad UTF-8. */
export function textFromBase64(b64: string): string {
  const s = b64.trim();
  if (s.length % 4 !== 0 || !BASE64_RE.test(s)) throw new BodyCodecError('body is not base64');
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new BodyCodecError('body is base64 but not UTF-8 text', { cause });
  }
}

/** Any JSON value → queue body (base64 of its JSON text). */
export function encodeBody(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new BodyCodecError('value has no JSON form');
  return base64FromText(json);
}

/** Queue body (base64 JSON, or JSON text already decoded by EventBridge) → JSON value. */
export function decodeBody(body: string): unknown {
  const t = body.trim();
  const text = t.startsWith('{') || t.startsWith('[') ? t : textFromBase64(t);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BodyCodecError('body is not JSON', { cause });
  }
}

/** UTF-8 byte length, as MNS counts message sizes. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
