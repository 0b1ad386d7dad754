/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line) in its own Node
 * process, one after another. Benchmarks print figures beside their targets; they never fail on a number.
 * Extra flags after `--` are passed to each benchmark (e.g. `npm run bench -- --pods 200`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'bench');
const args = process.argv.slice(2);
const named = args.filter((a) => !a.startsWith('-') && /^[a-z0-9-]+$/.test(a));
const flags = args.filter((a) => !named.includes(a));
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => named.length === 0 || named.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

if (files.length === 0) {
  process.stderr.write('bench: no benchmark found\n');
  process.exit(1);
}
let failed = 0;
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
process.exit(failed ? 1 : 0);
