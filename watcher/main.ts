/**
 * The watcher process: parse the configuration, build the adapters (Kubernetes, MNS queue), run the Watcher,
 * stop gracefully on SIGTERM/SIGINT (stop watching, flush, release leadership). The only watcher file that
 * constructs adapters; everything else works on ports.
 */
import pino from 'pino';
import { createKubeCluster, type KubeClientOptions } from '../shared/adapters/kube/index.js';
import { MnsQueue } from '../shared/adapters/queue/index.js';
import { type Config, parseConfig } from '../shared/domain/config.js';
import { asError } from '../shared/errors.js';
import type { Clock, Logger } from '../shared/ports/index.js';
import { Watcher } from './watcher.js';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new Error('aborted'));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(t);
        reject(new Error('aborted'));
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export function kubeOptions(cfg: Config): KubeClientOptions {
  if (cfg.KUBE_API_SERVER && cfg.KUBE_TOKEN && cfg.KUBE_CA) {
    const ca = cfg.KUBE_CA.includes('BEGIN CERTIFICATE') ? cfg.KUBE_CA : Buffer.from(cfg.KUBE_CA, 'base64').toString('utf8');
    return { server: cfg.KUBE_API_SERVER, token: cfg.KUBE_TOKEN, caPem: ca };
  }
  if (cfg.KUBECONFIG) return { kubeconfigPath: cfg.KUBECONFIG };
  return { inCluster: true };
}

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
  // pino's logger satisfies the Logger port (obj, msg) signatures; the cast narrows its richer type.
  const log = pino({ level: cfg.LOG_LEVEL, base: { app: 'eci-bridge-watcher' } }) as unknown as Logger;
  const watcher = new Watcher({
    cluster: createKubeCluster(kubeOptions(cfg), { component: 'eci-bridge-watcher', host: cfg.VNODE_NAME }),
    queue: buildQueue(cfg),
    clock: systemClock,
    log,
    config: cfg,
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    watcher
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err: asError(err).message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await watcher.start();
}

const isEntry = process.argv[1] !== undefined && /watcher[/\\](main|index)\.(ts|js|cjs)$/.test(process.argv[1]);
if (isEntry) {
  main().catch((err: unknown) => {
    process.stderr.write(`eci-bridge watcher: ${asError(err).message}\n`);
    process.exit(1);
  });
}
