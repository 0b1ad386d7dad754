/**
 * The watcher process: parse the configuration, build the adapters (Kubernetes, MNS queue), run the Watcher,
 * stop gracefully on SIGTERM/SIGINT (stop watching, flush, release leadership). The only watcher file that
 * constructs adapters; everything else works on ports.
 */
import { openEciExec } from '../shared/adapters/eci/exec.js';
import { createEciContainerGroups } from '../shared/adapters/eci/index.js';
import { createKubeAdmissionSupport, createKubeCluster, createKubeKubeletSupport } from '../shared/adapters/kube/index.js';
import { MnsQueue } from '../shared/adapters/queue/index.js';
import { cloudCredentials, createLogger, kubeOptions, systemClock } from '../shared/compose.js';
import { type Config, parseConfig } from '../shared/domain/config.js';
import { asError } from '../shared/errors.js';
import { type KubeletRuntime, startKubelet } from './kubelet/index.js';
import { Watcher } from './watcher.js';
import { type AdmissionRuntime, startAdmission } from './webhook/index.js';

// Kept for the benchmarks and tests that import the clock from here.
export { systemClock };

export function buildQueue(cfg: Config): MnsQueue {
  if (cfg.QUEUE_KIND !== 'mns') {
    throw new Error('the watcher process sends to MNS; the embedded queue runs in-process under `npm start`');
  }
  if (!cfg.ALIBABA_CLOUD_ACCOUNT_ID || !cfg.ALIBABA_CLOUD_ACCESS_KEY_ID || !cfg.ALIBABA_CLOUD_ACCESS_KEY_SECRET) {
    throw new Error('MNS needs ALIBABA_CLOUD_ACCOUNT_ID, ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  }
  return new MnsQueue({
    accountId: cfg.ALIBABA_CLOUD_ACCOUNT_ID,
    queueName: cfg.MNS_QUEUE,
    endpoint: cfg.MNS_ENDPOINT,
    region: cfg.ECI_REGION,
    vpc: !cfg.MNS_ENDPOINT,
    credentials: {
      accessKeyId: cfg.ALIBABA_CLOUD_ACCESS_KEY_ID,
      accessKeySecret: cfg.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
      securityToken: cfg.ALIBABA_CLOUD_SECURITY_TOKEN,
    },
  });
}

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const cfg = parseConfig(env);
  const log = createLogger(cfg, { app: 'eci-bridge-watcher' });
  const cluster = createKubeCluster(kubeOptions(cfg), { component: 'eci-bridge-watcher', host: cfg.VNODE_NAME });
  // The kubelet API (logs, metrics): served by every replica; its ECI calls are the only ones the watcher makes.
  let kubelet: KubeletRuntime | undefined;
  if (cfg.KUBELET_ENABLED) {
    const creds = cloudCredentials(cfg);
    if (!creds) throw new Error('KUBELET_ENABLED needs ECI credentials (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET)');
    kubelet = await startKubelet({
      config: cfg,
      cluster,
      support: createKubeKubeletSupport(kubeOptions(cfg)),
      eci: createEciContainerGroups(cfg, creds, { logger: log.child({ adapter: 'eci' }), retry: { maxAttempts: 2 } }),
      openExec: (uri, h) => openEciExec(uri, h),
      clock: systemClock,
      log,
    });
  }
  const watcher = new Watcher({
    cluster,
    queue: buildQueue(cfg),
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
    admission = await startAdmission({ cluster, support: createKubeAdmissionSupport(kubeOptions(cfg)), clock: systemClock, log, config: cfg });
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
