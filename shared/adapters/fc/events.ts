/**
 * Parsing of what Function Compute hands a handler (FC MNS queue triggers and time triggers, docs/architecture.md#sources): the event is a Buffer.
 * - MNS queue trigger (EventBridge, CloudEvents schema): a JSON array of CloudEvents (event streaming), or a single
 *   CloudEvent (event mode). Each `data.messageBody` is the queue body, already base64-decoded by EventBridge
 *   (IsBase64Decode: true) or not, as a string or an already-parsed JSON object.
 * - Timer trigger: `{triggerTime, triggerName, payload}`.
 * Envelope first, then each message on its own: one malformed message is reported with its reason and never taints
 * the others. Cloud payloads are parsed loosely (they may grow); our own messages strictly (messages.ts).
 */
import { z } from 'zod';
import { decodeMessage, MessageError, parseMessageValue, type QueueMessage } from '../../domain/messages.js';
import { BridgeError } from '../../errors.js';

export class FcEventError extends BridgeError {
  constructor(
    message: string,
    readonly reason: 'not-json' | 'not-cloudevents' | 'not-timer',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * One CloudEvent of an MNS queue trigger.
 * @example {"id":"8a1…","source":"MNS-pod-sync-pods-queue","specversion":"1.0","type":"mns:Queue:SendMessage",
 *   "subject":"acs:mns:cn-hangzhou:123:queues/eci-bridge-pods","time":"2026-01-01T00:00:00.000Z",
 *   "data":{"requestId":"…","messageId":"…","messageBody":"{\"v\":1,\"kind\":\"pod\",…}"}}
 */
export const MnsCloudEventSchema = z.looseObject({
  id: z.string().optional(),
  source: z.string().optional(),
  type: z.string().optional(),
  subject: z.string().optional(),
  time: z.string().optional(),
  data: z.looseObject({
    requestId: z.string().optional(),
    messageId: z.string().optional(),
    messageBody: z.union([z.string(), z.record(z.string(), z.unknown())]),
  }),
});
export type MnsCloudEventIn = z.infer<typeof MnsCloudEventSchema>;

export const TimerEventSchema = z.looseObject({
  triggerTime: z.string(),
  triggerName: z.string(),
  payload: z.string().optional(),
});
export type TimerEvent = z.infer<typeof TimerEventSchema>;

export type QueueRecord =
  | { ok: true; messageId: string; message: QueueMessage }
  | {
      ok: false;
      messageId: string;
      /** MessageError reasons, plus `envelope` for an element that is not a CloudEvent */
      reason: MessageError['reason'] | 'envelope';
      detail: string;
      /** the body as received (to dead-letter it unchanged); never logged */
      body: string;
    };

/**
 * The JSON text of an element or body that failed to parse, kept for the dead letter. A hostile value can nest
 * deeper than JSON.stringify recurses (a RangeError that would fail the whole batch): it is replaced by a marker.
 */
function jsonText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '(the value nests too deeply to serialise)';
  }
}

/** EventBridge's largest batch (`batchWindow.CountBasedWindow` is 1-10000, FC MNS queue triggers, docs/architecture.md#sources). */
export const MAX_EVENTS_PER_BATCH = 10_000;

function bufferText(event: Buffer | string | Uint8Array): string {
  if (typeof event === 'string') return event;
  return Buffer.from(event).toString('utf8');
}

function parseJson(text: string, what: 'not-cloudevents' | 'not-timer'): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new FcEventError(`the ${what === 'not-timer' ? 'timer ' : ''}event is not JSON`, 'not-json', { cause });
  }
}

/**
 * Parses an MNS-queue-trigger event into one record per message, in order. Throws FcEventError only when the Buffer
 * is not JSON or holds no CloudEvent at all (then there is no message to isolate).
 */
export function parseQueueEvent(event: Buffer | string | Uint8Array): QueueRecord[] {
  const text = bufferText(event);
  const value = parseJson(text, 'not-cloudevents');
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) return [];
  if (items.length > MAX_EVENTS_PER_BATCH) {
    // no EventBridge batch is this large: parsing millions of elements one by one would outlast the function timeout
    throw new FcEventError(`the event holds ${items.length} elements; an EventBridge batch holds at most ${MAX_EVENTS_PER_BATCH}`, 'not-cloudevents');
  }
  const records: QueueRecord[] = [];
  let anyCloudEvent = false;
  for (const [i, item] of items.entries()) {
    const ce = MnsCloudEventSchema.safeParse(item);
    if (!ce.success) {
      records.push({
        ok: false,
        messageId: `#${i}`,
        reason: 'envelope',
        detail: `element ${i} is not an MNS CloudEvent: ${z.prettifyError(ce.error)}`,
        body: jsonText(item),
      });
      continue;
    }
    anyCloudEvent = true;
    const messageId = ce.data.data.messageId ?? ce.data.id ?? `#${i}`;
    const raw = ce.data.data.messageBody;
    const body = typeof raw === 'string' ? raw : jsonText(raw);
    try {
      const message = typeof raw === 'string' ? decodeMessage(raw) : parseMessageValue(raw);
      records.push({ ok: true, messageId, message });
    } catch (err) {
      const reason = err instanceof MessageError ? err.reason : 'schema';
      records.push({ ok: false, messageId, reason, detail: err instanceof Error ? err.message : String(err), body });
    }
  }
  if (!anyCloudEvent) throw new FcEventError('the event holds no MNS CloudEvent', 'not-cloudevents');
  return records;
}

/** Parses a timer event. An empty Buffer (a manual invoke) is a timer event without payload. */
export function parseTimerEvent(event: Buffer | string | Uint8Array, now: () => number = Date.now): TimerEvent {
  const text = bufferText(event).trim();
  if (text === '') return { triggerTime: new Date(now()).toISOString(), triggerName: 'manual' };
  const res = TimerEventSchema.safeParse(parseJson(text, 'not-timer'));
  if (!res.success) throw new FcEventError(`not a timer event: ${z.prettifyError(res.error)}`, 'not-timer', { cause: res.error });
  return res.data;
}
