/**
 * A short, seeded run of both fuzz campaigns (test/fuzz; `npm run fuzz` runs the long one): no crash, no unhandled
 * rejection, every case in a typed outcome — and every outcome class seen, so the run cannot pass vacuously.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MESSAGE_OUTCOMES, messageCampaign } from '../../fuzz/messages.js';
import { POD_OUTCOMES, podCampaign } from '../../fuzz/pods.js';
import type { CampaignResult } from '../../fuzz/report.js';

const SEED = 424242;

function assertClean(r: CampaignResult, typed: readonly string[]): void {
  assert.deepEqual(r.problems, [], r.problems.join('\n'));
  assert.equal(r.crashes, 0);
  assert.equal(r.unhandledRejections, 0);
  assert.equal(r.uncaughtExceptions, 0);
  for (const k of Object.keys(r.outcomes)) assert.ok(typed.includes(k), `untyped outcome ${k}`);
  for (const k of typed) assert.ok((r.outcomes[k] ?? 0) > 0, `outcome ${k} never occurred: ${JSON.stringify(r.outcomes)}`);
}

describe('fuzz campaigns (short seeded run)', () => {
  it('pods: 200 arbitrary and hostile specs end translated (within ECI limits) or refused (with reasons)', async () => {
    const r = await podCampaign({ seed: SEED, runs: 200 });
    assert.equal(r.runs, 200);
    assertClean(r, POD_OUTCOMES);
    assert.equal((r.outcomes.translated ?? 0) + (r.outcomes.refused ?? 0), 200);
  });

  it('queue messages: 200 malformed, oversized and hostile events through pod-sync: processed or dead-lettered with a reason', async () => {
    const r = await messageCampaign({ seed: SEED, runs: 200 });
    assert.equal(r.runs, 200);
    assertClean(r, MESSAGE_OUTCOMES);
    for (const reason of ['schema', 'not-base64', 'not-json', 'too-large', 'envelope']) {
      assert.ok((r.details[`dead-lettered: ${reason}`] ?? 0) > 0, `no dead letter with reason ${reason}: ${JSON.stringify(r.details)}`);
    }
    assert.ok((r.details['events > 1 MiB'] ?? 0) > 0, 'no multi-MB event was generated');
  });
});
