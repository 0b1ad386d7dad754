/**
 * The chaos campaign's phases, in the order run.ts calls them: start the bridge behind the faults (startBridge),
 * switch the faults on (faultsOn), drive the workload with the watcher and apiserver restarts (driveWorkload), lift
 * the faults and count what fired (liftFaults), wait for the invariants (converge).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { applyManifests } from '../../shared/adapters/kube/provision.js';
import { systemClock } from '../../shared/compose.js';
import type { Config } from '../../shared/domain/config.js';
import type { Pod } from '../../shared/domain/k8s.js';
import type { Faults } from '../../emulators/eci/index.js';
import { Watcher } from '../../watcher/watcher.js';
import { pool } from '../lib/async.js';
import type { SandboxEnvironment } from '../sandbox/environment.js';
import type { CapturingLogger } from '../sandbox/log.js';
import { type Runtime, startRuntime } from '../sandbox/runtime.js';
import { type ChaosHarness, persist, sleep } from './harness.js';
import { checkInvariants, type Verdict } from './invariants.js';
import { type KubeFaultProxy, NO_FAULTS, startKubeFaultProxy } from './kubeFaultProxy.js';
import { FaultyQueueSender, NO_TRANSPORT_FAULTS } from './transport.js';
import { CHAOS_NAMESPACE, type PlannedPod, podManifest, SOLD_OUT_VSWITCH } from './workload.js';

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

export function emptyFaults(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
}

type Say = (line: string) => void;

/** What the campaign started, filled in as it starts (so a failure part-way still stops what did start). */
export interface BridgeParts {
  proxy?: KubeFaultProxy;
  runtime?: Runtime;
  transport?: FaultyQueueSender;
  /** the watcher now leading (replaced on each restart) */
  watcher?: Watcher;
}

