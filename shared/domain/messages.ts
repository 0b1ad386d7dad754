/**
 * Queue messages: nudges, not state. A message says which pod(s) to look at and why; the handler looks at the
 * pod (a version 2 nudge may carry it as the watch delivered it, trusted only where a conditional write proves it
 * current) and its container group and converges them, so duplicate, late or reordered messages are harmless. On the wire each message is base64(JSON) (MNS SDK does not XML-escape; EventBridge decodes base64).
 * Schema-versioned with `v`; strict objects so a malformed message is refused with a reason, never guessed at.
 */
import { z } from 'zod';
import type { Pod } from './k8s.js';
import { base64FromText, utf8Length } from './messages-codec.js';

export const MESSAGE_VERSION = 1 as const;

/** Why a pod is nudged. */
export const NudgeReason = z.enum([
  'bound', // newly seen on the virtual node
  'changed', // spec / annotations / labels changed
  'deleting', // deletionTimestamp set
  'deleted', // gone from the API (uid names the group to delete)
  'resync', // periodic resync: status stale or no group yet
  'retry', // a delayed re-nudge after a retryable failure
]);
export type NudgeReason = z.infer<typeof NudgeReason>;

const k8sName = z.string().min(1).max(253);
const uid = z.string().min(1).max(64);

/**
 * Pod nudge versions: 1 names the pod; 2 may add `pod`, the pod as the watcher's watch delivered it (metadata
 * without managedFields, spec, status: `compactPod`), so pod-sync need not read it (shared/usecases/podSync.ts says
 * when it trusts it). The snapshot must be of the nudge's pod (same namespace, name, uid, resourceVersion) and at
 * most MAX_SNAPSHOT_BYTES of JSON; the watcher sends version 1 without it when a pod is larger. pod-sync accepts
 * both; deploy the functions before the watcher (an older pod-sync refuses version 2 and dead-letters it: that pod
 * then waits for the next nudge, tick or resync).
 */
export const NUDGE_VERSION = 2 as const;

/**
 * The largest pod snapshot a nudge carries, as JSON: base64 makes it 4/3 larger, so a nudge stays under 22 KiB,
 * far below MNS's 64 KiB (and a batch of 16 is split by the queue adapter at 64 KiB).
 */
export const MAX_SNAPSHOT_BYTES = 16 * 1024;

/** A pod object as JSON; only its identity is checked here, the rest is the apiserver's own validated object. */
const podSnapshot = z.looseObject({
  metadata: z.looseObject({ namespace: k8sName, name: k8sName, uid, resourceVersion: z.string().min(1).max(64) }),
  spec: z.looseObject({}),
  status: z.looseObject({}).optional(),
})
  // typed as the Pod it is (the identity check is all the schema adds)
  .transform((p) => p as unknown as Pod);

export const PodNudgeSchema = z
  .strictObject({
    v: z.union([z.literal(MESSAGE_VERSION), z.literal(NUDGE_VERSION)]),
    kind: z.literal('pod'),
    namespace: k8sName,
    name: k8sName,
    uid,
    resourceVersion: z.string().max(64).optional(),
    reason: NudgeReason,
    /** retry attempt number, for delayed re-nudges */
    attempt: z.number().int().min(0).max(1000).optional(),
    /** v2: the pod as the watch delivered it at `resourceVersion` */
    pod: podSnapshot.optional(),
  })
  .superRefine((n, ctx) => {
    if (!n.pod) return;
    if (n.v !== NUDGE_VERSION) {
      ctx.addIssue({ code: 'custom', path: ['pod'], message: `pod needs nudge version ${NUDGE_VERSION}` });
      return;
    }
    const m = n.pod.metadata;
    if (m.namespace !== n.namespace || m.name !== n.name || m.uid !== n.uid || m.resourceVersion !== n.resourceVersion) {
      ctx.addIssue({ code: 'custom', path: ['pod', 'metadata'], message: 'the snapshot is not of the nudged pod at its resourceVersion' });
    }
    if (jsonBytes(n.pod) > MAX_SNAPSHOT_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['pod'], message: `the snapshot exceeds ${MAX_SNAPSHOT_BYTES} bytes` });
    }
  });
