/**
 * The watcher alone in a process, for the RSS figure of bench/watcher.bench.ts (bundled with the production
 * build settings, run without tsx). Reports its memory on request over IPC.
 */
import { createKubeCluster } from '../shared/adapters/kube/index.js';
import { parseConfig } from '../shared/domain/config.js';
import { decodeMessage } from '../shared/domain/messages.js';
import type { Logger, OutgoingMessage } from '../shared/ports/index.js';
import { systemClock } from '../watcher/main.js';
import { Watcher } from '../watcher/watcher.js';

export interface ChildStart {
  kubeconfig: string;
  vnode: string;
  ns: string;
}
export type ChildReport = { type: 'ready' } | { type: 'stats'; rssMb: number; heapMb: number; pods: number; nudges: number; ticks: number };

const quietLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quietLog };

async function run(): Promise<void> {
  const start = await new Promise<ChildStart>((r) => process.once('message', (m) => r(m as ChildStart)));
  let nudges = 0;
  let ticks = 0;
  const w = new Watcher({
    cluster: createKubeCluster({ kubeconfigPath: start.kubeconfig }),
    // a queue that only counts, so the memory measured is the watcher's and not a backlog's
    queue: {
      async send(messages: readonly OutgoingMessage[]) {
        for (const m of messages) {
          if (decodeMessage(m.body).kind === 'pod') nudges++;
          else ticks++;
        }
      },
    },
    clock: systemClock,
    log: quietLog,
    http: false,
    config: parseConfig({ VNODE_NAME: start.vnode, BRIDGE_NAMESPACE: start.ns, LEADER_ELECTION: 'false', POD_IP: '127.0.0.1' }),
  });
  await w.start();
  while (!w.synced) await new Promise((r) => setTimeout(r, 20));
  process.send?.({ type: 'ready' } satisfies ChildReport);
  process.on('message', (m) => {
    if ((m as { type: string }).type === 'stats') {
      // Steady state: collect garbage first (the bench passes --expose-gc), so the figure is what the watcher
      // retains for its pods, not how far the last burst of watch events happened to grow the heap.
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      process.send?.({ type: 'stats', rssMb: mem.rss / 1048576, heapMb: mem.heapUsed / 1048576, pods: w.podCount, nudges, ticks } satisfies ChildReport);
    } else {
      void w.stop(1000).then(() => process.exit(0));
    }
  });
}

run().catch((err: unknown) => {
  process.stderr.write(`watcher bench child: ${String(err)}\n`);
  process.exit(1);
});
