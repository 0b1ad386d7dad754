/**
 * `npm run bench -- burst [--pods=N] [--workers=W] [--idle-seconds=S] [--profile] [--quotas]`: the burst, shaped like
 * production, beside the apiserver's own floor, in one run on one private kube-apiserver:
 *
 * 1. **Floor**: an ideal kubelet's lifecycle for N pods at concurrency 48 (create, one TokenRequest, one status
 *    write to Running, delete with grace 0), straight to the apiserver: pods/s.
 * 2. **Bridge**: the ECI emulator, the MNS emulator, the watcher and W pod-sync workers each in its own process
 *    (bench/burst-child.ts; the workers talk to Kubernetes through the lite client, as the functions on FC; W defaults to s.yaml's trigger `maximumTasks` 2: EventBridge pushes at most 2 batches
 *    at once, so at most 2 pod-sync instances are busy). An idle window first (no pods), then N pods to Running
 *    (sustained pods/s between the 10th and 90th percentile pod), a steady window, then all deleted.
 * 3. Kubernetes requests per pod lifecycle by verb and kind (every request the watcher and workers send passes a
 *    counting proxy), DeleteContainerGroup per pod, CPU per pod by process, and the cost model (shared/domain/bridge-cost.ts).
 *
 * `--profile` records a CPU profile of every child process over the lifecycle (burst start → all deleted; the
 * inspector's Profiler, as `node --cpu-prof`) into bench/results/profiles/ and prints each one's top self-time
 * entries and its time by package.
 * A benchmark never fails on a number.
 *
 * Over 400 lines: one run in sequence (floor, idle, burst, steady, deletion) whose figures all come from the same
 * snapshots of the same processes and proxies; the child processes live in burst-child.ts, the profile summary in
 * profile.ts, the cost model in shared/domain/bridge-cost.ts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startKubeFaultProxy } from '../scripts/chaos/kubeFaultProxy.js';
import { pool } from '../scripts/lib/async.js';
import { ensureNamespace, startSandboxEnvironment } from '../scripts/sandbox/environment.js';
import { applyManifests } from '../shared/adapters/kube/provision.js';
import { createKubeCluster } from '../shared/adapters/kube/index.js';
import { kubeOptions } from '../shared/compose.js';
import { PodTracker } from '../scripts/sandbox/tracker.js';
import type { ChildStats, Role } from './burst-child.js';
import { cny, idlePerMonth, PRICES, type Usage } from '../shared/domain/bridge-cost.js';
import { summariseFile } from './profile.js';
import { type Figure, figure, percentile, RESULTS_DIR, writeResult } from './results.js';
import { webPods } from './lib.js';

const say = (l: string) => process.stdout.write(`${l}\n`);
const arg = (name: string, dflt: number): number => {
  const v = Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const N = Math.floor(arg('pods', 500));
const WORKERS = Math.floor(arg('workers', 2));
const IDLE_S = arg('idle-seconds', 20);
const PROFILE = process.argv.includes('--profile');
/** the ECI emulator at ECI's published API quotas (20 creates/s) and the bridge's own create limiter at its defaults */
const QUOTAS = process.argv.includes('--quotas');
const NS_FLOOR = 'bench-floor';
const NS = 'bench-burst';
const MNS_ACCOUNT = '1234567890123456';
const POD_SYNC = { vcpu: 1, memoryGb: 1 }; // s.yaml pod-sync: cpu 1, memorySize 1024
const PROF_DIR = join(RESULTS_DIR, 'profiles');

interface Child {
  role: Role;
  name: string;
  proc: ChildProcess;
  ready: Record<string, string>;
}

function start(role: Role, name: string, config: object): Promise<Child> {
  const proc = fork(join(import.meta.dirname, 'burst-child.ts'), [role], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
    proc.on('message', (m: { type: string }) => {
      if (m.type === 'ready') resolve({ role, name, proc, ready: m as unknown as Record<string, string> });
    });
  });
}