export type PodNudge = z.infer<typeof PodNudgeSchema>;

/**
 * The pod as a nudge carries it: metadata without managedFields (the largest part of most pods, and nothing the
 * bridge reads), spec and status; undefined when that is larger than MAX_SNAPSHOT_BYTES (pod-sync then reads).
 */
export function compactPod(pod: Pod): Pod | undefined {
  const { managedFields: _m, ...metadata } = pod.metadata as Pod['metadata'] & { managedFields?: unknown };
  const out: Pod = { metadata, spec: pod.spec, ...(pod.status ? { status: pod.status } : {}) };
  if (!metadata.namespace || !metadata.name || !metadata.uid || !metadata.resourceVersion) return undefined;
  return jsonBytes(out) <= MAX_SNAPSHOT_BYTES ? out : undefined;
}

function jsonBytes(value: unknown): number {
  return utf8Length(JSON.stringify(value));
}

/** Pods named per status tick at most; the watcher splits larger sets into several ticks. */
export const MAX_PODS_PER_TICK = 100;

/**
 * Status tick versions: 1 names pods (and their recorded group); 2 adds, per pod, what the watcher sees of it —
 * `phase`, the status `digest` (shared/domain/statusDigest.ts) and `deleting` — so pod-sync reads only the pods
 * whose group changed, and `since` (the steady tick: groups whose status changed lately, the node's pods unnamed);
 * 3 adds, per terminating pod, its `deletionTimestamp` and `deletionGracePeriodSeconds`, so pod-sync need not read a
 * terminating pod to learn that it has nothing to do yet; 4 adds each pod's `rv` (the resourceVersion the watcher
 * sees), so a pod-sync instance that holds the pod at that version (it wrote it last: PodMemory) converges it
 * without reading it, its writes conditional on that version. pod-sync accepts all four; deploy the functions
 * before the watcher (an older pod-sync refuses a newer version and dead-letters it, which costs only that tick).
 */
export const TICK_VERSION = 4 as const;

/** A resourceVersion as a tick may carry it (v4 `rv`): the apiserver's decimal etcd revision. */
export const TICK_RV = /^[0-9]{1,20}$/;

const tickPod = z.strictObject({
  namespace: k8sName,
  name: k8sName,
  uid,
  /** the recorded container group id, when the pod has one */
  groupId: z.string().max(64).optional(),
  /** v2: the pod phase the watcher sees */
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional(),
  /** v2: the digest of the pod status the watcher sees */
  digest: z.string().regex(/^[0-9a-f]{16}$/).optional(),
  /** v2: the pod has a deletionTimestamp */
  deleting: z.literal(true).optional(),
  /** v3: the pod's deletionTimestamp (with `deleting`) */
  deletionTimestamp: z.string().max(40).optional(),
  /** v3: the pod's deletionGracePeriodSeconds (with `deleting`) */
  deletionGracePeriodSeconds: z.number().int().min(0).max(31_536_000).optional(),
  /** v4: the pod's resourceVersion as the watcher sees it */
  rv: z.string().regex(TICK_RV).optional(),
});

/** The fields of a tick's pod entry each tick version added. */
const ADDED_IN: Record<2 | 3 | 4, readonly (keyof z.infer<typeof tickPod>)[]> = {
  2: ['phase', 'digest', 'deleting'],
  3: ['deletionTimestamp', 'deletionGracePeriodSeconds'],
  4: ['rv'],
};

