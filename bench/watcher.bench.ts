/**
 * The watcher against a real kube-apiserver (a private local control plane, or KUBE_TEST_KUBECONFIG):
 * - bind → nudge latency: N pods created bound to the node; time from the create request to the nudge being
 *   accepted by the queue (p50/p95/p99; target p99 <= 250 ms);
 * - memory: the watcher's RSS in its own process with 10,000 pods on the node (target <= 150 MB).
 *
 *   npm run bench -- watcher [--pods 200] [--rss-pods 10000] [--concurrency 32] [--skip-rss]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { buildBundles } from '../scripts/build.js';
import { startControlPlane } from '../scripts/testenv/controlPlane.js';
import { createKubeCluster } from '../shared/adapters/kube/index.js';
import { parseConfig } from '../shared/domain/config.js';
import { decodeMessage } from '../shared/domain/messages.js';
import type { Logger, OutgoingMessage, QueueSender } from '../shared/ports/index.js';
import { coreApi, createTestNamespace, podManifest, uniqueName, waitUntil } from '../test/helpers/kube.js';
import { systemClock } from '../watcher/main.js';
import { Watcher } from '../watcher/watcher.js';
import { type Figure, figure, writeResult, percentile } from './results.js';
import type { ChildReport, ChildStart } from './watcher-child.js';
import { pool } from '../scripts/lib/async.js';

/** The Node flags the production watcher runs with (NODE_OPTIONS of deploy/watcher.yaml), so the RSS figure is theirs. */
function productionNodeFlags(): string[] {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'watcher.yaml');
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const d = doc.toJSON() as { kind?: string; spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } };
    if (d?.kind !== 'Deployment') continue;
    const opts = d.spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    return opts.split(/\s+/).filter(Boolean);
  }
  return [];
}

const SELF = fileURLToPath(import.meta.url);
const P99_TARGET_MS = 250;
const RSS_TARGET_MB = 150;

const quietLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quietLog };

function config(vnode: string, ns: string) {
  return parseConfig({ VNODE_NAME: vnode, BRIDGE_NAMESPACE: ns, LEADER_ELECTION: 'false', POD_IP: '127.0.0.1' });
}

/** A queue that only counts (so the measured memory is the watcher's, not a queue's backlog). */
function countingQueue(onNudge?: (name: string) => void): QueueSender & { nudges: number; ticks: number } {
  const q = {
    nudges: 0,
    ticks: 0,
    async send(messages: readonly OutgoingMessage[]): Promise<void> {
      for (const m of messages) {
        const msg = decodeMessage(m.body);
        if (msg.kind === 'pod') {
          q.nudges++;
          onNudge?.(msg.name);
        } else q.ticks++;
      }
    },
  };
  return q;
}

function ask(child: ChildProcess): Promise<Extract<ChildReport, { type: 'stats' }>> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if ((m as ChildReport).type === 'stats') {
        child.off('message', on);
        resolve(m as Extract<ChildReport, { type: 'stats' }>);
      }
    };
    child.on('message', on);
    child.send({ type: 'stats' });
  });
}

