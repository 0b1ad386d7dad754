/**
 * exec over WebSocket (the channel protocols the apiserver passes through unchanged: v5/v4.channel.k8s.io,
 * channel.k8s.io, and base64.channel.k8s.io with text frames), bridged to ECI's exec WebSocket
 * (ExecContainerCommand, then shared/adapters/eci/exec.ts): stdin, stdout, stderr, tty resize, and the exit code
 * as the v4 error stream's Status (NonZeroExitCode, cause ExitCode) — what kubectl prints as "command terminated
 * with exit code N". ECI takes at most 20 arguments of 256 characters: longer commands are refused with 400
 * before any call. SPDY (what kubectl ≤ 1.29 speaks, and what newer apiservers translate to) is in spdyExec.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Pod } from '../../shared/domain/k8s.js';
import type { ContainerGroups, EciExecHandlers, EciExecSession, Logger } from '../../shared/ports/index.js';
import { GROUP_ANNOTATION } from '../podState.js';
import { KubeletError } from './errors.js';

export const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'];
export const ECI_MAX_ARGS = 20;
export const ECI_MAX_ARG_CHARS = 256;

export interface ExecRequest {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export function parseExecQuery(q: URLSearchParams): ExecRequest {
  const flag = (n: string) => q.get(n) === '1' || q.get(n) === 'true';
  const req = { command: q.getAll('command'), stdin: flag('input'), stdout: flag('output'), stderr: flag('error'), tty: flag('tty') };
  if (req.command.length === 0) throw new KubeletError('you must specify at least one command for the container', 400);
  if (req.command.length > ECI_MAX_ARGS) {
    throw new KubeletError(`ECI runs commands of at most ${ECI_MAX_ARGS} arguments (this one has ${req.command.length}); wrap it in a script`, 400);
  }
  const long = req.command.findIndex((a) => a.length > ECI_MAX_ARG_CHARS);
  if (long >= 0) {
    throw new KubeletError(`ECI takes command arguments of at most ${ECI_MAX_ARG_CHARS} characters (argument ${long + 1} has ${req.command[long]?.length})`, 400);
  }
  if (req.tty && req.stderr) req.stderr = false; // as the kubelet: a tty merges stderr into stdout
  return req;
}

export interface ExecDeps {
  getPod(namespace: string, name: string): Promise<Pod>;
  eci: Pick<ContainerGroups, 'exec'>;
  openExec(uri: string, handlers: EciExecHandlers): Promise<EciExecSession>;
  nodeName: string;
  log: Logger;
}

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 16 * 1024 * 1024,
  handleProtocols: (offered) => CHANNEL_PROTOCOLS.find((p) => offered.has(p)) ?? false,
});

/** What an exec needs before any upgrade is answered: the parsed request and ECI's exec WebSocket URI. */
export async function prepareExec(d: ExecDeps, route: { namespace: string; pod: string; container: string }, query: URLSearchParams): Promise<{ ask: ExecRequest; uri: string }> {
  const ask = parseExecQuery(query);
  const pod = await d.getPod(route.namespace, route.pod);
  if (pod.spec?.nodeName !== d.nodeName) throw new KubeletError(`pod "${route.pod}" is not on node ${d.nodeName}`, 404);
  if (!(pod.spec?.containers ?? []).some((c) => c.name === route.container)) {
    throw new KubeletError(`container ${route.container} is not valid for pod ${route.pod}`, 400);
  }
  const groupId = pod.metadata.annotations?.[GROUP_ANNOTATION];
  if (!groupId) throw new KubeletError(`container "${route.container}" in pod "${route.pod}" is waiting to start`, 400);
  let uri: string | undefined;
  try {
    uri = (await d.eci.exec(groupId, route.container, ask.command, { tty: ask.tty, stdin: ask.stdin })).webSocketUri;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'IncorrectStatus') throw new KubeletError(`container ${route.container} is not running: ${e.message}`, 400, { cause: err });
    throw new KubeletError(`ExecContainerCommand failed: ${e.message}`, 502, { cause: err });
  }
  if (!uri) throw new KubeletError('ExecContainerCommand returned no WebSocketUri', 502);
  return { ask, uri };
}