export const StatusTickSchema = z
  .strictObject({
    v: z.union([z.literal(MESSAGE_VERSION), z.literal(2), z.literal(3), z.literal(TICK_VERSION)]),
    kind: z.literal('status-tick'),
    /** ISO time the watcher sent the tick */
    at: z.string().max(40),
    /**
     * v2, a "steady" tick: also converge the pods whose group status changed in the last `since` seconds (one
     * DescribeContainerGroupStatus for the whole node); such a tick may name no pod.
     */
    since: z.number().int().min(1).max(3600).optional(),
    pods: z.array(tickPod).max(MAX_PODS_PER_TICK),
  })
  .superRefine((t, ctx) => {
    if (t.pods.length === 0 && t.since === undefined) ctx.addIssue({ code: 'custom', path: ['pods'], message: 'a tick names pods, or has `since`' });
    if (t.v === MESSAGE_VERSION && t.since !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['since'], message: 'since needs status tick version 2' });
    }
    t.pods.forEach((p, i) => {
      for (const version of [2, 3, 4] as const) {
        if (t.v >= version) continue;
        for (const k of ADDED_IN[version]) {
          if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: ['pods', i, k], message: `${k} needs status tick version ${version}` });
        }
      }
      if (p.deletionTimestamp !== undefined && !p.deleting) {
        ctx.addIssue({ code: 'custom', path: ['pods', i, 'deletionTimestamp'], message: 'deletionTimestamp needs deleting' });
      }
    });
  });
export type StatusTick = z.infer<typeof StatusTickSchema>;

export const QueueMessageSchema = z.discriminatedUnion('kind', [PodNudgeSchema, StatusTickSchema]);
export type QueueMessage = z.infer<typeof QueueMessageSchema>;

/**
 * MNS message priority (1 highest … 16, default 8; MNS SendMessage, docs/architecture.md#sources) per message kind. Status ticks go first: they
 * carry the status of pods that are already running, and must not wait behind a burst of create nudges (a tick
 * costs one batched describe; the nudges behind it lose a few milliseconds). Nudges keep the default.
 */
export const MESSAGE_PRIORITY = { 'status-tick': 1, pod: 8 } as const satisfies Record<QueueMessage['kind'], number>;

export function priorityOf(msg: Pick<QueueMessage, 'kind'>): number {
  return MESSAGE_PRIORITY[msg.kind];
}

export class MessageError extends Error {
  constructor(
    message: string,
    readonly reason: 'not-base64' | 'not-json' | 'schema' | 'too-large',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MessageError';
  }
}

/** MNS's message size limit (64 KiB); our messages stay far below it. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The body must have passed BASE64_RE; a body that is not UTF-8 is refused (fatal decoder), not repaired. Unlike
 * messages-codec's textFromBase64 it accepts unpadded base64, as atob did here before.
 */
function fromBase64(s: string): string {
  // as atob: a length of 4n+1 cannot be base64 (Buffer would decode what it can)
  if (s.replace(/=+$/, '').length % 4 === 1) throw new RangeError('base64 of length 4n+1');
  return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(s, 'base64'));
}

/** Encodes a message for the queue: base64(JSON). Validates first, so nothing malformed is ever sent. */
export function encodeMessage(msg: QueueMessage): string {
  const parsed = QueueMessageSchema.parse(msg);
  const body = base64FromText(JSON.stringify(parsed));
  if (body.length > MAX_MESSAGE_BYTES) throw new MessageError(`message of ${body.length} bytes exceeds 64 KiB`, 'too-large');
  return body;
}

/** Parses an already-decoded JSON value (EventBridge with IsBase64Decode=true hands us the JSON text). */
export function parseMessageValue(value: unknown): QueueMessage {
  const res = QueueMessageSchema.safeParse(value);
  if (!res.success) throw new MessageError(`invalid message: ${z.prettifyError(res.error)}`, 'schema', { cause: res.error });
  return res.data;
}

/**
 * Decodes a queue body, base64(JSON) or plain JSON text (when the transport already decoded base64).
 * Throws MessageError with a reason; never returns a half-parsed message.
 */
export function decodeMessage(body: string): QueueMessage {
  if (body.length > MAX_MESSAGE_BYTES * 2) throw new MessageError('message body too large', 'too-large');
  const trimmed = body.trim();
  let text: string;
  if (trimmed.startsWith('{')) {
    text = trimmed;
  } else {
    if (!BASE64_RE.test(trimmed)) throw new MessageError('message body is neither JSON nor base64', 'not-base64');
    try {
      text = fromBase64(trimmed);
    } catch (cause) {
      throw new MessageError('message body is not valid base64 of UTF-8 text', 'not-base64', { cause });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new MessageError('message body is not JSON', 'not-json', { cause });
  }
  return parseMessageValue(value);
}
