/**
 * `npm start`: the whole bridge in one process (scripts/sandbox/runtime.ts), in one of two modes.
 *
 * - **sandbox** (nothing configured): a private local control plane and the ECI and BSS emulators (environment.ts),
 *   the demo pods (demo.ts) with a live table and progress, the reconciliation of the day they ran in (bill.ts),
 *   then cleanup and a closing summary of expected vs actual outcomes, the reconciliation, ECI calls by action and
 *   container groups left. Exit code 0 only when every expectation held.
 * - **cluster** (KUBECONFIG or --kubeconfig): the bridge against that cluster and the configured ECI endpoint
 *   (real ECI, or `npx eci-bridge emulate eci`, or --emulate-eci in-process); demo pods only with --demo; runs
 *   until SIGINT/SIGTERM.
 *
 * Shutdown always runs in the same order and leaves nothing behind: watcher, timers, delivery, queues, the
 * table's watch, then the emulator and the control plane when this process started them.
 *
 * Over 400 lines: both modes share one ordered start-up and shutdown sequence, kept in one place so the order
 * cannot drift.
 */
import { createKubeClient, type KubeClient } from '../../shared/adapters/kube/index.js';
import { applyManifests, deleteObjects, dryRunCreate, listObjects, type Manifest, readObject } from '../../shared/adapters/kube/provision.js';
import { type Config, parseConfig } from '../../shared/domain/config.js';
import { billingDayOf } from '../../shared/domain/bill.js';
import { TAG_CLUSTER, TAG_POD_UID, TAG_VNODE } from '../../shared/domain/names.js';
import { asError } from '../../shared/errors.js';
import { DEFAULT_CREDENTIAL, type EciEmulator, startEciEmulator } from '../../emulators/eci/index.js';
import {
  DEMO_LABEL,
  DEMO_NAMESPACE,
  DEMO_PODS,
  DEMO_PROFILE_SELECTOR,
  type DemoName,
  type DemoObservation,
  demoObjects,
  demoProfile,
  type Expectation,
  evaluate,
} from './demo.js';
import { BILL_AHEAD_MS, billSummary, createStrayGroup, reconcileSandboxDay, SANDBOX_PRICE_TABLES, type SandboxBillResult, sandboxBill, suspendCron } from './bill.js';
import { Display, type Frame } from './display.js';
import { ensureNamespace, namespace, type SandboxEnvironment, type Say, startSandboxEnvironment } from './environment.js';
import { StartUsageError } from './errors.js';
import { type CapturingLogger, capturingLogger, type Level } from './log.js';
import { type Runtime, startRuntime } from './runtime.js';
import { PodTracker } from './tracker.js';

export type Output = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface StartOptions {
  out?: Output;
  /** force the live (TTY) table on or off */
  live?: boolean;
  /** JSON log lines on stderr at this level (default: none; warnings still show under the table) */
  logLevel?: Level;
  /** aborted on SIGINT/SIGTERM: the run stops, cleans up and reports */
  signal?: AbortSignal;
  /** keep running after the demo until the signal */
  keep?: boolean;
  /** sandbox: emulator and timer scale (default 0.1: 10 simulated seconds per real second) */
  timeScale?: number;
  /** how long the demo pods may take to settle (default 120 s) */
  settleTimeoutMs?: number;
}

export interface ClusterOptions extends StartOptions {
  kubeconfig: string;
  /** the environment to read the configuration from (default process.env) */
  env?: Record<string, string | undefined>;
  demo?: boolean;
  /** run the ECI emulator in-process instead of using ECI_ENDPOINT / real ECI */
  emulateEci?: boolean;
}

export interface StartResult {
  exitCode: number;
  mode: 'sandbox' | 'cluster';
  expectations: Expectation[];
  /** failed expectations and other problems, one line each */
  failures: string[];
  eciCalls?: { total: number; byAction: Record<string, number> };
  groupsLeft?: number;
  /** the sandbox's billing day: the reconciliation of the day the demo ran in, and its re-run (bill.ts) */
  reconciliation?: SandboxBillResult;
  /** what was stopped at the end (every entry true = nothing left running) */
  stopped: Record<string, boolean>;
  endpoints: { eci?: string; apiserver?: string; kubeconfig?: string };
  durationMs: number;
  summary: string[];
}