/** Answers a WebSocket exec upgrade (after authentication and authorization). */
export async function execOverWebSocket(
  d: ExecDeps,
  route: { namespace: string; pod: string; container: string },
  query: URLSearchParams,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  if (!CHANNEL_PROTOCOLS.some((p) => offered.includes(p))) {
    throw new KubeletError(`no supported stream protocol offered (want one of ${CHANNEL_PROTOCOLS.join(', ')})`, 400);
  }
  const { ask, uri } = await prepareExec(d, route, query);
  // the caller's WebSocket first, then ECI's: whatever ECI sends at once has somewhere to go
  wss.handleUpgrade(req, socket, head, (client) => bridge(client, (h) => d.openExec(uri, h), ask, d.log));
}

/** Accepts a channel-protocol WebSocket and gives a sender that frames per the negotiated protocol. */
export function acceptChannels(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (client: WebSocket, send: (channel: number, data: Buffer) => void) => void): void {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  if (!CHANNEL_PROTOCOLS.some((p) => offered.includes(p))) {
    throw new KubeletError(`no supported stream protocol offered (want one of ${CHANNEL_PROTOCOLS.join(', ')})`, 400);
  }
  wss.handleUpgrade(req, socket, head, (client) => {
    const b64 = client.protocol === 'base64.channel.k8s.io';
    cb(client, (channel, data) => {
      if (client.readyState !== 1) return;
      if (b64) client.send(`${channel}${data.toString('base64')}`);
      else client.send(Buffer.concat([Buffer.from([channel]), data]));
    });
  });
}

function bridge(client: WebSocket, open: (h: EciExecHandlers) => Promise<EciExecSession>, ask: ExecRequest, log: Logger): void {
  const b64 = client.protocol === 'base64.channel.k8s.io';
  const v5 = client.protocol === 'v5.channel.k8s.io';
  const send = (channel: number, data: Buffer) => {
    if (client.readyState !== 1) return;
    if (b64) client.send(`${channel}${data.toString('base64')}`);
    else client.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  let statusSent = false;
  const finish = (reason?: string) => {
    if (!statusSent) {
      statusSent = true;
      const status = reason ? { metadata: {}, status: 'Failure', message: `the ECI exec session ended: ${reason}`, reason: 'InternalError' } : { metadata: {}, status: 'Success' };
      send(3, Buffer.from(JSON.stringify(status)));
    }
    client.close(1000);
  };
  let eci: EciExecSession | undefined;
  const early: Buffer[] = [];
  open({
    output: (ch, data) => {
      if ((ch === 1 && ask.stdout) || (ch === 2 && ask.stderr)) send(ch, data);
      else if (ch === 2 && ask.tty) send(1, data);
    },
    status: (status) => {
      statusSent = true;
      send(3, Buffer.from(JSON.stringify(status)));
    },
    closed: finish,
  }).then(
    (session) => {
      eci = session;
      for (const b of early.splice(0)) forward(b);
      if (client.readyState !== 1) session.close();
    },
    (err: unknown) => finish((err as Error).message),
  );
  const forward = (buf: Buffer): void => {
    const s = eci;
    if (!s) {
      early.push(buf);
      return;
    }
    const ch = buf[0];
    const body = buf.subarray(1);
    if (ch === 0 && ask.stdin) s.stdin(body);
    else if (ch === 4) {
      try {
        const size = JSON.parse(body.toString('utf8')) as { Width?: number; Height?: number };
        if (size.Width && size.Height) s.resize(size.Width, size.Height);
      } catch {
        log.debug({}, 'exec: an unreadable resize frame was ignored');
      }
    } else if (ch === 255 && v5 && body[0] === 0) s.closeStdin();
  };
  client.on('message', (raw: RawData, isBinary: boolean) => {
    let buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (!isBinary && b64) {
      const text = buf.toString('utf8');
      buf = Buffer.concat([Buffer.from([Number(text[0])]), Buffer.from(text.slice(1), 'base64')]);
    }
    if (buf.length > 0) forward(buf);
  });
  client.on('close', () => eci?.close());
  client.on('error', () => eci?.close());
}
