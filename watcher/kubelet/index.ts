/**
 * The kubelet API of the virtual node (docs/kubelet-api.md): served by every watcher replica over HTTPS on
 * KUBELET_PORT; the node publishes the leader's address, so the apiserver dials the leader. Built from ports:
 * Cluster (pods), KubeletSupport (reviews, CSR, archives), ContainerGroups (ECI logs and metrics).
 */
import type { Config } from '../../shared/domain/config.js';
import type { Pod } from '../../shared/domain/k8s.js';
import type { Clock, Cluster, EciExecHandlers, EciExecSession, KubeletSupport, Logger } from '../../shared/ports/index.js';
import type { KubeletEci } from './eciCalls.js';
import { GROUP_ANNOTATION } from '../podState.js';
import { LogArchive } from './archive.js';
import { KubeletAuth } from './auth.js';
import { routeHandlers } from './handlers.js';
import { LogBudget, LogFollowers } from './logs.js';
import { type KubeletServer, startKubeletServer } from './server.js';
import { StatsCache } from './stats.js';
import { clientCaPem, type ServingTls, servingTls } from './tls.js';

export interface KubeletDeps {
  config: Config;
  cluster: Pick<Cluster, 'getPod' | 'listPods'>;
  support: KubeletSupport;
  /** only the methods of KUBELET_ECI_METHODS (the watcher's RAM policy grants their actions) */
  eci: KubeletEci;
  clock: Clock;
  log: Logger;
  /** ECI's exec WebSocket (the entry point passes shared/adapters/eci/exec.ts's openEciExec) */
  openExec: (uri: string, handlers: EciExecHandlers) => Promise<EciExecSession>;
  /** poll intervals of log followers (tests shorten them) */
  followIntervalMs?: { min: number; max: number };
}

export interface KubeletRuntime {
  port: number;
  tls: ServingTls;
  followers: LogFollowers;
  archive?: LogArchive;
  /** the watcher's pod events (leader only): archives finished pods' logs, drops a deleted pod's archive */
  onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void;
  /** deletes archives of pods no longer on the node */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

const SWEEP_MS = 10 * 60_000;

export async function startKubelet(d: KubeletDeps): Promise<KubeletRuntime> {
  const cfg = d.config;
  const log = d.log.child({ component: 'kubelet-api' });
  const { cluster, support } = d;
  const now = () => d.clock.now();
  const address = cfg.KUBELET_ADDRESS ?? cfg.POD_IP;
  const tls = await servingTls({ config: cfg, address, support, log, sleep: (ms) => d.clock.sleep(ms) });
  const budget = new LogBudget({ callsPerMinute: cfg.KUBELET_LOG_CALLS_PER_MINUTE, now });
  const followers = new LogFollowers({
    eci: d.eci,
    budget,
    log,
    now,
    sleep: (ms, signal) => d.clock.sleep(ms, signal),
    minIntervalMs: d.followIntervalMs?.min ?? 1000,
    maxIntervalMs: d.followIntervalMs?.max ?? 10_000,
  });
  const archive =
    cfg.KUBELET_LOG_ARCHIVE_BYTES > 0
      ? new LogArchive({
          support,
          eci: d.eci,
          budget,
          namespace: cfg.KUBELET_LOG_ARCHIVE_NAMESPACE,
          node: cfg.VNODE_NAME,
          perContainerBytes: cfg.KUBELET_LOG_ARCHIVE_BYTES,
          totalBytes: cfg.KUBELET_LOG_ARCHIVE_TOTAL_BYTES,
          now,
          log,
        })
      : undefined;
  const metrics = d.eci.metrics?.bind(d.eci);
  const stats = new StatsCache(
    {
      pods: async () =>
        (await cluster.listPods({ nodeName: cfg.VNODE_NAME })).flatMap((p) => {
          const groupId = p.metadata.annotations?.[GROUP_ANNOTATION];
          if (!groupId || p.metadata.deletionTimestamp) return [];
          return [{ namespace: p.metadata.namespace ?? '', name: p.metadata.name ?? '', uid: p.metadata.uid ?? '', groupId, startTime: p.status?.startTime }];
        }),
      metrics: (ids) => (metrics ? metrics(ids) : Promise.resolve([])),
    },
    { ttlMs: cfg.KUBELET_METRICS_TTL_SECONDS * 1000, now, log },
  );
  const caPem = clientCaPem(cfg);
  const server: KubeletServer = await startKubeletServer({
    tls,
    clientCaPem: caPem,
    auth: new KubeletAuth({ support, nodeName: cfg.VNODE_NAME, now }),
    handlers: routeHandlers({
      cluster,
      eci: d.eci,
      openExec: d.openExec,
      budget,
      followers,
      archive,
      stats,
      nodeName: cfg.VNODE_NAME,
      startedAt: new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      now,
      log,
    }),
    log,
    host: cfg.KUBELET_HOST,
    port: cfg.KUBELET_PORT,
  });
  log.info({ port: server.port, tls: tls.source, clientCa: caPem !== undefined }, 'kubelet API serving');

  const sweep = async (): Promise<number> => {
    if (!archive) return 0;
    const live = new Set((await cluster.listPods({ nodeName: cfg.VNODE_NAME })).map((p) => p.metadata.uid ?? ''));
    return archive.sweep(live);
  };
  const sweeper = setInterval(() => {
    sweep().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'log archive sweep failed'));
  }, SWEEP_MS);
  sweeper.unref();

  return {
    port: server.port,
    tls,
    followers,
    archive,
    sweep,
    onPod(type, pod) {
      if (!archive) return;
      const uid = pod.metadata.uid;
      if (!uid) return;
      if (type === 'DELETED') {
        archive.remove(uid).catch((err: unknown) => log.warn({ err: (err as Error).message, uid }, 'could not delete a log archive'));
        return;
      }
      const groupId = pod.metadata.annotations?.[GROUP_ANNOTATION];
      const phase = pod.status?.phase;
      if (!groupId || (phase !== 'Succeeded' && phase !== 'Failed')) return;
      void archive.archive({
        uid,
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name ?? '',
        groupId,
        containers: [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name),
      });
    },
    async stop() {
      clearInterval(sweeper);
      followers.stopAll();
      await server.close();
    },
  };
}
