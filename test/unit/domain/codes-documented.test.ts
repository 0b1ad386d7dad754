/**
 * Every refusal and warning code (shared/domain/errors.ts, the one place they live) is in docs/translation.md, so a
 * new code cannot ship undocumented (the tables there are generated from the same objects: `npm run docs`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VIOLATIONS, WARNINGS } from '../../../shared/domain/errors.js';

const section = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'translation.md'), 'utf8');

describe('refusal and warning codes are documented', () => {
  it('docs/translation.md names every violation code', () => {
    assert.deepEqual(Object.keys(VIOLATIONS).filter((c) => !section.includes(c)), []);
  });
  it('docs/translation.md names every warning code', () => {
    assert.deepEqual(Object.keys(WARNINGS).filter((c) => !section.includes(c)), []);
  });
});
