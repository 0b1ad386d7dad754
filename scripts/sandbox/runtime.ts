/**
 * The whole bridge in one process, as `npm start` runs it: the watcher (leader election, node registration and
 * lease, pod watch → nudges, status ticks), the embedded queue and its dead-letter queue, the embedded delivery that
 * feeds the pod-sync handler the same CloudEvents Buffer EventBridge delivers (the s.yaml trigger's batching and
 * retry settings), and status-sync and gc on in-process timers calling their handlers with FC timer events; with
 * WEBHOOK_ENABLED the eci-profile admission webhooks too (./webhooks.ts).
 *
 * Everything is built through the composition root (shared/compose.ts) and the functions' own `createHandler`:
 * the handler code is the code FC runs. `stop()` stops it all in order and leaves nothing running.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createHandler as createBilling } from '../../functions/billing/index.js';
import { createHandler as createGc } from '../../functions/gc/index.js';
import { createHandler as createPodSync } from '../../functions/pod-sync/index.js';
import { createHandler as createStatusSync } from '../../functions/status-sync/index.js';
import { openEciExec } from '../../shared/adapters/eci/exec.js';
import { createKubeClient, createKubeKubeletSupport } from '../../shared/adapters/kube/index.js';
import { EmbeddedQueue, startEmbeddedDelivery } from '../../shared/adapters/queue/index.js';
import { type Bridge, bridgeFactory, cloudCredentials, kubeOptions, systemClock } from '../../shared/compose.js';
import type { Config } from '../../shared/domain/config.js';
import type { StreamHandle } from '../../shared/sim/eventbridge.js';
import type { FcContextLike, FcCredentials, FcEventHandler } from '../../shared/sim/fc.js';
import { asError } from '../../shared/errors.js';
import type { Logger, QueueSender } from '../../shared/ports/index.js';
import { type KubeletRuntime, startKubelet } from '../../watcher/kubelet/index.js';
import { Watcher } from '../../watcher/watcher.js';
import { RuntimeError } from './errors.js';
import { type LocalWebhooks, startLocalWebhooks } from './webhooks.js';

export interface RuntimeOptions {
  config: Config;
  logger: Logger;
  /** FC timer periods (s.yaml: status-sync every minute, gc every 5 minutes, billing hourly), in ms. */
  statusSyncEveryMs?: number;
  gcEveryMs?: number;
  billingEveryMs?: number;
  /** Scales EventBridge's waits (batch window, retry delays); 1 = as deployed. */
  deliveryTimeScale?: number;
  /** Serve the watcher's /healthz, /readyz, /metrics on config.WATCHER_HTTP_HOST:PORT (default true). */
  http?: boolean;
  /** Register the admission webhooks (WEBHOOK_ENABLED) with a loopback URL: only for an API server on this machine. */
  registerWebhooks?: boolean;
  /** Poll intervals of the kubelet API's log followers (tests shorten them; default 1-10 s). */
  followIntervalMs?: { min: number; max: number };
  /** Wraps the queue as the watcher sends to it (the chaos suite injects transport faults here). */
  watcherQueue?: (queue: QueueSender) => QueueSender;
}

export type TimerFn = 'status-sync' | 'gc' | 'billing';

export interface TimerRun {
  fn: TimerFn;
  ok: boolean;
  at: number;
  error?: string;
}

export interface Runtime {
  readonly config: Config;
  /** The bridge the handlers use (its cluster client is also the watcher's). */
  readonly bridge: Bridge;
  readonly watcher: Watcher;
  /** The kubelet API (config.KUBELET_ENABLED): kubectl logs / top through the apiserver. */
  readonly kubelet?: KubeletRuntime;
  readonly queue: EmbeddedQueue;
  readonly deadLetter: EmbeddedQueue;
  readonly delivery: StreamHandle;
  /** The admission webhooks (WEBHOOK_ENABLED), registered with a loopback URL when the API server is local. */
  readonly webhooks?: LocalWebhooks;
  /** Timer runs so far (newest last, at most 100). */
  timerRuns(): readonly TimerRun[];
  /** Runs a timer function now (as FC would on its schedule). */
  runTimer(fn: TimerFn): Promise<TimerRun>;
  /** Resolves when the watcher leads and its pod watch has synced. */
  ready(timeoutMs?: number): Promise<void>;
  readonly stopped: boolean;
  /** Stops the watcher (flush, release leadership), the timers, the delivery (the push in flight finishes), the queues. */
  stop(): Promise<void>;
}

