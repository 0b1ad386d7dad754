/**
 * `npm start`'s sandbox, run programmatically end to end: a private kube-apiserver, kube-scheduler and
 * kube-controller-manager + etcd, the ECI emulator over the real SDK, the watcher, the admission webhooks, the
 * embedded queue and delivery feeding the real pod-sync handler, status-sync and gc on timers; the demo workloads
 * must end as promised, the day they ran in must reconcile against the BSS emulator's bill (a spot discount, a
 * mispriced instance type, a stray group) and re-running it change nothing, nothing may be left over, and nothing may
 * be left running.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { DEMO_PODS } from '../../../scripts/sandbox/demo.js';
import { runSandbox, type StartResult } from '../../../scripts/sandbox/index.js';
import { binariesBuilt } from '../../../scripts/testenv/controlPlane.js';

const skip = binariesBuilt() && existsSync('/usr/bin/etcd') ? false : 'the local control plane is not built (npm run testenv -- install)';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Resolves true when nothing accepts connections at `url` any more. */
async function refuses(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    return code === 'ECONNREFUSED';
  }
}

describe('npm start sandbox', { skip }, () => {
  let result: StartResult;
  const out = new Capture();

  before(async () => {
    // the CronJob runs on the next minute: up to 70 s
    result = await runSandbox({ out, live: false, timeScale: 0.05, settleTimeoutMs: 150_000 });
  });

  it('meets every demo expectation and exits 0', () => {
    assert.deepEqual(
      result.expectations.map((e) => e.pod),
      [...DEMO_PODS],
    );
    for (const e of result.expectations) assert.ok(e.ok, `${e.pod}: expected ${e.expected}, got ${e.actual}`);
    assert.deepEqual(result.failures, []);
    assert.equal(result.exitCode, 0);
  });

  it('creates one container group per runnable pod (none for the refused Deployment) and deletes them all', () => {
    const by = result.eciCalls?.byAction ?? {};
    // web 2, job 2, cron >= 1, job-fail, profile, deleted
    assert.ok((by.CreateContainerGroup ?? 0) >= 8, `creates: ${by.CreateContainerGroup}`);
    assert.ok((by.DeleteContainerGroup ?? 0) >= (by.CreateContainerGroup ?? 0), 'every group was deleted through the API');
    assert.equal(result.groupsLeft, 0);
  });

  it('prints the progress, the table, the apply-time refusal and a summary naming each item', () => {
    assert.match(out.text, /\d\/7 demo items settled/);
    assert.match(out.text, /NAMESPACE\/NAME\s+PHASE\s+REASON\s+GROUP ID\s+ECI STATUS\s+READY\s+AGE/);
    assert.match(out.text, /Admission webhooks registered at https:\/\/127\.0\.0\.1:\d+/);
    assert.match(out.text, /Deployment eci-demo\/refused was refused at apply time by the webhook: .*hostPath/);
    for (const name of DEMO_PODS) assert.match(out.text, new RegExp(`ok\\s+${name}\\s`));
    assert.match(out.text, /ECI calls by action: .*CreateContainerGroup \d+/);
    assert.match(out.text, /Result: every expectation held \(exit 0\)/);
  });

  it('reconciles the day the demo ran in: each difference named with its cause, the stray group a leak; re-running changes nothing', () => {
    const rec = result.reconciliation;
    assert.ok(rec, 'a reconciliation');
    assert.match(out.text, /Started the BSS \(billing\) emulator at http:\/\/127\.0\.0\.1:\d+/);
    const stray = /Created container group (\S+) by hand with only the cluster tag/.exec(out.text)?.[1];
    assert.ok(stray, 'the stray group');
    assert.deepEqual(rec.leaks, [stray]);
    // the printed reconciliation (as `cost --reconcile` prints it), with a cause per difference
    assert.match(out.text, new RegExp(`Reconciliation of ${rec.day} \\(UTC\\+08:00\\), cluster sandbox: stored by the reconcile function`));
    assert.match(out.text, /billed = real charge \(the bill\); estimated = estimate \(the bridge's hourly reports, price table 'sandbox'\)/);
    assert.match(out.text, /: spot group billed at 0\.(19|20|21)\d\d of the on-demand price, the table assumes 0\.3000/);
    assert.match(out.text, /: ecs\.c6\.large billed at \d+\.\d{4} CNY\/h, the price table 'sandbox' says 7200\.0000 CNY\/h/);
    assert.match(out.text, new RegExp(`LEAK ${stray} +\\d+\\.\\d\\d CNY +unknown: billed .* under this cluster's tag, but no hourly report of the day knows the group \\(still in ECI: Running\\)`));
    assert.equal(rec.causes['spot price'], 2, 'the two spot Job pods');
    assert.equal(rec.causes['price table'], 1, 'job-fail on the mispriced instance type');
    assert.equal(rec.causes.leak, 1);
    // the bridge's own cost: the bill's FC and MNS lines beside the cost model's prediction
    assert.match(out.text, /The bridge's own cost \(real charge, FC \+ MNS, 7 tagged resource\(s\)\): 1\.65 CNY; fc 0\.14; mns 1\.51; predicted: \d+\.\d\d CNY/);
    assert.match(out.text, /measured − predicted -?\d+\.\d\d CNY/);
    // the re-run
    assert.match(out.text, new RegExp(`Re-ran the reconcile function for ${rec.day}: unchanged; .*: nothing changed`));
    assert.deepEqual(rec.rerun, { stored: 'unchanged', changed: [] });
    assert.deepEqual(rec.gc, { [stray]: 'deleted' }, 'gc deleted the leaked group it was handed');
    assert.match(out.text, /reconciliation re-run: unchanged, nothing changed/);
  });

  it('leaves nothing running: watcher, delivery, timers, watch, emulator and control plane stopped', async () => {
    for (const [what, done] of Object.entries(result.stopped)) assert.equal(done, true, `${what} stopped`);
    assert.ok(await refuses(result.endpoints.eci ?? ''), 'the ECI emulator no longer listens');
    assert.ok(await refuses((result.endpoints.apiserver ?? '').replace(/^https/, 'http')), 'the apiserver no longer listens');
    assert.equal(existsSync(dirname(result.endpoints.kubeconfig ?? '/nonexistent/x')), false, 'the control plane directory is gone');
  });
});
