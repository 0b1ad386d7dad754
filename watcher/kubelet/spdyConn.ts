/**
 * The server side of a SPDY/3.1 connection after the HTTP upgrade, as the kubelet's streaming server runs it for
 * kubectl (client-go's SPDY round tripper over moby/spdystream): the client opens every stream (SYN_STREAM with a
 * `streamtype` header), the server answers each with SYN_REPLY and then writes DATA; FIN half-closes a direction.
 * PING is echoed, GOAWAY ends the connection. Flow control: spdystream neither sends nor honours WINDOW_UPDATE,
 * so this side never waits for a send window (it would stall), but it does send WINDOW_UPDATE for what it has read,
 * so a client that does count windows keeps sending.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../shared/ports/index.js';
import { KubeletError } from './errors.js';
import { encodeFrame, type Frame, FrameParser, HeaderCodec, type Headers, MAX_DATA_CHUNK, RST, SpdyProtocolError } from './spdyFrames.js';

/** SPDY/3.1's initial window; a WINDOW_UPDATE goes out once half of it has been read on a stream */
const WINDOW = 64 * 1024;

export interface SpdyStream {
  readonly id: number;
  /** the SYN_STREAM headers, names lower-cased */
  readonly headers: Headers;
  /** data from the client; `end` when it half-closed (FIN) or the stream or connection went away */
  onData(cb: (data: Buffer) => void): void;
  onEnd(cb: () => void): void;
  write(data: Buffer): void;
  /** half-closes this side (an empty DATA frame with FIN) */
  end(): void;
  reset(status?: number): void;
}

/** Picks the stream protocol from the client's `X-Stream-Protocol-Version` list; the kubelet's rules. */
export function negotiateProtocol(req: IncomingMessage, supported: readonly string[], fallback: string): string {
  const raw = req.headers['x-stream-protocol-version'];
  const offered = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  if (offered.length === 0) return fallback;
  const chosen = supported.find((p) => offered.includes(p));
  if (!chosen) throw new KubeletError(`unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${supported.join(' ')}]`, 403);
  return chosen;
}

export class SpdyConnection {
  private readonly parser = new FrameParser();
  private readonly codec = new HeaderCodec();
  private readonly streams = new Map<number, StreamState>();
  private inChain: Promise<void> = Promise.resolve();
  private outChain: Promise<void> = Promise.resolve();
  private unreadWindow = 0;
  private lastStreamId = 0;
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];
  private streamListener: ((s: SpdyStream) => void) | undefined;

  /** Answers the upgrade (101 with the chosen protocol) and starts reading frames. */
  constructor(
    private readonly socket: Duplex,
    head: Buffer,
    readonly protocol: string,
    private readonly log: Logger,
  ) {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.shutdown());
    socket.on('error', () => this.shutdown());
    if (head.length > 0) queueMicrotask(() => this.receive(head));
  }

  /** Every stream the client opens, after its SYN_REPLY is queued. */
  onStream(cb: (s: SpdyStream) => void): void {
    this.streamListener = cb;
  }

  onClose(cb: () => void): void {
    if (this.closed) cb();
    else this.closeListeners.push(cb);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** GOAWAY, then the socket ends once everything queued before is written. */
  close(): void {
    if (this.closed) return;
    this.send({ type: 'goaway', lastGoodStreamId: this.lastStreamId, status: 0 });
    this.enqueue(() => {
      this.socket.end();
      this.shutdown();
    });
  }

  /** Runs `fn` after everything queued before it; a failure (header compression) ends the connection. */
  private enqueue(fn: () => void | Promise<void>): void {
    this.outChain = this.outChain.then(fn).catch((err: unknown) => {
      this.log.debug({ err: (err as Error).message }, 'spdy: cannot write, closing');
      this.socket.destroy();
    });
  }

  private receive(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'spdy: unreadable frame, closing');
      this.socket.destroy();
      return;
    }
    for (const f of frames) {
      // control frames that carry header blocks decode asynchronously (the shared zlib context): keep order
      this.inChain = this.inChain.then(() => this.handle(f)).catch((err: unknown) => {
        this.log.debug({ err: (err as Error).message }, 'spdy: protocol error, closing');
        this.socket.destroy();
      });
    }
  }

  private async handle(f: Frame): Promise<void> {
    if (this.closed) return;
    switch (f.type) {
      case 'synStream': {
        const headers = await this.codec.decompress(f.block);
        if (f.streamId === 0 || this.streams.has(f.streamId)) {
          this.send({ type: 'rstStream', streamId: f.streamId, status: RST.protocolError });
          return;
        }
        this.lastStreamId = Math.max(this.lastStreamId, f.streamId);
        const st = new StreamState(f.streamId, headers, this);
        this.streams.set(f.streamId, st);
        this.sendHeaders('synReply', f.streamId, {});
        this.streamListener?.(st);
        if (f.fin) st.remoteEnded();
        return;
      }
      case 'headers':
        await this.codec.decompress(f.block); // keeps the inflate context in step; kubectl sends none
        if (f.fin) this.streams.get(f.streamId)?.remoteEnded();
        return;
      case 'synReply':
        await this.codec.decompress(f.block);
        return;
      case 'data': {
        const st = this.streams.get(f.streamId);
        if (!st) {
          this.send({ type: 'rstStream', streamId: f.streamId, status: RST.invalidStream });
          return;
        }
        if (f.data.length > 0) {
          st.deliver(f.data);
          this.unreadWindow += f.data.length;
          if (this.unreadWindow >= WINDOW / 2) {
            this.send({ type: 'windowUpdate', streamId: 0, delta: this.unreadWindow });
            this.unreadWindow = 0;
          }
        }
        if (f.fin) st.remoteEnded();
        return;
      }
      case 'rstStream':
        this.streams.get(f.streamId)?.gone();
        this.streams.delete(f.streamId);
        return;
      case 'ping':
        this.send(f);
        return;
      case 'goaway':
        this.shutdown();
        this.socket.end();
        return;
      case 'settings':
      case 'windowUpdate':
      case 'unknown':
        return;
    }
  }

  /** Queues a frame; frames go out in the order queued. */
  send(f: Frame): void {
    if (this.closed) return;
    const bytes = encodeFrame(f);
    this.enqueue(() => {
      if (!this.closed && this.socket.writable) this.socket.write(bytes);
    });
  }

  sendHeaders(type: 'synReply' | 'headers', streamId: number, headers: Headers, fin = false): void {
    if (this.closed) return;
    const block = this.codec.compress(headers);
    this.enqueue(async () => {
      const bytes = encodeFrame({ type, streamId, fin, block: await block });
      if (!this.closed && this.socket.writable) this.socket.write(bytes);
    });
  }

  forget(id: number): void {
    this.streams.delete(id);
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const st of this.streams.values()) st.gone();
    this.streams.clear();
    this.codec.close();
    for (const cb of this.closeListeners.splice(0)) cb();
  }
}

