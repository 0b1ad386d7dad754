/**
 * `npm run bench -- e2e [--pods=N] [--queue=embedded|mns|both] [--quota-pods=M] [--time-scale=X]`: the whole
 * pipeline in the sandbox (a private kube-apiserver, the ECI emulator through the SDK, the watcher and the same
 * handler code, composed by scripts/sandbox), N pods created at once, run to Running, then deleted:
 *
 * - `embedded`: the watcher sends to the EmbeddedQueue, the embedded delivery feeds pod-sync (as `npm start`);
 * - `mns`: the watcher sends through MnsQueue (the real @alicloud/mns SDK) to the MNS emulator, and the EventBridge
 *   simulator consumes that queue and feeds the same pod-sync handler (the s.yaml trigger's settings);
 * - `quotas`: embedded again with the emulator's token buckets at ECI's published limits (20 creates/s): creates
 *   must hold near 20/s and no throttling error may reach a pod (no Event, condition or message naming it).
 *
 * The bridge's Kubernetes clients go through the counting proxy (scripts/chaos/kubeFaultProxy.ts, no faults), so
 * its writes are counted by method and resource; the harness itself talks to the apiserver directly.
 * Figures (bench/results/e2e.json, the common format of bench/results.ts): bind → CreateContainerGroup p50/p95/p99
 * (bind = the harness's pod create answered; create = the emulator's recorded create time of that pod's group),
 * ECI Running → pod Running p50/p99, sustained pods/s, ECI calls per pod lifecycle (by action), queue messages
 * per pod, Kubernetes writes per pod to reach Running, and the bench process's RSS and CPU (process.memoryUsage /
 * process.cpuUsage: the watcher, the handlers, both emulators and the harness share this one process, so they
 * bound the watcher's own figures from above; bench/watcher.bench.ts measures the watcher alone).
 * A benchmark never fails on a number.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startEventBridgeDelivery } from '../emulators/eventbridge/index.js';
import { startMnsEmulator } from '../emulators/mns/index.js';
import { createHandler as createPodSync } from '../functions/pod-sync/index.js';
import { startKubeFaultProxy } from '../scripts/chaos/kubeFaultProxy.js';
import { ensureNamespace, startSandboxEnvironment } from '../scripts/sandbox/environment.js';
import { capturingLogger } from '../scripts/sandbox/log.js';
import { POD_SYNC_TRIGGER, startRuntime } from '../scripts/sandbox/runtime.js';
import { PodTracker } from '../scripts/sandbox/tracker.js';
import { applyManifests } from '../shared/adapters/kube/provision.js';
import { MnsQueue } from '../shared/adapters/queue/mns.js';
import { bridgeFactory, cloudCredentials } from '../shared/compose.js';
import type { QueueSender } from '../shared/ports/index.js';
import { type Figure, figure, writeResult, percentile } from './results.js';
import { pool } from '../scripts/lib/async.js';
import { waitUntil } from '../test/helpers/kube.js';
import { pollGroups, webPods } from './lib.js';

const NAMESPACE = 'bench-e2e';
const MNS_ACCOUNT = '1234567890123456';
/** The issue's burst; one mode takes ~2 minutes on a 2-CPU machine, the whole `npm run bench` ~10-15 minutes. */
const DEFAULT_PODS = 500;
const T = {
  bindToCreateP99: { op: '<=', value: 250 },
  statusP99: { op: '<=', value: 2000 },
  podsPerSecond: { op: '>=', value: 100 },
  eciCalls: { op: '<=', value: 6 },
  kubeWrites: { op: '<=', value: 4 },
  throttledPods: { op: '<=', value: 0 },
  createRate: { op: '>=', value: 18 },
} as const;

const say = (l: string) => process.stdout.write(`${l}\n`);

