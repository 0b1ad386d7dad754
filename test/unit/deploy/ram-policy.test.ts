/**
 * deploy/ram-policy.json (the functions' RAM role): valid RAM policy grammar, no wildcard actions, every ECI
 * call the ContainerGroups port makes is allowed, and MNS access is limited to sending to the bridge's queues.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..', '..');

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
}
const policy = JSON.parse(readFileSync(join(root, 'deploy', 'ram-policy.json'), 'utf8')) as {
  Version: string;
  Statement: Statement[];
};
const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
const allowed = (action: string): Statement[] =>
  policy.Statement.filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action));

/** The ECI OpenAPI action behind each ContainerGroups port method (shared/ports/index.ts). */
const ECI_ACTIONS = {
  create: 'eci:CreateContainerGroup',
  delete: 'eci:DeleteContainerGroup',
  describe: 'eci:DescribeContainerGroups',
  list: 'eci:DescribeContainerGroups',
  events: 'eci:DescribeContainerGroupEvents',
  logs: 'eci:DescribeContainerLog',
  exec: 'eci:ExecContainerCommand',
  price: 'eci:DescribeContainerGroupPrice',
  // the kubelet API (watcher/kubelet/): kubectl logs and top
  metrics: 'eci:DescribeMultiContainerGroupMetric',
};

describe('RAM policy of the functions', () => {
  it('uses the RAM policy grammar', () => {
    assert.equal(policy.Version, '1');
    for (const s of policy.Statement) {
      assert.deepEqual(Object.keys(s).sort(), ['Action', 'Effect', 'Resource']);
      assert.ok(list(s.Action).length > 0 && list(s.Resource).length > 0);
    }
  });

  it('grants no wildcard action', () => {
    for (const a of policy.Statement.flatMap((s) => list(s.Action))) assert.ok(!a.includes('*'), a);
  });

  it('allows every ECI call the ContainerGroups port makes', () => {
    for (const [method, action] of Object.entries(ECI_ACTIONS)) {
      assert.ok(allowed(action).length > 0, `${method} needs ${action}`);
    }
  });

  it('lets the functions only send to the queue and dead-letter queue s.yaml declares', () => {
    const vars = (parse(readFileSync(join(root, 's.yaml'), 'utf8')) as { vars: Record<string, string> }).vars;
    const mns = policy.Statement.filter((s) => list(s.Action).some((a) => a.startsWith('mns:')));
    const actions = new Set(mns.flatMap((s) => list(s.Action)));
    assert.deepEqual([...actions].sort(), ['mns:BatchSendMessage', 'mns:SendMessage']);
    const resources = mns.flatMap((s) => list(s.Resource)).sort();
    assert.deepEqual(resources, [
      `acs:mns:*:*:/queues/${vars.queue}/messages`,
      `acs:mns:*:*:/queues/${vars.deadLetterQueue}/messages`,
    ].sort());
  });
});