function stats(c: Child): Promise<ChildStats> {
  return new Promise((resolve) => {
    const on = (m: { type: string; stats: ChildStats }) => {
      if (m.type !== 'stats') return;
      c.proc.off('message', on);
      resolve(m.stats);
    };
    c.proc.on('message', on);
    c.proc.send({ type: 'stats' });
  });
}

/** Sends `type` and waits for the child's `answer`. */
function ask(c: Child, msg: Record<string, unknown>, answer: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type !== answer) return;
      c.proc.off('message', on);
      resolve();
    };
    c.proc.on('message', on);
    c.proc.send(msg);
  });
}

async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null) return;
  const gone = new Promise((r) => c.proc.once('exit', r));
  c.proc.send({ type: 'stop' });
  await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
  if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
}

type Snapshot = {
  at: number;
  harnessCpuMs: number;
  kube: Record<string, number>;
  watcherKube: Record<string, number>;
  /** requests the apiserver refused, by `CODE verb resource` */
  refused: Record<string, number>;
  /** pod PATCHes by the annotation keys they set */
  patched: Record<string, number>;
  children: ChildStats[];
};

const sub = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)] as const).filter(([, v]) => v > 0));
const total = (r: Record<string, number>): number => Object.values(r).reduce((x, y) => x + y, 0);
const waitFor = async (what: string, ok: () => Promise<boolean> | boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/** Usage between two snapshots: pod-sync invocations and busy time, MNS requests. */
function usage(a: Snapshot, b: Snapshot): Usage {
  const pick = (s: Snapshot, role: Role, k: string) => s.children.filter((c) => c.role === role).reduce((x, c) => x + (c.counts[k] ?? 0), 0);
  const mns = (s: Snapshot) => total(s.children.find((c) => c.role === 'mns')?.counts ?? {});
  return {
    invocations: pick(b, 'worker', 'invocations') - pick(a, 'worker', 'invocations'),
    busySeconds: (pick(b, 'worker', 'busyMs') - pick(a, 'worker', 'busyMs')) / 1000,
    ...POD_SYNC,
    mnsRequests: mns(b) - mns(a),
  };
}

async function main(): Promise<void> {
  say(
    `burst: ${N} pods (--pods), ${WORKERS} pod-sync worker processes (--workers; s.yaml maximumTasks 2), idle window ${IDLE_S} s, ` +
      `ECI quotas ${QUOTAS ? "on (the emulator at ECI's published limits, the bridge's limiter at its defaults)" : 'off (--quotas turns them on)'}`,
  );
  const env = await startSandboxEnvironment({
    timeScale: 0.5,
    say,
    env: { LOG_LEVEL: 'error', ...(QUOTAS ? {} : { ECI_CREATE_PER_SECOND: '100000', ECI_CREATE_BURST: '100000' }) },
  });
  const children: Child[] = [];
  const stops: (() => Promise<unknown>)[] = [() => env.stop()];
  const figures: Figure[] = [];
  try {
    // one counting proxy per component, so requests are attributed: the watcher's and pod-sync's
    const kubeconfigVia = async (name: string) => {
      const proxy = await startKubeFaultProxy({ upstream: env.controlPlane.server, caPem: env.controlPlane.caPem });
      stops.push(() => proxy.close());
      const path = join(env.controlPlane.dir, `burst-${name}.kubeconfig`);
      writeFileSync(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'proxy', cluster: { server: proxy.url, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'bench', user: { token: env.controlPlane.token } }],
          contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'bench' } }],
          'current-context': 'proxy',
        }),
        { mode: 0o600 },
      );
      return { proxy, path };
    };
    const viaWatcher = await kubeconfigVia('watcher');
    const viaPodSync = await kubeconfigVia('pod-sync');
    if (PROFILE) {
      rmSync(PROF_DIR, { recursive: true, force: true });
      mkdirSync(PROF_DIR, { recursive: true });
    }
    // the emulators first: the bridge's configuration points at them (the sandbox's in-process emulator stays unused)
    const base = { ...env.config, KUBECONFIG: viaPodSync.path, QUEUE_KIND: 'mns', ALIBABA_CLOUD_ACCOUNT_ID: MNS_ACCOUNT, BENCH_TIME_SCALE: 0.5, BENCH_QUOTAS: QUOTAS };
    const [eci, mns] = await Promise.all([start('eci', 'eci-emulator', base), start('mns', 'mns-emulator', base)]);
    children.push(eci, mns);
    const config = { ...base, ECI_ENDPOINT: eci.ready.endpoint, MNS_ENDPOINT: mns.ready.endpoint };
    children.push(await start('watcher', 'watcher', { ...config, KUBECONFIG: viaWatcher.path }));
    // the workers reach Kubernetes as the functions do on FC: KUBE_API_SERVER/KUBE_TOKEN/KUBE_CA → the lite client
    // (shared/adapters/kube/lite.ts; the function bundles do not contain client-node); the watcher as in a
    // cluster, through client-node
    const { KUBECONFIG: _unused, ...withoutKubeconfig } = config;
    const workerConfig = {
      ...withoutKubeconfig,
      KUBE_API_SERVER: viaPodSync.proxy.url,
      KUBE_TOKEN: env.controlPlane.token,
      KUBE_CA: env.controlPlane.caPem,
    };
    for (let i = 0; i < WORKERS; i++) children.push(await start('worker', `pod-sync-${i + 1}`, workerConfig));
    const snap = async (): Promise<Snapshot> => {
      const u = process.cpuUsage();
      const [w, f] = [viaWatcher.proxy.requests(), viaPodSync.proxy.requests()];
      const kube = { ...w };
      for (const [k, v] of Object.entries(f)) kube[k] = (kube[k] ?? 0) + v;
      const refused = viaWatcher.proxy.refused();
      for (const [k, v] of Object.entries(viaPodSync.proxy.refused())) refused[k] = (refused[k] ?? 0) + v;
      const patched = viaPodSync.proxy.patchedAnnotations();
      return { at: Date.now(), harnessCpuMs: (u.user + u.system) / 1000, kube, watcherKube: w, refused, patched, children: await Promise.all(children.map(stats)) };
    };

    // 1. the floor: an ideal kubelet, straight to the apiserver
    await ensureNamespace(env.kube, NS_FLOOR);
    const tf0 = Date.now();
    await pool(
      Array.from({ length: N }, (_, i) => `floor-${i}`),
      48,
      async (name) => {
        const pod = await env.kube.core.createNamespacedPod({
          namespace: NS_FLOOR,
          body: { metadata: { name }, spec: { nodeName: 'ideal-kubelet', containers: [{ name: 'c', image: 'nginx:1.25-alpine' }] } },
        });
        await env.kube.core.createNamespacedServiceAccountToken({ namespace: NS_FLOOR, name: 'default', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
        pod.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], podIP: '10.0.0.1', startTime: new Date() };
        await env.kube.core.replaceNamespacedPodStatus({ namespace: NS_FLOOR, name, body: pod });
        await env.kube.core.deleteNamespacedPod({ namespace: NS_FLOOR, name, gracePeriodSeconds: 0 });
      },
    );
    const floor = N / ((Date.now() - tf0) / 1000);
    say(`floor (ideal kubelet: create, token, status Running, delete grace 0; concurrency 48): ${floor.toFixed(1)} pods/s`);

    // 2. idle: the virtual node registered, no pods
    await ensureNamespace(env.kube, NS);
    const idle0 = await snap();
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idle1 = await snap();
    const idle = usage(idle0, idle1);
    const idleCost = idlePerMonth(idle, (idle1.at - idle0.at) / 1000);
    say(
      `idle ${IDLE_S} s: ${idle.invocations} pod-sync invocations, ${idle.mnsRequests} MNS requests, kube ${JSON.stringify(sub(idle1.kube, idle0.kube))}`,
    );

    // 3. the burst: N pods, to Running
    const pods = webPods(N, NS, config.VNODE_NAME);
    const bindAt = new Map<string, number>();
    // the harness watches the pods (straight to the apiserver, not through the counting proxies)
    const tracker = new PodTracker(createKubeCluster(kubeOptions(env.config), { component: 'bench' }), config.VNODE_NAME);
    await tracker.start();
    stops.push(() => tracker.stop());
    const uidOf = new Map<string, string>();
    if (PROFILE) await Promise.all(children.map((c) => ask(c, { type: 'profile-start' }, 'profile-started')));
    const b0 = await snap();
    await pool(pods, 16, async (p) => {
      await applyManifests(env.kube, [p]);
      bindAt.set(p.metadata.name, Date.now());
    });
    const ours = () => tracker.all().filter((t) => t.namespace === NS);
    await waitFor(`${N} pods Running`, () => ours().filter((t) => t.phaseSeen.Running !== undefined).length >= N, 120_000 + N * 200);
    const runningAt = new Map<string, number>();
    for (const t of ours()) {
      uidOf.set(t.uid, t.name);
      if (t.phaseSeen.Running !== undefined) runningAt.set(t.name, t.phaseSeen.Running);
    }
    const b1 = await snap();
    const times = [...runningAt.values()].sort((a, b) => a - b);
    const [i10, i90] = [Math.floor(0.1 * N), Math.max(0, Math.ceil(0.9 * N) - 1)];
    const sustained = (i90 - i10) / Math.max(0.001, ((times[i90] ?? 0) - (times[i10] ?? 0)) / 1000);
    const eciGroups = b1.children.find((c) => c.role === 'eci')?.groups ?? [];
    const bind = eciGroups
      .map(([uid, created]) => created - (bindAt.get(uidOf.get(uid) ?? '') ?? created))
      .filter((d) => d >= 0)
      .sort((a, b) => a - b);
    say(`bridge: ${N} pods Running; sustained ${sustained.toFixed(1)} pods/s (10-90 %), ${((100 * sustained) / floor).toFixed(0)} % of the floor`);
    say(`bind → CreateContainerGroup p50 ${percentile(bind, 50)} ms, p99 ${percentile(bind, 99)} ms`);
    // the rate creates were held at: between the 10th and the 90th percentile create
    const created = eciGroups.map(([, at]) => at).sort((a, b) => a - b);
    const [c10, c90] = [Math.floor(0.1 * created.length), Math.max(0, Math.ceil(0.9 * created.length) - 1)];
    const createRate = (c90 - c10) / Math.max(0.001, ((created[c90] ?? 0) - (created[c10] ?? 0)) / 1000);
    say(`CreateContainerGroup rate held (10-90 % of creates): ${createRate.toFixed(1)}/s`);
    // did a throttling error reach a pod? Events, conditions and status messages of every pod
    const throttledPods = new Set<string>();
    for (const e of (await env.kube.core.listNamespacedEvent({ namespace: NS })).items) {
      if (/throttl/i.test(`${e.reason ?? ''} ${e.message ?? ''}`)) throttledPods.add(e.involvedObject.name ?? '');
    }
    for (const p of (await env.kube.core.listNamespacedPod({ namespace: NS })).items) {
      if (/throttl/i.test(JSON.stringify(p.status ?? {}))) throttledPods.add(p.metadata?.name ?? '');
    }
    if (QUOTAS) {
      figures.push(
        figure('burst.quotas.createRate', 'quotas on: CreateContainerGroup rate held (10-90 %)', createRate, 'creates/s', { op: '>=', value: 18 }),
        figure('burst.quotas.throttledPods', 'quotas on: pods showing a throttling error', throttledPods.size, 'pods', { op: '<=', value: 0 }),
      );
    }

    // 4. steady: N pods Running, nothing changing
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const s1 = await snap();
    const steady = usage(b1, s1);

    // 5. delete them all, until every group is gone
    await pool(pods, 16, (p) => env.kube.core.deleteNamespacedPod({ namespace: NS, name: p.metadata.name, gracePeriodSeconds: 10 }));
    await waitFor(
      'every pod gone and every group deleted',
      async () => {
        if (!ours().every((t) => t.goneAt !== undefined)) return false;
        return ((await stats(eci)).groups ?? []).every((x) => x[3] === 1);
      },
      120_000 + N * 200,
    );
    const e1 = await snap();
    if (PROFILE) {
      await Promise.all(children.map((c) => ask(c, { type: 'profile-stop', file: join(PROF_DIR, `${c.name}.cpuprofile`) }, 'profile-stopped')));
    }

    // figures: requests per pod lifecycle (burst start → all deleted, minus the steady window's)
    const lifecycleOf = (f: (s: Snapshot) => Record<string, number>) => sub(sub(f(e1), f(b0)), sub(f(s1), f(b1)));
    const kube = lifecycleOf((s) => s.kube);
    const byWatcher = lifecycleOf((s) => s.watcherKube);
    const perPod = (x: number) => x / N;
    const isEvent = (k: string) => k.endsWith(' events');
    const isRead = (k: string) => /^(get|list) /.test(k);
    const isWrite = (k: string) => /^(create|update|patch|delete) /.test(k);
    const sumOf = (f: (k: string) => boolean) => perPod(total(Object.fromEntries(Object.entries(kube).filter(([k]) => f(k)))));
    const eventWrites = sumOf((k) => isWrite(k) && isEvent(k));
    // Against the distinct Events, every Event write of the run counts, the steady window's included: the Events
    // of a group that started late are written in that window, and their objects are in the count below.
    const eventWritesWhole = perPod(total(Object.fromEntries(Object.entries(sub(e1.kube, b0.kube)).filter(([k]) => isWrite(k) && isEvent(k)))));
    // distinct Events the bridge recorded (deterministic names: one object per distinct ECI/bridge event and pod)
    const distinctEvents = (await env.kube.core.listNamespacedEvent({ namespace: NS })).items.filter((e) => e.involvedObject.kind === 'Pod').length / N;
    const nonEventWrites = sumOf((k) => isWrite(k) && !isEvent(k));
    const metaPatches = sumOf((k) => k === 'patch pods');
    const reads = sumOf(isRead);
    const eciCalls = sub(e1.children.find((c) => c.role === 'eci')?.counts ?? {}, b0.children.find((c) => c.role === 'eci')?.counts ?? {});
    say('Kubernetes requests per pod lifecycle (watches excluded):  all  (watcher / pod-sync)');
    for (const [k, v] of Object.entries(kube).sort((a, b) => b[1] - a[1])) {
      const w = byWatcher[k] ?? 0;
      if (!k.startsWith('watch ')) say(`  ${k.padEnd(34)} ${perPod(v).toFixed(2).padStart(6)}  (${perPod(w).toFixed(2)} / ${perPod(v - w).toFixed(2)})`);
    }
    const refused = lifecycleOf((s) => s.refused);
    const patched = lifecycleOf((s) => s.patched);
    say(`pod-sync's pod PATCHes per pod by the annotation they set: ${Object.entries(patched).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${perPod(v).toFixed(2)}`).join(', ') || 'none'}`);
    say(`refused by the apiserver per pod (counted in the requests above): ${Object.entries(refused).map(([k, v]) => `${k} ${perPod(v).toFixed(2)}`).join(', ') || 'none'}`);
    const eciThrottled = sub(e1.children.find((c) => c.role === 'eci')?.throttled ?? {}, b0.children.find((c) => c.role === 'eci')?.throttled ?? {});
    const accepted = (action: string) => (eciCalls[action] ?? 0) - (eciThrottled[action] ?? 0);
    if (QUOTAS) say(`ECI calls answered Throttling per pod (retried; counted in the calls): ${Object.entries(eciThrottled).map(([a, c]) => `${a} ${perPod(c).toFixed(2)}`).join(', ') || 'none'}`);
    say(`ECI calls per pod: ${Object.entries(eciCalls).map(([a, c]) => `${a} ${perPod(c).toFixed(2)}`).join(', ')}`);

    const T = {
      ratio: { op: '>=', value: 40 },
      nonEvent: { op: '<=', value: 5 },
      meta: { op: '<=', value: 1 },
      reads: { op: '<=', value: 2 },
      del: { op: '<=', value: 1 },
      bridgeCpu: { op: '<=', value: 20 },
      idle: { op: '<=', value: 5 },
    } as const;
    figures.push(
      figure('burst.floor', 'floor: ideal-kubelet lifecycle pods/s (concurrency 48)', floor, 'pods/s'),
      figure('burst.podsPerSecond', `bridge sustained pods/s (10-90 %, ${WORKERS} pod-sync processes)`, sustained, 'pods/s'),
      figure('burst.ofFloor', 'bridge sustained ÷ floor', (100 * sustained) / floor, '%', T.ratio),
      figure('burst.bindToCreate.p99', 'bind → CreateContainerGroup p99', percentile(bind, 99), 'ms', { op: '<=', value: (N / 20) * 1000 + 2000 }),
      figure('burst.kube.nonEventWrites', 'Kubernetes non-Event writes per pod lifecycle', nonEventWrites, '', T.nonEvent),
      figure('burst.kube.metadataPatches', '  of which pod metadata patches', metaPatches, '', T.meta),
      figure('burst.kube.eventWrites', 'Kubernetes Event writes per pod lifecycle', eventWrites, ''),
      figure('burst.kube.distinctEvents', '  distinct Events per pod (writes ≤ this: one write per distinct event)', distinctEvents, ''),
      figure(
        'burst.kube.eventWritesPerDistinct',
        '  Event writes per distinct Event (all the run\'s Event writes, steady window included)',
        eventWritesWhole / Math.max(1e-9, distinctEvents),
        '',
        { op: '<=', value: 1 },
      ),
      figure('burst.kube.reads', 'Kubernetes reads (get/list) per pod lifecycle', reads, '', T.reads),
      ...Object.entries(kube)
        .filter(([k]) => !k.startsWith('watch '))
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => figure(`burst.kube.${k.replace(/[ /]/g, '.')}`, `  ${k} per pod`, perPod(v), '')),
      ...Object.entries(refused)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => figure(`burst.kube.refused.${k.replace(/[ /]/g, '.')}`, `  refused ${k} per pod`, perPod(v), '')),
      figure('burst.eci.DeleteContainerGroup', 'DeleteContainerGroup per pod (accepted; throttled answers apart)', perPod(accepted('DeleteContainerGroup')), '', T.del),
      ...(QUOTAS
        ? [figure('burst.eci.DeleteContainerGroup.throttled', '  DeleteContainerGroup answered Throttling per pod (retried)', perPod(eciThrottled.DeleteContainerGroup ?? 0), '')]
        : []),
      figure('burst.eci.calls', 'ECI calls per pod lifecycle', perPod(total(eciCalls)), '', { op: '<=', value: 6 }),
    );
    // CPU per pod by process, over the lifecycle (burst start → all deleted, without the steady window)
    let bridgeCpu = 0;
    for (const [i, c] of children.entries()) {
      // snapshots list the children in the same order
      const at = (s: Snapshot) => s.children[i]?.cpuMs ?? 0;
      const ms = at(e1) - at(b0) - (at(s1) - at(b1));
      const name = c.name;
      if (c.role === 'watcher' || c.role === 'worker') bridgeCpu += ms;
      figures.push(figure(`burst.cpu.${name}`, `CPU per pod: ${name} process`, ms / N, 'ms'));
    }
    const harnessMs = e1.harnessCpuMs - b0.harnessCpuMs - (s1.harnessCpuMs - b1.harnessCpuMs);
    figures.push(
      figure('burst.cpu.harness', 'CPU per pod: harness (pods, proxy, polling)', harnessMs / N, 'ms'),
      figure('burst.cpu.bridge', "CPU per pod: the bridge's own (watcher + pod-sync)", bridgeCpu / N, 'ms', T.bridgeCpu),
    );

    // the cost model
    const lifecycle = usage(b0, e1);
    const steadySeconds = (s1.at - b1.at) / 1000;
    const burstPer1000 = cny({ ...lifecycle, invocations: lifecycle.invocations - steady.invocations, busySeconds: lifecycle.busySeconds - steady.busySeconds, mnsRequests: lifecycle.mnsRequests - steady.mnsRequests }) * (1000 / N);
    const steadyPerDay = cny(steady) * (86_400 / steadySeconds);
    const deploymentDay = steadyPerDay + idleCost.totalCny / (730 / 24) + (burstPer1000 / 1000) * 50;
    say(
      `cost: idle ${idleCost.totalCny.toFixed(2)} CNY/month (${(100 * idleCost.ofVnode).toFixed(1)} % of one VNode's ${PRICES.vnodeCnyPerMonth.toFixed(0)}: ` +
        `pod-sync ${idleCost.podSyncCny.toFixed(2)}, MNS requests ${idleCost.mnsRequestsCny.toFixed(2)}, timers ${idleCost.timersCny.toFixed(2)}, queues ${idleCost.queuesCny.toFixed(2)}); ` +
        `1,000 short Jobs ${burstPer1000.toFixed(3)} CNY; a day of a steady ${N}-pod set ${steadyPerDay.toFixed(2)} CNY in ticks; a day of a 50-pod Deployment ≈ ${deploymentDay.toFixed(2)} CNY`,
    );
    figures.push(
      figure('burst.cost.idle', 'cost: idle per month (CNY)', idleCost.totalCny, 'CNY'),
      figure('burst.cost.idleOfVnode', "cost: idle ÷ one ECI VNode's monthly price", 100 * idleCost.ofVnode, '%', T.idle),
      figure('burst.cost.idle.queues', '  of which the two MNS queues (daily fee)', idleCost.queuesCny, 'CNY'),
      figure('burst.cost.idle.timers', '  of which the timer functions', idleCost.timersCny, 'CNY'),
      figure('burst.cost.idle.podSync', '  of which pod-sync invocations (idle ticks)', idleCost.podSyncCny, 'CNY'),
      figure('burst.cost.idle.mnsRequests', '  of which MNS requests (the trigger\'s long polls)', idleCost.mnsRequestsCny, 'CNY'),
      figure('burst.cost.per1000Jobs', 'cost: 1,000 pod lifecycles, a burst of short Jobs (CNY)', burstPer1000, 'CNY'),
      figure('burst.cost.steadyDay', `cost: a day of ${N} steady pods, ticks only (CNY)`, steadyPerDay, 'CNY'),
      figure('burst.cost.deploymentDay', `cost: a day of a steady 50-pod Deployment (steady rate of ${N} pods: upper bound)`, deploymentDay, 'CNY'),
      figure('burst.invocations', 'pod-sync invocations per pod lifecycle', perPod(lifecycle.invocations - steady.invocations), ''),
      figure('burst.mnsRequests', 'MNS requests per pod lifecycle', perPod(lifecycle.mnsRequests - steady.mnsRequests), ''),
    );
  } finally {
    for (const c of children.reverse()) await stopChild(c).catch(() => undefined);
    for (const s of stops.reverse()) await s().catch(() => undefined);
  }
  if (PROFILE) {
    for (const f of readdirSync(PROF_DIR).filter((x) => x.endsWith('.cpuprofile'))) {
      const sum = summariseFile(join(PROF_DIR, f));
      say(`\nprofile ${f} (busy samples only): top self time | by package`);
      for (let i = 0; i < sum.top.length; i++) say(`  ${(sum.top[i] ?? '').padEnd(90)} | ${sum.byPackage[i] ?? ''}`);
    }
  }
  writeResult('burst', figures);
  say('written to bench/results/burst.json');
}

await main();
