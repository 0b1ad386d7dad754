/**
 * `npm run bench -- pipeline [--pods=N] [--time-scale=X] [--hold=S] [--jobs=J]`: the whole bridge as `npm start` runs it (the sandbox
 * composition of scripts/sandbox: private kube-apiserver, ECI emulator, watcher, embedded queue + delivery →
 * pod-sync, timers at their deployed periods), with N pods created at once, run to Running, kept Running S seconds
 * (default 0; with S > 10 the steady ticks, one DescribeContainerGroupStatus each, show in the calls), then deleted;
 * with J > 0, J Job-like pods follow (3. ECI Succeeded → pod Succeeded latency, through the steady ticks).
 *
 * 1. ECI state change → pod status latency: from the moment the emulator moved a group to Running (its exact
 *    simulated transition time, `states()`) to the pod update with phase Running seen by a watch. Target p99 <= 2 s.
 * 2. ECI API calls per pod lifecycle (create → Running → delete), by action. Target <= 6.
 * Figures are also written to bench/results/pipeline.json. A benchmark never fails on a number.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyManifests, type Manifest } from '../shared/adapters/kube/provision.js';
import { ensureNamespace, startSandboxEnvironment } from '../scripts/sandbox/environment.js';
import { capturingLogger } from '../scripts/sandbox/log.js';
import { startRuntime } from '../scripts/sandbox/runtime.js';
import { PodTracker } from '../scripts/sandbox/tracker.js';
import { figure, writeResult, percentile } from './results.js';
import { pool } from '../scripts/lib/async.js';
import { waitUntil } from '../test/helpers/kube.js';
import { pollGroups, webPods } from './lib.js';

const TARGET_P99_MS = 2000;
const TARGET_CALLS = 6;
const NAMESPACE = 'bench';

/** `--name V` or `--name=V` (the second survives `npm run bench -- pipeline --pods=N`, see bench/main.ts). */
function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const eq = process.argv.find((a) => a.startsWith(`${name}=`));
  const v = eq ? Number(eq.slice(name.length + 1)) : i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

