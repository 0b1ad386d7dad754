/**
 * The chaos campaign, as a library (`npm run chaos` and the integration test call it).
 *
 * The whole bridge runs in one process as `npm start` runs it (scripts/sandbox: a private kube-apiserver + etcd,
 * the ECI emulator over the real SDK, the watcher, the embedded queue and delivery feeding the real pod-sync
 * handler, status-sync and gc on timers), composed for chaos:
 *
 * - the bridge's Kubernetes clients (the watcher's and the functions') talk to the apiserver through a seeded
 *   fault-injecting proxy on loopback (409 on writes, 500s, latency, cut watch streams); the harness talks to the
 *   apiserver directly;
 * - the watcher's queue sender drops, corrupts, reorders and duplicates messages (transport.ts);
 * - ECI answers Throttling.User and ServiceUnavailable, loses the response of some creates (the group exists:
 *   crash between CreateContainerGroup and recording its result), has no stock in one zone and no spot stock at
 *   all (spot pods that allow it fall back to on-demand, the documented second create variant);
 * - the watcher is restarted three times (graceful stop; crash and a new identity; crash and the same identity)
 *   and the apiserver once.
 *
 * Meanwhile the workload creates pods (standalone servers, pods of fake ReplicaSet-like owners scaled up and
 * down, Jobs that finish, pods pinned to the sold-out zone, spot pods with `eci-spot-fallback`), deletes some while
 * still pending and some while running. Then the faults are lifted and the campaign waits until the invariants (invariants.ts) hold, or a
 * deadline passes, and reports. Everything random derives from `seed`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeCluster } from '../../shared/adapters/kube/index.js';
import { createKubeCluster, NotFoundError } from '../../shared/adapters/kube/index.js';
import { applyManifests, type Manifest } from '../../shared/adapters/kube/provision.js';
import { systemClock } from '../../shared/compose.js';
import type { Config } from '../../shared/domain/config.js';
import type { EciContainerGroup } from '../../shared/domain/eci.js';
import type { Pod } from '../../shared/domain/k8s.js';
import { TAG_CLUSTER, TAG_VNODE } from '../../shared/domain/names.js';
import { asError } from '../../shared/errors.js';
import type { Faults } from '../../emulators/eci/index.js';
import { Watcher } from '../../watcher/watcher.js';
import { ensureNamespace, type SandboxEnvironment, startSandboxEnvironment } from '../sandbox/environment.js';
import { capturingLogger, type Level } from '../sandbox/log.js';
import { type Runtime, startRuntime } from '../sandbox/runtime.js';
import { type CreatedGroup, checkInvariants, type Verdict } from './invariants.js';
import { type KubeFaultProxy, NO_FAULTS, startKubeFaultProxy } from './kubeFaultProxy.js';
import { seededRandom } from '../../shared/sim/rng.js';
import { FaultyQueueSender, NO_TRANSPORT_FAULTS } from './transport.js';
import { pool } from '../lib/async.js';

export const FAULT_KINDS = [
  'duplicated',
  'reordered',
  'dropped',
  'corrupted',
  'crashAfterCreate',
  'eciThrottling',
  'eci5xx',
  'noStock',
  'spotFallback',
  'kubeConflict',
  'kube500',
  'kubeLatency',
  'kubeWatchDropped',
  'watcherRestart',
  'apiserverRestart',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  /** every random choice derives from it (default 1) */
  seed?: number;
  /** pods the workload creates (default 300) */
  pods?: number;
  /** ECI emulator time scale: simulated seconds × this = real seconds (default 0.05) */
  timeScale?: number;
  /** how long the invariants may take to hold once the faults are lifted (default 240 s) */
  convergeTimeoutMs?: number;
  /** progress lines (main prints them on stderr) */
  say?: (line: string) => void;
  /** the bridge's JSON logs on stderr at this level (default none) */
  logLevel?: Level;
}

/** The invariants' counts (invariants.ts) plus the campaign's own figures. */
export interface ChaosResult extends Omit<Verdict, 'converged' | 'violations'> {
  seed: number;
  pods: number;
  faults: { total: number; byKind: Record<FaultKind, number> };
  /** seconds from lifting the faults until the invariants held (undefined: they never did) */
  convergedSeconds?: number;
  durationSeconds: number;
  /** one line per violated invariant (and per fault kind that never fired) */
  violations: string[];
}