class StreamState implements SpdyStream {
  private dataCb: ((d: Buffer) => void) | undefined;
  private endCb: (() => void) | undefined;
  private readonly early: Buffer[] = [];
  private remoteDone = false;
  private localDone = false;
  private windowRead = 0;

  constructor(
    readonly id: number,
    readonly headers: Headers,
    private readonly conn: SpdyConnection,
  ) {}

  onData(cb: (data: Buffer) => void): void {
    this.dataCb = cb;
    for (const d of this.early.splice(0)) cb(d);
  }

  onEnd(cb: () => void): void {
    this.endCb = cb;
    if (this.remoteDone) cb();
  }

  deliver(data: Buffer): void {
    if (this.remoteDone) return;
    this.windowRead += data.length;
    if (this.windowRead >= WINDOW / 2) {
      this.conn.send({ type: 'windowUpdate', streamId: this.id, delta: this.windowRead });
      this.windowRead = 0;
    }
    if (this.dataCb) this.dataCb(data);
    else this.early.push(data);
  }

  remoteEnded(): void {
    if (this.remoteDone) return;
    this.remoteDone = true;
    this.endCb?.();
    if (this.localDone) this.conn.forget(this.id);
  }

  gone(): void {
    this.localDone = true;
    this.remoteEnded();
  }

  write(data: Buffer): void {
    if (this.localDone) return;
    for (let at = 0; at < data.length; at += MAX_DATA_CHUNK) {
      this.conn.send({ type: 'data', streamId: this.id, fin: false, data: data.subarray(at, at + MAX_DATA_CHUNK) });
    }
  }

  end(): void {
    if (this.localDone) return;
    this.localDone = true;
    this.conn.send({ type: 'data', streamId: this.id, fin: true, data: Buffer.alloc(0) });
    if (this.remoteDone) this.conn.forget(this.id);
  }

  reset(status: number = RST.cancel): void {
    if (this.localDone && this.remoteDone) return;
    this.conn.send({ type: 'rstStream', streamId: this.id, status });
    this.gone();
    this.conn.forget(this.id);
  }
}

export { SpdyProtocolError };
