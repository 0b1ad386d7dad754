/**
 * The generated tables of the docs (configuration variables in docs/configuration.md, refusal and warning codes in
 * docs/translation.md) match the code that defines them: regenerated here with scripts/docs/generate.ts, the one
 * generator `npm run docs` runs.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { configTable, fill, generate, refusalTable, warningTable } from '../../../scripts/docs/generate.js';
import { ConfigSchema } from '../../../shared/domain/config.js';
import { VIOLATIONS, WARNINGS } from '../../../shared/domain/errors.js';

const root = join(import.meta.dirname, '..', '..', '..');

describe('generated docs', () => {
  for (const d of generate(root)) {
    it(`${d.path} matches the code (else: run npm run docs)`, () => {
      assert.equal(d.current, d.wanted, `${d.path} is out of date: run npm run docs`);
    });
  }

  it('lists every configuration variable with its default and description', () => {
    const table = configTable(ConfigSchema.shape);
    for (const name of Object.keys(ConfigSchema.shape)) assert.match(table, new RegExp(`^\\| \`${name}\` \\|`, 'm'));
    assert.match(table, /^\| `ECI_REGION` \| `cn-hangzhou` \| /m);
    assert.match(table, /^\| `ECI_SECURITY_GROUP_ID` \| — \| /m);
  });

  it('refuses a configuration variable without a description', () => {
    assert.throws(() => configTable({ UNDESCRIBED: z.string().default('x') }), /UNDESCRIBED has no \.describe\(\) text/);
  });

  it('lists every refusal code with its alternative, and every warning code', () => {
    const refusals = refusalTable(VIOLATIONS, new Set(['MissingSecret']));
    for (const [code, alt] of Object.entries(VIOLATIONS)) assert.ok(refusals.includes(`| \`${code}\` | ${alt.replace(/\|/g, '\\|').replace(/</g, '&lt;')} |`), code);
    assert.match(refusals, /^\| `MissingSecret` \| .* \| retried: the object may appear \|$/m);
    assert.match(refusals, /^\| `HostPathVolume` \| .* \| refused \|$/m);
    const warnings = warningTable(WARNINGS);
    for (const code of Object.keys(WARNINGS)) assert.match(warnings, new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });

  it('rewrites only the text between the markers, and needs them', () => {
    const doc = 'before\n<!-- generated:t (npm run docs; do not edit) -->\nold\n<!-- /generated:t -->\nafter\n';
    assert.equal(fill(doc, 't', 'new'), 'before\n<!-- generated:t (npm run docs; do not edit) -->\nnew\n<!-- /generated:t -->\nafter\n');
    assert.throws(() => fill('no markers', 't', 'x'), /markers/);
  });
});