function timerEvent(name: string): Buffer {
  return Buffer.from(JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: name, payload: '{}' }), 'utf8');
}

/**
 * s.yaml's pod-sync trigger: up to 10 messages, no time window, two parallel pushes, BACKOFF_RETRY, errors tolerated
 * → DLQ. One constant so the sandbox and the benches that drive the EventBridge simulator deliver as the cloud does.
 */
export const POD_SYNC_TRIGGER = {
  batchSize: 10,
  batchWindowSeconds: 0,
  maximumTasks: 2,
  base64Decode: true,
  retryStrategy: 'BACKOFF_RETRY',
  errorsTolerance: 'ALL',
} as const;

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = opts;
  if (config.QUEUE_KIND !== 'embedded') throw new RuntimeError('the one-process bridge runs on the embedded queue (QUEUE_KIND=embedded)');
  const deadLetter = new EmbeddedQueue({ name: config.MNS_DEAD_LETTER_QUEUE });
  const queue = new EmbeddedQueue({ name: config.MNS_QUEUE, deadLetter });
  const bridges = bridgeFactory(config, { queue, deadLetter, logger });
  // The "function role" credentials every invocation gets: the configured keys (FC would pass STS ones).
  const keys = cloudCredentials(config);
  const credentials: FcCredentials = {
    accessKeyId: keys?.accessKeyId ?? '',
    accessKeySecret: keys?.accessKeySecret ?? '',
    securityToken: keys?.securityToken ?? '',
  };
  const bridge = bridges(credentials);
  const fnLogger = (fn: string) => {
    const l = logger.child({ fn });
    return () => l;
  };
  const podSync = createPodSync(bridges, fnLogger('pod-sync'));
  const statusSync = createStatusSync(bridges, fnLogger('status-sync'));
  const gc = createGc(bridges, fnLogger('gc'));
  const billing = createBilling(bridges, fnLogger('billing'));

  const delivery = startEmbeddedDelivery({
    queue,
    deadLetter,
    handler: podSync,
    functionName: 'pod-sync',
    triggerName: 'pods-queue',
    region: config.FC_REGION ?? config.ECI_REGION,
    ...(config.ALIBABA_CLOUD_ACCOUNT_ID ? { accountId: config.ALIBABA_CLOUD_ACCOUNT_ID } : {}),
    ...POD_SYNC_TRIGGER,
    timeScale: opts.deliveryTimeScale ?? 1,
    functionCredentials: credentials,
    onEvent: (ev) => {
      if (ev.type === 'attempt-failed') logger.warn({ fn: 'pod-sync', attempt: ev.attempt, err: asError(ev.error).message }, 'pod-sync batch failed');
      else if (ev.type === 'dead-lettered') logger.error({ fn: 'pod-sync', size: ev.size }, 'pod-sync batch dead-lettered');
    },
  });

  const runs: TimerRun[] = [];
  const busy = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  const invoke = async (fn: TimerFn): Promise<TimerRun> => {
    const handler: FcEventHandler = fn === 'gc' ? gc : fn === 'billing' ? billing : statusSync;
    const context: FcContextLike = {
      requestId: randomUUID(),
      credentials: { ...credentials },
      function: { name: fn, handler: 'index.handler', memory: 512, timeout: 120 },
      region: config.FC_REGION ?? config.ECI_REGION,
      accountId: config.ALIBABA_CLOUD_ACCOUNT_ID ?? 'local',
    };
    let run: TimerRun;
    try {
      await handler(timerEvent(`${fn}-timer`), context);
      run = { fn, ok: true, at: Date.now() };
    } catch (err) {
      run = { fn, ok: false, at: Date.now(), error: asError(err).message };
      logger.warn({ fn, err: run.error }, 'timer function failed');
    }
    runs.push(run);
    if (runs.length > 100) runs.shift();
    return run;
  };
  const runTimer = (fn: TimerFn): Promise<TimerRun> => {
    const p = invoke(fn);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  };
  const timers = [
    ['status-sync', opts.statusSyncEveryMs ?? 60_000],
    ['gc', opts.gcEveryMs ?? 300_000],
    ['billing', opts.billingEveryMs ?? 3_600_000],
  ].map(([fn, ms]) =>
    setInterval(() => {
      const name = fn as TimerFn;
      // FC runs one instance per timer (reservedConcurrency 1): skip a tick while the previous run goes on
      if (stopped || busy.has(name)) return;
      busy.add(name);
      void runTimer(name).finally(() => busy.delete(name));
    }, Number(ms)),
  );

  let webhooks: LocalWebhooks | undefined;
  const stopEarly = async () => {
    for (const t of timers) clearInterval(t);
    await delivery.stop();
    await webhooks?.stop();
    queue.close();
    deadLetter.close();
  };
  if (config.WEBHOOK_ENABLED) {
    try {
      webhooks = await startLocalWebhooks({
        config,
        kube: createKubeClient(kubeOptions(config)),
        cluster: bridge.cluster,
        log: logger.child({ component: 'webhook' }),
        register: opts.registerWebhooks ?? false,
      });
    } catch (err) {
      await stopEarly();
      throw new RuntimeError(`the admission webhooks did not start: ${asError(err).message}`, { cause: err });
    }
    if (webhooks.notRegistered) logger.warn({ reason: webhooks.notRegistered }, 'admission webhooks serve but are not registered');
  }
  let kubelet: KubeletRuntime | undefined;
  const watcher = new Watcher({
    cluster: bridge.cluster,
    queue: opts.watcherQueue ? opts.watcherQueue(queue) : queue,
    clock: systemClock,
    log: logger.child({ component: 'watcher' }),
    config: { ...config, POD_NAME: config.POD_NAME ?? `npm-start-${hostname()}-${process.pid}` },
    http: opts.http ?? true,
    onPod: (type, pod) => kubelet?.onPod(type, pod),
  });
  try {
    // the kubelet API as the watcher process serves it (watcher/main.ts), over the bridge's ECI adapter
    if (config.KUBELET_ENABLED) {
      kubelet = await startKubelet({
        config,
        cluster: bridge.cluster,
        support: createKubeKubeletSupport(kubeOptions(config)),
        eci: bridge.eci,
        openExec: (uri, h) => openEciExec(uri, h),
        clock: systemClock,
        log: logger.child({ component: 'watcher' }),
        ...(opts.followIntervalMs ? { followIntervalMs: opts.followIntervalMs } : {}),
      });
    }
    await watcher.start();
  } catch (err) {
    await kubelet?.stop();
    await stopEarly();
    throw new RuntimeError(`the watcher did not start: ${asError(err).message}`, { cause: err });
  }

  return {
    config,
    bridge,
    watcher,
    kubelet,
    queue,
    deadLetter,
    delivery,
    ...(webhooks ? { webhooks } : {}),
    timerRuns: () => runs,
    runTimer,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(watcher.isLeader && watcher.synced)) {
        if (Date.now() > deadline) throw new RuntimeError(`the watcher did not lead and sync within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    get stopped() {
      return stopped;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // the watcher first: it flushes its pending nudges into the queue and releases leadership
      await watcher.stop();
      await kubelet?.stop();
      for (const t of timers) clearInterval(t);
      await delivery.stop();
      await Promise.allSettled([...inFlight]);
      await webhooks?.stop();
      queue.close();
      deadLetter.close();
    },
  };
}
