/**
 * `npm run fuzz`: the two fuzz campaigns, seeded and repeatable.
 *   npm run fuzz -- [--seed N] [--runs N] [--pods N] [--messages N] [--only pods|messages]
 * `--runs` sets both campaigns; `--pods` / `--messages` set one. Prints the summary table and exits 1 on any crash,
 * unhandled rejection or uncaught exception (replay a reported case with the same seed and runs).
 */
import { messageCampaign } from './messages.js';
import { podCampaign } from './pods.js';
import { type CampaignResult, clean, formatSummary } from './report.js';

export const DEFAULT_SEED = 20_260_101;
export const DEFAULT_PODS = 2000;
export const DEFAULT_MESSAGES = 2000;

function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function count(v: string | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${what} must be a non-negative integer`);
  return n;
}

export async function run(argv: readonly string[]): Promise<number> {
  const seed = count(flag(argv, 'seed'), DEFAULT_SEED, 'seed');
  const runs = flag(argv, 'runs');
  const pods = count(flag(argv, 'pods') ?? runs, DEFAULT_PODS, 'pods');
  const messages = count(flag(argv, 'messages') ?? runs, DEFAULT_MESSAGES, 'messages');
  const only = flag(argv, 'only');
  const results: CampaignResult[] = [];
  if (only !== 'messages') {
    process.stdout.write(`fuzz: ${pods} pod specs (seed ${seed})…\n`);
    results.push(await podCampaign({ seed, runs: pods }));
  }
  if (only !== 'pods') {
    process.stdout.write(`fuzz: ${messages} queue events through pod-sync (seed ${seed})…\n`);
    results.push(await messageCampaign({ seed, runs: messages }));
  }
  process.stdout.write(`\n${formatSummary(results)}\n`);
  const ok = results.every(clean);
  process.stdout.write(ok ? '\nfuzz: no crash, no unhandled rejection\n' : '\nfuzz: FAILED (see the problems above)\n');
  return ok ? 0 : 1;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
