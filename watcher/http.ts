/** /healthz, /readyz and /metrics on node:http (no framework). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const HEALTH_PATHS = { healthz: '/healthz', readyz: '/readyz', metrics: '/metrics' } as const;

export interface Probes {
  healthy(): { ok: boolean; detail: string };
  ready(): { ok: boolean; detail: string };
  metrics(): string;
}

export class HealthServer {
  #server?: Server;

  constructor(private readonly probes: Probes) {}

  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      if (path === HEALTH_PATHS.metrics) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(this.probes.metrics());
        return;
      }
      const probe = path === HEALTH_PATHS.healthz ? this.probes.healthy() : path === HEALTH_PATHS.readyz ? this.probes.ready() : undefined;
      if (!probe) {
        res.writeHead(404).end('not found\n');
        return;
      }
      res.writeHead(probe.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${probe.ok ? 'ok' : 'not ok'}: ${probe.detail}\n`);
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = undefined;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
