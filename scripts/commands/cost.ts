/**
 * `eci-bridge cost`: what pods cost on ECI.
 *
 *   cost --estimate -f FILE [-f FILE...] [--hours H] [--region R] [--format table|json]
 *       offline: what the pods of a manifest cost per hour and for H hours at their billed (rounded-up) size
 *   cost --vnode [--hours H] [--region R] [--format table|json]
 *       offline: what an ECI VNode (2 vCPU / 8 GiB resident) would cost — a comparison, not a charge of eci-bridge
 *   cost [--since 7d] [--by namespace|owner|pod|node|tag:<key>] [--format table|json|csv] [--html FILE]
 *       the cluster's cost: stored hourly reports, gaps computed live from ECI and the cluster
 *   cost --reconcile [--day YYYY-MM-DD] [--format table|json|csv|html]
 *       a billing day's reconciliation against the actual bill (./cost-reconcile.ts)
 *
 * Prices come from BILLING_PRICE_TABLES or the list prices (shared/domain/prices.ts); the region from --region or
 * ECI_REGION.
 *
 * Over 400 lines: the `cost` modes share argument parsing and the table/json/csv renderers; the reconciliation
 * mode lives in ./cost-reconcile.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import {
  type CostReport,
  costOf,
  dayOf,
  describeSize,
  formatMoney,
  hourPeriod,
  instanceRate,
  isSpot,
  type Money,
  moneyOf,
  podSize,
  podSpot,
  vnodeRate,
} from '../../shared/domain/billing.js';
import { renderCostPage } from '../lib/billing-html.js';
import { LABEL_COMPARISON, LABEL_ESTIMATE } from '../../shared/domain/reconcile.js';
import { type Config, parseConfig } from '../../shared/domain/config.js';
import type { ObjectMeta, Pod, PodSpec } from '../../shared/domain/k8s.js';
import { type PriceTable, priceTableFor } from '../../shared/domain/prices.js';
import type { Clock, Logger } from '../../shared/ports/index.js';
import { type ConnectReconcile, ReconcileUsageError, reconcileCommand } from './cost-reconcile.js';
import { Billing, type BillingPorts, billingSettingsFromConfig } from '../../shared/usecases/billing.js';

export const summary =
  'what pods cost on ECI: --estimate -f FILE (offline), --vnode (ECI VNode comparison), or the cluster report (--since, --by, --html)';

export interface CostIo {
  out(s: string): void;
  err(s: string): void;
  readFile(path: string): string;
  writeFile(path: string, text: string): void;
  env: Record<string, string | undefined>;
  /** stderr is a terminal: progress redraws one line */
  tty: boolean;
}

const processIo: CostIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  readFile: (p) => readFileSync(p === '-' ? 0 : p, 'utf8'),
  writeFile: (p, t) => writeFileSync(p, t),
  env: process.env,
  tty: process.stderr.isTTY === true,
};

/** What the cluster mode needs; the composition root builds it from the configuration. */
export type ClusterDeps = Pick<BillingPorts, 'cluster' | 'groups'> & { clock?: Pick<Clock, 'now'>; logger?: Logger };
export type Connect = (config: Config) => Promise<ClusterDeps>;

const USAGE = `usage:
  eci-bridge cost --estimate -f FILE [-f FILE...] [--hours H] [--region R] [--format table|json]
  eci-bridge cost --vnode [--hours H] [--region R] [--format table|json]
  eci-bridge cost [--since 7d] [--by namespace|owner|pod|node|tag:<key>] [--format table|json|csv] [--html FILE]
  eci-bridge cost --reconcile [--day YYYY-MM-DD] [--format table|json|csv|html]
`;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export async function run(argv: string[]): Promise<number> {
  return main(argv, processIo, connectFromCompose, async (config) => (await import('../../shared/compose-reconcile.js')).connectReconcile(config));
}

