/**
 * `eci-bridge cost --reconcile [--day YYYY-MM-DD] [--format table|json|csv|html]`: a billing day's reconciliation
 * (docs/billing-reconciliation.md). The stored one when the reconcile function wrote it; otherwise computed now
 * from the bill and the hourly reports and not stored (a day whose bill has not settled is marked provisional).
 * Every amount is labelled: real charge (the bill), estimate (the bridge), comparison (what an ECI VNode would cost).
 */
import { formatMoney } from '../../shared/domain/billing.js';
import { isDay } from '../../shared/domain/bill.js';
import type { Config } from '../../shared/domain/config.js';
import { MODEL_CURRENCY } from '../../shared/domain/bridge-cost.js';
import { amountMoney, amountText, LABEL_COMPARISON, LABEL_ESTIMATE, LABEL_REAL, type Reconciliation } from '../../shared/domain/reconcile.js';
import { renderReconcilePage } from '../lib/reconcile-html.js';
import type { BillReader, Clock, Cluster, ClusterStore, ContainerGroups, Logger } from '../../shared/ports/index.js';
import { Reconcile, type ReconcileSettings } from '../../shared/usecases/reconcile.js';

export interface ReconcileDeps {
  cluster: Cluster & ClusterStore;
  groups: ContainerGroups;
  bills: BillReader;
  clock?: Pick<Clock, 'now'>;
  logger?: Logger;
}

export interface ReconcileCliIo {
  out(s: string): void;
  err(s: string): void;
}

export class ReconcileUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export async function reconcileCommand(
  deps: ReconcileDeps,
  settings: ReconcileSettings,
  opts: { day?: string; format: 'table' | 'json' | 'csv' | 'html' },
  io: ReconcileCliIo,
): Promise<number> {
  if (opts.day !== undefined && !isDay(opts.day)) throw new ReconcileUsageError(`--day must be a date (YYYY-MM-DD), got '${opts.day}'`);
  const clock = deps.clock ?? { now: () => Date.now() };
  const logger = deps.logger ?? silent;
  const rec = new Reconcile({ cluster: deps.cluster, groups: deps.groups, bills: deps.bills, clock, logger }, settings);
  const day = opts.day ?? rec.defaultDay(clock.now());
  let r = await rec.read(day);
  let source = `stored by the reconcile function (ConfigMap eci-bridge-reconcile-${day})`;
  if (!r) {
    io.err(`no stored reconciliation of ${day}: reading the bill and the hourly reports now\n`);
    r = (await rec.compute(day)).reconciliation;
    source = rec.isSettled(day) ? 'computed now, not stored' : 'PROVISIONAL: computed now, the bill of this day has not settled';
  }
  if (opts.format === 'json') io.out(`${JSON.stringify({ source, ...r }, null, 2)}\n`);
  else if (opts.format === 'csv') io.out(csv(r));
  else if (opts.format === 'html') io.out(renderReconcilePage(r, source));
  else io.out(table(r, source));
  return 0;
}

const m2 = (t: string | null): string => (t === null ? '-' : formatMoney(amountMoney(t), 2));

