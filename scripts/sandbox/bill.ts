/**
 * The sandbox's billing day (`npm start`; docs/billing-reconciliation.md, "The sandbox's reconciliation"): the BSS
 * emulator bills the ECI emulator's groups with a spot discount other than the table's, one mispriced instance type,
 * and the bridge's own FC functions and MNS queues; a stray group carries only the cluster tag (a leak). Once the
 * demo's pods ran, the billing function reports the hours they ran in and the reconcile function reconciles the
 * day, both through their handlers and the composition root, with a clock two days ahead (the bill has settled).
 * Then the reconciliation is printed as `cost --reconcile` prints it, the reconcile function runs again, and what
 * it changed (nothing) is shown.
 *
 * Prices are the sandbox's own (1 CNY per vCPU-second): the demo's pods run seconds, so list prices would round
 * every difference away at 0.01.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { BillScenario } from '../../emulators/bss/index.js';
import { createHandler as createBilling } from '../../functions/billing/index.js';
import { createHandler as createReconcile } from '../../functions/reconcile/index.js';
import type { KubeClient } from '../../shared/adapters/kube/index.js';
import { applyManifests, type Manifest } from '../../shared/adapters/kube/provision.js';
import { reconcileOf } from '../../shared/compose-reconcile.js';
import { bridgeFactory, cloudCredentials } from '../../shared/compose.js';
import type { Config } from '../../shared/domain/config.js';
import type { FcContextLike } from '../../shared/sim/fc.js';
import { LEAKS_CONFIGMAP, readLeakRecord } from '../../shared/domain/leaks.js';
import { TAG_CLUSTER, tagValue } from '../../shared/domain/names.js';
import { asError } from '../../shared/errors.js';
import type { Logger } from '../../shared/ports/index.js';
import { reconcileConfigMapName } from '../../shared/usecases/reconcile.js';
import { table } from '../commands/cost-reconcile.js';
import { DEMO_INSTANCE_TYPE } from './demo.js';
import { SandboxError } from './errors.js';
import type { Say } from './environment.js';
import type { Runtime } from './runtime.js';

const HOUR = 3_600_000;
/** The reconcile function runs this long after the day (the bill has settled; the BSS emulator's clock is as far ahead). */
export const BILL_AHEAD_MS = 2 * 86_400_000;
/** The ratio of the on-demand price the bill actually charges spot groups (the table assumes 0.3). */
export const SANDBOX_SPOT_RATIO = 0.2;
/** The instance type's hourly price on the bill and in the table: mispriced on purpose. */
export const MISPRICED = { instanceType: DEMO_INSTANCE_TYPE, billed: 9000, table: 7200 };

/** The sandbox's price table (BILLING_PRICE_TABLES): 1 CNY per vCPU-second, so seconds of running show. */
export const SANDBOX_PRICE_TABLES = JSON.stringify([
  {
    name: 'sandbox',
    currency: 'CNY',
    regions: ['*'],
    vcpu: '3600/h',
    memoryGiB: '360/h',
    instanceTypes: { [MISPRICED.instanceType]: `${MISPRICED.table}/h` },
    spotRatio: '0.3',
  },
]);

/**
 * The bill of the sandbox's day: its prices, the actual spot ratio, the mispriced type, and fixed lines for the
 * bridge's own FC functions and MNS queues (the sandbox runs neither FC nor MNS: these are what a deployed bridge's
 * day would show), tagged with the cluster tag as the deployment tags them.
 */
export function sandboxBill(clusterName: string, day: string): BillScenario {
  const own = { [TAG_CLUSTER]: tagValue(clusterName), 'eci-bridge.io/part': 'bridge' };
  const fc = (fn: string, amount: number) => ({ instanceId: `${clusterName};${fn}`, productCode: 'fc', billingDate: day, amount, tags: own });
  return {
    prices: { currency: 'CNY', vcpuPerHour: 3600, memoryGiBPerHour: 360, instanceTypes: { [MISPRICED.instanceType]: MISPRICED.table } },
    spotRatio: SANDBOX_SPOT_RATIO,
    actualPrices: { [MISPRICED.instanceType]: MISPRICED.billed },
    lagMs: 24 * HOUR,
    extraLines: [
      fc('pod-sync', 0.02),
      fc('status-sync', 0.08),
      fc('gc', 0.02),
      fc('billing', 0.01),
      fc('reconcile', 0.01),
      { instanceId: 'eci-bridge-pods', productCode: 'mns', billingDate: day, amount: 0.93, tags: own },
      { instanceId: 'eci-bridge-dead-letters', productCode: 'mns', billingDate: day, amount: 0.58, tags: own },
    ],
  };
}

