/**
 * Every refusal and warning code (shared/domain/errors.ts, the one place they live) is in the README's translation
 * tables, so a new code cannot ship undocumented. (Issue 15 will generate those tables from the same objects.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VIOLATIONS, WARNINGS } from '../../../shared/domain/errors.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Translation: pod → ECI'), readme.indexOf('### Status: ECI → pod'));

describe('refusal and warning codes are documented', () => {
  it('the README translation section names every violation code', () => {
    assert.deepEqual(Object.keys(VIOLATIONS).filter((c) => !section.includes(c)), []);
  });
  it('the README translation section names every warning code', () => {
    assert.deepEqual(Object.keys(WARNINGS).filter((c) => !section.includes(c)), []);
  });
});
