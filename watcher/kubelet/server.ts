/**
 * The kubelet API's HTTPS server (node:https, no framework): /healthz (unauthenticated, as the kubelet's healthz
 * port), then for every other path authentication → authorization (auth.ts) → the route:
 *   GET /containerLogs/{ns}/{pod}/{container}   logs.ts / archive.ts via handlers.ts
 *   GET /stats/summary, /metrics/resource       stats.ts
 *   exec, attach, portForward                   upgrades only: WebSocket (exec.ts, portForward.ts) or SPDY/3.1
 *                                               (spdyExec.ts); a plain request gets 400
 * Streaming upgrades (SPDY/WebSocket) get the same authentication and authorization before their answer.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../shared/ports/index.js';
import type { KubeletAuth } from './auth.js';
import { KubeletError } from './errors.js';
import { authzAttributes, parseRoute, type Route } from './paths.js';

export interface RouteHandlers {
  /** a WebSocket exec upgrade, authorized: answers the upgrade itself (exec.ts) */
  execWebSocket(route: { namespace: string; pod: string; container: string }, query: URLSearchParams, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void>;
  /** a WebSocket port-forward upgrade, authorized: dials the pod IP (portForward.ts) */
  portForwardWebSocket(route: { namespace: string; pod: string }, query: URLSearchParams, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void>;
  /** a WebSocket attach upgrade, authorized: read-only (handlers.ts) */
  attachWebSocket(route: { namespace: string; pod: string; container: string }, query: URLSearchParams, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void>;
  /** the same three over SPDY/3.1 (kubectl ≤ 1.29; newer apiservers translate to it), authorized (spdyExec.ts) */
  execSpdy(route: { namespace: string; pod: string; container: string }, query: URLSearchParams, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void>;
  attachSpdy(route: { namespace: string; pod: string; container: string }, query: URLSearchParams, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void>;
  portForwardSpdy(route: { namespace: string; pod: string }, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void>;
  containerLogs(route: Extract<Route, { kind: 'containerLogs' }>, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void>;
  statsSummary(res: ServerResponse): Promise<void>;
  metricsResource(res: ServerResponse): Promise<void>;
}

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

const STREAMING = new Set(['exec', 'attach', 'portForward']);

function notServed(kind: string, upgrade?: string): KubeletError {
  if (upgrade) return new KubeletError(`${kind}: the upgrade "${upgrade}" is not supported (WebSocket or SPDY/3.1)`, 400);
  return new KubeletError(`${kind} needs a WebSocket or SPDY upgrade (docs/kubelet-api.md)`, 400);
}

export function sendError(res: ServerResponse, err: unknown, log: Logger): void {
  const e = err instanceof KubeletError ? err : new KubeletError(`internal error: ${(err as Error).message}`, 500, { cause: err });
  if (e.status >= 500) log.warn({ err: e.message }, 'kubelet API request failed');
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  const retry = (e as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (retry !== undefined) headers['retry-after'] = String(retry);
  res.writeHead(e.status, headers).end(`${e.message}\n`);
}

export async function startKubeletServer(opts: {
  tls: { certPem: string; keyPem: string };
  clientCaPem?: string;
  auth: KubeletAuth;
  handlers: RouteHandlers;
  log: Logger;
  host: string;
  port: number;
}): Promise<KubeletServer> {
  const { auth, handlers, log } = opts;

  const guard = async (req: IncomingMessage, path: string): Promise<void> => {
    const user = await auth.authenticate(req.socket as TLSSocket, req.headers.authorization);
    await auth.authorize(user, authzAttributes(req.method ?? 'GET', path));
  };

  const server = https.createServer(
    {
      cert: opts.tls.certPem,
      key: opts.tls.keyPem,
      // ask for a client certificate; verification failures fall through to the bearer token (auth.ts)
      requestCert: opts.clientCaPem !== undefined,
      rejectUnauthorized: false,
      ...(opts.clientCaPem ? { ca: opts.clientCaPem } : {}),
    },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const route = parseRoute(url.pathname);
      if (route.kind === 'healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      const serve = async (): Promise<void> => {
        await guard(req, url.pathname);
        switch (route.kind) {
          case 'containerLogs':
            if (req.method !== 'GET') throw new KubeletError('containerLogs takes GET', 405);
            return handlers.containerLogs(route, url.searchParams, req, res);
          case 'statsSummary':
            return handlers.statsSummary(res);
          case 'metricsResource':
            return handlers.metricsResource(res);
          case 'exec':
          case 'attach':
          case 'portForward':
            throw notServed(route.kind);
          default:
            throw new KubeletError(`404 page not found: ${url.pathname}`, 404);
        }
      };
      serve().catch((err: unknown) => sendError(res, err, log));
    },
  );

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const route = parseRoute(url.pathname);
    // a metav1.Status body: client-go's SPDY dialer decodes a refused upgrade as one and prints its message
    const answer = (status: number, message: string) => {
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code: status });
      const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : status === 404 ? 'Not Found' : 'Error';
      socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    const websocket = upgrade === 'websocket';
    const spdy = upgrade === 'spdy/3.1';
    guard(req, url.pathname)
      .then(async () => {
        if (route.kind === 'exec' && websocket) return handlers.execWebSocket(route, url.searchParams, req, socket, head);
        if (route.kind === 'attach' && websocket) return handlers.attachWebSocket(route, url.searchParams, req, socket, head);
        if (route.kind === 'portForward' && websocket) return handlers.portForwardWebSocket(route, url.searchParams, req, socket, head);
        if (route.kind === 'exec' && spdy) return handlers.execSpdy(route, url.searchParams, req, socket, head);
        if (route.kind === 'attach' && spdy) return handlers.attachSpdy(route, url.searchParams, req, socket, head);
        if (route.kind === 'portForward' && spdy) return handlers.portForwardSpdy(route, req, socket, head);
        const err = STREAMING.has(route.kind) ? notServed(route.kind, upgrade) : new KubeletError(`404 page not found: ${url.pathname}`, 404);
        answer(err.status, err.message);
      })
      .catch((err: unknown) => {
        const e = err instanceof KubeletError ? err : new KubeletError((err as Error).message, 500);
        answer(e.status, e.message);
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
