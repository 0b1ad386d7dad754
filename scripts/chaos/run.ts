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
 *
 * This file holds the options, the result and the order of things; the phases are in phases.ts, the harness's view
 * of the cluster and of ECI in harness.ts, the workload in workload.ts, the invariants in invariants.ts.
 */
import { createKubeCluster } from '../../shared/adapters/kube/index.js';
import { asError } from '../../shared/errors.js';
import { seededRandom } from '../../shared/sim/rng.js';
import { ensureNamespace, type SandboxEnvironment, startSandboxEnvironment } from '../sandbox/environment.js';
import { capturingLogger, type Level } from '../sandbox/log.js';
import { ChaosHarness } from './harness.js';
import type { Verdict } from './invariants.js';
import { type BridgeParts, converge, driveWorkload, emptyFaults, FAULT_KINDS, type FaultKind, faultsOn, liftFaults, startBridge } from './phases.js';
import { CHAOS_NAMESPACE, OTHER_VSWITCH, planWorkload, SOLD_OUT_VSWITCH } from './workload.js';

export { FAULT_KINDS, type FaultKind } from './phases.js';
export { CHAOS_NAMESPACE, planWorkload, podManifest } from './workload.js';

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
  const parts: BridgeParts = {};
  const violations: string[] = [];
  let verdict: Verdict | undefined;
  let convergedSeconds: number | undefined;
  try {
    const bridge = await startBridge(env, parts, { seed, scale, logger, say, transportRandom: stream(2) });
    const direct = createKubeCluster({ kubeconfigPath: env.controlPlane.kubeconfigPath });
    await ensureNamespace(env.kube, CHAOS_NAMESPACE);
    const h = new ChaosHarness(env, direct, bridge.config.CLUSTER_NAME, bridge.config.VNODE_NAME);

    const eciBefore = faultsOn(env, bridge, seed, say);
    await driveWorkload({ env, bridge, parts, h, logger, faults, say }, plan, stream(3));

    liftFaults(env, bridge, h, eciBefore, faults);
    say('Faults lifted: waiting for the invariants to hold');
    const deadline = (h.liftedAt as number) + (opts.convergeTimeoutMs ?? 240_000);
    ({ verdict, convergedSeconds } = await converge(env, bridge.rt, h, deadline, say));
    violations.push(...verdict.violations);
    for (const k of FAULT_KINDS) if (faults[k] === 0) violations.push(`fault ${k} never fired: the run proves nothing about it`);
  } catch (e) {
    violations.push(`error: ${asError(e).message}`);
  } finally {
    try {
      if (parts.watcher && parts.watcher !== parts.runtime?.watcher) await parts.watcher.stop();
      await parts.runtime?.stop();
    } catch (e) {
      violations.push(`error stopping the bridge: ${asError(e).message}`);
    }
    await parts.proxy?.close().catch(() => undefined);
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