/** A container group carrying only this cluster's tag (created by hand, or by a bridge that lost its pod): a leak. */
export async function createStrayGroup(runtime: Runtime): Promise<string> {
  const c = runtime.config;
  const { containerGroupId } = await runtime.bridge.eci.create({
    RegionId: c.ECI_REGION,
    ContainerGroupName: 'stray-by-hand',
    Cpu: 2,
    Memory: 4,
    Tag: [{ Key: TAG_CLUSTER, Value: tagValue(c.CLUSTER_NAME) }],
    Container: [{ Name: 'main', Image: 'registry.example/app:1' }],
    ...(c.ECI_SECURITY_GROUP_ID ? { SecurityGroupId: c.ECI_SECURITY_GROUP_ID } : {}),
    ...(c.ECI_VSWITCH_IDS[0] ? { VSwitchId: c.ECI_VSWITCH_IDS[0] } : {}),
  });
  return containerGroupId;
}

const ReconcileAnswer = z.looseObject({ stored: z.string(), leaks: z.array(z.string()), byCause: z.record(z.string(), z.number()) });

export interface SandboxBillResult {
  day: string;
  /** groups per cause */
  causes: Record<string, number>;
  leaks: string[];
  /** the second run: what it stored and whether anything changed (ConfigMap, Events, gc's records) */
  rerun: { stored: string; changed: string[] };
  /** what gc did with each leak it was handed (`reported` when it has not acted yet) */
  gc: Record<string, string>;
  failures: string[];
}

function timerEvent(name: string, payload: unknown): Buffer {
  return Buffer.from(JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: name, payload: JSON.stringify(payload) }), 'utf8');
}