interface GroupRef {
  id: string;
  status: string;
  /** the pod UID tag */
  uid?: string;
}

/** Where the table and the summary read container groups from: the emulator directly, or ECI (tagged list). */
interface GroupSource {
  refresh(force?: boolean): Promise<void>;
  byUid(uid: string): GroupRef[];
  /** every group of this cluster and virtual node */
  all(): GroupRef[];
}

function tagOf(tags: readonly { Key: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

function emulatorGroups(emu: EciEmulator, config: Config): GroupSource {
  let snap: { id: string; status: string; uid?: string }[] = [];
  const take = () => {
    snap = emu
      .states()
      .filter((g) => tagOf(g.tags, TAG_CLUSTER) === config.CLUSTER_NAME && tagOf(g.tags, TAG_VNODE) === config.VNODE_NAME)
      .map((g) => ({ id: g.id, status: g.status, uid: tagOf(g.tags, TAG_POD_UID) }));
  };
  return {
    refresh: async () => take(),
    byUid: (uid) => snap.filter((g) => g.uid === uid),
    all: () => snap,
  };
}

function eciGroups(runtime: Runtime, everyMs: number): GroupSource {
  let snap: { id: string; status: string; uid?: string }[] = [];
  let last = 0;
  const tags = [
    { Key: TAG_CLUSTER, Value: runtime.config.CLUSTER_NAME },
    { Key: TAG_VNODE, Value: runtime.config.VNODE_NAME },
  ];
  return {
    async refresh(force = false) {
      if (!force && Date.now() - last < everyMs) return;
      last = Date.now();
      try {
        const groups = await runtime.bridge.eci.list({ tags });
        snap = groups.map((g) => ({ id: g.ContainerGroupId, status: g.Status, uid: tagOf(g.Tags, TAG_POD_UID) }));
      } catch (err) {
        runtime.bridge.logger.warn({ err: asError(err).message }, 'listing container groups for the table failed');
      }
    },
    byUid: (uid) => snap.filter((g) => g.uid === uid),
    all: () => snap,
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

interface Session {
  runtime: Runtime;
  tracker: PodTracker;
  groups: GroupSource;
  display: Display;
  logger: CapturingLogger;
  signal?: AbortSignal;
  title: string;
  /** the demo shows a billing day (spot Job, an instance type: demo.ts) */
  billing?: boolean;
}

function notes(logger: CapturingLogger): string[] {
  return logger
    .recent()
    .slice(-3)
    .map((l) => `${l.level}: ${l.msg}${l.detail ? ` (${l.detail})` : ''}`);
}

function frame(s: Session, progress: string): Frame {
  return {
    title: s.title,
    rows: s.tracker.rows((uid) => {
      const g = s.groups.byUid(uid);
      return g.length > 0 ? g.map((x) => x.status).join(',') : undefined;
    }),
    progress,
    notes: notes(s.logger),
  };
}

type Workload = NonNullable<DemoObservation['workload']>;
type Json = Record<string, unknown>;

function conditionsOf(o: Json | undefined): { type?: string; status?: string; reason?: string }[] {
  return ((o?.status as Json | undefined)?.conditions as { type?: string; status?: string; reason?: string }[] | undefined) ?? [];
}

/** The object a manifest names, read from the API server as plain JSON (undefined when absent). */
async function readManifest(kube: KubeClient, m: Manifest): Promise<Json | undefined> {
  const obj = await readObject(kube, { apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name, namespace: m.metadata.namespace });
  return obj === undefined ? undefined : (JSON.parse(JSON.stringify(obj)) as Json);
}

/** The workloads' own status, read from the API server (Deployment, Job, the CronJob's Jobs). */
async function readWorkloads(kube: KubeClient, ns: string, objects: Record<DemoName, Manifest>): Promise<Partial<Record<DemoName, Workload>>> {
  const out: Partial<Record<DemoName, Workload>> = {};
  const web = await readManifest(kube, objects.web);
  out.web = { exists: web !== undefined, available: Number((web?.status as Json | undefined)?.availableReplicas ?? 0) };
  const job = await readManifest(kube, objects.job);
  out.job = {
    exists: job !== undefined,
    succeeded: Number((job?.status as Json | undefined)?.succeeded ?? 0),
    complete: conditionsOf(job).some((c) => c.type === 'Complete' && c.status === 'True'),
  };
  const cronJobs = await listObjects(kube, 'batch/v1', 'Job', ns, `${DEMO_LABEL}=cron`);
  out.cron = { exists: true, complete: cronJobs.some((j) => conditionsOf(j).some((c) => c.type === 'Complete' && c.status === 'True')) };
  out.refused = { exists: (await readManifest(kube, objects.refused)) !== undefined };
  return out;
}

function observe(s: Session, name: DemoName, extra: Omit<DemoObservation, 'pods' | 'groups'>): DemoObservation {
  const pods = s.tracker
    .all()
    .filter((t) => t.pod.metadata.labels?.[DEMO_LABEL] === name)
    .sort((a, b) => a.createdAt - b.createdAt);
  const groups = pods.flatMap((t) => s.groups.byUid(t.uid).filter((g) => g.status !== 'Succeeded' && g.status !== 'Failed').map((g) => `${g.id} ${g.status}`));
  return { pods, groups, ...extra };
}

/**
 * With the webhooks: the demo's eci-profile, then waits until the API server calls the webhooks (a dry run of the
 * refused Deployment is refused). Returns whether the webhooks took effect.
 */
async function prepareWebhooks(s: Session, kube: KubeClient, objects: Record<DemoName, Manifest>): Promise<boolean> {
  const w = s.runtime.webhooks;
  if (!w?.url) {
    s.display.say(
      w?.notRegistered
        ? `Admission webhooks serve but are not registered: ${w.notRegistered}`
        : 'Admission webhooks off (WEBHOOK_ENABLED=false): a refused workload is held Pending by pod-sync instead',
    );
    return false;
  }
  const cfg = s.runtime.config;
  await applyManifests(kube, [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cfg.PROFILE_CONFIGMAP, namespace: cfg.BRIDGE_NAMESPACE }, data: demoProfile() },
  ]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const loaded = w.admission.profile.current().selectors.some((x) => x.name === DEMO_PROFILE_SELECTOR);
    const refused = loaded ? await dryRunCreate(kube, [objects.refused]).then(() => false, () => true) : false;
    if (refused) break;
    if (Date.now() > deadline) throw new Error('the admission webhooks did not take effect within 30 s');
    await sleep(250, s.signal);
  }
  s.display.say(`Admission webhooks registered at ${w.url} (eci-profile selector ${DEMO_PROFILE_SELECTOR}: virtualNodeOnly)`);
  return true;
}

/** Creates the demo objects and follows them until all settled (or timeout / signal); deletes "deleted" once Running. */
async function runDemo(s: Session, kube: KubeClient, ns: string, timeoutMs: number, waitForController: number): Promise<{ expectations: Expectation[]; timedOut: boolean }> {
  await ensureNamespace(kube, ns, { waitMs: waitForController });
  const vnode = s.runtime.config.VNODE_NAME;
  const objects = demoObjects(ns, vnode, { billing: s.billing ?? false });
  const webhooks = await prepareWebhooks(s, kube, objects);
  let refusal: string | undefined;
  for (const name of DEMO_PODS) {
    try {
      await applyManifests(kube, [objects[name]]);
    } catch (err) {
      if (name !== 'refused' || !webhooks) throw err;
      refusal = asError(err).message.replace(/\s+/g, ' ');
      s.display.say(`Deployment ${ns}/refused was refused at apply time by the webhook: ${refusal.slice(0, 400)}`);
    }
  }
  s.display.say(`Created the demo in namespace ${ns} (virtual node ${vnode}): ${DEMO_PODS.join(', ')}`);
  let deletedByDemo = false;
  const deadline = Date.now() + timeoutMs;
  let workloads: Partial<Record<DemoName, Workload>> = {};
  let lastRead = 0;
  const evaluateAll = () =>
    DEMO_PODS.map((n) =>
      evaluate(n, observe(s, n, { deletedByDemo, webhooks, ...(n === 'refused' && refusal ? { refusal } : {}), ...(workloads[n] ? { workload: workloads[n] } : {}) })),
    );
  for (;;) {
    await s.groups.refresh();
    if (Date.now() - lastRead >= 1000) {
      lastRead = Date.now();
      workloads = await readWorkloads(kube, ns, objects).catch(() => workloads);
    }
    const victim = s.tracker.byName(ns, 'deleted');
    if (!deletedByDemo && victim?.phaseSeen.Running !== undefined) {
      deletedByDemo = true;
      s.display.say(`${ns}/deleted is Running: deleting it (the bridge deletes its container group, then the pod)`);
      await s.runtime.bridge.cluster.deletePod(ns, 'deleted', { uid: victim.uid, gracePeriodSeconds: 10 });
    }
    const results = evaluateAll();
    const done = results.filter((r) => r.ok).length;
    s.display.update(frame(s, `${done}/${results.length} demo items settled`));
    if (done === results.length) return { expectations: results, timedOut: false };
    if (s.signal?.aborted) return { expectations: results, timedOut: false };
    if (Date.now() > deadline) return { expectations: results, timedOut: true };
    await sleep(250, s.signal);
  }
}

/** Deletes the demo (workloads first, so no controller replaces a pod) and waits until its pods and groups are gone. */
async function cleanupDemo(s: Session, kube: KubeClient, ns: string, timeoutMs: number, demoUids: () => Set<string>): Promise<number> {
  const objects = demoObjects(ns, s.runtime.config.VNODE_NAME);
  await deleteObjects(kube, [objects.cron, objects.job, objects.web, objects.refused]).catch((err: unknown) => {
    s.logger.warn({ err: asError(err).message }, 'deleting the demo workloads failed');
  });
  for (const job of await listObjects(kube, 'batch/v1', 'Job', ns, `${DEMO_LABEL}=cron`).catch(() => [])) {
    const name = String((job.metadata as Json | undefined)?.name ?? '');
    if (name) await deleteObjects(kube, [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: ns } }]).catch(() => {});
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const t of s.tracker.all()) {
      if (t.namespace !== ns || t.goneAt !== undefined || t.pod.metadata.deletionTimestamp) continue;
      await s.runtime.bridge.cluster.deletePod(ns, t.name, { uid: t.uid, gracePeriodSeconds: 10 }).catch((err: unknown) => {
        s.logger.warn({ pod: `${ns}/${t.name}`, err: asError(err).message }, 'deleting a demo pod failed');
      });
    }
    await s.groups.refresh(true);
    const uids = demoUids();
    const podsLeft = s.tracker.all().filter((t) => t.namespace === ns && t.goneAt === undefined).length;
    const groupsLeft = s.groups.all().filter((g) => g.uid === undefined || uids.has(g.uid)).length;
    s.display.update(frame(s, `cleanup: ${podsLeft} demo pods and ${groupsLeft} container groups left`));
    if ((podsLeft === 0 && groupsLeft === 0) || Date.now() > deadline) return groupsLeft;
    await sleep(500);
  }
}

