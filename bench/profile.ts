/**
 * Summaries of a V8 CPU profile (`.cpuprofile`, what `node --cpu-prof` and the inspector's Profiler write):
 * the top self-time entries and the time by package, as shares of the busy samples ("(idle)" left out).
 */
import { readFileSync } from 'node:fs';

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
}

/** `file:///x/node_modules/@alicloud/tea-util/dist/client.js` → `@alicloud/tea-util`; a project file → its top two dirs. */
export function packageOf(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '');
  }
  const m = /\/(bench|emulators|functions|scripts|shared|watcher)\/([^/]+)/.exec(url);
  return m ? `${m[1]}/${m[2]?.replace(/\.[cm]?[jt]s$/, '')}` : url.replace(/^file:\/\//, '');
}

export function summarise(p: CpuProfile, n = 8): { top: string[]; byPackage: string[]; busySamples: number } {
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let busy = 0;
  for (const node of p.nodes) {
    const hits = node.hitCount ?? 0;
    const f = node.callFrame;
    if (hits === 0 || f.functionName === '(idle)') continue;
    busy += hits;
    const pkg = f.url ? packageOf(f.url) : f.functionName;
    const k = `${f.functionName || '(anonymous)'}${f.url ? ` (${pkg}:${f.lineNumber + 1})` : ''}`;
    fns.set(k, (fns.get(k) ?? 0) + hits);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + hits);
  }
  const fmt = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / Math.max(1, busy)).toFixed(1)} % ${k}`);
  return { top: fmt(fns), byPackage: fmt(pkgs), busySamples: busy };
}

export function summariseFile(file: string, n = 8): ReturnType<typeof summarise> {
  return summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, n);
}
