/**
 * SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 with the 3.1 WINDOW_UPDATE semantics), written here because
 * npm's `spdy` does not run on Node ≥ 15. Pure byte work: frames to and from buffers, an incremental parser that
 * takes the socket's chunks as they come, and the name/value header blocks compressed with zlib over the SPDY/3
 * dictionary (one inflate and one deflate context per connection and direction, each block ended with
 * Z_SYNC_FLUSH, as the protocol requires).
 *
 * Frame layout: a control frame is `1 | version(15) | type(16) | flags(8) | length(24) | body`; a data frame is
 * `0 | stream id(31) | flags(8) | length(24) | data`. Flags: FIN 0x01, UNIDIRECTIONAL 0x02 (SYN_STREAM only).
 */
import zlib from 'node:zlib';
import { KubeletError } from './errors.js';

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const CONTROL = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goaway: 7, headers: 8, windowUpdate: 9 } as const;
/** RST_STREAM status codes used here */
export const RST = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6 } as const;
/** the largest body a frame may carry here (the length field has 24 bits; we stay far below) */
export const MAX_DATA_CHUNK = 32 * 1024;
const MAX_FRAME_BODY = 16 * 1024 * 1024 - 1;

/**
 * The SPDY/3 header compression dictionary (§2.6.10.1): 65 names, each prefixed with its 32-bit big-endian
 * length, then a run of status codes, reason phrases, dates and media types. 1423 bytes.
 */
const DICT_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date',
  'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate',
  'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1',
  'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
const DICT_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...DICT_WORDS.flatMap((w) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    return [len, Buffer.from(w, 'latin1')];
  }),
  Buffer.from(DICT_TAIL, 'latin1'),
]);

export type Headers = Record<string, string>;

export type Frame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'synStream'; streamId: number; associatedId: number; priority: number; fin: boolean; unidirectional: boolean; block: Buffer }
  | { type: 'synReply'; streamId: number; fin: boolean; block: Buffer }
  | { type: 'headers'; streamId: number; fin: boolean; block: Buffer }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'windowUpdate'; streamId: number; delta: number }
  | { type: 'unknown'; controlType: number };

/** A frame the peer sent that is not SPDY/3: the connection cannot continue. */
export class SpdyProtocolError extends KubeletError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`SPDY protocol error: ${message}`, 400, options);
  }
}

const u31 = (b: Buffer, at: number): number => b.readUInt32BE(at) & 0x7fffffff;

function control(type: number, flags: number, body: Buffer): Buffer {
  if (body.length > MAX_FRAME_BODY) throw new SpdyProtocolError(`a frame body of ${body.length} bytes is too long`);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | body.length, 4);
  return Buffer.concat([h, body]);
}

/** Encodes one frame. Header blocks must already be compressed (HeaderCodec.compress). */
export function encodeFrame(f: Frame): Buffer {
  switch (f.type) {
    case 'data': {
      if (f.data.length > MAX_FRAME_BODY) throw new SpdyProtocolError(`a data frame of ${f.data.length} bytes is too long`);
      const h = Buffer.alloc(8);
      h.writeUInt32BE(f.streamId & 0x7fffffff, 0);
      h.writeUInt32BE(((f.fin ? FLAG_FIN : 0) << 24) | f.data.length, 4);
      return Buffer.concat([h, f.data]);
    }
    case 'synStream': {
      const b = Buffer.alloc(10);
      b.writeUInt32BE(f.streamId & 0x7fffffff, 0);
      b.writeUInt32BE(f.associatedId & 0x7fffffff, 4);
      b.writeUInt8((f.priority & 0x7) << 5, 8);
      return control(CONTROL.synStream, (f.fin ? FLAG_FIN : 0) | (f.unidirectional ? 0x02 : 0), Buffer.concat([b, f.block]));
    }
    case 'synReply':
    case 'headers': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(f.streamId & 0x7fffffff, 0);
      return control(f.type === 'synReply' ? CONTROL.synReply : CONTROL.headers, f.fin ? FLAG_FIN : 0, Buffer.concat([b, f.block]));
    }
    case 'rstStream':
    case 'windowUpdate': {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(f.streamId & 0x7fffffff, 0);
      b.writeUInt32BE(f.type === 'rstStream' ? f.status : f.delta & 0x7fffffff, 4);
      return control(f.type === 'rstStream' ? CONTROL.rstStream : CONTROL.windowUpdate, 0, b);
    }
    case 'settings': {
      const b = Buffer.alloc(4 + 8 * f.entries.length);
      b.writeUInt32BE(f.entries.length, 0);
      for (const [i, e] of f.entries.entries()) {
        b.writeUInt32BE(((e.flags & 0xff) << 24) | (e.id & 0xffffff), 4 + 8 * i);
        b.writeUInt32BE(e.value, 8 + 8 * i);
      }
      return control(CONTROL.settings, 0, b);
    }
    case 'ping': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(f.id, 0);
      return control(CONTROL.ping, 0, b);
    }
    case 'goaway': {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(f.lastGoodStreamId & 0x7fffffff, 0);
      b.writeUInt32BE(f.status, 4);
      return control(CONTROL.goaway, 0, b);
    }
    case 'unknown':
      return control(f.controlType, 0, Buffer.alloc(0));
  }
}

function need(body: Buffer, n: number, what: string): void {
  if (body.length < n) throw new SpdyProtocolError(`a ${what} frame of ${body.length} bytes is too short`);
}

