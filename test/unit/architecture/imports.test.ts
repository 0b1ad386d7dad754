/**
 * The dependency rules of ARCHITECTURE.md, checked by reading every import:
 * - `@alicloud/*` and `@kubernetes/client-node` only under `shared/adapters/` (and the watcher's entry);
 * - `shared/domain/` imports nothing but zod and its own files;
 * - `shared/sim/` (simulation code: the MNS queue model, the EventBridge delivery loop, the FC runtime contract, the
 *   seeded RNG) imports nothing but zod, its own files and `shared/domain/`;
 * - `emulators/` import nothing of the bridge but `shared/domain/` and `shared/sim/`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..', '..');
const roots = ['shared', 'functions', 'watcher', 'emulators', 'scripts', 'test', 'bench'];

function tsFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"`]([^'"`]+)['"`]|require\(\s*['"]([^'"]+)['"]/g;

export function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec) found.push(spec);
  }
  return found;
}

const files = roots.flatMap((r) => tsFiles(join(root, r))).map((f) => relative(root, f).split(sep).join('/'));

describe('import boundaries', () => {
  it('finds the source files it checks', () => {
    assert.ok(files.some((f) => f.startsWith('shared/domain/')), 'no domain files found');
  });

  it('parses import, export-from, dynamic import and require', () => {
    const src = "import a from 'x';\nexport { b } from \"y\";\nconst c = await import('z');\nrequire('w');";
    assert.deepEqual(importsOf(src), ['x', 'y', 'z', 'w']);
  });

  it('keeps the cloud and Kubernetes SDKs inside shared/adapters (and the watcher entry)', () => {
    const bad: string[] = [];
    for (const f of files) {
      if (f.startsWith('shared/adapters/') || f === 'watcher/main.ts' || f.startsWith('test/')) continue;
      const src = readFileSync(join(root, f), 'utf8');
      for (const spec of importsOf(src)) {
        if (spec.startsWith('@alicloud/') || spec === '@kubernetes/client-node') bad.push(`${f} imports ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('keeps shared/domain pure: zod and its own files only', () => {
    const bad: string[] = [];
    for (const f of files.filter((x) => x.startsWith('shared/domain/'))) {
      const src = readFileSync(join(root, f), 'utf8');
      for (const spec of importsOf(src)) {
        if (spec === 'zod' || spec.startsWith('./')) continue;
        bad.push(`${f} imports ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('keeps shared/sim on the domain: zod, its own files and shared/domain only', () => {
    const bad: string[] = [];
    for (const f of files.filter((x) => x.startsWith('shared/sim/'))) {
      const src = readFileSync(join(root, f), 'utf8');
      for (const spec of importsOf(src)) {
        if (spec === 'zod' || spec.startsWith('./') || spec.startsWith('../domain/')) continue;
        bad.push(`${f} imports ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('keeps the emulators apart from the bridge (domain and simulation code at most)', () => {
    const bad: string[] = [];
    for (const f of files.filter((x) => x.startsWith('emulators/'))) {
      const src = readFileSync(join(root, f), 'utf8');
      for (const spec of importsOf(src)) {
        if (spec.startsWith('../') && /\/(shared)\//.test(`/${spec}`) && !/shared\/(domain|sim)\//.test(spec)) {
          bad.push(`${f} imports ${spec}`);
        }
        if (spec.startsWith('@alicloud/') || spec === '@kubernetes/client-node') bad.push(`${f} imports ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