async function main(): Promise<void> {
  const n = Math.floor(arg('--pods', 50));
  const scale = arg('--time-scale', 0.5);
  const hold = arg('--hold', 0);
  const jobs = Math.floor(arg('--jobs', 0));
  const say = (l: string) => process.stdout.write(`${l}\n`);
  const logger = capturingLogger();
  const env = await startSandboxEnvironment({ timeScale: scale, say, env: { LOG_LEVEL: 'warn' } });
  const { config, emulator } = env;
  const runtime = await startRuntime({ config, logger, http: false });
  const tracker = new PodTracker(runtime.bridge.cluster, config.VNODE_NAME);
  // (group id, status) → when the emulator entered it; group id → pod UID
  const entered = new Map<string, number>();
  const uidOf = new Map<string, string>();
  const stopPolling = pollGroups(emulator, config.CLUSTER_NAME, (g, uid) => {
    if (uid) uidOf.set(g.id, uid);
    const key = `${g.id}/${g.status}`;
    if (!entered.has(key)) entered.set(key, g.since);
  });
  try {
    await runtime.ready();
    await tracker.start();
    await ensureNamespace(env.kube, NAMESPACE);
    const pods = webPods(n, NAMESPACE, config.VNODE_NAME);
    emulator.resetCalls();
    const t0 = Date.now();
    await pool(pods, 8, (p) => applyManifests(env.kube, [p]));
    const ours = () => tracker.all().filter((t) => t.namespace === NAMESPACE);
    await waitUntil(`${n} pods Running`, () => ours().filter((t) => t.phaseSeen.Running !== undefined).length >= n, 180_000);
    const tRunning = Date.now();
    // --hold=S: keep the pods Running (steady) for S seconds before deleting them, so the steady ticks' cost shows
    if (hold > 0) await new Promise((r) => setTimeout(r, hold * 1000));
    const tDeletes = Date.now();
    for (const t of ours()) await runtime.bridge.cluster.deletePod(NAMESPACE, t.name, { uid: t.uid, gracePeriodSeconds: 10 });
    await waitUntil(
      'every pod gone and every group deleted',
      () => ours().every((t) => t.goneAt !== undefined) && emulator.states().filter((g) => uidOf.has(g.id)).length === 0,
      180_000,
    );
    const tDone = Date.now();
    const calls = emulator.calls();

    // latency: group → Running (emulator) to pod phase Running (watch)
    const lat: number[] = [];
    for (const [gid, uid] of uidOf) {
      const since = entered.get(`${gid}/Running`);
      const seen = tracker.get(uid)?.phaseSeen.Running;
      if (since !== undefined && seen !== undefined) lat.push(Math.max(0, seen - since));
    }
    lat.sort((a, b) => a - b);
    const [p50, p95, p99] = [50, 95, 99].map((p) => percentile(lat, p));
    const perPod: Record<string, number> = {};
    for (const [a, c] of Object.entries(calls.byAction)) perPod[a] = c / n;
    const perPodTotal = calls.total / n;
    // --jobs=J: J Job-like pods (run 20 simulated s, exit 0) on a node whose other pods are steady: ECI Succeeded →
    // pod Succeeded, found by the steady tick (every STATUS_FINISHING_SECONDS while a pod can finish) instead of the
    // minutely sweep; and what that costs: DescribeContainerGroupStatus calls and queue messages (= pod-sync
    // invocations) per hour while the Jobs run
    const jobLat: number[] = [];
    let jobCost: { statusCallsPerHour: number; ticksPerHour: number; seconds: number } | undefined;
    if (jobs > 0) {
      const before = { calls: emulator.calls().byAction.DescribeContainerGroupStatus ?? 0, ticks: runtime.watcher.metrics.ticksSent.get(), at: Date.now() };
      const jobPods: Manifest[] = Array.from({ length: jobs }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `job-${String(i).padStart(4, '0')}`, namespace: NAMESPACE },
        spec: {
          nodeName: config.VNODE_NAME,
          restartPolicy: 'Never',
          containers: [{ name: 'job', image: 'busybox:1.36', command: ['/bin/sh', '-c', 'true # eci-sim: sleep 20; exit 0'] }],
        },
      }));
      await pool(jobPods, 8, (p) => applyManifests(env.kube, [p]));
      const mine = () => tracker.all().filter((t) => t.namespace === NAMESPACE && t.name.startsWith('job-'));
      await waitUntil(`${jobs} jobs Succeeded`, () => mine().filter((t) => t.phaseSeen.Succeeded !== undefined).length >= jobs, 180_000);
      const seconds = (Date.now() - before.at) / 1000;
      const perHour = (x: number) => (x / seconds) * 3600;
      jobCost = {
        seconds,
        statusCallsPerHour: perHour((emulator.calls().byAction.DescribeContainerGroupStatus ?? 0) - before.calls),
        ticksPerHour: perHour(runtime.watcher.metrics.ticksSent.get() - before.ticks),
      };
      for (const [gid, uid] of uidOf) {
        const since = entered.get(`${gid}/Succeeded`);
        const seen = tracker.get(uid)?.phaseSeen.Succeeded;
        if (since !== undefined && seen !== undefined) jobLat.push(Math.max(0, seen - since));
      }
      jobLat.sort((a, b) => a - b);
    }

    const fmt = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : `${(ms / 1000).toFixed(2)} s`);
    say('');
    if (hold > 0) say(`held Running for ${hold} s before the deletes`);
    say(`${n} pods, emulator time scale ${scale}; all Running ${((tRunning - t0) / 1000).toFixed(1)} s after the first create; all gone ${((tDone - tDeletes) / 1000).toFixed(1)} s after the deletes`);
    say(`ECI Running → pod Running (watch), ${lat.length} pods: p50 ${fmt(p50)}, p95 ${fmt(p95)}, p99 ${fmt(p99)}, max ${fmt(lat.at(-1))}   target p99 <= ${fmt(TARGET_P99_MS)}: ${(p99 ?? Number.POSITIVE_INFINITY) <= TARGET_P99_MS ? 'met' : 'MISSED'}`);
    say(`ECI calls per pod lifecycle: ${perPodTotal.toFixed(2)}   target <= ${TARGET_CALLS}: ${perPodTotal <= TARGET_CALLS ? 'met' : 'MISSED'}`);
    if (jobs > 0) {
      say(
        `ECI Succeeded → Job pod Succeeded (watch), ${jobLat.length} jobs: p50 ${fmt(percentile(jobLat, 50))}, p99 ${fmt(percentile(jobLat, 99))}, max ${fmt(jobLat.at(-1))} (steady ticks every ${config.STATUS_FINISHING_SECONDS} s while a pod can finish; the sweep alone: up to 60 s)`,
      );
      if (jobCost) {
        say(
          `  while the Jobs ran (${jobCost.seconds.toFixed(0)} s): ${jobCost.statusCallsPerHour.toFixed(0)} DescribeContainerGroupStatus/h, ${jobCost.ticksPerHour.toFixed(0)} status ticks (queue messages → pod-sync invocations)/h`,
        );
      }
    }
    for (const [a, c] of Object.entries(perPod).sort((x, y) => y[1] - x[1])) say(`  ${a.padEnd(28)} ${c.toFixed(2)} per pod (${calls.byAction[a]} calls)`);
    if (Object.keys(calls.errors).length > 0) say(`  error answers: ${JSON.stringify(calls.errors)}`);
    const warn = logger.counts();
    if (warn.warn + warn.error > 0) say(`  bridge warnings ${warn.warn}, errors ${warn.error}; last: ${logger.recent().at(-1)?.msg ?? ''}`);
    const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'pipeline.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          at: new Date().toISOString(),
          pods: n,
          timeScale: scale,
          latencyMs: { samples: lat.length, p50, p95, p99, max: lat.at(-1), target: { p99: TARGET_P99_MS } },
          eciCallsPerPod: { total: perPodTotal, byAction: perPod, target: TARGET_CALLS },
          eciCalls: calls.byAction,
          durationsMs: { toAllRunning: tRunning - t0, deleteToAllGone: tDone - tDeletes },
          ...(jobs > 0 ? { jobLatencyMs: { samples: jobLat.length, p50: percentile(jobLat, 50), max: jobLat.at(-1) } } : {}),
        },
        null,
        2,
      )}\n`,
    );
    say(`written to ${out}`);
    // the common result format (bench/results.ts), for the one table `npm run bench` prints
    writeResult('pipeline', [
      figure('pipeline.statusLatency.p50', 'ECI Running → pod Running p50', p50, 'ms'),
      figure('pipeline.statusLatency.p99', 'ECI Running → pod Running p99', p99, 'ms', { op: '<=', value: TARGET_P99_MS }),
      figure('pipeline.eciCallsPerPod', 'ECI calls per pod lifecycle', perPodTotal, '', { op: '<=', value: TARGET_CALLS }),
      ...(jobs > 0
        ? [
            figure('pipeline.jobLatency.p50', 'ECI Succeeded → Job pod Succeeded p50', percentile(jobLat, 50), 'ms'),
            figure('pipeline.jobLatency.p99', 'ECI Succeeded → Job pod Succeeded p99', percentile(jobLat, 99), 'ms', { op: '<=', value: TARGET_P99_MS }),
            figure('pipeline.jobStatusCallsPerHour', 'DescribeContainerGroupStatus per hour while Jobs run', jobCost?.statusCallsPerHour ?? 0, '/h'),
          ]
        : []),
    ]);
  } finally {
    await stopPolling();
    await runtime.stop();
    await tracker.stop();
    await env.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`pipeline bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
