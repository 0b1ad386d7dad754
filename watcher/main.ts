/**
 * The watcher process: parse the configuration, take its adapters from the composition root
 * (shared/compose-watcher.ts: Kubernetes, the MNS queue, the kubelet API's and the webhooks' support), run the
 * Watcher, stop gracefully on SIGTERM/SIGINT (stop watching, flush, release leadership). No watcher file constructs
 * an adapter; everything works on ports.
 */
import { watcherAdapters, watcherQueue } from '../shared/compose-watcher.js';
import { createLogger, systemClock } from '../shared/compose.js';
import { parseConfig } from '../shared/domain/config.js';
import { asError } from '../shared/errors.js';
import { type KubeletRuntime, startKubelet } from './kubelet/index.js';
import { Watcher } from './watcher.js';
import { type AdmissionRuntime, startAdmission } from './webhook/index.js';

// Kept for the benchmarks and tests that import the clock and the queue from here.
export { systemClock, watcherQueue as buildQueue };

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const cfg = parseConfig(env);
  const log = createLogger(cfg, { app: 'eci-bridge-watcher' });
  const adapters = watcherAdapters(cfg, log);
  const cluster = adapters.cluster;
  // The kubelet API (logs, metrics): served by every replica; its ECI calls are the only ones the watcher makes.
  let kubelet: KubeletRuntime | undefined;
  if (cfg.KUBELET_ENABLED) {
    kubelet = await startKubelet({ config: cfg, cluster, ...adapters.kubelet(), clock: systemClock, log });
  }
  const watcher = new Watcher({
    cluster,
    queue: adapters.queue(),
    clock: systemClock,
    log,
    config: cfg,
    onPod: kubelet ? (type, pod) => kubelet?.onPod(type, pod) : undefined,
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    Promise.all([watcher.stop(), admission?.stop(), kubelet?.stop()])
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err: asError(err).message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // The eci-profile webhooks: served by every replica (not only the leader), so admission never waits on an election.
  let admission: AdmissionRuntime | undefined;
  if (cfg.WEBHOOK_ENABLED) {
    admission = await startAdmission({ cluster, support: adapters.admission(), clock: systemClock, log, config: cfg });
  }
  await watcher.start();
}

const isEntry = process.argv[1] !== undefined && /watcher[/\\](main|index)\.(ts|js|cjs)$/.test(process.argv[1]);
if (isEntry) {
  main().catch((err: unknown) => {
    process.stderr.write(`eci-bridge watcher: ${asError(err).message}\n`);
    process.exit(1);
  });
}
