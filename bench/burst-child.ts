/**
 * One process of the production-shaped burst bench (bench/burst.bench.ts), forked with an IPC channel:
 *
 * - `eci`: the ECI emulator (records each group's create time and first Running time, for bind → create);
 * - `mns`: the MNS emulator with the pods queue and its dead-letter queue;
 * - `watcher`: the watcher composed as watcher/main.ts composes it (createKubeCluster, MnsQueue, Watcher);
 * - `worker`: one pod-sync "FC instance": EventBridge's MNS consumer (the simulator, one task) pushing batches to the
 *   pod-sync handler built as functions/pod-sync/index.ts builds it; counts invocations and their duration
 *   (FC bills duration × the instance's vCPU and memory).
 *
 * The configuration comes as JSON in BENCH_CONFIG (the parsed Config). The parent asks `{ type: 'stats' }` and gets
 * this process's CPU time, RSS and role figures; `{ type: 'profile-start' }` / `{ type: 'profile-stop', file }`
 * record a CPU profile of just that window (the inspector's Profiler, what `node --cpu-prof` uses) into `file`;
 * `{ type: 'stop' }` stops it and exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startEciEmulator } from '../emulators/eci/index.js';
import { startEventBridgeDelivery } from '../emulators/eventbridge/index.js';
import { startMnsEmulator } from '../emulators/mns/index.js';
import { createHandler as createPodSync } from '../functions/pod-sync/index.js';
import { createKubeCluster } from '../shared/adapters/kube/index.js';
import { bridgeFactory, createLogger, kubeOptions, systemClock } from '../shared/compose.js';
import type { Config } from '../shared/domain/config.js';
import { TAG_CLUSTER, TAG_POD_UID } from '../shared/domain/names.js';
import type { FcEventHandler } from '../shared/sim/fc.js';
import { buildQueue } from '../watcher/main.js';
import { Watcher } from '../watcher/watcher.js';

export type Role = 'eci' | 'mns' | 'watcher' | 'worker';
export interface ChildStats {
  role: Role;
  cpuMs: number;
  rssMb: number;
  /** eci: calls by action; mns: requests by operation; worker: invocations and busy ms */
  counts: Record<string, number>;
  /** eci: of those calls, the ones answered Throttling (quotas on), by action */
  throttled?: Record<string, number>;
  /** eci: per group [pod UID, created ms, first Running ms or 0, deleted (1/0)] */
  groups?: [string, number, number, number][];
}

const role = process.argv[2] as Role;
const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Config & { BENCH_TIME_SCALE?: number; BENCH_MNS_ACCOUNT?: string; BENCH_QUOTAS?: boolean };
const send = (m: unknown) => process.send?.(m);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let stats: () => Record<string, number> = () => ({});
let groups: (() => [string, number, number, number][]) | undefined;
let throttled: (() => Record<string, number>) | undefined;
let stop: () => Promise<unknown> = async () => undefined;