/** Waits until the batch demo pods (Job, CronJob, job-fail) have finished, so no hour is reported mid-run. */
async function batchFinished(s: Session, timeoutMs: number): Promise<void> {
  const batch = new Set<string>(['job', 'cron', 'job-fail']);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = s.tracker
      .all()
      .filter((t) => t.goneAt === undefined && batch.has(t.pod.metadata.labels?.[DEMO_LABEL] ?? ''))
      .filter((t) => t.pod.status?.phase !== 'Succeeded' && t.pod.status?.phase !== 'Failed');
    if (running.length === 0 || Date.now() > deadline) return;
    s.display.update(frame(s, `billing day: waiting for ${running.length} batch pod(s) to finish`));
    await sleep(250, s.signal);
  }
}

async function keepRunning(s: Session, say: Say, lines: string[]): Promise<void> {
  if (s.signal?.aborted) return;
  for (const l of lines) say(l);
  while (!s.signal?.aborted) {
    await s.groups.refresh();
    s.display.update(frame(s, 'running: Ctrl-C stops, cleans up and reports'));
    await sleep(1000, s.signal);
  }
}

function formatSummary(r: Omit<StartResult, 'summary' | 'exitCode'> & { exitCode: number }): string[] {
  const lines = ['', `Summary (${r.mode}, ${(r.durationMs / 1000).toFixed(1)} s)`];
  const w = Math.max(...r.expectations.map((e) => e.pod.length), 4);
  for (const e of r.expectations) {
    lines.push(`  ${e.ok ? 'ok  ' : 'FAIL'} ${e.pod.padEnd(w)}  expected: ${e.expected}`);
    lines.push(`       ${' '.repeat(w)}  actual:   ${e.actual}`);
  }
  if (r.eciCalls) {
    const by = Object.entries(r.eciCalls.byAction)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`  ECI calls by action: ${by || 'none'} (total ${r.eciCalls.total})`);
  }
  if (r.groupsLeft !== undefined) lines.push(`  container groups left after cleanup: ${r.groupsLeft} (expected 0)`);
  lines.push(...billSummary(r.reconciliation));
  const stoppedAll = Object.values(r.stopped).every(Boolean);
  lines.push(`  stopped: ${Object.entries(r.stopped).map(([k, v]) => `${k} ${v ? 'yes' : 'NO'}`).join(', ')}${stoppedAll ? '' : ' (something is still running)'}`);
  lines.push(r.exitCode === 0 ? `  Result: every expectation held (exit 0)` : `  Result: FAILED (exit ${r.exitCode}): ${r.failures.join('; ')}`);
  return lines;
}

