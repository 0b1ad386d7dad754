/**
 * Bundle figures: size of each bundle (function and watcher) and the time a FRESH Node process takes to load a
 * function bundle (`require`, i.e. the cold-start share the bundle is responsible for), median of several runs,
 * beside the targets (bundle <= 1.5 MB, load <= 150 ms). Builds into a temporary folder first. Never fails on a
 * number. `--runs N` (default 7).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles, discoverEntries, formatBytes, MAX_BUNDLE_BYTES } from '../scripts/build.js';
import { type Figure, figure, writeResult } from './results.js';

const LOAD_TARGET_MS = 150;
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 7;

/**
 * Load time measured inside the child (require only, not process start-up), in ms: wall clock, and the CPU time
 * (user + system) the require took, which a busy machine inflates much less than the wall clock.
 */
function loadMs(file: string, cwd: string): { wall: number; cpu: number } {
  const script =
    `const c=process.cpuUsage();const t=process.hrtime.bigint();require(${JSON.stringify(file)});` +
    'const u=process.cpuUsage(c);process.stdout.write(JSON.stringify({wall:Number(process.hrtime.bigint()-t)/1e6,cpu:(u.user+u.system)/1e3}))';
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })) as {
    wall: number;
    cpu: number;
  };
}

/** A fresh `node -e ''`: the runtime's own start-up, for comparison. */
function processStartMs(): number {
  const t = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', '']);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

const outDir = mkdtempSync(join(tmpdir(), 'eci-bridge-bench-bundles-'));
const figures: Figure[] = [];
try {
  const t0 = performance.now();
  const built = await buildBundles({ outDir, entries: discoverEntries() });
  process.stdout.write(`build: ${built.length} bundles in ${Math.round(performance.now() - t0)} ms\n\n`);
  process.stdout.write(
    `${'bundle'.padEnd(24)}${'size'.padStart(10)}${'target'.padStart(10)}${'load p50'.padStart(11)}${'min'.padStart(8)}${'max'.padStart(8)}${'target'.padStart(9)}${'cpu p50'.padStart(9)}\n`,
  );
  for (const b of built) {
    const size = `${formatBytes(b.bytes)}${b.bytes > MAX_BUNDLE_BYTES ? '!' : ''}`;
    let load = ['-', '-', '-', '-'];
    // MB as formatBytes counts them (1024²); the 1.5 MB target is the function bundles' (the watcher is an image)
    const mb = 1024 * 1024;
    const sizeTarget = b.name.startsWith('functions/') ? { op: '<=' as const, value: MAX_BUNDLE_BYTES / mb } : undefined;
    figures.push(figure(`bundles.${b.name}.size`, `${b.name} bundle size`, b.bytes / mb, 'MB', sizeTarget));
    if (b.name.startsWith('functions/')) {
      loadMs(b.file, outDir); // warm the OS file cache
      const ms = Array.from({ length: runs }, () => loadMs(b.file, outDir));
      const xs = ms.map((m) => m.wall);
      const p50 = median(xs);
      figures.push(figure(`bundles.${b.name}.load`, `${b.name} load, fresh process (p50)`, p50, 'ms', { op: '<=', value: LOAD_TARGET_MS }));
      figures.push(figure(`bundles.${b.name}.loadCpu`, `${b.name} load CPU time (p50)`, median(ms.map((m) => m.cpu)), 'ms'));
      load = [
        `${p50.toFixed(0)} ms${p50 > LOAD_TARGET_MS ? '!' : ''}`,
        `${Math.min(...xs).toFixed(0)}`,
        `${Math.max(...xs).toFixed(0)}`,
        `${median(ms.map((m) => m.cpu)).toFixed(0)} ms`,
      ];
    }
    process.stdout.write(
      `${b.name.padEnd(24)}${size.padStart(10)}${formatBytes(MAX_BUNDLE_BYTES).padStart(10)}${(load[0] ?? '').padStart(11)}${(load[1] ?? '').padStart(8)}${(load[2] ?? '').padStart(8)}${`${LOAD_TARGET_MS} ms`.padStart(9)}${(load[3] ?? '').padStart(9)}\n`,
    );
  }
  const starts = Array.from({ length: runs }, processStartMs);
  figures.push(figure('bundles.nodeStartup', 'node start-up alone (not in load)', median(starts), 'ms'));
  writeResult('bundles', figures);
  process.stdout.write(`\nnode start-up alone (node -e ''): p50 ${median(starts).toFixed(0)} ms  (not included in load)\n`);
  process.stdout.write(`'!' marks a figure over its target; runs per bundle: ${runs}; the watcher is not loaded (it starts serving).\n`);
  process.stdout.write(`cpu p50: CPU time (user + system) of the require; on a busy machine it is the steadier figure.\n`);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