/** The composition root, when it exists and exports `connectBilling(config)`. */
async function connectFromCompose(config: Config): Promise<ClusterDeps> {
  const path = '../../shared/compose.js';
  let mod: { connectBilling?: Connect } | undefined;
  try {
    mod = (await import(path)) as { connectBilling?: Connect };
  } catch {
    mod = undefined;
  }
  if (!mod?.connectBilling) {
    throw new UsageError(
      'reading the cluster needs the composition root (shared/compose.ts exporting connectBilling), which is not wired yet; ' +
        'use --estimate -f FILE or --vnode offline',
    );
  }
  return mod.connectBilling(config);
}

export async function main(argv: string[], io: CostIo, connect?: Connect, connectReconcile?: ConnectReconcile): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (err) {
    io.err(`cost: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  try {
    const config = parseConfig({ ...io.env, ...(values.region ? { ECI_REGION: values.region } : {}) });
    const settings = billingSettingsFromConfig(config);
    const table = priceTableFor(settings.region, settings.tables);
    const hours = parseHours(values.hours);
    if (values.estimate) {
      if (!values.filename?.length) throw new UsageError('--estimate needs -f FILE');
      return estimate(values.filename, hours, settings.region, table, formatOf(values.format, ['table', 'json']), io);
    }
    if (values.vnode) return vnode(hours, settings.region, table, formatOf(values.format, ['table', 'json']), io);
    if (values.reconcile) {
      if (!connectReconcile) throw new UsageError('reconciling needs a connection');
      const { reconcileSettingsFromConfig } = await import('../../shared/compose-reconcile.js');
      return await reconcileCommand(
        await connectReconcile(config),
        reconcileSettingsFromConfig(config),
        { ...(values.day ? { day: values.day } : {}), format: formatOf(values.format, ['table', 'json', 'csv', 'html']) },
        io,
      );
    }
    if (values.day) throw new UsageError('--day goes with --reconcile');
    if (!connect) throw new UsageError('reading the cluster needs a connection');
    const deps = await connect(config);
    return await clusterCost(deps, config, {
      sinceMs: parseSince(values.since ?? '7d'),
      by: byOf(values.by),
      format: formatOf(values.format, ['table', 'json', 'csv']),
      ...(values.html ? { html: values.html } : {}),
    }, io);
  } catch (err) {
    io.err(`cost: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof UsageError || err instanceof ReconcileUsageError ? 2 : 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      estimate: { type: 'boolean' },
      vnode: { type: 'boolean' },
      filename: { type: 'string', short: 'f', multiple: true },
      hours: { type: 'string' },
      region: { type: 'string' },
      format: { type: 'string' },
      since: { type: 'string' },
      by: { type: 'string' },
      html: { type: 'string' },
      reconcile: { type: 'boolean' },
      day: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

function parseHours(text: string | undefined): number {
  if (text === undefined) return 24;
  const h = Number(text);
  if (!Number.isFinite(h) || h <= 0 || Math.round(h * 3_600_000) !== h * 3_600_000) {
    throw new UsageError(`--hours must be a positive number of hours, got '${text}'`);
  }
  return h;
}

function parseSince(text: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(text.trim());
  if (!m?.[1]) throw new UsageError(`--since must look like 90m, 24h or 7d, got '${text}'`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

/** `tag:<key>`: by the value of a cost tag (VNODE_TAGS, custom tags, team labels); `(untagged)` without it. */
type By = 'namespace' | 'owner' | 'pod' | 'node' | `tag:${string}`;
function byOf(text: string | undefined): By {
  const v = text ?? 'namespace';
  if (v === 'namespace' || v === 'owner' || v === 'pod' || v === 'node') return v;
  if (/^tag:.+$/.test(v)) return v as `tag:${string}`;
  throw new UsageError(`--by must be namespace, owner, pod, node or tag:<key>, got '${v}'`);
}

export const UNTAGGED = '(untagged)';

function formatOf<T extends string>(text: string | undefined, allowed: readonly T[]): T {
  const v = (text ?? 'table') as T;
  if (!allowed.includes(v)) throw new UsageError(`--format must be ${allowed.join(', ')}, got '${text}'`);
  return v;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const numeric = (c: string): boolean => /^-?[0-9.]+$/.test(c) || c === 'unpriced';
  const cell = (c: string, i: number): string => (numeric(c) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0));
  return `${rows.map((r) => r.map(cell).join('  ').trimEnd()).join('\n')}\n`;
}

// ---------------------------------------------------------------- --estimate

interface Workload {
  pod: Pod;
  kind: string;
  name: string;
  replicas: number;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Pods and pod templates of a manifest, with how many pods each runs (replicas, Job parallelism). */
export function workloadsOf(text: string, file: string, notes: string[]): Workload[] {
  const out: Workload[] = [];
  const docs = parseAllDocuments(text);
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length) throw new UsageError(`${file}: not YAML/JSON (${d.errors[0]?.message.split('\n')[0]})`);
    collect(d.toJS(), out, notes);
  }
  return out;
}

function collect(doc: unknown, out: Workload[], notes: string[]): void {
  const d = obj(doc);
  if (!d) return;
  const kind = typeof d.kind === 'string' ? d.kind : '';
  const meta = (obj(d.metadata) ?? {}) as ObjectMeta;
  const spec = obj(d.spec);
  const name = meta.name ?? '(unnamed)';
  const ns = meta.namespace ?? 'default';
  const num = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : dflt);
  const fromTemplate = (template: unknown, replicas: number): void => {
    const t = obj(template);
    const ps = obj(t?.spec) as PodSpec | undefined;
    if (!ps) {
      notes.push(`${kind} ${name}: no pod template`);
      return;
    }
    const tm = (obj(t?.metadata) ?? {}) as ObjectMeta;
    out.push({ pod: { metadata: { ...tm, name, namespace: ns }, spec: ps }, kind, name, replicas });
  };
  if (kind === 'List' || kind.endsWith('List')) {
    for (const item of Array.isArray(d.items) ? d.items : []) collect(item, out, notes);
  } else if (kind === 'Pod') {
    const podSpec = (spec ?? { containers: [] }) as unknown as PodSpec;
    out.push({ pod: { metadata: { ...meta, namespace: ns }, spec: podSpec }, kind, name, replicas: 1 });
  } else if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'ReplicaSet') {
    fromTemplate(spec?.template, num(spec?.replicas, 1));
  } else if (kind === 'Job') {
    fromTemplate(spec?.template, num(spec?.parallelism, 1));
  } else if (kind === 'CronJob') {
    const js = obj(obj(spec?.jobTemplate)?.spec);
    fromTemplate(js?.template, num(js?.parallelism, 1));
  } else if (kind === 'DaemonSet') {
    notes.push(`DaemonSet ${name}: DaemonSets do not run on the virtual node; not priced`);
  } else if (kind) {
    notes.push(`skipped ${kind} ${name}: not a pod or workload`);
  }
}