function setupLogging(opts: StartOptions): CapturingLogger {
  return capturingLogger({ level: opts.logLevel ?? 'silent', write: (l) => process.stderr.write(l) });
}

/** The sandbox: nothing configured, everything local. */
export async function runSandbox(opts: StartOptions = {}): Promise<StartResult> {
  const t0 = Date.now();
  const out = opts.out ?? process.stdout;
  const display = new Display(out, opts.live === undefined ? {} : { live: opts.live });
  const say: Say = (l) => display.say(l);
  const logger = setupLogging(opts);
  const scale = opts.timeScale ?? 0.1;
  say('eci-bridge sandbox: the whole bridge in one process against a local kube-apiserver and the ECI and BSS emulators');
  // the billing day the demo runs in (the bill's time zone: UTC+8, the configuration's default)
  const day = billingDayOf(Date.now(), 8);
  const env: SandboxEnvironment = await startSandboxEnvironment({
    timeScale: scale,
    say,
    // the bill of the day, and finished groups kept in ECI until the day is reconciled
    bill: { scenario: sandboxBill('sandbox', day), billAheadMs: BILL_AHEAD_MS },
    // --keep: pod IPs on loopback whose declared ports answer, so kubectl port-forward reaches the demo's web pods
    emulator: { retainFinishedMs: 30 * 60_000, ...(opts.keep === true ? { scenario: { loopbackPodIps: true, servePorts: true } } : {}) },
    env: {
      BILLING_PRICE_TABLES: SANDBOX_PRICE_TABLES,
      GC_ORPHAN_GRACE_SECONDS: '10',
      LOG_LEVEL: opts.logLevel ?? 'warn',
      // the admission webhooks run unless WEBHOOK_ENABLED=false, on a free loopback port
      WEBHOOK_ENABLED: process.env.WEBHOOK_ENABLED ?? 'true',
      WEBHOOK_PORT: '0',
      PROFILE_RELOAD_SECONDS: '1',
    },
    // --keep: the kubelet API too, so kubectl logs and the node's metrics work on the demo pods
    kubelet: opts.keep === true,
  });
  const stopped: Record<string, boolean> = { watcher: false, delivery: false, timers: false, tableWatch: false, emulator: false, controlPlane: false, ...(env.bss ? { bss: false } : {}) };
  let runtime: Runtime | undefined;
  let tracker: PodTracker | undefined;
  const failures: string[] = [];
  let expectations: Expectation[] = [];
  let groupsLeft: number | undefined;
  let eciCalls: StartResult['eciCalls'];
  let reconciliation: SandboxBillResult | undefined;
  try {
    env.bss?.setScenario(sandboxBill(env.config.CLUSTER_NAME, day));
    runtime = await startRuntime({
      config: env.config,
      logger,
      // the sandbox's API server runs on this machine: it can call the webhooks on 127.0.0.1
      registerWebhooks: true,
      statusSyncEveryMs: Math.max(1000, 60_000 * scale),
      gcEveryMs: Math.max(2000, 300_000 * scale),
      billingEveryMs: Math.max(60_000, 3_600_000 * scale),
    });
    await runtime.ready();
    say(
      `Bridge running: watcher leads and watches node ${env.config.VNODE_NAME}` +
        `${runtime.watcher.httpPort ? ` (health on 127.0.0.1:${runtime.watcher.httpPort})` : ''}; pod-sync on the embedded queue; ` +
        `status-sync every ${Math.max(1, 60 * scale)} s, gc every ${Math.max(2, 300 * scale)} s, billing every ${Math.max(60, 3600 * scale)} s`,
    );
    const stray = await createStrayGroup(runtime);
    say(`Created container group ${stray} by hand with only the cluster tag (no pod): the billing day's leak`);
    tracker = new PodTracker(runtime.bridge.cluster, env.config.VNODE_NAME);
    await tracker.start();
    const s: Session = {
      runtime,
      tracker,
      billing: true,
      groups: emulatorGroups(env.emulator, env.config),
      display,
      logger,
      ...(opts.signal ? { signal: opts.signal } : {}),
      title: `Pods on the virtual node ${env.config.VNODE_NAME} (sandbox)`,
    };
    const demo = await runDemo(s, env.kube, DEMO_NAMESPACE, opts.settleTimeoutMs ?? 120_000, 0);
    expectations = demo.expectations;
    if (demo.timedOut) failures.push(`the demo did not settle within ${(opts.settleTimeoutMs ?? 120_000) / 1000} s`);
    if (opts.signal?.aborted) failures.push('interrupted before the demo settled');
    if (!demo.timedOut && !opts.signal?.aborted) {
      try {
        // no pod may start once the hours are reported: suspend the CronJob, give a Job it just created time to
        // show its pod, and let the batch pods finish
        await suspendCron(env.kube, demoObjects(DEMO_NAMESPACE, env.config.VNODE_NAME, { billing: true }).cron);
        await sleep(3000, opts.signal);
        await batchFinished(s, 60_000);
        reconciliation = await reconcileSandboxDay({ runtime, kube: env.kube, logger, say, day, since: t0 });
        failures.push(...reconciliation.failures);
        if (reconciliation.leaks.join() !== stray) failures.push(`the reconciliation found the leaks [${reconciliation.leaks.join(', ')}], expected [${stray}]`);
      } catch (err) {
        failures.push(`reconciliation: ${asError(err).message}`);
      }
    }
    if (opts.keep && !opts.signal?.aborted) {
      await keepRunning(s, say, [
        'Demo settled; the sandbox keeps running (--keep). Try:',
        `  export KUBECONFIG=${env.controlPlane.kubeconfigPath}`,
        `  kubectl get pods -A -o wide; kubectl get node ${env.config.VNODE_NAME}; kubectl get events -n ${DEMO_NAMESPACE}`,
        `  kubectl logs -f -n ${DEMO_NAMESPACE} deploy/web; kubectl exec -it -n ${DEMO_NAMESPACE} deploy/web -- sh -c 'echo hello; exit 3'`,
        `    (the emulator's exec knows echo, cat, sh -c "echo …; exit N", stty size and hostname: docs/emulators.md)`,
        `  kubectl port-forward -n ${DEMO_NAMESPACE} deploy/web 8080:80   # then: curl localhost:8080 (port 80 is served by the emulator when run as root)`,
        `  kubectl get --raw /api/v1/nodes/${env.config.VNODE_NAME}/proxy/metrics/resource`,
        `  ECI emulator: ECI_ENDPOINT=${env.emulator.endpoint} ECI_PROTOCOL=http`,
      ]);
    }
    const uids = () => new Set(tracker?.all().map((t) => t.uid) ?? []);
    await cleanupDemo(s, env.kube, DEMO_NAMESPACE, 60_000, uids);
    // every group of the sandbox cluster (all pods here are demo pods)
    await s.groups.refresh(true);
    groupsLeft = s.groups.all().length;
    eciCalls = env.emulator.calls();
    display.finish(frame(s, `cleanup done: ${groupsLeft} container groups left`));
  } catch (err) {
    failures.push(`error: ${asError(err).message}`);
  } finally {
    await stopAll(runtime, tracker, stopped, logger);
    await env.stop();
    stopped.emulator = env.closed.emulator;
    stopped.controlPlane = env.closed.controlPlane;
    if (env.closed.bss !== undefined) stopped.bss = env.closed.bss;
  }
  for (const e of expectations) if (!e.ok) failures.push(`${e.pod}: expected ${e.expected}, got ${e.actual}`);
  if (expectations.length === 0 && failures.length === 0) failures.push('the demo did not run');
  if (groupsLeft !== 0 && groupsLeft !== undefined) failures.push(`${groupsLeft} container groups left after cleanup`);
  for (const [k, v] of Object.entries(stopped)) if (!v) failures.push(`${k} not stopped`);
  const base = {
    mode: 'sandbox' as const,
    expectations,
    failures,
    ...(eciCalls ? { eciCalls: { total: eciCalls.total, byAction: eciCalls.byAction } } : {}),
    ...(groupsLeft !== undefined ? { groupsLeft } : {}),
    ...(reconciliation ? { reconciliation } : {}),
    stopped,
    endpoints: { eci: env.emulator.url, apiserver: env.controlPlane.server, kubeconfig: env.controlPlane.kubeconfigPath },
    durationMs: Date.now() - t0,
    exitCode: failures.length === 0 ? 0 : 1,
  };
  const summary = formatSummary(base);
  for (const l of summary) out.write(`${l}\n`);
  return { ...base, summary };
}