/** What the day's reconciliation left in the cluster: its ConfigMap's version, leak Events, the leak records. */
async function footprint(
  kube: KubeClient,
  config: Config,
  day: string,
): Promise<{ configMap: string; events: number; leaks: Record<string, string> }> {
  const cm = await kube.core.readNamespacedConfigMap({ namespace: config.BRIDGE_NAMESPACE, name: reconcileConfigMapName(day) }).catch(() => undefined);
  const leaks = await kube.core.readNamespacedConfigMap({ namespace: config.BRIDGE_NAMESPACE, name: LEAKS_CONFIGMAP }).catch(() => undefined);
  const events = await kube.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${config.VNODE_NAME},reason=BilledGroupLeak` });
  return {
    configMap: cm?.metadata?.resourceVersion ?? 'none',
    events: events.items.reduce((a, e) => a + (e.count ?? 1), 0),
    leaks: { ...leaks?.data },
  };
}

/**
 * How the leak records differ, gc's own moves left out: gc's timer keeps running beside the reconcile function and
 * moves a `reported` record to a final state (that rewrites the ConfigMap, and is not the reconciliation's doing).
 * Anything else — a record added or removed, its day, cause or amount changed, a record moved back to `reported` or
 * from one final state to another — is.
 */
export function leakRecordChanges(before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = [];
  for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[id];
    const a = after[id];
    if (b === a) continue;
    if (b === undefined || a === undefined) {
      out.push(`leak record ${id} ${b === undefined ? 'added' : 'removed'}`);
      continue;
    }
    const rb = readLeakRecord(b);
    const ra = readLeakRecord(a);
    const owned = (r: typeof rb) => (r ? JSON.stringify([r.day, r.reason, r.billed, r.currency]) : undefined);
    if (!rb || !ra || owned(rb) !== owned(ra)) out.push(`leak record ${id} rewritten`);
    else if (!(rb.state === 'reported' && ra.state !== 'reported')) out.push(`leak record ${id} moved ${rb.state} → ${ra.state}`);
  }
  return out;
}

/** Suspends the demo's CronJob: no pod may start after the hours were reported (it would be billed, not estimated). */
export async function suspendCron(kube: KubeClient, cron: Manifest): Promise<void> {
  await applyManifests(kube, [{ ...cron, spec: { ...(cron.spec as Record<string, unknown>), suspend: true } }]);
}

/**
 * Reports the hours since `since` with the billing function and reconciles `day` with the reconcile function (twice),
 * printing the reconciliation. Call it once no pod is starting any more (suspendCron).
 */
export async function reconcileSandboxDay(o: {
  runtime: Runtime;
  kube: KubeClient;
  logger: Logger;
  say: Say;
  day: string;
  since: number;
}): Promise<SandboxBillResult> {
  const { runtime, kube, say, day } = o;
  const config = runtime.config;
  const failures: string[] = [];
  const keys = cloudCredentials(config);
  const context = (fn: string): FcContextLike => ({
    requestId: randomUUID(),
    credentials: { accessKeyId: keys?.accessKeyId ?? '', accessKeySecret: keys?.accessKeySecret ?? '', securityToken: keys?.securityToken ?? '' },
    function: { name: fn, handler: 'index.handler', memory: 512, timeout: 300 },
    region: config.ECI_REGION,
    accountId: config.ALIBABA_CLOUD_ACCOUNT_ID ?? 'local',
  });
  const at = (now: () => number) =>
    bridgeFactory(config, { queue: runtime.queue, deadLetter: runtime.deadLetter, logger: o.logger, clock: { now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } });
  const fnLogger = (fn: string) => () => o.logger.child({ fn });
  // the billing timer for every hour the pods ran in (as it runs after each hour; written once per hour)
  for (let h = Math.floor(o.since / HOUR) * HOUR; h < Date.now(); h += HOUR) {
    const billing = createBilling(at(() => Math.max(Date.now(), h + HOUR + 1000)), fnLogger('billing'));
    await billing(timerEvent('hourly', { period: new Date(h).toISOString() }), context('billing'));
  }
  const reconcile = createReconcile(at(() => Date.now() + BILL_AHEAD_MS), fnLogger('reconcile'));
  const first = ReconcileAnswer.parse(await reconcile(timerEvent('daily', { day }), context('reconcile')));
  if (first.stored !== 'created') failures.push(`the reconciliation of ${day} was ${first.stored}, expected created`);
  const before = await footprint(kube, config, day);
  const rec = await reconcileOf(at(() => Date.now() + BILL_AHEAD_MS)(context('reconcile').credentials), context('reconcile').credentials).read(day);
  if (!rec) throw new SandboxError(`the reconciliation of ${day} was not stored`);
  say('');
  say(`The billing day: the reconcile function read the bill of ${day} (BSS emulator) and the billing function's hourly reports`);
  for (const l of table(rec, `stored by the reconcile function (ConfigMap ${reconcileConfigMapName(day)})`).trimEnd().split('\n')) say(`  ${l}`);
  // the same day again: written once, so nothing may change
  const again = ReconcileAnswer.parse(await reconcile(timerEvent('daily', { day }), context('reconcile')));
  const after = await footprint(kube, config, day);
  const changed = [
    ...(after.configMap !== before.configMap ? [`ConfigMap ${reconcileConfigMapName(day)} rewritten`] : []),
    ...(after.events !== before.events ? [`${after.events - before.events} more BilledGroupLeak Event(s)`] : []),
    ...leakRecordChanges(before.leaks, after.leaks).map((c) => `${LEAKS_CONFIGMAP}: ${c}`),
    ...(JSON.stringify({ ...again, trigger: '', stored: '' }) !== JSON.stringify({ ...first, trigger: '', stored: '' }) ? ['a different answer'] : []),
  ];
  say(
    `Re-ran the reconcile function for ${day}: ${again.stored}; ConfigMap resourceVersion ${before.configMap} → ${after.configMap}, ` +
      `BilledGroupLeak Events ${before.events} → ${after.events}, leak records ${Object.keys(before.leaks).length} → ${Object.keys(after.leaks).length}: ` +
      `${changed.length ? `CHANGED (${changed.join('; ')})` : 'nothing changed'}`,
  );
  if (again.stored !== 'unchanged') failures.push(`re-running the reconciliation stored ${again.stored}`);
  if (changed.length) failures.push(`re-running the reconciliation changed: ${changed.join('; ')}`);
  // gc acts on the leaks it was handed (its timer runs every few seconds here)
  const gc: Record<string, string> = {};
  const deadline = Date.now() + 30_000;
  for (;;) {
    const cm = await kube.core.readNamespacedConfigMap({ namespace: config.BRIDGE_NAMESPACE, name: LEAKS_CONFIGMAP }).catch(() => undefined);
    for (const id of first.leaks) gc[id] = readLeakRecord(cm?.data?.[id] ?? '')?.state ?? 'not handed over';
    if (Object.values(gc).every((s) => s !== 'reported') || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const [id, state] of Object.entries(gc)) say(`gc and the leak ${id}: ${state}`);
  return { day, causes: first.byCause, leaks: first.leaks, rerun: { stored: again.stored, changed }, gc, failures };
}

/** The lines the closing summary adds for the billing day. */
export function billSummary(r: SandboxBillResult | undefined, error?: unknown): string[] {
  if (error !== undefined) return [`  reconciliation: FAILED: ${asError(error).message}`];
  if (!r) return [];
  const causes = Object.entries(r.causes)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  return [
    `  reconciliation of ${r.day}: ${causes}; leaked: ${r.leaks.join(', ') || 'none'} (gc: ${Object.values(r.gc).join(', ') || '-'})`,
    `  reconciliation re-run: ${r.rerun.stored}, ${r.rerun.changed.length ? `changed: ${r.rerun.changed.join('; ')}` : 'nothing changed'}`,
  ];
}
