/**
 * The MNS RAM actions behind each `MnsQueue` method, and the resource each acts on (the queue's messages, or the
 * queue itself). The functions' RAM policy (deploy/ram-policy.json) must grant the actions of the methods the
 * functions call (the `QueueSender` port: `send`) on the pod queue and the dead-letter queue; the watcher's
 * (deploy/ram-policy-watcher.json) those of `send` on the pod queue. test/unit/deploy/ram-policy.test.ts and
 * `eci-bridge doctor` derive the policies' MNS actions from this list. A new public method of `MnsQueue` does not
 * compile until it names its actions here.
 */
import type { QueueSender } from '../../ports/index.js';
import type { MnsQueue } from './mns.js';

type PublicMethods<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

export interface MnsActionSpec {
  /** RAM actions, `mns:<Action>` */
  actions: readonly string[];
  /** `messages`: resource `acs:mns:<region>:<account>:/queues/<queue>/messages`; `queue`: `…:/queues/<queue>` */
  resource: 'messages' | 'queue';
}

export const MNS_ACTIONS = {
  send: { actions: ['mns:BatchSendMessage'], resource: 'messages' },
  receive: { actions: ['mns:BatchReceiveMessage'], resource: 'messages' },
  delete: { actions: ['mns:DeleteMessage'], resource: 'messages' },
  deleteMany: { actions: ['mns:BatchDeleteMessage'], resource: 'messages' },
  changeVisibility: { actions: ['mns:ChangeMessageVisibility'], resource: 'messages' },
  peek: { actions: ['mns:BatchPeekMessage'], resource: 'messages' },
  attributes: { actions: ['mns:GetQueueAttributes'], resource: 'queue' },
  ensureQueue: { actions: ['mns:CreateQueue'], resource: 'queue' },
  deleteQueue: { actions: ['mns:DeleteQueue'], resource: 'queue' },
} as const satisfies Record<PublicMethods<MnsQueue>, MnsActionSpec>;

/** The methods of the `QueueSender` port (what the functions and the watcher hold): exhaustive by type. */
export const SENDER_METHODS = ['send'] as const satisfies readonly (keyof QueueSender)[];
type MissingSenderMethod = Exclude<keyof QueueSender, (typeof SENDER_METHODS)[number]>;
const senderMethodsComplete: [MissingSenderMethod] extends [never] ? true : never = true;
void senderMethodsComplete;

/** The RAM actions and resources `methods` need on `queue`, e.g. for the functions' role. */
export function mnsRamGrants(
  methods: readonly (keyof typeof MNS_ACTIONS)[],
  queue: string,
  arnPrefix: string,
): { action: string; resource: string }[] {
  return methods.flatMap((m) => {
    const spec: MnsActionSpec = MNS_ACTIONS[m];
    const resource = `${arnPrefix}:/queues/${queue}${spec.resource === 'messages' ? '/messages' : ''}`;
    return spec.actions.map((action) => ({ action, resource }));
  });
}
