/**
 * watcher/Dockerfile and .dockerignore: a supported LTS Node pinned by digest, only the bundle copied (no source map),
 * and a build context that holds nothing else (no node_modules, no .env.functions with KUBE_TOKEN).
 * .dockerignore is evaluated as Docker does: each pattern matches a path or one of its parent directories, `*`
 * within one path segment, `!` re-includes, the last matching pattern wins.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..', '..');
const dockerfile = readFileSync(join(root, 'watcher', 'Dockerfile'), 'utf8');
const patterns = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

function segmentRe(p: string): RegExp {
  return new RegExp(`^${p.split('/').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('/')}$`);
}
/** Whether Docker sends `path` in the build context. */
function inContext(path: string): boolean {
  let excluded = false;
  const parts = path.split('/');
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = segmentRe(negate ? raw.slice(1) : raw);
    const matches = parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')));
    if (matches) excluded = !negate;
  }
  return !excluded;
}

const copies = [...dockerfile.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/));

describe('the watcher image', () => {
  it('runs a supported LTS Node, pinned by digest', () => {
    const from = /^FROM\s+node:(\d+)[^@\s]*@sha256:[0-9a-f]{64}\s*$/m.exec(dockerfile);
    assert.ok(from, 'FROM node:<major>…@sha256:<digest>');
    const major = Number(from[1]);
    // Node 20 reached end of life on 2026-04-30; even majors are LTS
    assert.ok(major >= 22 && major % 2 === 0, `node ${major}`);
  });

  it('copies only the bundle and its package.json, never a source map', () => {
    assert.deepEqual(copies.sort(), ['dist/watcher/index.js', 'dist/watcher/package.json']);
    assert.ok(!copies.some((c) => c.endsWith('.map')));
    assert.match(dockerfile, /^USER node$/m);
  });

  it('sends only those files as the build context', () => {
    for (const c of copies) assert.ok(inContext(c), `${c} must be in the context`);
    for (const p of ['.env.functions', 'node_modules/yaml/package.json', 'dist/watcher/index.js.map', 'dist/functions/gc/index.js', 'shared/compose.ts', '.git/config', 's.yaml']) {
      assert.ok(!inContext(p), `${p} must stay out of the context`);
    }
  });
});
