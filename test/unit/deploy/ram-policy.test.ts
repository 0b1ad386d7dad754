/**
 * deploy/ram-policy.json (the functions' RAM role) and deploy/ram-policy-watcher.json against the code: every ECI
 * action of the ContainerGroups adapter and every MNS action of the QueueSender methods is granted (derived from the
 * adapters' action lists, so a new adapter action fails here until a policy grants it), pinned to one region and
 * account, creates and changes scoped by the cluster tag, nothing beyond what the code calls. Through
 * scripts/lib/ramPolicy.ts, the check `eci-bridge doctor` runs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ECI_ACTIONS, eciRamActions } from '../../../shared/adapters/eci/actions.js';
import {
  allowing,
  checkPolicy,
  functionsGrants,
  type Identity,
  parsePolicy,
  type Policy,
  renderPolicy,
  watcherGrants,
} from '../../../scripts/lib/ramPolicy.js';
import { placeholdersIn } from '../../../scripts/lib/placeholders.js';

const root = join(import.meta.dirname, '..', '..', '..');
const vars = (parse(readFileSync(join(root, 's.yaml'), 'utf8')) as { vars: Record<string, string> }).vars;
const id: Identity = { region: 'cn-shanghai', accountId: '1234567890123456', queue: vars.queue ?? '', deadLetterQueue: vars.deadLetterQueue ?? '' };
const values = { REGION: id.region, ACCOUNT_ID: id.accountId, CLUSTER_NAME: 'prod-1' };
const raw = (file: string): string => readFileSync(join(root, 'deploy', file), 'utf8');
const rendered = (file: string): Policy => parsePolicy(renderPolicy(raw(file), values), file);

describe('RAM policies of deploy/', () => {
  it('derive the ECI actions from the adapter: every ContainerGroups method names its action', () => {
    for (const [method, actions] of Object.entries(ECI_ACTIONS)) assert.ok(actions.length > 0, method);
    assert.ok(eciRamActions().includes('eci:DescribeContainerGroupStatus'), 'the steady status ticks call DescribeContainerGroupStatus');
  });

  it("grant the watcher's kubelet API its ECI calls (logs, exec, metrics), exec and logs tag-scoped", () => {
    const eci = watcherGrants(id).filter((g) => g.action.startsWith('eci:')).map((g) => g.action).sort();
    assert.deepEqual(eci, ['eci:DescribeContainerLog', 'eci:DescribeMultiContainerGroupMetric', 'eci:ExecContainerCommand']);
    const unscoped = structuredClone(rendered('ram-policy-watcher.json'));
    for (const s of unscoped.Statement) delete s.Condition;
    assert.deepEqual(checkPolicy(unscoped, watcherGrants(id), values.CLUSTER_NAME).map((p) => p.grant.action), ['eci:ExecContainerCommand']);
  });

  for (const [file, grants] of [
    ['ram-policy.json', functionsGrants(id)],
    ['ram-policy-watcher.json', watcherGrants(id)],
  ] as const) {
    describe(file, () => {
      it('has only the documented placeholders, and is a RAM policy once they are filled', () => {
        assert.deepEqual(placeholdersIn(raw(file)).filter((p) => !(p in values)), []);
        assert.deepEqual(placeholdersIn(renderPolicy(raw(file), values)), []);
        for (const s of rendered(file).Statement) {
          assert.ok(['Allow', 'Deny'].includes(s.Effect));
          assert.ok(Object.keys(s).every((k) => ['Effect', 'Action', 'Resource', 'Condition'].includes(k)), Object.keys(s).join());
        }
      });

      it('grants every action the code calls, tag-scoped where it changes a group, and nothing more of MNS', () => {
        assert.deepEqual(checkPolicy(rendered(file), grants, values.CLUSTER_NAME), []);
      });

      it('is pinned to the region and account it is rendered for', () => {
        for (const g of grants) {
          const other = { ...g, resource: g.resource.replace(`:${id.region}:`, ':cn-beijing:') };
          const otherAccount = { ...g, resource: g.resource.replace(`:${id.accountId}:`, ':999:') };
          if (g.action === 'eci:DescribeContainerGroupPrice' || g.resource === '*') continue; // no resource-level authorization: Resource "*"
          assert.deepEqual(allowing(rendered(file), other), [], `${g.action} in another region`);
          assert.deepEqual(allowing(rendered(file), otherAccount), [], `${g.action} in another account`);
        }
      });
    });
  }

  it('fails the check when an action the code calls is missing or a change is not tag-scoped', () => {
    const policy = rendered('ram-policy.json');
    const withoutStatus = structuredClone(policy);
    for (const s of withoutStatus.Statement) {
      if (Array.isArray(s.Action)) s.Action = s.Action.filter((a) => a !== 'eci:DescribeContainerGroupStatus');
    }
    assert.match(checkPolicy(withoutStatus, functionsGrants(id), 'prod-1')[0]?.problem ?? '', /DescribeContainerGroupStatus .* is not allowed/);
    const unscoped = structuredClone(policy);
    for (const s of unscoped.Statement) delete s.Condition;
    const problems = checkPolicy(unscoped, functionsGrants(id), 'prod-1').map((p) => p.grant.action).sort();
    assert.deepEqual(problems, ['eci:CreateContainerGroup', 'eci:DeleteContainerGroup', 'eci:ExecContainerCommand']);
    const wider = structuredClone(policy);
    wider.Statement.push({ Effect: 'Allow', Action: ['mns:BatchReceiveMessage'], Resource: `acs:mns:${id.region}:${id.accountId}:/queues/${id.queue}/messages` });
    assert.match(checkPolicy(wider, functionsGrants(id), 'prod-1')[0]?.problem ?? '', /no code path of this identity calls it/);
  });
});