/** `--name V` or `--name=V`. */
function argStr(name: string): string | undefined {
  const eq = process.argv.find((a) => a.startsWith(`${name}=`));
  if (eq) return eq.slice(name.length + 1);
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function argNum(name: string, dflt: number): number {
  const v = Number(argStr(name));
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

/** A sender that counts the messages it passes on. */
function counting(q: QueueSender, count: { n: number }): QueueSender {
  return {
    send: (messages) => {
      count.n += messages.length;
      return q.send(messages);
    },
  };
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => Number(v) > 0));

type Mode = 'embedded' | 'mns' | 'quotas';

async function runMode(mode: Mode, n: number, scale: number): Promise<Figure[]> {
  const quotas = mode === 'quotas';
  say(`\n--- ${mode}: ${n} pods${quotas ? ", the emulator's ECI quotas on" : ''}`);
  const logger = capturingLogger();
  // quotas off: neither the emulator's buckets nor the bridge's own client-side ones (ECI_CREATE_PER_SECOND/BURST)
  const limits: Record<string, string> = quotas ? {} : { ECI_CREATE_PER_SECOND: '100000', ECI_CREATE_BURST: '100000' };
  const env = await startSandboxEnvironment({ timeScale: scale, say, env: { LOG_LEVEL: 'warn', ...limits }, quotas });
  const { emulator, controlPlane: cp } = env;
  const stops: (() => Promise<unknown>)[] = [() => env.stop()];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const proxy = await startKubeFaultProxy({ upstream: cp.server, caPem: cp.caPem });
    stops.push(() => proxy.close());
    const kubeconfig = join(cp.dir, 'bench-proxy.kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'proxy', cluster: { server: proxy.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'bench', user: { token: cp.token } }],
        contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'bench' } }],
        'current-context': 'proxy',
      }),
      { mode: 0o600 },
    );
    const config = { ...env.config, KUBECONFIG: kubeconfig };
    const sent = { n: 0 };
    let watcherQueue: ((q: QueueSender) => QueueSender) | undefined;
    if (mode === 'mns') {
      const keys = cloudCredentials(config);
      const creds = { accessKeyId: keys?.accessKeyId ?? '', accessKeySecret: keys?.accessKeySecret ?? '' };
      const mns = await startMnsEmulator({
        accountId: MNS_ACCOUNT,
        credentials: [creds],
        queues: [{ name: config.MNS_DEAD_LETTER_QUEUE }, { name: config.MNS_QUEUE, maxReceiveCount: 5, deadLetterQueue: config.MNS_DEAD_LETTER_QUEUE }],
      });
      stops.push(() => mns.close());
      const queueOf = (queueName: string) => new MnsQueue({ accountId: MNS_ACCOUNT, endpoint: mns.endpoint, queueName, credentials: creds });
      const pods = counting(queueOf(config.MNS_QUEUE), sent);
      watcherQueue = () => pods;
      // the function side: pod-sync as FC runs it, its re-nudges through MNS too, fed by the EventBridge simulator
      const bridges = bridgeFactory(config, { queue: pods, deadLetter: queueOf(config.MNS_DEAD_LETTER_QUEUE), logger });
      const fnLog = logger.child({ fn: 'pod-sync' });
      const delivery = startEventBridgeDelivery({
        mns: { endpoint: mns.endpoint, ...creds },
        queueName: config.MNS_QUEUE,
        accountId: config.ALIBABA_CLOUD_ACCOUNT_ID ?? 'sandbox',
        region: config.ECI_REGION,
        handler: createPodSync(bridges, () => fnLog),
        ...POD_SYNC_TRIGGER,
        deadLetterQueue: config.MNS_DEAD_LETTER_QUEUE,
        functionCredentials: { ...creds, securityToken: '' },
      });
      stops.push(() => delivery.stop());
    }
    const runtime = await startRuntime({ config, logger, http: false, ...(watcherQueue ? { watcherQueue } : {}) });
    stops.push(() => runtime.stop());
    const queueSent = () => sent.n + runtime.queue.stats().sent;
    const tracker = new PodTracker(runtime.bridge.cluster, config.VNODE_NAME);
    stops.push(() => tracker.stop());
    // group id → pod UID, when it was created, when it entered Running (the emulator's exact times)
    const uidOf = new Map<string, string>();
    const createdAt = new Map<string, number>();
    const runningAt = new Map<string, number>();
    stops.push(
      pollGroups(emulator, config.CLUSTER_NAME, (g, uid) => {
        if (!uid) return;
        uidOf.set(g.id, uid);
        createdAt.set(g.id, g.createdAt);
        if (g.status === 'Running' && !runningAt.has(g.id)) runningAt.set(g.id, g.since);
      }),
    );

    await runtime.ready();
    await tracker.start();
    await ensureNamespace(env.kube, NAMESPACE);
    const pods = webPods(n, NAMESPACE, config.VNODE_NAME);
    const bindAt = new Map<string, number>();
    const ours = () => tracker.all().filter((t) => t.namespace === NAMESPACE);
    const running = () => ours().filter((t) => t.phaseSeen.Running !== undefined);
    emulator.resetCalls();
    const writes0 = proxy.writes();
    const sent0 = queueSent();
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    await pool(pods, 16, async (p) => {
      await applyManifests(env.kube, [p]);
      bindAt.set(p.metadata.name, Date.now());
    });
    const tCreated = Date.now();
    await waitUntil(`${n} pods Running`, () => running().length >= n, 120_000 + n * (quotas ? 200 : 100));
    const tRunning = Math.max(...running().map((t) => t.phaseSeen.Running ?? 0));
    const cpuRun = process.cpuUsage(cpu0);
    const rss = process.memoryUsage().rss;
    const writesRun = diff(proxy.writes(), writes0);
    const sentRun = queueSent() - sent0;
    const callsRun = emulator.calls();

    // bind → CreateContainerGroup, ECI Running → pod Running
    const bind: number[] = [];
    const status: number[] = [];
    const creates: number[] = [];
    for (const [gid, uid] of uidOf) {
      const t = tracker.get(uid);
      if (!t || t.namespace !== NAMESPACE) continue;
      const created = createdAt.get(gid);
      const bound = bindAt.get(t.name);
      if (created !== undefined) creates.push(created);
      if (created !== undefined && bound !== undefined) bind.push(Math.max(0, created - bound));
      const r = runningAt.get(gid);
      if (r !== undefined && t.phaseSeen.Running !== undefined) status.push(Math.max(0, t.phaseSeen.Running - r));
    }
    bind.sort((a, b) => a - b);
    status.sort((a, b) => a - b);
    creates.sort((a, b) => a - b);
    // pods reaching Running per second: over the whole burst (first create → last Running, which includes one
    // simulated ECI start-up), and sustained, between the 10th and the 90th percentile pod reaching Running
    const perSecond = n / ((tRunning - t0) / 1000);
    const runTimes = running()
      .map((t) => t.phaseSeen.Running ?? 0)
      .sort((x, y) => x - y);
    const [i10, i90] = [Math.floor(0.1 * n), Math.max(0, Math.ceil(0.9 * n) - 1)];
    const span = ((runTimes[i90] ?? 0) - (runTimes[i10] ?? 0)) / 1000;
    const sustained = i90 > i10 && span > 0 ? (i90 - i10) / span : Number.NaN;
    const createSpan = ((creates.at(-1) ?? 0) - (creates[0] ?? 0)) / 1000;
    const createRate = creates.length > 1 && createSpan > 0 ? (creates.length - 1) / createSpan : Number.NaN;
    say(
      `${n} pods created by the harness in ${((tCreated - t0) / 1000).toFixed(1)} s, all Running after ${((tRunning - t0) / 1000).toFixed(1)} s ` +
        `(${perSecond.toFixed(1)} pods/s over the burst, ${sustained.toFixed(1)} sustained 10-90 %); groups created over ${createSpan.toFixed(1)} s (${createRate.toFixed(1)} creates/s)`,
    );
    say(`bind → CreateContainerGroup (${bind.length}): p50 ${percentile(bind, 50)} ms, p95 ${percentile(bind, 95)} ms, p99 ${percentile(bind, 99)} ms`);
    say(`ECI Running → pod Running (${status.length}): p50 ${percentile(status, 50)} ms, p99 ${percentile(status, 99)} ms`);
    say(`Kubernetes writes by the bridge to reach Running: ${JSON.stringify(writesRun)}`);

    const k = `e2e.${mode}`;
    const figures: Figure[] = [];
    if (quotas) {
      // did a throttling error reach a pod? Events, conditions and status messages of every pod
      const events = await env.kube.core.listNamespacedEvent({ namespace: NAMESPACE });
      const throttledEvents = events.items.filter((e) => /throttl/i.test(`${e.reason ?? ''} ${e.message ?? ''}`));
      const podList = await env.kube.core.listNamespacedPod({ namespace: NAMESPACE });
      const throttledPods = new Set(podList.items.filter((p) => /throttl/i.test(JSON.stringify(p.status ?? {}))).map((p) => p.metadata?.name));
      for (const e of throttledEvents) throttledPods.add(e.involvedObject.name);
      const apiThrottles = Object.entries(callsRun.errors)
        .filter(([c]) => /throttl/i.test(c))
        .reduce((a, [, v]) => a + v, 0);
      say(`throttling answers from the emulator ${apiThrottles} (retried by the bridge); pods showing a throttling error: ${throttledPods.size}`);
      figures.push(
        figure(`${k}.createRate`, 'quotas on: CreateContainerGroup rate held', createRate, 'creates/s', T.createRate),
        figure(`${k}.throttledPods`, 'quotas on: pods showing a throttling error', throttledPods.size, 'pods', T.throttledPods),
        figure(`${k}.apiThrottles`, 'quotas on: throttling answers (retried, not shown)', apiThrottles, ''),
        figure(`${k}.podsPerSecond`, 'quotas on: sustained pods/s (10-90 %)', sustained, 'pods/s'),
      );
      return figures;
    }

    // delete them all (the harness, directly), until every group is gone: the lifecycle's ECI calls
    const tDeletes = Date.now();
    await pool(ours(), 16, (t) => env.kube.core.deleteNamespacedPod({ namespace: NAMESPACE, name: t.name, gracePeriodSeconds: 10 }));
    await waitUntil(
      'every pod gone and every group deleted',
      () => ours().every((t) => t.goneAt !== undefined) && emulator.states().filter((g) => uidOf.has(g.id)).length === 0,
      120_000 + n * 100,
    );
    say(`all gone ${((Date.now() - tDeletes) / 1000).toFixed(1)} s after the deletes`);
    const calls = emulator.calls();
    const sentAll = queueSent() - sent0;
    const byAction = Object.entries(calls.byAction).sort((a, b) => b[1] - a[1]);
    say(`ECI calls per pod lifecycle ${(calls.total / n).toFixed(2)}: ${byAction.map(([a, c]) => `${a} ${(c / n).toFixed(2)}`).join(', ')}`);
    say(`queue messages per pod: ${(sentRun / n).toFixed(2)} to Running, ${(sentAll / n).toFixed(2)} whole lifecycle`);
    const warn = logger.counts();
    if (warn.warn + warn.error > 0) say(`bridge warnings ${warn.warn}, errors ${warn.error}; last: ${logger.recent().at(-1)?.msg ?? ''}`);
    const label = mode === 'mns' ? 'MNS+EventBridge' : 'embedded';
    figures.push(
      figure(`${k}.bindToCreate.p50`, `${label}: bind → CreateContainerGroup p50`, percentile(bind, 50), 'ms'),
      figure(`${k}.bindToCreate.p95`, `${label}: bind → CreateContainerGroup p95`, percentile(bind, 95), 'ms'),
      figure(`${k}.bindToCreate.p99`, `${label}: bind → CreateContainerGroup p99`, percentile(bind, 99), 'ms', T.bindToCreateP99),
      figure(`${k}.status.p50`, `${label}: ECI Running → pod Running p50`, percentile(status, 50), 'ms'),
      figure(`${k}.status.p99`, `${label}: ECI Running → pod Running p99`, percentile(status, 99), 'ms', T.statusP99),
      figure(`${k}.podsPerSecond`, `${label}: sustained pods/s (10-90 %, quotas off)`, sustained, 'pods/s', T.podsPerSecond),
      figure(`${k}.podsPerSecond.burst`, `${label}: pods/s, first create → last Running`, perSecond, 'pods/s'),
      figure(`${k}.eciCalls`, `${label}: ECI calls per pod lifecycle`, calls.total / n, '', T.eciCalls),
      ...byAction.map(([a, c]) => figure(`${k}.eciCalls.${a}`, `${label}:   ${a} per pod`, c / n, '')),
      figure(`${k}.queueMessages.toRunning`, `${label}: queue messages per pod to Running`, sentRun / n, ''),
      figure(`${k}.queueMessages`, `${label}: queue messages per pod lifecycle`, sentAll / n, ''),
      figure(`${k}.kubeWrites`, `${label}: Kubernetes writes per pod to Running`, sum(writesRun) / n, '', T.kubeWrites),
      ...Object.entries(writesRun)
        .sort((a, b) => b[1] - a[1])
        .map(([w, c]) => figure(`${k}.kubeWrites.${w.replace(' ', '.')}`, `${label}:   ${w} per pod`, c / n, '')),
      figure(`${k}.rss`, `${label}: bench process RSS at Running (watcher+handlers+emulators)`, rss / 1e6, 'MB'),
      figure(`${k}.cpu`, `${label}: bench process CPU per pod to Running`, (cpuRun.user + cpuRun.system) / 1000 / n, 'ms'),
    );
    return figures;
  } finally {
    await stopAll();
  }
}

async function main(): Promise<void> {
  const n = Math.floor(argNum('--pods', DEFAULT_PODS));
  const quotaPods = Math.floor(argNum('--quota-pods', Math.min(n, 200)));
  const scale = argNum('--time-scale', 0.5);
  const which = argStr('--queue') ?? 'both';
  const modes: Mode[] = which === 'embedded' ? ['embedded'] : which === 'mns' ? ['mns'] : ['embedded', 'mns'];
  if (!process.argv.includes('--no-quotas')) modes.push('quotas');
  say(`${n} pods per run (--pods=N), ${quotaPods} in the quotas-on run (--quota-pods=M), emulator time scale ${scale}`);
  const figures: Figure[] = [];
  for (const mode of modes) {
    try {
      figures.push(...(await runMode(mode, mode === 'quotas' ? quotaPods : n, scale)));
    } catch (err) {
      say(`${mode}: did not complete: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
    // written after every mode: a later mode that fails keeps the earlier figures
    writeResult('e2e', figures);
  }
  say(`\nwritten to bench/results/e2e.json`);
}

await main();
