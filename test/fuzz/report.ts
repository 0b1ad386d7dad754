/**
 * What a fuzz campaign returns, the process-level guard that counts unhandled rejections and uncaught exceptions
 * while a campaign runs, and the summary table.
 */

export interface CampaignResult {
  campaign: string;
  seed: number;
  runs: number;
  /** outcome class → cases (every case lands in exactly one class) */
  outcomes: Record<string, number>;
  /** sub-counts worth showing (dead-letter reasons, pod-sync outcomes, violation codes) */
  details: Record<string, number>;
  /** a call threw, or a case ended in no typed outcome, or an invariant broke */
  crashes: number;
  unhandledRejections: number;
  uncaughtExceptions: number;
  elapsedMs: number;
  /** the first few problems, each with the case index to replay (`--seed S --runs N`) */
  problems: string[];
}

export const MAX_PROBLEMS_KEPT = 20;

export function newResult(campaign: string, seed: number): CampaignResult {
  return {
    campaign,
    seed,
    runs: 0,
    outcomes: {},
    details: {},
    crashes: 0,
    unhandledRejections: 0,
    uncaughtExceptions: 0,
    elapsedMs: 0,
    problems: [],
  };
}

export function count(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}

/** Records a crash (or broken invariant) with a short, secret-free description. */
export function crash(r: CampaignResult, index: number, what: string): void {
  r.crashes++;
  if (r.problems.length < MAX_PROBLEMS_KEPT) r.problems.push(`case ${index}: ${what.slice(0, 300)}`);
}

/**
 * Counts `unhandledRejection` and `uncaughtException` while `body` runs (an uncaught exception would otherwise end the
 * process: counting it keeps the campaign going and the figure honest). The listeners are removed afterwards.
 */
export async function guarded<T>(r: CampaignResult, body: () => Promise<T>): Promise<T> {
  const onRejection = (reason: unknown): void => {
    r.unhandledRejections++;
    if (r.problems.length < MAX_PROBLEMS_KEPT) r.problems.push(`unhandled rejection: ${describe(reason)}`);
  };
  const onException = (err: unknown): void => {
    r.uncaughtExceptions++;
    if (r.problems.length < MAX_PROBLEMS_KEPT) r.problems.push(`uncaught exception: ${describe(err)}`);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const started = performance.now();
  try {
    return await body();
  } finally {
    // a rejection left unhandled by the last case is reported on a later tick: let it arrive before counting stops
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 10));
    r.elapsedMs = performance.now() - started;
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message.slice(0, 200)}`;
  return typeof err === 'string' ? err.slice(0, 200) : typeof err;
}

/** True when the campaign is clean: no crash, no unhandled rejection, no uncaught exception. */
export function clean(r: CampaignResult): boolean {
  return r.crashes === 0 && r.unhandledRejections === 0 && r.uncaughtExceptions === 0;
}

function fmtCounts(c: Record<string, number>): string[] {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${v}`);
}

/** The summary table: one block per campaign, a line per outcome class. */
export function formatSummary(results: readonly CampaignResult[]): string {
  const rows: string[][] = [['campaign', 'seed', 'runs', 'outcomes', 'crashes', 'unhandled rejections', 'uncaught', 'elapsed']];
  for (const r of results) {
    const outs = fmtCounts(r.outcomes);
    rows.push([
      r.campaign,
      String(r.seed),
      String(r.runs),
      outs[0] ?? '-',
      String(r.crashes),
      String(r.unhandledRejections),
      String(r.uncaughtExceptions),
      `${(r.elapsedMs / 1000).toFixed(1)} s`,
    ]);
    for (const o of outs.slice(1)) rows.push(['', '', '', o, '', '', '', '']);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const line = (row: string[]): string => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  for (const r of results) {
    const d = fmtCounts(r.details);
    if (d.length) out.push('', `${r.campaign} details: ${d.join(', ')}`);
    if (r.problems.length) out.push('', `${r.campaign} problems:`, ...r.problems.map((p) => `  ${p}`));
  }
  return out.join('\n');
}