function cols(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows.map((r) => r.map((c, i) => (/^-?[0-9.]+$/.test(c) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n')}\n`;
}

export function table(r: Reconciliation, source: string): string {
  const cur = r.currency;
  let out = `Reconciliation of ${r.day} (${r.timeZone}), cluster ${r.cluster}: ${source}\n`;
  out += `billed = ${LABEL_REAL} (the bill); estimated = ${LABEL_ESTIMATE} (the bridge's hourly reports, price table '${r.priceTable}'); ${cur}\n\n`;
  out += cols([
    ['GROUP', 'POD', 'SIZE', 'BILLED', 'ESTIMATED', 'DIFFERENCE', 'CAUSE'],
    ...r.groups.map((g) => [g.groupId, `${g.namespace}/${g.pod}`, `${g.size}${g.spot ? ' spot' : ''}`, m2(g.billed), m2(g.estimated), m2(g.difference), g.cause]),
  ]);
  for (const g of r.groups.filter((x) => x.cause !== 'match')) out += `  ${g.groupId}: ${g.explanation}\n`;
  out += `\nLeaks (${r.leaks.length}): billed under this cluster's tag with no pod; an Event on the virtual node, handed to gc\n`;
  for (const l of r.leaks) out += `  LEAK ${l.groupId}  ${m2(l.billed)} ${cur}  ${l.reason}: ${l.explanation}\n`;
  out += `\nTotals (${LABEL_REAL} vs ${LABEL_ESTIMATE}): billed ${m2(r.totals.billed)}, estimated ${m2(r.totals.estimated)}, difference ${m2(r.totals.difference)} ${cur}\n`;
  for (const [cause, t] of Object.entries(r.totals.byCause)) out += `  ${cause}: ${t.groups} group(s), ${m2(t.difference)}\n`;
  for (const [dim, rows] of Object.entries(r.totals.byDimension)) {
    out += `\nBy ${dim}:\n`;
    out += cols([[dim.toUpperCase(), 'GROUPS', 'BILLED', 'ESTIMATED', 'DIFFERENCE'], ...Object.entries(rows).map(([k, t]) => [k, String(t.groups), m2(t.billed), m2(t.estimated), m2(t.difference)])]);
  }
  out += '\nLearned from the bill (used by the estimator with BILLING_LEARNED_PRICES=true for instance types and spot):\n';
  for (const u of r.learned.unitPrices) out += `  ${u.size}: observed ${m2(u.observedPerHour)} ${cur}/h, table ${m2(u.tablePerHour)} ${cur}/h (${u.groups} group(s))\n`;
  if (r.learned.spotRatio) out += `  spot ratio: observed ${r.learned.spotRatio.observed}, assumed ${r.learned.spotRatio.assumed} (${r.learned.spotRatio.groups} group(s))\n`;
  out += `\nThe bridge's own cost (${LABEL_REAL}, FC + MNS, ${r.bridge.resources} tagged resource(s)): ${m2(r.bridge.billed)} ${cur}`;
  out += `${Object.entries(r.bridge.byProduct).map(([p, a]) => `; ${p} ${m2(a)}`).join('')}; predicted: ${predictedText(r)}\n`;
  if (r.bridge.prediction && r.bridge.predicted !== null) {
    const diff = amountMoney(r.bridge.billed) - amountMoney(r.bridge.predicted);
    out += `  predicted (${r.bridge.prediction.label}): ${r.bridge.prediction.text}; measured − predicted ${m2(amountText(diff))} ${cur}\n`;
  }
  out += `${LABEL_COMPARISON}: ${r.vnodeComparison.text}\n`;
  if (r.sources.recomputedHours.length) out += `note: ${r.sources.recomputedHours.length} hour(s) had no stored report and were recomputed from what ECI and the cluster know now\n`;
  return out;
}

function predictedText(r: Reconciliation): string {
  if (r.bridge.predicted !== null) return `${m2(r.bridge.predicted)} ${r.currency}`;
  return r.currency === MODEL_CURRENCY ? 'no prediction configured' : `none (the cost model prices in ${MODEL_CURRENCY}, this bill is in ${r.currency})`;
}

export function csv(r: Reconciliation): string {
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['kind,group,namespace,pod,size,spot,billed_real_charge,estimated,difference,cause,explanation'];
  for (const g of r.groups) lines.push(['group', g.groupId, g.namespace, g.pod, g.size, String(g.spot), m2(g.billed), m2(g.estimated), m2(g.difference), g.cause, g.explanation].map(q).join(','));
  for (const l of r.leaks) lines.push(['leak', l.groupId, '', '', '', '', m2(l.billed), '', m2(l.billed), l.reason, l.explanation].map(q).join(','));
  lines.push(['bridge', '', '', '', '', '', m2(r.bridge.billed), r.bridge.predicted === null ? '' : m2(r.bridge.predicted), '', 'real charge', 'FC + MNS of the bridge'].map(q).join(','));
  return `${lines.join('\n')}\n`;
}

const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => silent };

export type ConnectReconcile = (config: Config) => Promise<ReconcileDeps>;
