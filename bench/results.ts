/**
 * The one result format every benchmark writes (`bench/results/<name>.json`), and the pure functions
 * bench/main.ts uses to gather one run's results into one table and `bench/results/latest.json`.
 * A figure carries its target (if it has one) and whether the measured value met it; a benchmark never fails on a
 * number, it only records it.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Target {
  op: '<=' | '>=';
  value: number;
}

export interface Figure {
  /** stable identifier to compare runs by, e.g. `pipeline.embedded.bindToCreate.p99` */
  key: string;
  label: string;
  /** null when the figure could not be measured (JSON has no NaN) */
  value: number | null;
  unit: string;
  target?: Target;
  met?: boolean;
}

export interface Machine {
  cpus: number;
  loadavg: number[];
}

export interface BenchResult {
  name: string;
  at: string;
  machine: Machine;
  figures: Figure[];
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Whether `value` meets `target`; a missing value meets nothing. */
export function meets(value: number | null, target: Target): boolean {
  if (value === null || !Number.isFinite(value)) return false;
  return target.op === '<=' ? value <= target.value : value >= target.value;
}

/** A figure, with `met` computed when it has a target. NaN/undefined become null. */
export function figure(key: string, label: string, value: number | null | undefined, unit: string, target?: Target): Figure {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : value;
  return target ? { key, label, value: v, unit, target, met: meets(v, target) } : { key, label, value: v, unit };
}

export function machine(): Machine {
  return { cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100) };
}

/** Writes `bench/results/<name>.json` (or into `dir`), returns its path. */
export function writeResult(name: string, figures: Figure[], dir: string = RESULTS_DIR): string {
  const result: BenchResult = { name, at: new Date().toISOString(), machine: machine(), figures };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

function isResult(x: unknown): x is BenchResult {
  const r = x as Partial<BenchResult> | null;
  return typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.at === 'string' && Array.isArray(r.figures);
}

/** The results in `dir` written at or after `sinceMs` (this run's), by name; latest.json and other shapes skipped. */
export function readResults(dir: string, sinceMs: number): BenchResult[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'latest.json');
  } catch {
    return [];
  }
  const out: BenchResult[] = [];
  for (const f of files.sort()) {
    try {
      const r: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      if (isResult(r) && Date.parse(r.at) >= sinceMs) out.push(r);
    } catch {
      // a half-written or foreign file: not this run's result
    }
  }
  return out;
}

export interface Aggregate {
  at: string;
  machine: Machine;
  benches: string[];
  figures: (Figure & { bench: string })[];
  summary: { figures: number; withTarget: number; met: number; notMet: number };
}

/** One run's results as one list of figures (bench order kept, keys prefixed by nothing: they are already unique). */
export function aggregate(results: readonly BenchResult[], at: Date, mach: Machine): Aggregate {
  const figures = results.flatMap((r) => r.figures.map((f) => ({ bench: r.name, ...f })));
  const withTarget = figures.filter((f) => f.target);
  const met = withTarget.filter((f) => f.met === true).length;
  return {
    at: at.toISOString(),
    machine: mach,
    benches: results.map((r) => r.name),
    figures,
    summary: { figures: figures.length, withTarget: withTarget.length, met, notMet: withTarget.length - met },
  };
}

/** A value for humans: up to 3 significant decimals, thousands separated, with its unit. */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return '-';
  const abs = Math.abs(value);
  const digits = abs >= 100 || Number.isInteger(value) ? 0 : abs >= 10 ? 1 : 2;
  const n = value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${n} ${unit}` : n;
}

export function formatTarget(target: Target | undefined, unit: string): string {
  return target ? `${target.op} ${formatValue(target.value, unit)}` : '';
}

/** The one table: bench, figure, value, target, met / NOT met (blank without a target). */
export function formatTable(agg: Aggregate): string {
  const rows = agg.figures.map((f) => [
    f.bench,
    f.label,
    formatValue(f.value, f.unit),
    formatTarget(f.target, f.unit),
    f.target ? (f.met ? 'met' : 'NOT met') : '',
  ]);
  const head = ['bench', 'figure', 'value', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const s = agg.summary;
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${s.withTarget} figures with a target: ${s.met} met, ${s.notMet} not met; load average ${agg.machine.loadavg.join(' ')} on ${agg.machine.cpus} CPUs`,
  ].join('\n');
}

/** The nearest-rank percentile of ascending `sorted` values (NaN when empty): one definition for every bench. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}