async function stopAll(runtime: Runtime | undefined, tracker: PodTracker | undefined, stopped: Record<string, boolean>, logger: CapturingLogger): Promise<void> {
  try {
    await runtime?.stop();
    stopped.watcher = stopped.delivery = stopped.timers = runtime ? runtime.stopped : true;
  } catch (err) {
    logger.error({ err: asError(err).message }, 'stopping the bridge failed');
  }
  try {
    await tracker?.stop();
    stopped.tableWatch = true;
  } catch (err) {
    logger.error({ err: asError(err).message }, 'stopping the table watch failed');
  }
}

/** The bridge against a real cluster (KUBECONFIG) and the configured ECI endpoint; until the signal. */
export async function runAgainstCluster(opts: ClusterOptions): Promise<StartResult> {
  const t0 = Date.now();
  const out = opts.out ?? process.stdout;
  const display = new Display(out, opts.live === undefined ? {} : { live: opts.live });
  const say: Say = (l) => display.say(l);
  const logger = setupLogging(opts);
  const source = { ...(opts.env ?? process.env) };
  let emulator: EciEmulator | undefined;
  if (opts.emulateEci) {
    emulator = await startEciEmulator({ timeScale: 1 });
    Object.assign(source, {
      ECI_ENDPOINT: emulator.endpoint,
      ECI_PROTOCOL: 'http',
      ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_CREDENTIAL.accessKeySecret,
    });
    say(`Started the ECI emulator in-process at ${emulator.url}`);
  }
  const stopped: Record<string, boolean> = { watcher: false, delivery: false, timers: false, tableWatch: false, ...(emulator ? { emulator: false } : {}) };
  let config: Config;
  try {
    config = parseConfig({
      WATCHER_HTTP_HOST: '127.0.0.1',
      WATCHER_HTTP_PORT: '0',
      ...source,
      KUBECONFIG: opts.kubeconfig,
      QUEUE_KIND: 'embedded',
      // kube adapter: the kubeconfig, not an explicit server/token (those are the deployed functions' settings)
      KUBE_API_SERVER: undefined,
      KUBE_TOKEN: undefined,
      KUBE_CA: undefined,
    });
    if (!config.ALIBABA_CLOUD_ACCESS_KEY_ID || !config.ALIBABA_CLOUD_ACCESS_KEY_SECRET) {
      throw new StartUsageError(
        'no ECI credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (real ECI), or run ' +
          '`npx eci-bridge emulate eci` and set the ECI_ENDPOINT, ECI_PROTOCOL=http and key variables it prints, or pass --emulate-eci',
      );
    }
  } catch (err) {
    await emulator?.close();
    throw err;
  }
  say(
    `eci-bridge: the whole bridge in one process against ${opts.kubeconfig} (virtual node ${config.VNODE_NAME}) and ECI at ` +
      `${config.ECI_ENDPOINT ? `${config.ECI_PROTOCOL}://${config.ECI_ENDPOINT}` : `eci-vpc.${config.ECI_REGION}.aliyuncs.com`}`,
  );
  let kube: KubeClient;
  try {
    kube = createKubeClient({ kubeconfigPath: opts.kubeconfig });
  } catch (err) {
    await emulator?.close();
    throw err;
  }
  let runtime: Runtime | undefined;
  let tracker: PodTracker | undefined;
  const failures: string[] = [];
  let expectations: Expectation[] = [];
  let groupsLeft: number | undefined;
  const demoNs = `${DEMO_NAMESPACE}-${config.VNODE_NAME}`.slice(0, 63).replace(/-+$/, '');
  try {
    await applyManifests(kube, [namespace(config.BRIDGE_NAMESPACE)]);
    runtime = await startRuntime({ config, logger });
    await runtime.ready();
    say(`Bridge running: the watcher leads; pod-sync on the embedded queue; status-sync every 60 s, gc every 5 min, billing hourly. Ctrl-C stops.`);
    tracker = new PodTracker(runtime.bridge.cluster, config.VNODE_NAME);
    await tracker.start();
    const s: Session = {
      runtime,
      tracker,
      groups: emulator ? emulatorGroups(emulator, config) : eciGroups(runtime, 10_000),
      display,
      logger,
      ...(opts.signal ? { signal: opts.signal } : {}),
      title: `Pods on the virtual node ${config.VNODE_NAME}`,
    };
    if (opts.demo) {
      const demo = await runDemo(s, kube, demoNs, opts.settleTimeoutMs ?? 300_000, 5000);
      expectations = demo.expectations;
      if (demo.timedOut) failures.push('the demo did not settle in time');
    }
    await keepRunning(s, say, opts.demo ? ['Demo settled; the bridge keeps running. Ctrl-C deletes the demo pods and stops.'] : []);
    if (opts.demo) {
      const uids = () => new Set(tracker?.all().filter((t) => t.namespace === demoNs).map((t) => t.uid) ?? []);
      groupsLeft = await cleanupDemo(s, kube, demoNs, 120_000, uids);
      await kube.core.deleteNamespace({ name: demoNs }).catch(() => undefined);
    }
    display.finish(frame(s, 'stopped'));
  } catch (err) {
    failures.push(`error: ${asError(err).message}`);
  } finally {
    await stopAll(runtime, tracker, stopped, logger);
    if (emulator) {
      await emulator.close();
      stopped.emulator = true;
    }
  }
  for (const e of expectations) if (!e.ok) failures.push(`${e.pod}: expected ${e.expected}, got ${e.actual}`);
  if (groupsLeft !== undefined && groupsLeft !== 0) failures.push(`${groupsLeft} demo container groups left after cleanup`);
  for (const [k, v] of Object.entries(stopped)) if (!v) failures.push(`${k} not stopped`);
  const base = {
    mode: 'cluster' as const,
    expectations,
    failures,
    ...(emulator ? { eciCalls: emulator.calls() } : {}),
    ...(groupsLeft !== undefined ? { groupsLeft } : {}),
    stopped,
    endpoints: { kubeconfig: opts.kubeconfig, ...(config.ECI_ENDPOINT ? { eci: config.ECI_ENDPOINT } : {}) },
    durationMs: Date.now() - t0,
    exitCode: failures.length === 0 ? 0 : 1,
  };
  const summary = formatSummary(base);
  for (const l of summary) out.write(`${l}\n`);
  return { ...base, summary };
}
