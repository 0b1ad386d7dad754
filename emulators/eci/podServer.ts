/**
 * Pods that answer on their ports (scenario `servePorts`, with `loopbackPodIps`): while a container runs, each TCP
 * port it declares is served on `<pod IP>:<port>` (an address in 127.0.0.0/8, so this machine reaches it) by a
 * small HTTP responder naming the group, the container and the request. It is what `kubectl port-forward` on the
 * sandbox reaches through the watcher's kubelet API — an emulated container runs no program of its own.
 *
 * Level-triggered: `reconcile()` (after every sweep of the emulator) opens the listeners running containers want
 * and closes the others (container stopped, group gone). A port that cannot be bound (below 1024 without root, or
 * in use) is remembered with its reason and not retried; nothing fails because of it.
 */
import { createServer, type Server } from 'node:http';
import type { SimGroup } from './lifecycle.js';
import { int, objects, str } from './params.js';

interface Listener {
  server: Server;
  ready: Promise<void>;
}

export class PodPortServer {
  readonly #listeners = new Map<string, Listener>();
  /** `ip:port` → why it is not served */
  readonly #unserved = new Map<string, string>();
  #closed = false;

  constructor(private readonly groups: () => Iterable<SimGroup>) {}

  /** The addresses served now (`ip:port`). */
  served(): string[] {
    return [...this.#listeners.keys()];
  }

  /** The addresses that could not be served, with the reason. */
  unserved(): ReadonlyMap<string, string> {
    return this.#unserved;
  }

  reconcile(): void {
    if (this.#closed) return;
    const want = new Map<string, { group: string; container: string }>();
    for (const g of this.groups()) {
      if (g.status !== 'Running' || !g.ip || g.gone) continue;
      for (const c of g.containers) {
        if (c.state.State !== 'Running') continue;
        for (const p of objects(c.spec.extra, 'Port')) {
          const port = int(p, 'Port');
          if (port === undefined || (str(p, 'Protocol') ?? 'TCP') !== 'TCP') continue;
          want.set(`${g.ip}:${port}`, { group: g.id, container: c.spec.Name });
        }
      }
    }
    for (const [key, l] of this.#listeners) {
      if (want.has(key)) continue;
      this.#listeners.delete(key);
      l.server.close();
      l.server.closeAllConnections();
    }
    for (const [key, who] of want) {
      if (this.#listeners.has(key) || this.#unserved.has(key)) continue;
      this.#listeners.set(key, this.#listen(key, who.group, who.container));
    }
  }

  /** Resolves once every listener opened so far is bound (or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.#listeners.values()].map((l) => l.ready));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#listeners.values()];
    this.#listeners.clear();
    await Promise.all(
      all.map(
        (l) =>
          new Promise<void>((resolve) => {
            l.server.close(() => resolve());
            l.server.closeAllConnections();
          }),
      ),
    );
  }

  #listen(key: string, group: string, container: string): Listener {
    const [host, portText] = [key.slice(0, key.lastIndexOf(':')), key.slice(key.lastIndexOf(':') + 1)];
    const port = Number(portText);
    const server = createServer((req, res) => {
      const body = `eci-emulator: container group ${group}, container ${container}, port ${port}: ${req.method} ${req.url}\n`;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
    const ready = new Promise<void>((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        this.#unserved.set(key, err.code ?? err.message);
        if (this.#listeners.get(key)?.server === server) this.#listeners.delete(key);
        resolve();
      });
      server.listen(port, host, () => resolve());
    });
    return { server, ready };
  }
}