/** The bridge as the campaign runs it, once started. */
export interface RunningBridge {
  config: Config;
  rt: Runtime;
  proxy: KubeFaultProxy;
  faulty: FaultyQueueSender;
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

/** The Kubernetes fault proxy, then the whole bridge (its clients through the proxy, its queue sender faulty). */
export async function startBridge(
  env: SandboxEnvironment,
  parts: BridgeParts,
  o: { seed: number; scale: number; logger: CapturingLogger; say: Say; transportRandom: () => number },
): Promise<RunningBridge> {
  const cp = env.controlPlane;
  const proxy = await startKubeFaultProxy({ upstream: cp.server, caPem: cp.caPem, seed: (o.seed * 31 + 7) >>> 0 });
  parts.proxy = proxy;
  o.say(`Kubernetes fault proxy at ${proxy.url} in front of ${cp.server} (the bridge's clients use it; the harness does not)`);
  // The bridge reaches the apiserver through the proxy: a kubeconfig naming the proxy's loopback HTTP URL (the
  // client refuses plain HTTP unless TLS verification is off; there is no TLS to verify on that hop).
  const proxyKubeconfig = join(cp.dir, 'chaos-proxy.kubeconfig');
  writeFileSync(proxyKubeconfig, proxyKubeconfigYaml(proxy.url, cp.token), { mode: 0o600 });
  const config: Config = { ...env.config, KUBECONFIG: proxyKubeconfig };
  const runtime = await startRuntime({
    config,
    logger: o.logger,
    statusSyncEveryMs: Math.max(1000, 60_000 * o.scale),
    gcEveryMs: 10_000,
    billingEveryMs: 3_600_000,
    deliveryTimeScale: 0.1,
    http: false,
    watcherQueue: (queue) => {
      parts.transport = new FaultyQueueSender(queue, o.transportRandom);
      return parts.transport;
    },
  });
  parts.runtime = runtime;
  await runtime.ready(120_000);
  parts.watcher = runtime.watcher;
  o.say(`Bridge running: watcher ${runtime.watcher.identity} leads; pod-sync on the embedded queue; status-sync and gc on timers`);
  return { config, rt: runtime, proxy, faulty: parts.transport as FaultyQueueSender };
}

/** ECI, Kubernetes and queue faults on; answers the emulator's call counts before them. */
export function faultsOn(env: SandboxEnvironment, b: RunningBridge, seed: number, say: Say): ReturnType<SandboxEnvironment['emulator']['calls']> {
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
  b.proxy.setFaults({ conflictRate: 0.05, errorRate: 0.03, latencyMs: 250, latencyRate: 0.1, dropWatchRate: 0.5, dropWatchAfterMs: 4000, atLeastOnce: true });
  b.faulty.setFaults({ dropRate: 0.05, duplicateRate: 0.2, reorderRate: 0.1, maxReorderDelaySeconds: 3, corruptRate: 0.01, atLeastOnce: true });
  say(
    'Faults on: queue 20% duplicated, 10% reordered, 5% dropped, 1% corrupted; ECI 20% Throttling.User, 10% ServiceUnavailable, ' +
      `5% creates lose their response, no stock behind ${SOLD_OUT_VSWITCH}, no spot stock; Kubernetes 5% 409 on writes, 3% 500, ` +
      '10% delayed up to 250 ms, half the watch streams cut',
  );
  return eciBefore;
}

export interface WorkloadRun {
  env: SandboxEnvironment;
  bridge: RunningBridge;
  parts: BridgeParts;
  h: ChaosHarness;
  logger: CapturingLogger;
  faults: Record<FaultKind, number>;
  say: Say;
}

/**
 * Creates the pods wave by wave (deleting some while pending, some once running), restarts the watcher after waves
 * 1, 3 and 4 and the apiserver after wave 2, deletes the rest of the "while running" pods, scales the owners down.
 */
export async function driveWorkload(w: WorkloadRun, plan: PlannedPod[], random: () => number): Promise<void> {
  const { env, h, faults, say } = w;
  const cp = env.controlPlane;
  let identities = 0;

  const restartWatcher = async (mode: 'stop' | 'kill', sameIdentity: boolean): Promise<void> => {
    const old = w.parts.watcher as Watcher;
    if (mode === 'stop') await old.stop();
    else await old.kill();
    const identity = sameIdentity ? old.identity : `chaos-watcher-${++identities}`;
    w.parts.watcher = new Watcher({
      cluster: w.bridge.rt.bridge.cluster,
      queue: w.bridge.faulty,
      clock: systemClock,
      log: w.logger.child({ component: 'watcher' }),
      config: { ...w.bridge.config, POD_NAME: identity },
      http: false,
    });
    await w.parts.watcher.start();
    faults.watcherRestart++;
    say(`Watcher restart ${faults.watcherRestart}: ${mode === 'stop' ? 'graceful stop' : 'crash'} of ${old.identity}, started ${identity}`);
  };

  const waves = Math.max(...plan.map((p) => p.wave)) + 1;
  for (let wave = 0; wave < waves; wave++) {
    const batch = plan.filter((p) => p.wave === wave);
    await pool(batch, 8, async (p) => {
      await persist(`create ${p.name}`, () => applyManifests(env.kube, [podManifest(p, CHAOS_NAMESPACE, h.vnode)]));
      const pod = await persist(`read ${p.name}`, () => h.direct.getPod(CHAOS_NAMESPACE, p.name));
      h.created.set(p.name, { uid: pod.metadata.uid ?? '', plan: p });
      if (p.deletion === 'pending') {
        await sleep(Math.floor(random() * 300));
        await h.remove(p.name);
      }
    });
    const running = await h.runningNow();
    const due = plan.filter((p) => p.deletion === 'running' && p.wave < wave && running.has(p.name));
    await pool(due, 8, (p) => h.remove(p.name));
    h.snapshotGroups();
    say(`Wave ${wave + 1}/${waves}: ${batch.length} pods created (${h.created.size} so far), ${h.deletedByHarness.size} deleted so far, ${running.size} running`);
    if (wave === 0) await restartWatcher('stop', false);
    if (wave === 1) {
      say('Apiserver restart: killing the kube-apiserver (etcd stays)');
      await cp.killApiserver();
      await sleep(1000 + Math.floor(random() * 2000));
      await cp.startApiserver();
      faults.apiserverRestart++;
      say('Apiserver restart: the kube-apiserver is back');
    }
    if (wave === 2) await restartWatcher('kill', false);
    if (wave === 3) await restartWatcher('kill', true);
    await sleep(1500);
  }
  // The rest of the "deleted while running" pods: wait a little for them to run, then delete them whatever they are.
  const restDeadline = Date.now() + 20_000;
  for (;;) {
    const left = plan.filter((p) => p.deletion === 'running' && !h.deletedByHarness.has(p.name));
    if (left.length === 0) break;
    const running = await h.runningNow();
    const now = Date.now() > restDeadline;
    await pool(
      left.filter((p) => now || running.has(p.name)),
      8,
      (p) => h.remove(p.name),
    );
    h.snapshotGroups();
    await sleep(1000);
  }
  // Scale the owners down once more: every third pod of each owner still there goes.
  const ownedLeft = plan.filter((p) => p.owner && !h.deletedByHarness.has(p.name));
  await pool(
    ownedLeft.filter((_, i) => i % 3 === 0),
    8,
    (p) => h.remove(p.name),
  );
  say(`Workload done: ${h.created.size} pods created, ${h.deletedByHarness.size} deleted (pending, running, scaled down)`);
  await sleep(3000);
  h.snapshotGroups();
}

/** Lifts every fault and adds what fired (from the emulator, the proxy and the transport) to `faults`. */
export function liftFaults(
  env: SandboxEnvironment,
  b: RunningBridge,
  h: ChaosHarness,
  eciBefore: ReturnType<SandboxEnvironment['emulator']['calls']>,
  faults: Record<FaultKind, number>,
): void {
  env.emulator.setFaults({});
  b.proxy.setFaults(NO_FAULTS);
  b.faulty.setFaults(NO_TRANSPORT_FAULTS);
  h.liftedAt = Date.now();
  const eci = env.emulator.calls();
  const err = (code: string) => (eci.errors[code] ?? 0) - (eciBefore.errors[code] ?? 0);
  const pc = b.proxy.counts();
  const tc = b.faulty.counts();
  Object.assign(faults, {
    duplicated: tc.duplicated,
    reordered: tc.reordered,
    dropped: tc.dropped,
    corrupted: tc.corrupted,
    crashAfterCreate: eci.crashedAfterCreate - eciBefore.crashedAfterCreate,
    eciThrottling: err('Throttling.User'),
    eci5xx: err('ServiceUnavailable'),
    noStock: err('OperationDenied.NoStock') + h.fellBack.size,
    spotFallback: h.createdGroups().filter((c) => c.clientToken?.endsWith('-f1')).length,
    kubeConflict: pc.conflicts,
    kube500: pc.errors,
    kubeLatency: pc.delayed,
    kubeWatchDropped: pc.droppedWatches,
  } satisfies Partial<Record<FaultKind, number>>);
}

/**
 * Checks the invariants every second until they hold twice in a row (converged: seconds since the faults were
 * lifted) or `deadline` passes; reports progress every 5 s. Answers the last verdict.
 */
export async function converge(
  env: SandboxEnvironment,
  rt: Runtime,
  h: ChaosHarness,
  deadline: number,
  say: Say,
): Promise<{ verdict: Verdict; convergedSeconds?: number }> {
  const liftedAt = h.liftedAt ?? Date.now();
  let streak = 0;
  let lastReport = 0;
  for (;;) {
    const pods = await persist('list pods', () => h.direct.listPods({ namespace: CHAOS_NAMESPACE }));
    const events = await persist('list events', () => env.kube.core.listNamespacedEvent({ namespace: CHAOS_NAMESPACE }));
    const warnings = new Map<string, string[]>();
    for (const e of events.items) {
      const uid = e.involvedObject.uid;
      if (e.type !== 'Warning' || !uid) continue;
      warnings.set(uid, [...(warnings.get(uid) ?? []), e.reason ?? '']);
    }
    const present = new Set(pods.map((p: Pod) => p.metadata.name ?? ''));
    const vanished = [...h.created.keys()].filter((n) => !present.has(n) && !h.deletedByHarness.has(n)).map((n) => `${CHAOS_NAMESPACE}/${n}`);
    const verdict = checkInvariants({
      pods,
      groups: h.snapshotGroups(),
      creates: h.createdGroups(),
      deadLetters: rt.deadLetter.messages().map((m) => m.body),
      warnings,
      vanished,
      nowIso: new Date().toISOString(),
    });
    const clean = verdict.converged && verdict.deadLettersWithoutReason === 0;
    streak = clean ? streak + 1 : 0;
    if (streak >= 2) return { verdict, convergedSeconds: (Date.now() - liftedAt) / 1000 };
    if (Date.now() > deadline) return { verdict };
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
}
