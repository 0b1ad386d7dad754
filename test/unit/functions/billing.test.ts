/** The billing function's choice of period from the timer payload (the rest is tested end to end). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BillingRunError, periodOf } from '../../../functions/billing/index.js';

const NOW = Date.parse('2024-05-01T10:05:00Z');
const iso = (t: number) => new Date(t).toISOString();

describe('billing: the period to report', () => {
  const cases: [string, string | undefined, string][] = [
    ['no payload: the previous hour', undefined, '2024-05-01T09:00:00.000Z'],
    ['the timer payload', '{"mode":"hourly"}', '2024-05-01T09:00:00.000Z'],
    ['plain text', 'hourly', '2024-05-01T09:00:00.000Z'],
    ['a named complete hour', '{"period":"2024-04-30T23:00Z"}', '2024-04-30T23:00:00.000Z'],
    ['a named hour in full ISO form', '{"period":"2024-05-01T09:00:00.000Z"}', '2024-05-01T09:00:00.000Z'],
  ];
  for (const [what, payload, start] of cases) {
    it(what, () => {
      const p = periodOf(payload, NOW);
      assert.equal(iso(p.start), start);
      assert.equal(p.end - p.start, 3_600_000);
    });
  }

  const refused: [string, string, RegExp][] = [
    ['the running hour', '{"period":"2024-05-01T10:00Z"}', /not complete/],
    ['not an hour start', '{"period":"2024-05-01T09:30Z"}', /UTC hour/],
    ['not a time', '{"period":"yesterday"}', /UTC hour/],
  ];
  for (const [what, payload, re] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => periodOf(payload, NOW), (e: unknown) => e instanceof BillingRunError && e.kind === 'permanent' && re.test(e.message));
    });
  }
});