function estimate(files: string[], hours: number, region: string, t: PriceTable, format: 'table' | 'json', io: CostIo): number {
  const notes: string[] = [];
  const workloads = files.flatMap((f) => {
    let text: string;
    try {
      text = io.readFile(f);
    } catch {
      throw new UsageError(`cannot read ${f}`);
    }
    return workloadsOf(text, f, notes);
  });
  const ms = Math.round(hours * 3_600_000);
  let perHour = 0n;
  let forHours = 0n;
  const rows = workloads.map((w) => {
    const size = podSize(w.pod);
    const spot = podSpot(w.pod);
    const base = { namespace: w.pod.metadata.namespace ?? 'default', workload: `${w.kind}/${w.name}`, replicas: w.replicas };
    if (!size.ok) return { ...base, unpriced: size.reason };
    const rate = instanceRate(size.size, t, spot);
    if (!rate.ok) return { ...base, requested: size.requested, size: describeSize(size.size), spot: isSpot(spot), unpriced: rate.reason };
    const h = costOf(rate.picoPerHour, 3_600_000) * BigInt(w.replicas);
    const f = costOf(rate.picoPerHour, ms) * BigInt(w.replicas);
    perHour += h;
    forHours += f;
    return {
      ...base,
      requested: size.requested,
      size: describeSize(size.size),
      spot: isSpot(spot),
      perHour: formatMoney(h, 6),
      forHours: formatMoney(f, 6),
    };
  });
  const unpriced = rows.filter((r) => 'unpriced' in r && r.unpriced);
  if (format === 'json') {
    io.out(
      `${JSON.stringify(
        { region, currency: t.currency, priceTable: t.name, hours, pods: rows, total: { perHour: formatMoney(perHour, 6), forHours: formatMoney(forHours, 6) }, notes },
        null,
        2,
      )}\n`,
    );
  } else {
    const head = ['NAMESPACE', 'WORKLOAD', 'PODS', 'REQUESTED', 'BILLED SIZE', 'SPOT', `${t.currency}/HOUR`, `${t.currency}/${hours}H`];
    const body = rows.map((r) => [
      r.namespace,
      r.workload,
      String(r.replicas),
      'requested' in r ? (r.requested ?? '') : '',
      'size' in r ? (r.size ?? '') : '',
      'spot' in r && r.spot ? 'yes' : '',
      'perHour' in r ? (r.perHour ?? '') : 'unpriced',
      'forHours' in r ? (r.forHours ?? '') : 'unpriced',
    ]);
    body.push(['total', '', '', '', '', '', formatMoney(perHour, 6), formatMoney(forHours, 6)]);
    io.out(table([head, ...body]));
    io.out(`prices: table '${t.name}' (${t.currency}) for region ${region}; billed sizes rounded up to ECI specs\n`);
    for (const n of notes) io.out(`note: ${n}\n`);
  }
  for (const r of unpriced) io.err(`warning: ${r.workload}: ${'unpriced' in r ? r.unpriced : ''}\n`);
  return 0;
}

