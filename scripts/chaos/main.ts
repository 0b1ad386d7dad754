/**
 * `npm run chaos -- [--seed N] [--pods N] [--time-scale X] [--timeout S] [--log-level L] [--quiet]`
 *
 * Runs the chaos campaign (run.ts) and prints exactly one line on stdout,
 * `chaos: N pods, M faults, 0 duplicates ever created (F spot fallbacks), 0 orphans, 0 lost, converged in T s`, then one line per violation.
 * Progress goes to stderr (--quiet silences it). Exit code 0 only when no invariant was violated; 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import type { Level } from '../sandbox/log.js';
import { FAULT_KINDS, formatLine, runChaos } from './run.js';

const USAGE = 'usage: npm run chaos -- [--seed N] [--pods N] [--time-scale X] [--timeout SECONDS] [--log-level LEVEL] [--quiet]';
const LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function number(name: string, raw: string | undefined, fallback: number, ok: (n: number) => boolean): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !ok(n)) throw new RangeError(`--${name} ${raw}: not a valid value`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  let seed: number;
  let pods: number;
  let timeScale: number;
  let timeoutS: number;
  let logLevel: Level | undefined;
  let quiet: boolean;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        seed: { type: 'string' },
        pods: { type: 'string' },
        'time-scale': { type: 'string' },
        timeout: { type: 'string' },
        'log-level': { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    seed = number('seed', values.seed, 1, (n) => Number.isInteger(n) && n >= 0);
    pods = number('pods', values.pods, 300, (n) => Number.isInteger(n) && n >= 10 && n <= 5000);
    timeScale = number('time-scale', values['time-scale'], 0.05, (n) => n > 0 && n <= 1);
    timeoutS = number('timeout', values.timeout, 240, (n) => n > 0);
    const lvl = values['log-level'];
    if (lvl !== undefined && !LEVELS.includes(lvl as Level)) throw new RangeError(`--log-level ${lvl}: one of ${LEVELS.join(', ')}`);
    logLevel = lvl as Level | undefined;
    quiet = values.quiet ?? false;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const t0 = Date.now();
  const result = await runChaos({
    seed,
    pods,
    timeScale,
    convergeTimeoutMs: timeoutS * 1000,
    ...(logLevel ? { logLevel } : {}),
    say: quiet ? () => {} : (line) => process.stderr.write(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`),
  });
  if (!quiet) {
    const by = FAULT_KINDS.map((k) => `${k} ${result.faults.byKind[k]}`).join(', ');
    process.stderr.write(
      `[chaos] seed ${result.seed}; faults by kind: ${by}; mismatched ${result.mismatched}, terminating ${result.terminating}, ` +
        `dead letters ${result.deadLetters} (${result.deadLettersWithoutReason} without a reason), stuck without an Event ${result.stuckWithoutEvent}; ` +
        `${result.durationSeconds.toFixed(1)} s in all\n`,
    );
  }
  process.stdout.write(`${formatLine(result)}\n`);
  for (const v of result.violations) process.stdout.write(`${v}\n`);
  return result.violations.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