// ---------------------------------------------------------------- parent

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string', default: '200' },
      'rss-pods': { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '32' },
      'skip-rss': { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: false, // `npm run bench` passes every flag to every benchmark
  });
  const nPods = Number(values.pods);
  const rssPods = Number(values['rss-pods']);
  const concurrency = Number(values.concurrency);

  let stopCp: (() => Promise<void>) | undefined;
  let kubeconfig = process.env.KUBE_TEST_KUBECONFIG;
  if (!kubeconfig) {
    process.stdout.write('starting a private control plane (kube-apiserver + etcd)...\n');
    const cp = await startControlPlane();
    kubeconfig = cp.kubeconfigPath;
    stopCp = () => cp.stop();
  }
  const core = coreApi(kubeconfig);
  const bridgeNs = await createTestNamespace(kubeconfig, 'bench-bridge');
  const podNs = await createTestNamespace(kubeconfig, 'bench-pods');
  const nodes: string[] = [];
  const outDirs: string[] = [];
  const figures: Figure[] = [];
  try {
    // ---- latency
    const vnode = uniqueName('vn-bench');
    nodes.push(vnode);
    const sentAt = new Map<string, number>();
    const inWatcher: number[] = [];
    const startAt = new Map<string, number>();
    const queue = countingQueue((name) => {
      if (!sentAt.has(name)) sentAt.set(name, performance.now());
    });
    const w = new Watcher({
      cluster: createKubeCluster({ kubeconfigPath: kubeconfig }),
      queue,
      clock: systemClock,
      log: quietLog,
      http: false,
      config: config(vnode, bridgeNs.name),
      onSent: (batch) => {
        const now = Date.now();
        for (const p of batch) inWatcher.push(now - p.since);
      },
    });
    await w.start();
    await waitUntil('synced', () => w.synced);
    const names = Array.from({ length: nPods }, (_, i) => `lat-${i}`);
    const t0 = performance.now();
    const requestAt = new Map<string, number>();
    await pool(names, Math.min(concurrency, 16), async (name) => {
      requestAt.set(name, performance.now());
      await core.createNamespacedPod({ namespace: podNs.name, body: podManifest(name, vnode) });
      startAt.set(name, performance.now());
    });
    await waitUntil('every nudge', () => sentAt.size >= nPods, 120_000);
    const wall = performance.now() - t0;
    await w.stop();
    // bind time = the create (with spec.nodeName) answered; the watch event may even come first (then 0)
    const lat = names.map((n) => Math.max(0, (sentAt.get(n) ?? Number.NaN) - (startAt.get(n) ?? Number.NaN))).sort((a, b) => a - b);
    const fromRequest = names.map((n) => (sentAt.get(n) ?? Number.NaN) - (requestAt.get(n) ?? Number.NaN)).sort((a, b) => a - b);
    const p99 = percentile(lat, 99);
    process.stdout.write(
      `bind → nudge latency, ${nPods} pods (${Math.min(concurrency, 16)} creates in flight, ${(nPods / (wall / 1000)).toFixed(0)} pods/s, coalescing window ${config(vnode, bridgeNs.name).NUDGE_COALESCE_MS} ms):\n` +
        `  p50 ${percentile(lat, 50).toFixed(0)} ms   p95 ${percentile(lat, 95).toFixed(0)} ms   p99 ${p99.toFixed(0)} ms   max ${(lat[lat.length - 1] ?? 0).toFixed(0)} ms` +
        `   (target p99 <= ${P99_TARGET_MS} ms: ${p99 <= P99_TARGET_MS ? 'met' : 'NOT met'})\n` +
        `  from the create request instead: p50 ${percentile(fromRequest, 50).toFixed(0)} ms   p99 ${percentile(fromRequest, 99).toFixed(0)} ms\n` +
        `  inside the watcher (watch event → queue accepted): p50 ${percentile(inWatcher.sort((a, b) => a - b), 50).toFixed(0)} ms   p99 ${percentile(inWatcher, 99).toFixed(0)} ms\n` +
        `  nudges sent ${queue.nudges} for ${nPods} pods\n`,
    );

    figures.push(
      figure('watcher.bindToNudge.p50', 'watcher bind → nudge p50', percentile(lat, 50), 'ms'),
      figure('watcher.bindToNudge.p99', 'watcher bind → nudge p99', p99, 'ms', { op: '<=', value: P99_TARGET_MS }),
      figure('watcher.nudgesPerPod', 'watcher nudges per pod', queue.nudges / nPods, ''),
    );
    writeResult('watcher', figures);
    if (values['skip-rss']) return;
    // ---- memory, the watcher alone in a child process
    const rssNode = uniqueName('vn-rss');
    nodes.push(rssNode);
    // the child is bundled like the production watcher and runs on plain node (no tsx in its memory)
    const outDir = mkdtempSync(join(tmpdir(), 'watcher-bench-'));
    outDirs.push(outDir);
    const [built] = await buildBundles({
      outDir,
      clean: false,
      entries: [{ name: 'watcher-bench-child', entry: join(dirname(SELF), 'watcher-child.ts'), outSubdir: 'child' }],
    });
    const child = fork(built?.file ?? '', [], { execArgv: [...productionNodeFlags(), '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const ready = new Promise<void>((r) => child.once('message', () => r()));
      child.send({ kubeconfig, vnode: rssNode, ns: bridgeNs.name } satisfies ChildStart);
      await ready;
      const base = await ask(child);
      process.stdout.write(`creating ${rssPods} pods on the node (${concurrency} in flight)...\n`);
      const c0 = performance.now();
      await pool(
        Array.from({ length: rssPods }, (_, i) => `rss-${i}`),
        concurrency,
        (name) => core.createNamespacedPod({ namespace: podNs.name, body: podManifest(name, rssNode) }),
      );
      process.stdout.write(`  created in ${((performance.now() - c0) / 1000).toFixed(0)} s\n`);
      let last = base;
      await waitUntil(
        'the watcher sees every pod',
        async () => {
          last = await ask(child);
          return last.pods >= rssPods && last.nudges >= rssPods;
        },
        300_000,
      );
      await new Promise((r) => setTimeout(r, 3000)); // a few status ticks over 10k changing pods
      const loaded = await ask(child);
      figures.push(
        figure('watcher.rss.idle', 'watcher RSS idle (own process)', base.rssMb, 'MB'),
        figure('watcher.rss.loaded', `watcher RSS with ${loaded.pods} pods (own process, after a full GC)`, loaded.rssMb, 'MB', { op: '<=', value: RSS_TARGET_MB }),
      );
      writeResult('watcher', figures);
      process.stdout.write(
        `watcher RSS (production Node flags, after a full GC): ${base.rssMb.toFixed(0)} MB idle → ${loaded.rssMb.toFixed(0)} MB with ${loaded.pods} pods (heap ${loaded.heapMb.toFixed(0)} MB; ` +
          `+${(loaded.rssMb - base.rssMb).toFixed(0)} MB)   (target <= ${RSS_TARGET_MB} MB: ${loaded.rssMb <= RSS_TARGET_MB ? 'met' : 'NOT met'})\n`,
      );
    } finally {
      child.send({ type: 'stop' });
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
  } finally {
    if (outDirs.length) for (const d of outDirs) rmSync(d, { recursive: true, force: true });
    await podNs.cleanup();
    await bridgeNs.cleanup();
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => {});
    await stopCp?.();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`watcher bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
