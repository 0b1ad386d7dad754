/**
 * The SPDY/3.1 framing and the server connection the kubelet API runs for kubectl: every frame type round-trips,
 * the parser reassembles frames from any chunking, header blocks share one zlib context per direction (a later
 * block refers back to an earlier one), and the connection answers SYN_STREAM with SYN_REPLY, echoes PING, sends
 * WINDOW_UPDATE for what it has read without ever waiting for a window, and refuses unknown protocols. The real
 * client (kubectl 1.20 through kube-apiserver) is in test/integration/kubelet/spdy.test.ts.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { KubeletError } from '../../../../watcher/kubelet/errors.js';
import { negotiateProtocol, SpdyConnection, type SpdyStream } from '../../../../watcher/kubelet/spdyConn.js';
import { encodeFrame, type Frame, FrameParser, HeaderCodec, SPDY3_DICTIONARY, SpdyProtocolError } from '../../../../watcher/kubelet/spdyFrames.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

const frames: Frame[] = [
  { type: 'data', streamId: 7, fin: false, data: Buffer.from('hello') },
  { type: 'data', streamId: 0x7fffffff, fin: true, data: Buffer.alloc(0) },
  { type: 'synStream', streamId: 1, associatedId: 0, priority: 3, fin: false, unidirectional: true, block: Buffer.from([1, 2, 3]) },
  { type: 'synReply', streamId: 3, fin: true, block: Buffer.from([9]) },
  { type: 'headers', streamId: 5, fin: false, block: Buffer.alloc(0) },
  { type: 'rstStream', streamId: 9, status: 5 },
  { type: 'settings', entries: [{ flags: 1, id: 7, value: 65536 }, { flags: 0, id: 4, value: 100 }] },
  { type: 'ping', id: 0xfffffffe },
  { type: 'goaway', lastGoodStreamId: 11, status: 2 },
  { type: 'windowUpdate', streamId: 13, delta: 32768 },
];

describe('SPDY/3.1 frames', () => {
  it('round-trips every frame type', () => {
    for (const f of frames) assert.deepEqual(new FrameParser().push(encodeFrame(f)), [f], f.type);
  });

  it('reassembles frames from any chunking, one byte at a time included', () => {
    const wire = Buffer.concat(frames.map(encodeFrame));
    for (const size of [1, 3, 7, 64, wire.length]) {
      const parser = new FrameParser();
      const got: Frame[] = [];
      for (let at = 0; at < wire.length; at += size) got.push(...parser.push(wire.subarray(at, at + size)));
      assert.deepEqual(got, frames, `chunks of ${size}`);
    }
  });

  it('refuses another SPDY version and short control frames', () => {
    const v2 = encodeFrame({ type: 'ping', id: 1 });
    v2.writeUInt16BE(0x8002, 0);
    assert.throws(() => new FrameParser().push(v2), SpdyProtocolError);
    const short = encodeFrame({ type: 'rstStream', streamId: 1, status: 1 }).subarray(0, 12);
    short.writeUInt32BE(4, 4);
    assert.throws(() => new FrameParser().push(short), /RST_STREAM frame of 4 bytes is too short/);
  });

  it('the SPDY/3 dictionary: 1423 bytes, length-prefixed names first, ending with the media-type run', () => {
    assert.equal(SPDY3_DICTIONARY.length, 1423);
    assert.equal(SPDY3_DICTIONARY.readUInt32BE(0), 7);
    assert.equal(SPDY3_DICTIONARY.subarray(4, 11).toString(), 'options');
    assert.equal(SPDY3_DICTIONARY.subarray(-8).toString(), '*,enq=0.');
    // a block compressed with it cannot be inflated without it (the zlib header names the dictionary)
    const block = zlib.deflateSync(Buffer.from('content-type'), { dictionary: SPDY3_DICTIONARY });
    assert.throws(() => zlib.inflateSync(block));
    assert.equal(zlib.inflateSync(block, { dictionary: SPDY3_DICTIONARY }).toString(), 'content-type');
  });

  it('header blocks share one zlib context per direction: later blocks decode only in order, after earlier ones', async () => {
    const client = new HeaderCodec();
    const server = new HeaderCodec();
    const blocks = [];
    for (const type of ['error', 'stdin', 'stdout', 'stderr']) blocks.push(await client.compress({ streamType: type, 'x-long-name': 'value '.repeat(20) }));
    // the repeated header costs far less the second time: the history carried over
    assert.ok((blocks[1]?.length ?? 0) < (blocks[0]?.length ?? 0) / 2, `${blocks.map((b) => b.length)}`);
    const decoded = await Promise.all(blocks.map((b) => server.decompress(b)));
    assert.deepEqual(decoded.map((h) => h.streamtype), ['error', 'stdin', 'stdout', 'stderr']);
    // a fresh context cannot read the second block alone
    await assert.rejects(new HeaderCodec().decompress(blocks[1] as Buffer), SpdyProtocolError);
    client.close();
    server.close();
  });
});

/** A loopback socket pair: the server end goes to SpdyConnection, the test speaks SPDY on the client end. */
async function pair(protocol = 'v4.channel.k8s.io'): Promise<{ conn: SpdyConnection; client: Socket; read: () => Promise<Frame>; raw: () => string; codec: HeaderCodec }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const sock = await accepted;
  server.close();
  const conn = new SpdyConnection(sock, Buffer.alloc(0), protocol, silent);
  const parser = new FrameParser();
  const queue: Frame[] = [];
  const waiters: ((f: Frame) => void)[] = [];
  let text = '';
  let upgraded = false;
  client.on('data', (d: Buffer) => {
    let rest = d;
    if (!upgraded) {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = true;
      rest = Buffer.from(text.slice(end + 4), 'latin1');
      text = text.slice(0, end);
    }
    for (const f of parser.push(rest)) {
      const w = waiters.shift();
      if (w) w(f);
      else queue.push(f);
    }
  });
  const read = () => new Promise<Frame>((r) => (queue.length > 0 ? r(queue.shift() as Frame) : waiters.push(r)));
  return { conn, client, read, raw: () => text, codec: new HeaderCodec() };
}