if (role === 'eci') {
  const emu = await startEciEmulator({ timeScale: cfg.BENCH_TIME_SCALE ?? 0.5, scenario: { seed: 1 }, quotas: cfg.BENCH_QUOTAS === true });
  const seen = new Map<string, [string, number, number, number]>();
  const poll = setInterval(() => {
    const live = new Set<string>();
    for (const g of emu.states()) {
      if (g.tags.find((t) => t.Key === TAG_CLUSTER)?.Value !== cfg.CLUSTER_NAME) continue;
      const uid = g.tags.find((t) => t.Key === TAG_POD_UID)?.Value;
      if (!uid) continue;
      live.add(g.id);
      const s = seen.get(g.id) ?? [uid, g.createdAt, 0, 0];
      if (g.status === 'Running' && s[2] === 0) s[2] = g.since;
      seen.set(g.id, s);
    }
    for (const [id, s] of seen) if (!live.has(id)) s[3] = 1;
  }, 250); // create times come from the emulator's record; the poll only notices groups and their deletion
  stats = () => ({ ...emu.calls().byAction });
  throttled = () => ({ ...emu.calls().throttledByAction });
  groups = () => [...seen.values()];
  stop = async () => {
    clearInterval(poll);
    await emu.close();
  };
  send({ type: 'ready', endpoint: emu.endpoint });
} else if (role === 'mns') {
  const creds = { accessKeyId: cfg.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '', accessKeySecret: cfg.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? '' };
  const mns = await startMnsEmulator({
    accountId: cfg.ALIBABA_CLOUD_ACCOUNT_ID ?? '',
    credentials: [creds],
    queues: [{ name: cfg.MNS_DEAD_LETTER_QUEUE }, { name: cfg.MNS_QUEUE, maxReceiveCount: 5, deadLetterQueue: cfg.MNS_DEAD_LETTER_QUEUE }],
  });
  stats = () => ({ ...mns.stats().operations });
  stop = () => mns.close();
  send({ type: 'ready', endpoint: mns.endpoint });
} else if (role === 'watcher') {
  const log = createLogger(cfg, { app: 'eci-bridge-watcher' });
  const cluster = createKubeCluster(kubeOptions(cfg), { component: 'eci-bridge-watcher', host: cfg.VNODE_NAME });
  const watcher = new Watcher({ cluster, queue: buildQueue(cfg), clock: systemClock, log, config: { ...cfg, POD_NAME: `bench-watcher-${process.pid}` }, http: false });
  await watcher.start();
  while (!(watcher.isLeader && watcher.synced)) await new Promise((r) => setTimeout(r, 50));
  stop = () => watcher.stop();
  send({ type: 'ready' });
} else if (role === 'worker') {
  const logger = createLogger(cfg, { fn: 'pod-sync' });
  const podSync = createPodSync(
    bridgeFactory(cfg, () => ({ logger })),
    () => logger,
  );
  const counts = { invocations: 0, busyMs: 0, failed: 0 };
  const handler: FcEventHandler = async (event, context) => {
    const t0 = performance.now();
    counts.invocations++;
    try {
      return await podSync(event, context);
    } catch (err) {
      counts.failed++;
      throw err;
    } finally {
      counts.busyMs += performance.now() - t0;
    }
  };
  const creds = { accessKeyId: cfg.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '', accessKeySecret: cfg.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? '' };
  // s.yaml's trigger: batches of 10, no window, backoff retry, errors tolerated → DLQ; one task per instance here
  const delivery = startEventBridgeDelivery({
    mns: { endpoint: cfg.MNS_ENDPOINT ?? '', ...creds },
    queueName: cfg.MNS_QUEUE,
    accountId: cfg.ALIBABA_CLOUD_ACCOUNT_ID ?? 'sandbox',
    region: cfg.ECI_REGION,
    handler,
    batchSize: 10,
    batchWindowSeconds: 0,
    maximumTasks: 1,
    base64Decode: true,
    retryStrategy: 'BACKOFF_RETRY',
    errorsTolerance: 'ALL',
    deadLetterQueue: cfg.MNS_DEAD_LETTER_QUEUE,
    functionCredentials: { ...creds, securityToken: '' },
  });
  stats = () => ({ ...counts });
  stop = () => delivery.stop();
  send({ type: 'ready' });
} else {
  process.stderr.write(`burst-child: unknown role ${role}\n`);
  process.exit(2);
}

let session: Session | undefined;
process.on('message', (m: { type: string; file?: string }) => {
  if (m.type === 'profile-start') {
    session = new Session();
    session.connect();
    void session
      .post('Profiler.enable')
      .then(() => session?.post('Profiler.start'))
      .then(() => send({ type: 'profile-started' }));
  } else if (m.type === 'profile-stop') {
    void (async () => {
      const r = (await session?.post('Profiler.stop')) as { profile: unknown } | undefined;
      if (r && m.file) writeFileSync(m.file, JSON.stringify(r.profile));
      session?.disconnect();
      send({ type: 'profile-stopped' });
    })();
  } else if (m.type === 'stats') {
    const s: ChildStats = {
      role,
      cpuMs: cpuMs(),
      rssMb: process.memoryUsage().rss / 1e6,
      counts: stats(),
      ...(throttled ? { throttled: throttled() } : {}),
      ...(groups ? { groups: groups() } : {}),
    };
    send({ type: 'stats', stats: s });
  } else if (m.type === 'stop') {
    void stop()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
