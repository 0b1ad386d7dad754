/**
 * The import rules of docs/architecture.md ("Layers and what each may import"), checked by reading every import of
 * every `.ts` file. The rules are read from that table, so every rule written there is guarded here, and a file no
 * row covers fails: a new folder gets its row in the doc first. A few core rules are also pinned below, so the
 * table cannot be loosened without this test saying so.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..', '..');
const roots = ['shared', 'functions', 'watcher', 'emulators', 'scripts', 'test', 'bench'];
const DOC = 'docs/architecture.md';
const HEADING = '## Layers and what each may import';

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

export interface LayerRule {
  path: string;
  project: string[];
  packages: string[];
  never: string[];
}

/** The backticked items of a table cell. */
function items(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
}

/** Reads the layers table (the first table after HEADING) of the architecture doc. */
export function parseLayerTable(doc: string): LayerRule[] {
  const start = doc.indexOf(HEADING);
  if (start < 0) throw new Error(`${DOC} has no "${HEADING}" section`);
  const lines = doc.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rules: LayerRule[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1);
    if (cells.length !== 5) throw new Error(`layers table row without 5 cells: ${line}`);
    const [path, , project, packages, never] = cells.map((c) => c.trim()) as [string, string, string, string, string];
    const p = items(path);
    if (p.length !== 1) throw new Error(`layers table row must name one path: ${line}`);
    rules.push({ path: p[0] as string, project: items(project), packages: items(packages), never: items(never) });
  }
  return rules;
}

const builtins = new Set(builtinModules);

/** A project import resolved to a repository path (`.js` → `.ts`), or a package name (`node:*` for built-ins). */
export function target(file: string, spec: string): { kind: 'project' | 'package'; name: string } {
  if (spec.startsWith('.')) {
    const p = normalize(join(dirname(file), spec)).split(sep).join('/').replace(/\.js$/, '.ts');
    return { kind: 'project', name: p };
  }
  if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0] as string)) return { kind: 'package', name: `node:${spec.replace(/^node:/, '')}` };
  const parts = spec.split('/');
  return { kind: 'package', name: spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string) };
}

function matches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*')) return name.startsWith(pattern.slice(0, -1));
  if (pattern.endsWith(':*')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern || name.startsWith(pattern);
}

/** The rule with the longest path that is a prefix of the file's path. */
export function ruleFor(rules: LayerRule[], file: string): LayerRule | undefined {
  return rules.filter((r) => file.startsWith(r.path)).sort((a, b) => b.path.length - a.path.length)[0];
}

export function violations(rules: LayerRule[], file: string, specs: string[]): string[] {
  const rule = ruleFor(rules, file);
  if (!rule) return [`${file}: no row of ${DOC}'s layers table covers it`];
  const bad: string[] = [];
  for (const spec of specs) {
    const t = target(file, spec);
    const allowed = (t.kind === 'project' ? rule.project : rule.packages).some((p) => matches(p, t.name));
    const forbidden = rule.never.some((p) => matches(p, t.name));
    if (!allowed || forbidden) bad.push(`${file} imports ${spec} (row ${rule.path})`);
  }
  return bad;
}

const rules = parseLayerTable(readFileSync(join(root, DOC), 'utf8'));
const files = roots.flatMap((r) => tsFiles(join(root, r))).map((f) => relative(root, f).split(sep).join('/'));

describe('import boundaries (docs/architecture.md, layers table)', () => {
  it('finds the source files and the rules it checks', () => {
    assert.ok(files.some((f) => f.startsWith('shared/domain/')), 'no domain files found');
    assert.ok(rules.length >= 10, `only ${rules.length} rows read from ${DOC}`);
  });

  it('parses import, export-from, dynamic import and require', () => {
    const src = "import a from 'x';\nexport { b } from \"y\";\nconst c = await import('z');\nrequire('w');";
    assert.deepEqual(importsOf(src), ['x', 'y', 'z', 'w']);
  });

  it('resolves imports to repository paths and package names', () => {
    assert.deepEqual(target('watcher/kubelet/index.ts', '../../shared/adapters/eci/exec.js'), { kind: 'project', name: 'shared/adapters/eci/exec.ts' });
    assert.deepEqual(target('scripts/build.ts', 'url'), { kind: 'package', name: 'node:url' });
    assert.deepEqual(target('shared/adapters/eci/sdk.ts', '@alicloud/eci20180808/dist/client'), { kind: 'package', name: '@alicloud/eci20180808' });
  });

  it('applies the most specific row, and says which import breaks which row', () => {
    const r: LayerRule[] = [
      { path: 'watcher/', project: ['watcher/', 'shared/ports/'], packages: ['node:*'], never: [] },
      { path: 'watcher/main.ts', project: ['watcher/', 'shared/'], packages: [], never: [] },
      { path: 'scripts/', project: ['*'], packages: ['*'], never: ['test/', '@alicloud/*'] },
    ];
    assert.deepEqual(violations(r, 'watcher/main.ts', ['../shared/adapters/eci/index.js']), []);
    assert.deepEqual(violations(r, 'watcher/x.ts', ['../shared/adapters/eci/index.js', 'node:fs', './y.js']), [
      'watcher/x.ts imports ../shared/adapters/eci/index.js (row watcher/)',
    ]);
    assert.deepEqual(violations(r, 'scripts/a/b.ts', ['../../test/unit/usecases/fakes.js', '@alicloud/mns', 'yaml']), [
      'scripts/a/b.ts imports ../../test/unit/usecases/fakes.js (row scripts/)',
      'scripts/a/b.ts imports @alicloud/mns (row scripts/)',
    ]);
    assert.deepEqual(violations(r, 'emulators/x.ts', []), [`emulators/x.ts: no row of ${DOC}'s layers table covers it`]);
  });

  it('keeps the core rules in the table', () => {
    const row = (p: string): LayerRule => {
      const r = rules.find((x) => x.path === p);
      assert.ok(r, `${DOC} has no row for ${p}`);
      return r;
    };
    assert.deepEqual(row('shared/domain/'), { path: 'shared/domain/', project: ['shared/domain/'], packages: ['zod'], never: [] });
    for (const p of ['shared/usecases/', 'watcher/', 'functions/', 'emulators/']) {
      assert.ok(!row(p).project.some((x) => x === '*' || 'shared/adapters/eci/'.startsWith(x)), `${p} may import the ECI adapter`);
    }
    const sdkRows = rules.filter((r) => r.packages.some((x) => matches(x, '@alicloud/eci20180808') || matches(x, '@kubernetes/client-node')));
    for (const r of sdkRows) {
      assert.ok(r.path.startsWith('shared/adapters/') || r.path === 'test/' || r.never.includes('@alicloud/*'), `${r.path} may import an SDK`);
    }
    assert.ok(row('scripts/').never.includes('bench/') && row('scripts/').never.includes('test/'), 'scripts may import bench/ or test/');
  });

  it('every import of every file follows its row', () => {
    const bad: string[] = [];
    for (const f of files) bad.push(...violations(rules, f, importsOf(readFileSync(join(root, f), 'utf8'))));
    assert.deepEqual(bad, []);
  });

  it('every row covers at least one file (no stale rule)', () => {
    assert.deepEqual(
      rules.filter((r) => !files.some((f) => f.startsWith(r.path))).map((r) => r.path),
      [],
    );
  });
});
