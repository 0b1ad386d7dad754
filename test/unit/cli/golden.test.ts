/**
 * Golden files: every test/fixtures/golden/<case>.yaml is run through `eci-bridge translate` and `validate`
 * (in-process, fixed defaults, no environment) and compared with <case>.golden.json.
 * Regenerate with `UPDATE_GOLDEN=1 node --import tsx --test test/unit/cli/golden.test.ts`, then review the diff.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Io } from '../../../scripts/commands/_manifests.js';
import { translateCommand } from '../../../scripts/commands/translate.js';
import { validateCommand } from '../../../scripts/commands/validate.js';

const dir = join(import.meta.dirname, '..', '..', 'fixtures', 'golden');
const io: Io = { readFile: (p) => readFileSync(p, 'utf8'), env: {} };
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -5))
  .sort();

function outcome(o: { code: number; stdout: string; stderr: string }): unknown {
  return { exitCode: o.code, output: o.stdout ? JSON.parse(o.stdout) : null, stderr: o.stderr.split('\n').filter(Boolean) };
}

describe('golden manifests', () => {
  it('has the realistic cases the issue names', () => {
    for (const c of ['web-deployment', 'job-args-only', 'statefulset-pvc', 'default-token-pod', 'init-containers', 'gpu-pod', 'spot-pod']) {
      assert.ok(cases.includes(c), `missing golden case ${c}`);
    }
  });

  for (const c of cases) {
    it(c, () => {
      // Prepare
      const file = join(dir, `${c}.yaml`);
      // Act
      const actual = {
        translate: outcome(translateCommand(['-f', file], io)),
        validate: outcome(validateCommand(['-f', file], io)),
      };
      // Assess
      const goldenPath = join(dir, `${c}.golden.json`);
      const text = `${JSON.stringify(actual, null, 2).replaceAll(dir, '<golden>')}\n`;
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(goldenPath, text);
      assert.deepEqual(JSON.parse(text), JSON.parse(readFileSync(goldenPath, 'utf8')));
    });
  }
});
