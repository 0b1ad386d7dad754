/**
 * RAM policies of deploy/ against the code: which actions the code calls (from the adapters' action lists), whether a
 * policy grants each on the right resource, and whether the ECI actions that change or read into a group are scoped
 * to this cluster's tag. Used by `eci-bridge doctor` and test/unit/deploy/ram-policy.test.ts, so the check a user runs
 * is the one the tests run.
 *
 * The policies hold placeholders (`{{REGION}}`, `{{ACCOUNT_ID}}`, `{{CLUSTER_NAME}}`) because RAM policies have no
 * parameters; `renderPolicy` fills them (the deploy guide does the same with sed).
 */
import { bssRamActions } from '../../shared/adapters/bss/actions.js';
import { eciRamActions } from '../../shared/adapters/eci/actions.js';
import { mnsRamGrants, SENDER_METHODS } from '../../shared/adapters/queue/actions.js';
import { TAG_CLUSTER } from '../../shared/domain/names.js';
import { KUBELET_ECI_METHODS } from '../../watcher/kubelet/eciCalls.js';
import { BridgeError } from '../../shared/errors.js';
import { renderPlaceholders } from './placeholders.js';

export class RamPolicyError extends BridgeError {}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface Policy {
  Version: string;
  Statement: Statement[];
}

export interface Grant {
  action: string;
  resource: string;
}

/** Condition keys that scope an ECI action to groups carrying a tag: in the request (create) or on the group. */
export const REQUEST_TAG_KEY = `acs:RequestTag/${TAG_CLUSTER}`;
export const RESOURCE_TAG_KEY = `acs:ResourceTag/${TAG_CLUSTER}`;

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `*` matches any run of characters (RAM's wildcard), everything else literally. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

export function parsePolicy(text: string, where = 'policy'): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RamPolicyError(`${where} is not JSON`, { cause: err });
  }
  const p = doc as Partial<Policy>;
  if (p?.Version !== '1' || !Array.isArray(p.Statement)) throw new RamPolicyError(`${where}: not a RAM policy (Version "1", Statement[])`);
  return p as Policy;
}

/** Fills the policy's placeholders (`{{REGION}}`, `{{ACCOUNT_ID}}`, `{{CLUSTER_NAME}}`). */
export const renderPolicy = renderPlaceholders;

/** The statements that allow `action` on `resource` (conditions not evaluated). */
export function allowing(policy: Policy, g: Grant): Statement[] {
  return policy.Statement.filter(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => globMatch(a, g.action)) &&
      list(s.Resource).some((r) => globMatch(r, g.resource)),
  );
}

export interface Identity {
  region: string;
  accountId: string;
  queue: string;
  deadLetterQueue: string;
}

/**
 * What the functions' role needs: every ECI action of the ContainerGroups adapter on this account's groups, and the
 * QueueSender methods on the pod queue (re-nudges) and the dead-letter queue. New adapter actions appear here without
 * an edit.
 */
export function functionsGrants(id: Identity): Grant[] {
  const arn = `acs:mns:${id.region}:${id.accountId}`;
  return [
    ...eciRamActions().map((action) => ({ action, resource: `acs:eci:${id.region}:${id.accountId}:containergroup/eci-0000` })),
    ...mnsRamGrants(SENDER_METHODS, id.queue, arn),
    ...mnsRamGrants(SENDER_METHODS, id.deadLetterQueue, arn),
    // The reconcile function reads the bill; BSS has no resource-level authorization (Resource "*").
    ...bssRamActions().map((action) => ({ action, resource: '*' })),
  ];
}

/**
 * What the watcher's identity needs: send nudges and status ticks to the pod queue, and the ECI actions of the
 * kubelet API (logs, exec, metrics: watcher/kubelet/eciCalls.ts) on this account's groups.
 */
export function watcherGrants(id: Identity): Grant[] {
  return [
    ...mnsRamGrants(SENDER_METHODS, id.queue, `acs:mns:${id.region}:${id.accountId}`),
    ...eciRamActions(KUBELET_ECI_METHODS).map((action) => ({ action, resource: `acs:eci:${id.region}:${id.accountId}:containergroup/eci-0000` })),
  ];
}

/** ECI actions that create a group or act on one (everything but the Describe* reads) must be scoped by the cluster tag. */
export function isTagScoped(action: string): boolean {
  return action.startsWith('eci:') && !action.startsWith('eci:Describe');
}

export interface PolicyProblem {
  grant: Grant;
  problem: string;
}

/**
 * Every grant missing from `policy`, every tag-scoped ECI action allowed without the cluster-tag condition, every
 * wildcard action, and every MNS action or queue granted that this identity's code does not need (least privilege).
 */
export function checkPolicy(policy: Policy, needed: readonly Grant[], clusterName: string): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const g of needed) {
    const st = allowing(policy, g);
    if (st.length === 0) {
      problems.push({ grant: g, problem: `${g.action} on ${g.resource} is not allowed` });
      continue;
    }
    if (isTagScoped(g.action)) {
      const key = g.action === 'eci:CreateContainerGroup' ? REQUEST_TAG_KEY : RESOURCE_TAG_KEY;
      const unscoped = st.filter((s) => !list(s.Condition?.StringEquals?.[key]).includes(clusterName));
      if (unscoped.length > 0) problems.push({ grant: g, problem: `${g.action} is allowed without the condition StringEquals ${key} = ${clusterName}` });
    }
  }
  // Least privilege for MNS: every action x resource granted must be one the code needs.
  const neededMns = new Set(needed.filter((g) => g.action.startsWith('mns:')).map((g) => `${g.action} ${g.resource}`));
  for (const s of policy.Statement) {
    for (const a of list(s.Action)) {
      if (a.includes('*')) problems.push({ grant: { action: a, resource: list(s.Resource).join(',') }, problem: `wildcard action ${a}` });
      if (!a.startsWith('mns:') || s.Effect !== 'Allow') continue;
      for (const r of list(s.Resource)) {
        if (!neededMns.has(`${a} ${r}`)) problems.push({ grant: { action: a, resource: r }, problem: `${a} on ${r} is granted but no code path of this identity calls it` });
      }
    }
  }
  return problems;
}
