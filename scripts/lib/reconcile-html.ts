/**
 * A day's reconciliation as one self-contained HTML page (no scripts, no external assets, like billing-html.ts): an
 * inline SVG chart of billed (real charge) beside estimated per namespace, plus the leaked groups and the bridge's
 * own FC/MNS cost as billed-only bars; then the per-group table with each difference's cause. Pure.
 *
 * Presentation, so here beside billing-html.ts rather than in the domain: only the CLI renders it
 * (`eci-bridge cost --reconcile --format html`, scripts/commands/cost-reconcile.ts); the reconcile function never does.
 */
import { formatMoney, type Money } from '../../shared/domain/billing.js';
import { axisTicks, esc } from './billing-html.js';
import { amountMoney, LABEL_COMPARISON, LABEL_ESTIMATE, LABEL_REAL, type Reconciliation } from '../../shared/domain/reconcile.js';

export const BILLED_COLOUR = '#e15759';
export const ESTIMATED_COLOUR = '#4e79a7';

export function renderReconcilePage(r: Reconciliation, source: string): string {
  const cats: { key: string; billed: Money; estimated: Money | null }[] = Object.entries(r.totals.byDimension.namespace ?? {}).map(([k, t]) => ({
    key: k,
    billed: amountMoney(t.billed),
    estimated: amountMoney(t.estimated),
  }));
  const leaked = r.leaks.reduce((a, l) => a + amountMoney(l.billed), 0n);
  if (r.leaks.length) cats.push({ key: '(leaked groups)', billed: leaked, estimated: null });
  if (r.bridge.resources) cats.push({ key: '(bridge: FC + MNS)', billed: amountMoney(r.bridge.billed), estimated: r.bridge.predicted === null ? null : amountMoney(r.bridge.predicted) });
  let max = 0n;
  for (const c of cats) for (const v of [c.billed, c.estimated ?? 0n]) if (v > max) max = v;
  const W = 900;
  const H = 360;
  const left = 80;
  const bottom = 60;
  const top = 20;
  const plotH = H - bottom - top;
  const slot = cats.length ? (W - left - 20) / cats.length : 0;
  const barW = Math.max(4, Math.min(40, slot * 0.35));
  const scale = max > 0n ? plotH / Number(max) : 0;
  const bars: string[] = [];
  cats.forEach((c, i) => {
    const x0 = left + i * slot + slot / 2 - barW;
    const draw = (kind: 'billed' | 'estimated', v: Money, x: number, colour: string, label: string): void => {
      if (v <= 0n) return;
      const h = Math.max(1, Number(v) * scale);
      bars.push(
        `<rect class="bar" data-kind="${kind}" data-key="${esc(c.key)}" x="${x.toFixed(1)}" y="${(H - bottom - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${colour}"><title>${esc(c.key)} ${label}: ${formatMoney(v, 2)} ${esc(r.currency)}</title></rect>`,
      );
    };
    draw('billed', c.billed, x0, BILLED_COLOUR, `billed (${LABEL_REAL})`);
    if (c.estimated !== null) draw('estimated', c.estimated, x0 + barW, ESTIMATED_COLOUR, `estimated (${LABEL_ESTIMATE})`);
    bars.push(`<text x="${(x0 + barW).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${esc(c.key.length > 24 ? `${c.key.slice(0, 23)}…` : c.key)}</text>`);
  });
  const ticks = axisTicks(max, { W, H, left, bottom, plotH });
  const money = (t: string | null) => (t === null ? '—' : formatMoney(amountMoney(t), 2));
  const rows = r.groups
    .map(
      (g) =>
        `<tr><td>${esc(g.groupId)}</td><td>${esc(`${g.namespace}/${g.pod}`)}</td><td>${esc(g.size)}${g.spot ? ' (spot)' : ''}</td><td>${money(g.billed)}</td><td>${money(g.estimated)}</td><td>${money(g.difference)}</td><td>${esc(g.cause)}</td><td class="why">${esc(g.explanation)}</td></tr>`,
    )
    .join('\n');
  const leaks = r.leaks.map((l) => `<tr><td>${esc(l.groupId)}</td><td>${money(l.billed)}</td><td>${esc(l.reason)}</td><td class="why">${esc(l.explanation)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reconciliation of ${esc(r.day)} — cluster ${esc(r.cluster)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:18px 0 4px}
p.note{margin:2px 0;color:#555;font-size:13px}
.key{display:inline-block;margin-right:12px;font-size:13px}
.key i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;margin-top:8px;font-size:13px}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
td:first-child,th:first-child,td.why{text-align:left}
</style></head>
<body>
<h1>Reconciliation of ${esc(r.day)} (${esc(r.timeZone)}) — cluster ${esc(r.cluster)}</h1>
<p class="note">${esc(source)}; period ${esc(r.period.start)} → ${esc(r.period.end)}; amounts in ${esc(r.currency)}; price table '${esc(r.priceTable)}'</p>
<p class="note">billed = ${LABEL_REAL} (the bill, PretaxAmount) ${formatMoney(amountMoney(r.totals.billed), 2)}; estimated = ${LABEL_ESTIMATE} (the hourly reports) ${formatMoney(amountMoney(r.totals.estimated), 2)}; difference ${formatMoney(amountMoney(r.totals.difference), 2)}</p>
<p class="note">${LABEL_COMPARISON}: ${esc(r.vnodeComparison.text)}</p>
<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="billed and estimated per namespace">
${ticks.join('\n')}
<text x="${left - 60}" y="${top - 6}" font-size="11">${esc(r.currency)}</text>
${bars.join('\n')}
</svg>
<div><span class="key"><i style="background:${BILLED_COLOUR}"></i>billed (${LABEL_REAL})</span><span class="key"><i style="background:${ESTIMATED_COLOUR}"></i>estimated (${LABEL_ESTIMATE})</span></div>
<h2>Container groups</h2>
<table><thead><tr><th>group</th><th>pod</th><th>size</th><th>billed</th><th>estimated</th><th>difference</th><th>cause</th><th>why</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Leaks (billed under this cluster's tag, no pod)</h2>
<table><thead><tr><th>group</th><th>billed</th><th>reason</th><th>why</th></tr></thead>
<tbody>
${leaks || '<tr><td colspan="4">none</td></tr>'}
</tbody></table>
<h2>The bridge's own resources</h2>
<p class="note">FC and MNS, ${LABEL_REAL}: ${formatMoney(amountMoney(r.bridge.billed), 2)} ${esc(r.currency)} over ${r.bridge.resources} tagged resource(s); predicted: ${r.bridge.predicted === null ? 'no prediction configured' : formatMoney(amountMoney(r.bridge.predicted), 2)}</p>
</body></html>
`;
}