// ---------------------------------------------------------------- --vnode

/** The VNode formula is what ECI's own virtual node bills; eci-bridge's is not billed that way (issue 19, item 5). */
const VNODE_NOTE = "a comparison, not a charge: eci-bridge's virtual node is not billed by Alibaba Cloud; its pods are billed as ECI instances and the bridge's own cost is FC + MNS (see `cost --reconcile`)";

function vnode(hours: number, region: string, t: PriceTable, format: 'table' | 'json', io: CostIo): number {
  const rate = vnodeRate(t);
  const h = costOf(rate, 3_600_000);
  const f = costOf(rate, Math.round(hours * 3_600_000));
  if (format === 'json') {
    io.out(
      `${JSON.stringify({ kind: 'comparison', label: LABEL_COMPARISON, note: VNODE_NOTE, what: 'an ECI VNode (2 vCPU / 8 GiB resident)', region, currency: t.currency, priceTable: t.name, hours, perHour: formatMoney(h, 6), forHours: formatMoney(f, 6) }, null, 2)}\n`,
    );
  } else {
    io.out(
      `Comparison, not a charge: an ECI VNode (a resident 2 vCPU / 8 GiB instance) would cost this per virtual node; ` +
        `eci-bridge's virtual node is not billed that way. Region ${region}, table '${t.name}':\n`,
    );
    io.out(table([['', `${t.currency}`], ['per hour', formatMoney(h, 6)], [`for ${hours} h`, formatMoney(f, 6)]]));
    io.out(`${VNODE_NOTE}\n`);
  }
  return 0;
}

// ---------------------------------------------------------------- cluster mode

