/**
 * exec, attach and port-forward over SPDY/3.1 (spdyConn.ts), as the kubelet serves kubectl:
 *
 * - exec/attach (`v4.channel.k8s.io`, v3, v2, `channel.k8s.io`): the client opens one stream per channel, named by
 *   its `streamtype` header: error, stdin, stdout, stderr, resize (v3+, with a tty). Once every expected stream is
 *   open the session starts; ECI's exec WebSocket is bridged to them exactly as the WebSocket exec is (exec.ts).
 *   The end: stdout and stderr half-close, the error stream carries the status (v4: a metav1.Status JSON, so
 *   kubectl exits with the container's code; older versions: the failure's text) and half-closes, then GOAWAY.
 * - port-forward (`portforward.k8s.io`): per forwarded connection the client opens an error and a data stream
 *   with the same `requestid` and a `port` header; the data stream is piped to a TCP connection to the pod IP.
 */
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Pod } from '../../shared/domain/k8s.js';
import type { EciExecHandlers, EciExecSession, Logger } from '../../shared/ports/index.js';
import { KubeletError } from './errors.js';
import type { ExecRequest } from './exec.js';
import { negotiateProtocol, SpdyConnection, type SpdyStream } from './spdyConn.js';
import { RST } from './spdyFrames.js';

export const SPDY_CHANNEL_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export const SPDY_PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** how long the kubelet waits for the client to open every expected stream */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

export interface SpdyChannels {
  conn: SpdyConnection;
  error: SpdyStream;
  stdin?: SpdyStream;
  stdout?: SpdyStream;
  stderr?: SpdyStream;
  resize?: SpdyStream;
  /** writes the final status on the error stream in the negotiated protocol's form */
  writeStatus(status: Record<string, unknown>): void;
  /** half-closes the output streams and the error stream, then ends the connection */
  finish(): void;
}

/**
 * Answers a SPDY exec/attach upgrade and calls `ready` once the client has opened the streams `want` names
 * (the error stream always). A client that does not open them in 30 s is disconnected.
 */
