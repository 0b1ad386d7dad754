/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line) in its own Node
 * process, one after another. Benchmarks print figures beside their targets; they never fail on a number.
 * Extra flags after `--` are passed to each benchmark (e.g. `npm run bench -- --pods 200`).
 * Afterwards the results this run wrote (bench/results/<name>.json, bench/results.ts) are printed as ONE table,
 * every figure beside its target, and gathered into bench/results/latest.json so runs can be compared.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregate, formatTable, machine, RESULTS_DIR, readResults } from './results.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'bench');
const args = process.argv.slice(2);
const all = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
// A bare word that names a benchmark selects it; everything else (flags and their values) goes to each one.
const named = args.filter((a) => all.includes(a));
const flags = args.filter((a) => !all.includes(a));
const files = all.filter((n) => named.length === 0 || named.includes(n)).map((n) => `${n}.bench.ts`);

if (files.length === 0) {
  process.stderr.write('bench: no benchmark found\n');
  process.exit(1);
}
let failed = 0;
const startedAt = Date.now();
for (const f of files) {
  process.stdout.write(`\n=== ${f.replace(/\.bench\.ts$/, '')}\n`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, f), ...flags], {
    stdio: 'inherit',
    cwd: root,
  });
  if (res.status !== 0) {
    failed++;
    process.stderr.write(`bench: ${f} did not complete (exit ${res.status})\n`);
  }
}
// this run's: written since it started, by a benchmark it ran (another run in the same tree may write others)
const ran = files.map((f) => f.replace(/\.bench\.ts$/, ''));
const results = readResults(RESULTS_DIR, startedAt).filter((r) => ran.includes(r.name));
if (results.length > 0) {
  const agg = aggregate(results, new Date(), machine());
  process.stdout.write(`\n=== all figures (${results.map((r) => r.name).join(', ')})\n${formatTable(agg)}\n`);
  const latest = join(RESULTS_DIR, 'latest.json');
  writeFileSync(latest, `${JSON.stringify({ ...agg, args }, null, 2)}\n`);
  process.stdout.write(`written to ${latest}\n`);
}
process.exit(failed ? 1 : 0);