export interface ClusterCostOptions {
  sinceMs: number;
  by: By;
  format: 'table' | 'json' | 'csv';
  html?: string;
}

function progress(io: CostIo): (msg: string) => void {
  return (msg) => io.err(io.tty ? `\r\x1b[2K${msg}` : `${msg}\n`);
}

/**
 * The cluster's cost over `--since`: the stored hourly reports, plus the hours with no stored report computed live
 * from what ECI and the cluster know now (marked so). Needs only the cluster, the ECI groups and the config.
 */
export async function clusterCost(deps: ClusterDeps, config: Config, opts: ClusterCostOptions, io: CostIo): Promise<number> {
  const clock = deps.clock ?? { now: () => Date.now() };
  const logger = deps.logger ?? silentLogger;
  const billing = new Billing({ cluster: deps.cluster, groups: deps.groups, clock, logger }, billingSettingsFromConfig(config));
  const now = clock.now();
  const from = hourPeriod(now - opts.sinceMs).start;
  const say = progress(io);
  const stored = await billing.storedReports(from, now, (day) => say(`reading stored reports: ${day}`));
  const have = new Set(stored.map((r) => r.id));
  say('gathering container groups and pods');
  const g = await billing.gather();
  const live: CostReport[] = [];
  for (let p = hourPeriod(from); p.start < now; p = hourPeriod(p.end)) {
    const r = billing.report(g, p);
    if (!have.has(r.id) && (r.pods.length || r.vnodes.length)) live.push(r);
  }
  say(`done: ${stored.length} stored and ${live.length} live hourly reports`);
  if (io.tty) io.err('\n');
  const reports = [...stored, ...live].sort((a, b) => (a.id < b.id ? -1 : 1));
  const currency = billing.currency;
  const rows = aggregate(reports, opts.by);
  const total = [...rows.values()].reduce((a, r) => a + r.cost, 0n);
  const vnodes = reports.reduce((a, r) => a + moneyOf(r.totals.vnodes), 0n);
  const periodText = `${new Date(from).toISOString()} → ${new Date(now).toISOString()}`;
  if (opts.format === 'json') {
    io.out(
      `${JSON.stringify(
        {
          cluster: config.CLUSTER_NAME,
          currency,
          from: new Date(from).toISOString(),
          to: new Date(now).toISOString(),
          by: opts.by,
          rows: [...rows].map(([key, r]) => ({ key, cost: formatMoney(r.cost, 6), pods: r.pods, label: LABEL_ESTIMATE })),
          total: formatMoney(total, 6),
          vnodeComparison: { kind: 'comparison', label: LABEL_COMPARISON, what: 'an ECI VNode would cost this for the same time; not in the total', cost: formatMoney(vnodes, 6) },
          liveHours: live.map((r) => r.id),
          labels: { rows: LABEL_ESTIMATE, vnodeComparison: LABEL_COMPARISON, total: LABEL_ESTIMATE },
        },
        null,
        2,
      )}\n`,
    );
  } else if (opts.format === 'csv') {
    // every row says what it is: the rows and the total are estimates; the VNode line is a comparison
    io.out(`${opts.by},pods,cost_${currency.toLowerCase()},label\n`);
    for (const [key, r] of rows) io.out(`${csvCell(key)},${r.pods},${formatMoney(r.cost, 6)},${LABEL_ESTIMATE}\n`);
    io.out(`total,,${formatMoney(total, 6)},${LABEL_ESTIMATE}\n`);
    if (vnodes > 0n) io.out(`${csvCell('(an ECI VNode would cost)')},,${formatMoney(vnodes, 6)},${LABEL_COMPARISON}\n`);
  } else {
    const body = [...rows].map(([key, r]) => [key, String(r.pods), formatMoney(r.cost, 6)]);
    body.push(['total', '', formatMoney(total, 6)]);
    io.out(table([[opts.by.toUpperCase(), 'PODS', currency], ...body]));
    io.out(`${periodText}; ${stored.length} stored hourly reports, ${live.length} computed live\n`);
    io.out(
      `labels: every row and the total are an ${LABEL_ESTIMATE} (list prices × billed size × run time); the real charge: cost --reconcile\n`,
    );
    if (vnodes > 0n) io.out(`${vnodeComparisonLine(vnodes, currency)}\n`);
  }
  if (opts.html) {
    io.writeFile(opts.html, renderCostPage(pageInput(reports, currency, config.CLUSTER_NAME, periodText)));
    io.err(`wrote ${opts.html}\n`);
  }
  return 0;
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The VNode formula's line: a comparison, never a charge of eci-bridge. */
export function vnodeComparisonLine(cost: Money, currency: string): string {
  return `comparison, not a charge: an ECI VNode would cost ${formatMoney(cost, 6)} ${currency} for the same time (eci-bridge's virtual node is not billed that way; not in the total)`;
}

/** Sums the pods' cost of reports by namespace, owner, pod (`ns/name`), node or a cost tag's value. */
export function aggregate(reports: readonly CostReport[], by: By): Map<string, { cost: Money; pods: number }> {
  const out = new Map<string, { cost: Money; pods: Set<string> }>();
  const add = (key: string, cost: Money, uid?: string): void => {
    let a = out.get(key);
    if (!a) {
      a = { cost: 0n, pods: new Set() };
      out.set(key, a);
    }
    a.cost += cost;
    if (uid) a.pods.add(uid);
  };
  const tagKey = by.startsWith('tag:') ? by.slice(4) : undefined;
  for (const r of reports) {
    for (const p of r.pods) {
      const key =
        tagKey !== undefined
          ? (p.tags?.[tagKey] ?? UNTAGGED)
          : by === 'namespace'
            ? p.namespace
            : by === 'pod'
              ? `${p.namespace}/${p.name}`
              : by === 'node'
                ? p.node
                : `${p.namespace}/${p.owner ? `${p.owner.kind}/${p.owner.name}` : `Pod/${p.name}`}`;
      add(key, moneyOf(p.cost), p.uid);
    }
    if (r.pods.length === 0 && by === 'namespace') {
      // a report stored without pods (too large for its ConfigMap) still has its aggregates
      for (const [ns, a] of Object.entries(r.byNamespace)) add(ns, moneyOf(a.cost));
    }
    if (r.pods.length === 0 && tagKey !== undefined) {
      for (const [kv, a] of Object.entries(r.byTag ?? {})) if (kv.startsWith(`${tagKey}=`)) add(kv.slice(tagKey.length + 1), moneyOf(a.cost));
    }
  }
  return new Map(
    [...out].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, { cost: v.cost, pods: v.pods.size }]),
  );
}

/** Cost per namespace per UTC day, for the HTML page; the VNode formula only as a comparison note. */
export function pageInput(reports: readonly CostReport[], currency: string, cluster: string, periodText: string) {
  const cells = new Map<string, Map<string, Money>>();
  const add = (day: string, ns: string, m: Money): void => {
    let d = cells.get(day);
    if (!d) {
      d = new Map();
      cells.set(day, d);
    }
    d.set(ns, (d.get(ns) ?? 0n) + m);
  };
  let vnodes = 0n;
  for (const r of reports) {
    const day = dayOf(Date.parse(r.period.start));
    for (const [ns, a] of Object.entries(r.byNamespace)) add(day, ns, moneyOf(a.cost));
    vnodes += moneyOf(r.totals.vnodes);
  }
  return {
    title: `ECI cost of cluster ${cluster}`,
    currency,
    days: [...cells.keys()].sort(),
    cells,
    notes: [periodText, `amounts in ${currency}, per UTC day`, ...(vnodes > 0n ? [vnodeComparisonLine(vnodes, currency)] : [])],
  };
}

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
