/**
 * The cost report as one self-contained HTML page: an inline SVG stacked bar chart of cost per namespace per day
 * and a table, no scripts, no external assets (it opens from a file, offline, and in mail clients that strip
 * scripts). Pure: the same input gives the same page.
 *
 * Presentation, so not in the domain: only the CLI renders it (`eci-bridge cost --html`, scripts/commands/cost.ts);
 * the billing function writes data (annotations, the report object), never HTML, so no use case needs a port for it.
 */
import { formatMoney, type Money } from '../../shared/domain/billing.js';

export interface CostPageInput {
  title: string;
  currency: string;
  /** `YYYY-MM-DD`, ascending */
  days: readonly string[];
  /** cost per day per namespace */
  cells: ReadonlyMap<string, ReadonlyMap<string, Money>>;
  /** extra lines under the title (period, cluster, price table) */
  notes?: readonly string[];
}

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A stable colour per namespace (by its rank in the sorted list). */
export function namespaceColour(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#888888';
}

/** The value axis of a chart: five grid lines with their amounts (0, 25, 50, 75, 100 % of `max`). */
export function axisTicks(max: Money, g: { W: number; H: number; left: number; bottom: number; plotH: number }): string[] {
  return [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = g.H - g.bottom - f * g.plotH;
    const label = max > 0n ? formatMoney((max * BigInt(Math.round(f * 100))) / 100n, 2) : '0.00';
    return `<line x1="${g.left}" x2="${g.W - 20}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ddd"/><text x="${g.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${label}</text>`;
  });
}

export function renderCostPage(input: CostPageInput): string {
  const namespaces = [...new Set([...input.cells.values()].flatMap((m) => [...m.keys()]))].sort();
  const dayTotal = (d: string): Money => [...(input.cells.get(d)?.values() ?? [])].reduce((a, b) => a + b, 0n);
  let max = 0n;
  for (const d of input.days) {
    const t = dayTotal(d);
    if (t > max) max = t;
  }
  const W = 900;
  const H = 360;
  const left = 80;
  const bottom = 40;
  const top = 20;
  const plotH = H - bottom - top;
  const slot = input.days.length ? (W - left - 20) / input.days.length : 0;
  const barW = Math.max(4, Math.min(60, slot * 0.7));
  // scale: pixels per Money unit, computed in floating point only for drawing
  const scale = max > 0n ? plotH / Number(max) : 0;
  const bars: string[] = [];
  input.days.forEach((day, i) => {
    let y = H - bottom;
    const x = left + i * slot + (slot - barW) / 2;
    namespaces.forEach((ns, k) => {
      const v = input.cells.get(day)?.get(ns) ?? 0n;
      if (v <= 0n) return;
      const h = Math.max(1, Number(v) * scale);
      y -= h;
      bars.push(
        `<rect class="bar" data-ns="${esc(ns)}" data-day="${esc(day)}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${namespaceColour(k)}"><title>${esc(ns)} ${esc(day)}: ${formatMoney(v, 2)} ${esc(input.currency)}</title></rect>`,
      );
    });
    bars.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${esc(day.slice(5))}</text>`);
  });
  const ticks = axisTicks(max, { W, H, left, bottom, plotH });
  const legend = namespaces
    .map((ns, k) => `<span class="key"><i style="background:${namespaceColour(k)}"></i>${esc(ns)}</span>`)
    .join(' ');
  const nsTotal = (ns: string): Money => input.days.reduce((a, d) => a + (input.cells.get(d)?.get(ns) ?? 0n), 0n);
  const rows = namespaces
    .map(
      (ns) =>
        `<tr><td>${esc(ns)}</td>${input.days.map((d) => `<td>${formatMoney(input.cells.get(d)?.get(ns) ?? 0n, 2)}</td>`).join('')}<td><b>${formatMoney(nsTotal(ns), 2)}</b></td></tr>`,
    )
    .join('\n');
  const grand = namespaces.reduce((a, ns) => a + nsTotal(ns), 0n);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}
p.note{margin:2px 0;color:#555;font-size:13px}
.key{display:inline-block;margin-right:12px;font-size:13px}
.key i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;margin-top:16px;font-size:13px}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
</style></head>
<body>
<h1>${esc(input.title)}</h1>
${(input.notes ?? []).map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="cost per namespace per day">
${ticks.join('\n')}
<text x="${left - 60}" y="${top - 6}" font-size="11">${esc(input.currency)}</text>
${bars.join('\n')}
</svg>
<div>${legend}</div>
<table><thead><tr><th>namespace</th>${input.days.map((d) => `<th>${esc(d)}</th>`).join('')}<th>total</th></tr></thead>
<tbody>
${rows}
<tr><td><b>total</b></td>${input.days.map((d) => `<td>${formatMoney(dayTotal(d), 2)}</td>`).join('')}<td><b>${formatMoney(grand, 2)}</b></td></tr>
</tbody></table>
</body></html>
`;
}
