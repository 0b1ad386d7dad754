/**
 * The sandbox's re-run check (scripts/sandbox/bill.ts): re-running the reconcile function must change nothing, but
 * gc's timer runs beside it and may move a `reported` leak record to a final state meanwhile — that is gc's doing
 * and must not count, while anything the reconciliation itself could rewrite must.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leakRecordChanges } from '../../../scripts/sandbox/bill.js';

const record = (state: string, over: Record<string, string> = {}) =>
  JSON.stringify({ day: '2026-12-05', reason: 'unknown', billed: '2.40', currency: 'CNY', state, at: '2026-12-05T10:00:00Z', ...over });

describe('leakRecordChanges', () => {
  it('leaves out gc moving a reported record to a final state', () => {
    assert.deepEqual(leakRecordChanges({ g1: record('reported') }, { g1: record('deleted', { at: '2026-12-05T10:00:03Z' }) }), []);
    assert.deepEqual(leakRecordChanges({ g1: record('gone') }, { g1: record('gone') }), []);
  });

  it('names a record added, removed, or with its day, cause or amount changed', () => {
    assert.deepEqual(leakRecordChanges({}, { g2: record('reported') }), ['leak record g2 added']);
    assert.deepEqual(leakRecordChanges({ g2: record('reported') }, {}), ['leak record g2 removed']);
    assert.deepEqual(leakRecordChanges({ g1: record('reported') }, { g1: record('reported', { billed: '3.00' }) }), ['leak record g1 rewritten']);
    assert.deepEqual(leakRecordChanges({ g1: record('reported') }, { g1: '{not json' }), ['leak record g1 rewritten']);
  });

  it('names a record moved back to reported, or from one final state to another', () => {
    assert.deepEqual(leakRecordChanges({ g1: record('deleted') }, { g1: record('reported') }), ['leak record g1 moved deleted → reported']);
    assert.deepEqual(leakRecordChanges({ g1: record('gone') }, { g1: record('deleted') }), ['leak record g1 moved gone → deleted']);
  });
});