describe('SPDY server connection', () => {
  it('answers the upgrade, replies to each stream, echoes PING, delivers data and FIN, writes back', async () => {
    const { conn, client, read, raw, codec } = await pair();
    const streams: SpdyStream[] = [];
    conn.onStream((s) => streams.push(s));
    client.write(encodeFrame({ type: 'synStream', streamId: 1, associatedId: 0, priority: 0, fin: false, unidirectional: false, block: await codec.compress({ streamType: 'stdin' }) }));
    const reply = await read();
    assert.match(raw(), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(raw(), /\r\nX-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
    assert.equal(reply.type, 'synReply');
    assert.equal(streams[0]?.headers.streamtype, 'stdin');
    client.write(encodeFrame({ type: 'ping', id: 41 }));
    assert.deepEqual(await read(), { type: 'ping', id: 41 });

    const got: Buffer[] = [];
    let ended = false;
    streams[0]?.onData((d) => got.push(d));
    streams[0]?.onEnd(() => {
      ended = true;
    });
    client.write(encodeFrame({ type: 'data', streamId: 1, fin: true, data: Buffer.from('abc') }));
    streams[0]?.write(Buffer.from('back'));
    streams[0]?.end();
    assert.deepEqual(await read(), { type: 'data', streamId: 1, fin: false, data: Buffer.from('back') });
    assert.deepEqual(await read(), { type: 'data', streamId: 1, fin: true, data: Buffer.alloc(0) });
    assert.equal(Buffer.concat(got).toString(), 'abc');
    assert.ok(ended);
    conn.close();
    assert.equal((await read()).type, 'goaway');
    client.destroy();
  });

  it('sends WINDOW_UPDATE for what it read and writes 200 KiB without waiting for any window', async () => {
    const { conn, client, read, codec } = await pair();
    let stream: SpdyStream | undefined;
    conn.onStream((s) => {
      stream = s;
    });
    client.write(encodeFrame({ type: 'synStream', streamId: 1, associatedId: 0, priority: 0, fin: false, unidirectional: false, block: await codec.compress({ streamType: 'stdout' }) }));
    assert.equal((await read()).type, 'synReply');
    client.write(encodeFrame({ type: 'data', streamId: 1, fin: false, data: Buffer.alloc(40 * 1024) }));
    const updates = [await read(), await read()];
    assert.deepEqual(updates.map((u) => (u.type === 'windowUpdate' ? [u.streamId, u.delta] : u.type)).sort(), [[0, 40960], [1, 40960]]);

    stream?.write(Buffer.alloc(200 * 1024, 7)); // more than the 64 KiB initial window; the client never updates it
    let bytes = 0;
    while (bytes < 200 * 1024) {
      const f = await read();
      assert.equal(f.type, 'data');
      if (f.type === 'data') bytes += f.data.length;
    }
    assert.equal(bytes, 200 * 1024);
    client.destroy();
  });

  it('negotiates the stream protocol as the kubelet: the first supported offer, 403 when none fits', () => {
    const req = (v?: string) => ({ headers: v === undefined ? {} : { 'x-stream-protocol-version': v } }) as unknown as IncomingMessage;
    const supported = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'channel.k8s.io'];
    assert.equal(negotiateProtocol(req('channel.k8s.io, v3.channel.k8s.io'), supported, 'channel.k8s.io'), 'v3.channel.k8s.io');
    assert.equal(negotiateProtocol(req(), supported, 'channel.k8s.io'), 'channel.k8s.io');
    assert.throws(
      () => negotiateProtocol(req('v9.channel.k8s.io'), supported, 'channel.k8s.io'),
      (e: unknown) => e instanceof KubeletError && e.status === 403 && /unable to negotiate protocol/.test(e.message),
    );
  });
});
