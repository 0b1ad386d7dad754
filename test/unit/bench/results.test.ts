import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  aggregate,
  type BenchResult,
  figure,
  formatTable,
  formatTarget,
  formatValue,
  meets,
  percentile,
  readResults,
  writeResult,
} from '../../../bench/results.js';
import { resourceOf } from '../../../scripts/chaos/kubeFaultProxy.js';

const mach = { cpus: 2, loadavg: [1.5, 1.25, 1] };

function result(name: string, at: string, figures: BenchResult['figures']): BenchResult {
  return { name, at, machine: mach, figures };
}

describe('bench results: targets', () => {
  it('meets compares by the target operator, inclusive', () => {
    assert.equal(meets(250, { op: '<=', value: 250 }), true);
    assert.equal(meets(251, { op: '<=', value: 250 }), false);
    assert.equal(meets(100, { op: '>=', value: 100 }), true);
    assert.equal(meets(99.9, { op: '>=', value: 100 }), false);
  });

  it('a missing value meets no target, and is stored as null (JSON has no NaN)', () => {
    assert.equal(meets(null, { op: '>=', value: 0 }), false);
    const f = figure('k', 'label', Number.NaN, 'ms', { op: '<=', value: 1 });
    assert.equal(f.value, null);
    assert.equal(f.met, false);
    assert.equal(figure('k', 'l', undefined, 'ms').value, null);
    assert.equal(JSON.parse(JSON.stringify(f)).value, null);
  });

  it('a figure without a target has no met field', () => {
    const f = figure('k', 'label', 3, 'MB');
    assert.equal('met' in f, false);
    assert.equal('target' in f, false);
  });
});

describe('bench results: aggregation', () => {
  const a = result('alpha', '2026-01-01T00:00:10.000Z', [
    figure('alpha.p99', 'alpha p99', 120, 'ms', { op: '<=', value: 250 }),
    figure('alpha.rss', 'alpha rss', 80, 'MB'),
  ]);
  const b = result('beta', '2026-01-01T00:00:20.000Z', [figure('beta.rate', 'beta rate', 40, 'pods/s', { op: '>=', value: 100 })]);

  it('keeps bench order, tags each figure with its bench and counts met / not met among targeted figures', () => {
    const agg = aggregate([a, b], new Date('2026-01-01T00:01:00.000Z'), mach);
    assert.deepEqual(agg.benches, ['alpha', 'beta']);
    assert.deepEqual(
      agg.figures.map((f) => [f.bench, f.key]),
      [
        ['alpha', 'alpha.p99'],
        ['alpha', 'alpha.rss'],
        ['beta', 'beta.rate'],
      ],
    );
    assert.deepEqual(agg.summary, { figures: 3, withTarget: 2, met: 1, notMet: 1 });
    assert.equal(agg.at, '2026-01-01T00:01:00.000Z');
  });

  it('the table has one row per figure, each beside its target and verdict, and the load average', () => {
    const text = formatTable(aggregate([a, b], new Date(), mach));
    const lines = text.split('\n');
    const row = (key: string) => lines.find((l) => l.includes(key)) ?? '';
    assert.match(row('alpha p99'), /120 ms\s+<= 250 ms\s+met$/);
    assert.match(row('beta rate'), /40 pods\/s\s+>= 100 pods\/s\s+NOT met$/);
    assert.doesNotMatch(row('alpha rss'), /met/);
    assert.match(text, /2 figures with a target: 1 met, 1 not met; load average 1.5 1.25 1 on 2 CPUs/);
    // columns line up: every row's value column ends at the same place
    const ends = ['alpha p99', 'alpha rss', 'beta rate'].map((k) => {
      const l = row(k);
      const v = k === 'alpha rss' ? '80 MB' : k === 'alpha p99' ? '120 ms' : '40 pods/s';
      return l.indexOf(v) + v.length;
    });
    assert.equal(new Set(ends).size, 1);
  });

  it('formats values with sensible precision, a dash when missing', () => {
    assert.equal(formatValue(null, 'ms'), '-');
    assert.equal(formatValue(1234.56, 'ms'), '1,235 ms');
    assert.equal(formatValue(12.345, 'ms'), '12.3 ms');
    assert.equal(formatValue(0.857, 'MB'), '0.86 MB');
    assert.equal(formatValue(4, ''), '4');
    assert.equal(formatTarget({ op: '>=', value: 100 }, 'pods/s'), '>= 100 pods/s');
    assert.equal(formatTarget(undefined, 'ms'), '');
  });
});

describe('bench results: files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-results-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads back what writeResult wrote in this run, skipping older results, latest.json and foreign files", () => {
    writeFileSync(join(dir, 'old.json'), JSON.stringify(result('old', '2000-01-01T00:00:00.000Z', [])));
    writeFileSync(join(dir, 'latest.json'), JSON.stringify(result('latest', new Date().toISOString(), [])));
    writeFileSync(join(dir, 'foreign.json'), JSON.stringify({ at: new Date().toISOString(), pods: 3 }));
    writeFileSync(join(dir, 'broken.json'), '{"name":');
    const since = Date.now() - 1;
    writeResult('fresh', [figure('fresh.x', 'x', 1, 'ms', { op: '<=', value: 2 })], dir);
    const got = readResults(dir, since);
    assert.deepEqual(
      got.map((r) => r.name),
      ['fresh'],
    );
    assert.equal(got[0]?.figures[0]?.met, true);
    assert.equal(typeof got[0]?.machine.cpus, 'number');
  });

  it('a missing folder is no results', () => {
    assert.deepEqual(readResults(join(dir, 'nope'), 0), []);
  });
});

describe('counting proxy: resource of a request', () => {
  it('names the resource and subresource, namespaced or not, core or grouped', () => {
    assert.equal(resourceOf('/api/v1/namespaces/ns/pods/web/status?fieldManager=x'), 'pods/status');
    assert.equal(resourceOf('/api/v1/namespaces/ns/pods'), 'pods');
    assert.equal(resourceOf('/api/v1/namespaces/ns/events'), 'events');
    assert.equal(resourceOf('/apis/coordination.k8s.io/v1/namespaces/eci-bridge/leases/l'), 'leases');
    assert.equal(resourceOf('/api/v1/nodes/vn/status'), 'nodes/status');
    assert.equal(resourceOf('/api/v1/namespaces/ns'), 'namespaces');
    assert.equal(resourceOf('/api/v1/namespaces/ns/serviceaccounts/default/token'), 'serviceaccounts/token');
  });
});

describe('percentile', () => {
  it('is the nearest-rank value, NaN when empty', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});