export const CHAOS_NAMESPACE = 'chaos';
/** The sold-out vSwitch (its zone has no stock while the faults are on); pods get both, pinned pods only this. */
const SOLD_OUT_VSWITCH = 'vsw-sandbox-h';
const OTHER_VSWITCH = 'vsw-sandbox-i';
const TOLERATION = { key: 'virtual-kubelet.io/provider', operator: 'Equal', value: 'alibabacloud', effect: 'NoSchedule' };

type PodKind = 'web' | 'rs' | 'job' | 'pinned' | 'spot';
type DeletePlan = 'none' | 'pending' | 'running';

interface PlannedPod {
  name: string;
  kind: PodKind;
  wave: number;
  owner?: string;
  deletion: DeletePlan;
  /** simulated seconds a Job runs */
  jobSeconds: number;
}

/** The seeded workload: which pods, in which wave, and which get deleted when. */
export function planWorkload(pods: number, random: () => number, waves = 6): PlannedPod[] {
  const owners = ['rs-alpha', 'rs-beta', 'rs-gamma'];
  const out: PlannedPod[] = [];
  const pinnedEvery = Math.max(10, Math.round(pods / Math.max(1, Math.round(pods * 0.03))));
  for (let i = 0; i < pods; i++) {
    const r = random();
    let kind: PodKind = r < 0.15 ? 'job' : r < 0.5 ? 'rs' : 'web';
    if (i % pinnedEvery === pinnedEvery - 1) kind = 'pinned';
    if (i % pinnedEvery === Math.floor(pinnedEvery / 2)) kind = 'spot';
    const d = random();
    const deletion: DeletePlan = kind === 'job' || kind === 'pinned' || kind === 'spot' ? 'none' : d < 0.1 ? 'pending' : d < 0.28 ? 'running' : 'none';
    const owner = kind === 'rs' ? owners[Math.floor(random() * owners.length)] : undefined;
    out.push({
      name: `${kind}-${String(i).padStart(4, '0')}`,
      kind,
      wave: Math.min(waves - 1, Math.floor((i * waves) / pods)),
      ...(owner ? { owner } : {}),
      deletion,
      jobSeconds: 10 + Math.floor(random() * 50),
    });
  }
  return out;
}

const OWNER_UIDS: Record<string, string> = {
  'rs-alpha': '0a1b2c3d-0000-4000-8000-00000000a1fa',
  'rs-beta': '0a1b2c3d-0000-4000-8000-00000000be7a',
  'rs-gamma': '0a1b2c3d-0000-4000-8000-00000000ca4a',
};

export function podManifest(p: PlannedPod, namespace: string, nodeName: string): Manifest {
  const server = { name: 'web', image: 'nginx:1.25-alpine', resources: { requests: { cpu: '250m', memory: '512Mi' } } };
  const job = {
    name: 'job',
    image: 'busybox:1.36',
    command: ['sh', '-c', `sleep ${p.jobSeconds}; echo done # eci-sim: sleep ${p.jobSeconds}; exit 0`],
  };
  const metadata: Manifest['metadata'] & { ownerReferences?: unknown[] } = {
    name: p.name,
    namespace,
    labels: { app: 'chaos', 'chaos.eci-bridge.io/kind': p.kind, ...(p.owner ? { 'chaos.eci-bridge.io/owner': p.owner } : {}) },
  };
  if (p.kind === 'pinned') metadata.annotations = { 'k8s.aliyun.com/eci-vswitch': SOLD_OUT_VSWITCH };
  if (p.kind === 'spot') metadata.annotations = { 'k8s.aliyun.com/eci-spot-strategy': 'SpotAsPriceGo', 'k8s.aliyun.com/eci-spot-fallback': 'true' };
  if (p.owner) {
    // a ReplicaSet-like owner that does not exist: no controller-manager runs, the harness scales it by hand
    metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: p.owner, uid: OWNER_UIDS[p.owner], controller: true }];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      nodeName,
      tolerations: [TOLERATION],
      terminationGracePeriodSeconds: 5,
      ...(p.kind === 'job' ? { restartPolicy: 'Never', containers: [job] } : { containers: [server] }),
    },
  };
}

