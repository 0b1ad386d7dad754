/**
 * The chaos suite, short: 30 pods with a fixed seed through every fault at once (queue duplicates, reordering,
 * drops and corruption; ECI throttling, 5xx, lost create responses and a sold-out zone; Kubernetes 409s, 500s,
 * latency and cut watches through the fault proxy; three watcher restarts and one apiserver restart), on a private
 * control plane. Every invariant must hold once the faults are lifted (no pod ever had two groups created, counted
 * from every create ECI accepted), and every fault kind must have fired, so the run cannot pass without having
 * been tested. `npm run chaos` runs the long one (300 pods).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { type ChaosResult, FAULT_KINDS, formatLine, runChaos } from '../../../scripts/chaos/run.js';
import { apiserverBinary } from '../../../scripts/testenv/controlPlane.js';

const skip = existsSync(apiserverBinary()) && existsSync('/usr/bin/etcd') ? false : 'the local kube-apiserver is not built (npm run testenv -- install)';

describe('chaos suite (30 pods, seed 20240611)', { skip }, () => {
  let result: ChaosResult;

  before(async () => {
    result = await runChaos({ seed: 20240611, pods: 30, timeScale: 0.05, convergeTimeoutMs: 120_000 });
  });

  it('converges with every invariant holding', () => {
    assert.deepEqual(result.violations, [], formatLine(result));
    assert.equal(result.duplicates, 0, 'no pod ever had a second group created, not even for a moment');
    assert.ok(result.fallbacks >= 1, 'the spot pod fell back to on-demand (its own ClientToken), once');
    assert.equal(result.orphans, 0);
    assert.equal(result.lost, 0);
    assert.equal(result.mismatched, 0);
    assert.equal(result.terminating, 0);
    assert.equal(result.deadLettersWithoutReason, 0);
    assert.equal(result.stuckWithoutEvent, 0);
    assert.notEqual(result.convergedSeconds, undefined);
  });

  it('injected every fault kind at least once (the run is not vacuous)', () => {
    for (const k of FAULT_KINDS) assert.ok(result.faults.byKind[k] > 0, `${k} never fired`);
    assert.equal(result.faults.byKind.watcherRestart, 3);
    assert.equal(result.faults.byKind.apiserverRestart, 1);
  });

  it('dead-lettered the corrupted messages, each with its reason', () => {
    assert.ok(result.deadLetters >= 1, 'corrupted messages reach the dead-letter queue');
    assert.ok(result.deadLetters <= result.faults.byKind.corrupted, 'only corrupted messages are dead-lettered');
  });

  it('reports the one-line summary', () => {
    assert.match(formatLine(result), /^chaos: 30 pods, \d+ faults, 0 duplicates ever created \(\d+ spot fallbacks\), 0 orphans, 0 lost, converged in \d+\.\d s$/);
  });
});