export function acceptSpdyChannels(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  want: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  log: Logger,
  ready: (ch: SpdyChannels) => void,
): void {
  const protocol = negotiateProtocol(req, SPDY_CHANNEL_PROTOCOLS, 'channel.k8s.io');
  const conn = new SpdyConnection(socket, head, protocol, log);
  const resize = want.tty && (protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io');
  const expected = new Set(['error', ...(want.stdin ? ['stdin'] : []), ...(want.stdout ? ['stdout'] : []), ...(want.stderr ? ['stderr'] : []), ...(resize ? ['resize'] : [])]);
  const got = new Map<string, SpdyStream>();
  const timer = setTimeout(() => {
    log.debug({ missing: [...expected].filter((t) => !got.has(t)) }, 'spdy: the client did not open its streams in time');
    conn.close();
  }, STREAM_CREATION_TIMEOUT_MS);
  conn.onClose(() => clearTimeout(timer));
  conn.onStream((s) => {
    const type = s.headers.streamtype ?? '';
    if (!expected.has(type) || got.has(type)) {
      s.reset(RST.refusedStream);
      return;
    }
    got.set(type, s);
    if (got.size < expected.size) return;
    clearTimeout(timer);
    const error = got.get('error') as SpdyStream;
    const outputs = [got.get('stdout'), got.get('stderr')];
    let finished = false;
    ready({
      conn,
      error,
      stdin: got.get('stdin'),
      stdout: got.get('stdout'),
      stderr: got.get('stderr'),
      resize: got.get('resize'),
      writeStatus: (status) => {
        if (protocol === 'v4.channel.k8s.io') error.write(Buffer.from(JSON.stringify(status)));
        else if (status.status !== 'Success') error.write(Buffer.from(String(status.message ?? 'command failed')));
      },
      finish: () => {
        if (finished) return;
        finished = true;
        for (const o of outputs) o?.end();
        error.end();
        conn.close();
      },
    });
  });
}

/** Bridges the SPDY channels of an exec to ECI's exec session (the WebSocket exec's rules: exec.ts). */
export function bridgeExecSpdy(ch: SpdyChannels, ask: ExecRequest, open: (h: EciExecHandlers) => Promise<EciExecSession>, log: Logger): void {
  let statusSent = false;
  const done = (reason?: string): void => {
    if (!statusSent) {
      statusSent = true;
      ch.writeStatus(reason ? { metadata: {}, status: 'Failure', message: `the ECI exec session ended: ${reason}`, reason: 'InternalError' } : { metadata: {}, status: 'Success' });
    }
    ch.finish();
  };
  let eci: EciExecSession | undefined;
  const pending: ((s: EciExecSession) => void)[] = [];
  const withSession = (fn: (s: EciExecSession) => void): void => {
    if (eci) fn(eci);
    else pending.push(fn);
  };
  ch.stdin?.onData((d) => withSession((s) => s.stdin(d)));
  ch.stdin?.onEnd(() => withSession((s) => s.closeStdin()));
  let resizeBuf = '';
  ch.resize?.onData((d) => {
    resizeBuf += d.toString('utf8');
    const lines = resizeBuf.split('\n');
    resizeBuf = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      try {
        const size = JSON.parse(line) as { Width?: number; Height?: number };
        if (size.Width && size.Height) withSession((s) => s.resize(size.Width as number, size.Height as number));
      } catch {
        log.debug({}, 'exec: an unreadable resize message was ignored');
      }
    }
  });
  ch.conn.onClose(() => eci?.close());
  open({
    output: (c, data) => {
      if (c === 1 && ask.stdout) ch.stdout?.write(data);
      else if (c === 2 && ask.stderr) ch.stderr?.write(data);
      else if (c === 2 && ask.tty) ch.stdout?.write(data);
    },
    status: (status) => {
      statusSent = true;
      ch.writeStatus(status);
    },
    closed: done,
  }).then(
    (session) => {
      eci = session;
      for (const fn of pending.splice(0)) fn(session);
      if (ch.conn.isClosed) session.close();
    },
    (err: unknown) => done((err as Error).message),
  );
}

/** Serves a SPDY port-forward connection: each error/data stream pair with one `requestid` is one TCP connection. */
export function portForwardOverSpdy(pod: Pod, req: IncomingMessage, socket: Duplex, head: Buffer, log: Logger): void {
  const ip = pod.status?.podIP;
  if (!ip) throw new KubeletError(`pod "${pod.metadata.name}" has no IP yet`, 400);
  const protocol = negotiateProtocol(req, [SPDY_PORT_FORWARD_PROTOCOL], SPDY_PORT_FORWARD_PROTOCOL);
  const conn = new SpdyConnection(socket, head, protocol, log);
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  conn.onStream((s) => {
    const type = s.headers.streamtype;
    const port = Number(s.headers.port);
    const id = s.headers.requestid ?? String(type === 'data' ? s.id - 2 : s.id);
    if ((type !== 'error' && type !== 'data') || !Number.isInteger(port) || port < 1 || port > 65535) {
      s.reset(RST.refusedStream);
      return;
    }
    const pair = pairs.get(id) ?? {};
    pairs.set(id, pair);
    if (type === 'error') {
      pair.error = s;
      s.onData(() => {}); // the client sends nothing here; it half-closes at once
      return;
    }
    pair.data = s;
    const target = connect({ host: ip, port });
    const fail = (message: string): void => {
      pair.error?.write(Buffer.from(message));
      pair.error?.end();
      s.end();
    };
    s.onData((d) => target.write(d));
    s.onEnd(() => target.end());
    target.on('data', (d: Buffer) => s.write(d));
    target.on('end', () => s.end());
    target.on('error', (err) => fail(`error forwarding port ${port} to pod ${pod.metadata.name}, uid ${pod.metadata.uid ?? ''}: ${err.message}`));
    target.on('close', () => {
      pair.error?.end();
      pairs.delete(id);
    });
    conn.onClose(() => target.destroy());
  });
}