function proxyKubeconfigYaml(server: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'chaos-proxy', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'chaos', user: { token } }],
    contexts: [{ name: 'chaos-proxy', context: { cluster: 'chaos-proxy', user: 'chaos' } }],
    'current-context': 'chaos-proxy',
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retries a harness call while the apiserver is unreachable (its restart), up to `ms`. */
async function persist<T>(what: string, fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${asError(err).message}`, { cause: err });
      await sleep(Math.min(1000, 100 * 2 ** i));
    }
  }
}

function emptyFaults(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
}

/** `chaos: N pods, M faults, D duplicates ever created (F spot fallbacks), O orphans, L lost, converged in T s` */
export function formatLine(r: ChaosResult): string {
  const head =
    `chaos: ${r.pods} pods, ${r.faults.total} faults, ${r.duplicates} duplicates ever created (${r.fallbacks} spot fallbacks), ` +
    `${r.orphans} orphans, ${r.lost} lost`;
  return r.convergedSeconds !== undefined
    ? `${head}, converged in ${r.convergedSeconds.toFixed(1)} s`
    : `${head}, not converged after ${r.durationSeconds.toFixed(1)} s`;
}

export async function runChaos(opts: ChaosOptions = {}): Promise<ChaosResult> {
  const t0 = Date.now();
  const seed = opts.seed ?? 1;
  const podCount = opts.pods ?? 300;
  const scale = opts.timeScale ?? 0.05;
  const say = opts.say ?? (() => {});
  const stream = (n: number) => seededRandom((seed * 2654435761 + n * 40503) >>> 0);
  const plan = planWorkload(podCount, stream(1));
  const faults = emptyFaults();
  const logger = capturingLogger({ level: opts.logLevel ?? 'silent', write: (l) => process.stderr.write(l) });

  const env: SandboxEnvironment = await startSandboxEnvironment({
    timeScale: scale,
    say,
    // A real control plane (scheduler, controller-manager) except the garbage collector: the harness's
    // ReplicaSet-like owners do not exist (it scales them by hand), and the collector would delete their pods.
    plane: { controllers: true, controllerManagerArgs: ['--controllers=*,-garbagecollector'] },
    env: {
      CLUSTER_NAME: 'chaos',
      ECI_VSWITCH_IDS: `${SOLD_OUT_VSWITCH},${OTHER_VSWITCH}`,
      // short clocks, so what the faults break is repaired within the run
      RESYNC_SECONDS: '15',
      GC_ORPHAN_GRACE_SECONDS: '5',
      GC_STUCK_POD_SECONDS: '60',
      LOST_GROUP_GRACE_SECONDS: '120',
      SYNC_MAX_ATTEMPTS: '3',
      SYNC_RETRY_BASE_SECONDS: '1',
      SYNC_RETRY_MAX_SECONDS: '4',
      SYNC_CAPACITY_RETRY_SECONDS: '2',
      LEADER_LEASE_SECONDS: '4',
      LEADER_RETRY_SECONDS: '0.5',
      POD_NAME: 'chaos-watcher-0',
      LOG_LEVEL: opts.logLevel ?? 'warn',
    },
  });
  let proxy: KubeFaultProxy | undefined;
  let runtime: Runtime | undefined;
  let watcher: Watcher | undefined;
  let transport: FaultyQueueSender | undefined;
  const violations: string[] = [];
  let verdict: Verdict | undefined;
  let convergedSeconds: number | undefined;
  try {
    const cp = env.controlPlane;
    proxy = await startKubeFaultProxy({ upstream: cp.server, caPem: cp.caPem, seed: (seed * 31 + 7) >>> 0 });
    say(`Kubernetes fault proxy at ${proxy.url} in front of ${cp.server} (the bridge's clients use it; the harness does not)`);
    // The bridge reaches the apiserver through the proxy: a kubeconfig naming the proxy's loopback HTTP URL (the
    // client refuses plain HTTP unless TLS verification is off; there is no TLS to verify on that hop).
    const proxyKubeconfig = join(cp.dir, 'chaos-proxy.kubeconfig');
    writeFileSync(proxyKubeconfig, proxyKubeconfigYaml(proxy.url, cp.token), { mode: 0o600 });
    const config: Config = { ...env.config, KUBECONFIG: proxyKubeconfig };
    const transportRandom = stream(2);
    runtime = await startRuntime({
      config,
      logger,
      statusSyncEveryMs: Math.max(1000, 60_000 * scale),
      gcEveryMs: 10_000,
      billingEveryMs: 3_600_000,
      deliveryTimeScale: 0.1,
      http: false,
      watcherQueue: (queue) => {
        transport = new FaultyQueueSender(queue, transportRandom);
        return transport;
      },
    });
    await runtime.ready(120_000);
    watcher = runtime.watcher;
    const rt = runtime;
    const faulty = transport as FaultyQueueSender;
    say(`Bridge running: watcher ${watcher.identity} leads; pod-sync on the embedded queue; status-sync and gc on timers`);

    const direct: KubeCluster = createKubeCluster({ kubeconfigPath: cp.kubeconfigPath });
    await ensureNamespace(env.kube, CHAOS_NAMESPACE);
    const vnode = config.VNODE_NAME;

    // ------------------------------------------------------------ faults on
    const eciErrors: NonNullable<NonNullable<Faults['actions']>[string]['errors']> = [
      { code: 'Throttling.User', rate: 0.2 },
      { code: 'ServiceUnavailable', rate: 0.1 },
    ];
    env.emulator.setFaults(
      {
        actions: { '*': { errors: eciErrors }, CreateContainerGroup: { errors: eciErrors, crashAfterCreateRate: 0.05, crashAfterCreateCount: 1 } },
        noStock: { vSwitches: [SOLD_OUT_VSWITCH], spot: true },
      },
      (seed * 17 + 3) >>> 0,
    );
    const eciBefore = env.emulator.calls();
    // every other watch stream is cut within 4 s (and its reconnection may be cut again)
    proxy.setFaults({ conflictRate: 0.05, errorRate: 0.03, latencyMs: 250, latencyRate: 0.1, dropWatchRate: 0.5, dropWatchAfterMs: 4000, atLeastOnce: true });
    faulty.setFaults({ dropRate: 0.05, duplicateRate: 0.2, reorderRate: 0.1, maxReorderDelaySeconds: 3, corruptRate: 0.01, atLeastOnce: true });
    say(
      'Faults on: queue 20% duplicated, 10% reordered, 5% dropped, 1% corrupted; ECI 20% Throttling.User, 10% ServiceUnavailable, ' +
        `5% creates lose their response, no stock behind ${SOLD_OUT_VSWITCH}, no spot stock; Kubernetes 5% 409 on writes, 3% 500, ` +
        '10% delayed up to 250 ms, half the watch streams cut',
    );

    // groups placed in the other zone because the first was sold out (ECI's own multi-zone fallback)
    const fellBack = new Set<string>();
    let liftedAt: number | undefined;
    const snapshotGroups = (): EciContainerGroup[] => {
      // the emulator answers DescribeContainerGroups' wire shape, which is what EciContainerGroup types
      const all = env.emulator.groups() as unknown as EciContainerGroup[];
      const mine = all.filter(
        (g) => g.Tags?.some((t) => t.Key === TAG_CLUSTER && t.Value === config.CLUSTER_NAME) && g.Tags?.some((t) => t.Key === TAG_VNODE && t.Value === vnode),
      );
      for (const g of mine) if (g.VSwitchId === OTHER_VSWITCH && !fellBack.has(g.ContainerGroupId) && liftedAt === undefined) fellBack.add(g.ContainerGroupId);
      return mine;
    };
    // every group ECI ever created for this bridge, deleted ones included: the "created once" invariant
    const createdGroups = (): CreatedGroup[] =>
      env.emulator
        .creates()
        .filter((c) => c.tags.some((t) => t.Key === TAG_CLUSTER && t.Value === config.CLUSTER_NAME) && c.tags.some((t) => t.Key === TAG_VNODE && t.Value === vnode));

    // ------------------------------------------------------------ workload
    const created = new Map<string, { uid: string; plan: PlannedPod }>();
    const deletedByHarness = new Set<string>();
    const random = stream(3);
    let identities = 0;

    const restartWatcher = async (mode: 'stop' | 'kill', sameIdentity: boolean): Promise<void> => {
      const old = watcher as Watcher;
      if (mode === 'stop') await old.stop();
      else await old.kill();
      const identity = sameIdentity ? old.identity : `chaos-watcher-${++identities}`;
      watcher = new Watcher({
        cluster: rt.bridge.cluster,
        queue: faulty,
        clock: systemClock,
        log: logger.child({ component: 'watcher' }),
        config: { ...config, POD_NAME: identity },
        http: false,
      });
      await watcher.start();
      faults.watcherRestart++;
      say(`Watcher restart ${faults.watcherRestart}: ${mode === 'stop' ? 'graceful stop' : 'crash'} of ${old.identity}, started ${identity}`);
    };

    const remove = async (name: string): Promise<void> => {
      const c = created.get(name);
      if (!c || deletedByHarness.has(name)) return;
      deletedByHarness.add(name);
      await persist(`delete ${name}`, () =>
        direct.deletePod(CHAOS_NAMESPACE, name, { uid: c.uid, gracePeriodSeconds: 5 }).catch((err: unknown) => {
          if (err instanceof NotFoundError) return;
          throw err;
        }),
      );
    };

    const runningNow = async (): Promise<Set<string>> => {
      const pods = await persist('list pods', () => direct.listPods({ namespace: CHAOS_NAMESPACE }));
      return new Set(pods.filter((p) => p.status?.phase === 'Running').map((p) => p.metadata.name ?? ''));
    };

    const waves = Math.max(...plan.map((p) => p.wave)) + 1;
    for (let w = 0; w < waves; w++) {
      const batch = plan.filter((p) => p.wave === w);
      await pool(batch, 8, async (p) => {
        await persist(`create ${p.name}`, () => applyManifests(env.kube, [podManifest(p, CHAOS_NAMESPACE, vnode)]));
        const pod = await persist(`read ${p.name}`, () => direct.getPod(CHAOS_NAMESPACE, p.name));
        created.set(p.name, { uid: pod.metadata.uid ?? '', plan: p });
        if (p.deletion === 'pending') {
          await sleep(Math.floor(random() * 300));
          await remove(p.name);
        }
      });
      const running = await runningNow();
      const due = plan.filter((p) => p.deletion === 'running' && p.wave < w && running.has(p.name));
      await pool(due, 8, (p) => remove(p.name));
      snapshotGroups();
      say(`Wave ${w + 1}/${waves}: ${batch.length} pods created (${created.size} so far), ${deletedByHarness.size} deleted so far, ${running.size} running`);
      if (w === 0) await restartWatcher('stop', false);
      if (w === 1) {
        say('Apiserver restart: killing the kube-apiserver (etcd stays)');
        await cp.killApiserver();
        await sleep(1000 + Math.floor(random() * 2000));
        await cp.startApiserver();
        faults.apiserverRestart++;
        say('Apiserver restart: the kube-apiserver is back');
      }
      if (w === 2) await restartWatcher('kill', false);
      if (w === 3) await restartWatcher('kill', true);
      await sleep(1500);
    }
    // The rest of the "deleted while running" pods: wait a little for them to run, then delete them whatever they are.
    const restDeadline = Date.now() + 20_000;
    for (;;) {
      const left = plan.filter((p) => p.deletion === 'running' && !deletedByHarness.has(p.name));
      if (left.length === 0) break;
      const running = await runningNow();
      const now = Date.now() > restDeadline;
      await pool(
        left.filter((p) => now || running.has(p.name)),
        8,
        (p) => remove(p.name),
      );
      snapshotGroups();
      await sleep(1000);
    }
    // Scale the owners down once more: every third pod of each owner still there goes.
    const ownedLeft = plan.filter((p) => p.owner && !deletedByHarness.has(p.name));
    await pool(
      ownedLeft.filter((_, i) => i % 3 === 0),
      8,
      (p) => remove(p.name),
    );
    say(`Workload done: ${created.size} pods created, ${deletedByHarness.size} deleted (pending, running, scaled down)`);
    await sleep(3000);
    snapshotGroups();

    // ------------------------------------------------------------ lift the faults, converge
    env.emulator.setFaults({});
    proxy.setFaults(NO_FAULTS);
    faulty.setFaults(NO_TRANSPORT_FAULTS);
    liftedAt = Date.now();
    const eci = env.emulator.calls();
    const err = (code: string) => (eci.errors[code] ?? 0) - (eciBefore.errors[code] ?? 0);
    const pc = proxy.counts();
    const tc = faulty.counts();
    Object.assign(faults, {
      duplicated: tc.duplicated,
      reordered: tc.reordered,
      dropped: tc.dropped,
      corrupted: tc.corrupted,
      crashAfterCreate: eci.crashedAfterCreate - eciBefore.crashedAfterCreate,
      eciThrottling: err('Throttling.User'),
      eci5xx: err('ServiceUnavailable'),
      noStock: err('OperationDenied.NoStock') + fellBack.size,
      spotFallback: createdGroups().filter((c) => c.clientToken?.endsWith('-f1')).length,
      kubeConflict: pc.conflicts,
      kube500: pc.errors,
      kubeLatency: pc.delayed,
      kubeWatchDropped: pc.droppedWatches,
    } satisfies Partial<Record<FaultKind, number>>);
    say('Faults lifted: waiting for the invariants to hold');

    const deadline = liftedAt + (opts.convergeTimeoutMs ?? 240_000);
    let streak = 0;
    let lastReport = 0;
    for (;;) {
      const pods = await persist('list pods', () => direct.listPods({ namespace: CHAOS_NAMESPACE }));
      const events = await persist('list events', () => env.kube.core.listNamespacedEvent({ namespace: CHAOS_NAMESPACE }));
      const warnings = new Map<string, string[]>();
      for (const e of events.items) {
        const uid = e.involvedObject.uid;
        if (e.type !== 'Warning' || !uid) continue;
        warnings.set(uid, [...(warnings.get(uid) ?? []), e.reason ?? '']);
      }
      const present = new Set(pods.map((p: Pod) => p.metadata.name ?? ''));
      const vanished = [...created.keys()].filter((n) => !present.has(n) && !deletedByHarness.has(n)).map((n) => `${CHAOS_NAMESPACE}/${n}`);
      verdict = checkInvariants({
        pods,
        groups: snapshotGroups(),
        creates: createdGroups(),
        deadLetters: rt.deadLetter.messages().map((m) => m.body),
        warnings,
        vanished,
        nowIso: new Date().toISOString(),
      });
      const clean = verdict.converged && verdict.deadLettersWithoutReason === 0;
      streak = clean ? streak + 1 : 0;
      if (streak >= 2) {
        convergedSeconds = (Date.now() - liftedAt) / 1000;
        break;
      }
      if (Date.now() > deadline) break;
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        const q = rt.queue.stats();
        say(
          `Converging (${Math.round((Date.now() - liftedAt) / 1000)} s): ${verdict.duplicates} duplicates, ${verdict.orphans} orphans, ` +
            `${verdict.lost} lost, ${verdict.mismatched} mismatched, ${verdict.terminating} terminating; ` +
            `queue ${q.active} ready, ${q.inactive} in flight, ${q.delayed} delayed`,
        );
        for (const line of verdict.violations.slice(0, 3)) say(`  e.g. ${line}`);
      }
      await sleep(1000);
    }
    violations.push(...verdict.violations);
    for (const k of FAULT_KINDS) if (faults[k] === 0) violations.push(`fault ${k} never fired: the run proves nothing about it`);
  } catch (e) {
    violations.push(`error: ${asError(e).message}`);
  } finally {
    try {
      if (watcher && watcher !== runtime?.watcher) await watcher.stop();
      await runtime?.stop();
    } catch (e) {
      violations.push(`error stopping the bridge: ${asError(e).message}`);
    }
    await proxy?.close().catch(() => undefined);
    await env.stop();
  }
  const total = FAULT_KINDS.reduce((n, k) => n + faults[k], 0);
  return {
    seed,
    pods: podCount,
    faults: { total, byKind: faults },
    duplicates: verdict?.duplicates ?? 0,
    fallbacks: verdict?.fallbacks ?? 0,
    orphans: verdict?.orphans ?? 0,
    lost: verdict?.lost ?? 0,
    mismatched: verdict?.mismatched ?? 0,
    terminating: verdict?.terminating ?? 0,
    deadLetters: verdict?.deadLetters ?? 0,
    deadLettersWithoutReason: verdict?.deadLettersWithoutReason ?? 0,
    stuckWithoutEvent: verdict?.stuckWithoutEvent ?? 0,
    ...(convergedSeconds !== undefined ? { convergedSeconds } : {}),
    durationSeconds: (Date.now() - t0) / 1000,
    violations,
  };
}