function decodeControl(type: number, flags: number, body: Buffer): Frame {
  const fin = (flags & FLAG_FIN) !== 0;
  switch (type) {
    case CONTROL.synStream:
      need(body, 10, 'SYN_STREAM');
      return { type: 'synStream', streamId: u31(body, 0), associatedId: u31(body, 4), priority: body.readUInt8(8) >> 5, fin, unidirectional: (flags & 0x02) !== 0, block: body.subarray(10) };
    case CONTROL.synReply:
    case CONTROL.headers:
      need(body, 4, type === CONTROL.synReply ? 'SYN_REPLY' : 'HEADERS');
      return { type: type === CONTROL.synReply ? 'synReply' : 'headers', streamId: u31(body, 0), fin, block: body.subarray(4) };
    case CONTROL.rstStream:
      need(body, 8, 'RST_STREAM');
      return { type: 'rstStream', streamId: u31(body, 0), status: body.readUInt32BE(4) };
    case CONTROL.settings: {
      need(body, 4, 'SETTINGS');
      const n = body.readUInt32BE(0);
      need(body, 4 + 8 * n, 'SETTINGS');
      const entries = Array.from({ length: n }, (_, i) => {
        const word = body.readUInt32BE(4 + 8 * i);
        return { flags: word >>> 24, id: word & 0xffffff, value: body.readUInt32BE(8 + 8 * i) };
      });
      return { type: 'settings', entries };
    }
    case CONTROL.ping:
      need(body, 4, 'PING');
      return { type: 'ping', id: body.readUInt32BE(0) };
    case CONTROL.goaway:
      need(body, 4, 'GOAWAY');
      return { type: 'goaway', lastGoodStreamId: u31(body, 0), status: body.length >= 8 ? body.readUInt32BE(4) : 0 };
    case CONTROL.windowUpdate:
      need(body, 8, 'WINDOW_UPDATE');
      return { type: 'windowUpdate', streamId: u31(body, 0), delta: u31(body, 4) };
    default:
      return { type: 'unknown', controlType: type };
  }
}

/** Splits a byte stream into frames, whatever the chunk boundaries. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns the frames they complete, in order. */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + len) break;
      const flags = this.buf.readUInt8(4);
      const body = this.buf.subarray(8, 8 + len);
      if ((this.buf.readUInt8(0) & 0x80) !== 0) {
        const version = this.buf.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`version ${version} (only SPDY/3 is spoken)`);
        out.push(decodeControl(this.buf.readUInt16BE(2), flags, body));
      } else {
        out.push({ type: 'data', streamId: u31(this.buf, 0), fin: (flags & FLAG_FIN) !== 0, data: Buffer.from(body) });
      }
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}

/** A name/value block (before compression): count, then length-prefixed names and values (32-bit, big endian). */
export function encodeHeaderBlock(headers: Headers): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [k, v] of entries) {
    const name = Buffer.from(k.toLowerCase(), 'utf8');
    const value = Buffer.from(v, 'utf8');
    parts.push(u32(name.length), name, u32(value.length), value);
  }
  return Buffer.concat(parts);
}

/** Reads a decompressed name/value block; names are lower-cased, several values (NUL-separated) keep the first. */
export function decodeHeaderBlock(block: Buffer): Headers {
  let at = 0;
  const take = (): Buffer => {
    if (block.length < at + 4) throw new SpdyProtocolError('a header block ends early');
    const n = block.readUInt32BE(at);
    at += 4;
    if (block.length < at + n) throw new SpdyProtocolError('a header block ends early');
    const b = block.subarray(at, at + n);
    at += n;
    return b;
  };
  if (block.length < 4) throw new SpdyProtocolError('a header block ends early');
  const count = block.readUInt32BE(0);
  at = 4;
  const out: Headers = {};
  for (let i = 0; i < count; i++) {
    const name = take().toString('utf8').toLowerCase();
    const value = take().toString('utf8');
    out[name] = value.split('\0')[0] ?? '';
  }
  return out;
}

/**
 * One zlib context (inflate or deflate) for the whole connection: each call feeds one header block and flushes
 * with Z_SYNC_FLUSH, so the peer can decode it at once while the history (and the dictionary) carries over.
 * Calls are serialized: the context's state depends on their order.
 */
class ZlibContext {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly chunks: Buffer[] = [];
  private failure: Error | undefined;
  private failPending: ((err: Error) => void) | undefined;

  constructor(private readonly z: zlib.Inflate | zlib.Deflate) {
    z.on('data', (c: Buffer) => this.chunks.push(c));
    z.on('error', (err: Error) => {
      this.failure = err;
      this.failPending?.(err);
    });
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          // a corrupt block errors the stream and its flush never calls back: fail this call, and every later one
          const fail = (err: Error) => reject(new SpdyProtocolError(`a header block does not (de)compress: ${err.message}`, { cause: err }));
          if (this.failure) {
            fail(this.failure);
            return;
          }
          this.failPending = fail;
          this.z.write(input);
          this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.failPending = undefined;
            if (this.failure) fail(this.failure);
            else resolve(Buffer.concat(this.chunks.splice(0)));
          });
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.z.destroy();
  }
}

/** The connection's header compression, both directions. */
export class HeaderCodec {
  private readonly inflate = new ZlibContext(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }));
  private readonly deflate = new ZlibContext(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY }));

  async decompress(block: Buffer): Promise<Headers> {
    return decodeHeaderBlock(await this.inflate.run(block));
  }

  compress(headers: Headers): Promise<Buffer> {
    return this.deflate.run(encodeHeaderBlock(headers));
  }

  close(): void {
    this.inflate.close();
    this.deflate.close();
  }
}
