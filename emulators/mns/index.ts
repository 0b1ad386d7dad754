/**
 * A wire-faithful MNS queue service (REST API 2015-06-06, docs/architecture.md#sources) on loopback, for tests, benchmarks
 * and the sandbox. Serves the real @alicloud/mns 1.2.0 through its `endpoint` option: MNS signatures (HMAC-SHA1,
 * STS `security-token`, Content-MD5 as base64(hex(md5))), the queue and message operations with their XML shapes,
 * statuses and error envelopes, long polling, delay, visibility, priority, retention and a dead-letter policy.
 * Node built-ins only; queue semantics come from shared/sim/queue-model.ts (shared with the embedded queue).
 *
 * Over 400 lines: one REST surface; routing, the signature check and each operation's XML shape form one table of
 * handlers over the shared queue model.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_QUEUE_SETTINGS,
  MNS_LIMITS,
  type MessageView,
  type QueueCounts,
  QueueModel,
  type QueueSettings,
  type StoredMessage,
} from '../../shared/sim/queue-model.js';
import { bodyMd5, contentMd5, sign, signaturesEqual } from './signature.js';
import { childText, document, fields, parseXml, type XmlElement, XmlSyntaxError } from './xml.js';

export interface MnsCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** when set, requests with this key must carry this `security-token` header (STS) */
  securityToken?: string;
}

export interface MnsQueueSpec {
  name: string;
  delaySeconds?: number;
  visibilityTimeout?: number;
  maximumMessageSize?: number;
  messageRetentionPeriod?: number;
  pollingWaitSeconds?: number;
  /** DLQ policy (console / control-plane API in real MNS): receives before the message moves to `deadLetterQueue` */
  maxReceiveCount?: number;
  deadLetterQueue?: string;
}

export interface MnsEmulatorOptions {
  /** 0 (default) picks a free port */
  port?: number;
  host?: string;
  accountId: string;
  region?: string;
  credentials: MnsCredential[];
  queues?: MnsQueueSpec[];
  /** the clock of message state (delay, visibility, retention); default Date.now */
  clock?: { now(): number };
  /** refuse requests whose Date is further than this from the wall clock (default 900; 0 disables) */
  maxDateSkewSeconds?: number;
}

export interface MnsEmulatorStats {
  /** requests by operation (CreateQueue, SendMessage, BatchReceiveMessage, …) */
  operations: Record<string, number>;
  /** error responses by code */
  errors: Record<string, number>;
  /** authenticated requests by AccessKeyId */
  accessKeys: Record<string, number>;
  queues: Record<string, QueueCounts & { messages: number }>;
  /** messages moved to a dead-letter queue, by source queue */
  deadLettered: Record<string, number>;
}

export interface MnsEmulator {
  /** `http://127.0.0.1:PORT` — the @alicloud/mns `endpoint` option */
  readonly endpoint: string;
  readonly url: string;
  readonly port: number;
  readonly accountId: string;
  readonly region: string;
  stats(): MnsEmulatorStats;
  /** Creates (or reconfigures) a queue, DLQ policy included. */
  createQueue(spec: MnsQueueSpec): void;
  /** Every message currently stored in a queue (e.g. to inspect a dead-letter queue). */
  messages(queue: string): MessageView[];
  close(): Promise<void>;
}

class MnsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MnsHttpError';
  }
}

interface Waiter {
  max: number;
  done(msgs: MessageView[] | undefined): void;
}

interface QueueState {
  model: QueueModel;
  createTime: number;
  lastModifyTime: number;
  deadLetterQueue?: string;
  loggingEnabled: boolean;
  waiters: Waiter[];
}

const QUEUE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9-]{0,119}$/;
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
const XML_TYPE = 'text/xml;charset=utf-8';

const ATTR_RANGES: Record<string, [keyof QueueSettings, number, number]> = {
  DelaySeconds: ['delaySeconds', 0, MNS_LIMITS.maxDelaySeconds],
  MaximumMessageSize: ['maximumMessageSize', 1024, MNS_LIMITS.maxMessageBytes],
  MessageRetentionPeriod: ['messageRetentionPeriod', 60, 604800],
  VisibilityTimeout: ['visibilityTimeout', MNS_LIMITS.minVisibilityTimeout, MNS_LIMITS.maxVisibilityTimeout],
  PollingWaitSeconds: ['pollingWaitSeconds', 0, MNS_LIMITS.maxWaitSeconds],
};

function intIn(value: string | undefined | null, name: string, low: number, high: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const s = value.trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < low || n > high) {
    throw new MnsHttpError(400, 'InvalidArgument', `The value of ${name} should between ${low} and ${high}.`);
  }
  return n;
}

function settingsOf(spec: MnsQueueSpec): QueueSettings {
  const s: QueueSettings = {
    delaySeconds: spec.delaySeconds ?? DEFAULT_QUEUE_SETTINGS.delaySeconds,
    visibilityTimeout: spec.visibilityTimeout ?? DEFAULT_QUEUE_SETTINGS.visibilityTimeout,
    maximumMessageSize: spec.maximumMessageSize ?? DEFAULT_QUEUE_SETTINGS.maximumMessageSize,
    messageRetentionPeriod: spec.messageRetentionPeriod ?? DEFAULT_QUEUE_SETTINGS.messageRetentionPeriod,
    pollingWaitSeconds: spec.pollingWaitSeconds ?? DEFAULT_QUEUE_SETTINGS.pollingWaitSeconds,
  };
  if (spec.maxReceiveCount !== undefined) s.maxReceiveCount = spec.maxReceiveCount;
  return s;
}

function messageXml(m: MessageView, withReceipt: boolean): string {
  return fields({
    MessageId: m.messageId,
    MessageBodyMD5: m.bodyMd5,
    MessageBody: m.body,
    ReceiptHandle: withReceipt ? m.receiptHandle : undefined,
    EnqueueTime: m.enqueueTime,
    FirstDequeueTime: m.firstDequeueTime,
    NextVisibleTime: withReceipt ? m.nextVisibleTime : undefined,
    DequeueCount: m.dequeueCount,
    Priority: m.priority,
  });
}

function parseBody(body: Buffer, root: string | readonly string[]): XmlElement {
  let el: XmlElement;
  try {
    el = parseXml(body.toString('utf8'));
  } catch (err) {
    const why = err instanceof XmlSyntaxError ? err.message : 'unreadable body';
    throw new MnsHttpError(400, 'MalformedXML', `The XML you provided was not well-formed: ${why}`);
  }
  const roots = typeof root === 'string' ? [root] : root;
  if (!roots.includes(el.name)) throw new MnsHttpError(400, 'MalformedXML', `Expected root element ${roots.join(' or ')}.`);
  return el;
}

export async function startMnsEmulator(opts: MnsEmulatorOptions): Promise<MnsEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const region = opts.region ?? 'cn-hangzhou';
  const clock = opts.clock ?? { now: () => Date.now() };
  const maxSkewMs = (opts.maxDateSkewSeconds ?? 900) * 1000;
  const creds = new Map(opts.credentials.map((c) => [c.accessKeyId, c]));
  const queues = new Map<string, QueueState>();
  const stats: Omit<MnsEmulatorStats, 'queues'> = { operations: {}, errors: {}, accessKeys: {}, deadLettered: {} };
  const hostId = `${opts.accountId}.mns.${region}.aliyuncs.com`;
  const idPrefix = randomBytes(8).toString('hex').toUpperCase();
  let counter = 0;
  let endpoint = '';
  let tick: NodeJS.Timeout | undefined;
  let closing = false;

  const nextId = (): string => (++counter).toString(16).toUpperCase().padStart(16, '0');
  const deps = (queueName: string) => ({
    now: () => clock.now(),
    newMessageId: () => `${idPrefix}${nextId()}`,
    newReceiptHandle: () => `1-${idPrefix}-${nextId()}-${randomBytes(4).toString('hex')}`,
    md5Hex: bodyMd5,
    onDeadLetter: (m: StoredMessage) => deadLetter(queueName, m),
  });

  function deadLetter(from: string, m: StoredMessage): void {
    const target = queues.get(from)?.deadLetterQueue;
    stats.deadLettered[from] = (stats.deadLettered[from] ?? 0) + 1;
    const dlq = target ? queues.get(target) : undefined;
    if (!dlq) return;
    dlq.model.adopt(m);
    serveWaiters(dlq);
  }

  function createQueue(spec: MnsQueueSpec): QueueState {
    if (spec.deadLetterQueue === spec.name) throw new Error('a queue cannot be its own dead-letter queue');
    const now = clock.now();
    const existing = queues.get(spec.name);
    if (existing) {
      existing.model.settings = settingsOf(spec);
      existing.deadLetterQueue = spec.deadLetterQueue;
      existing.lastModifyTime = now;
      return existing;
    }
    const state: QueueState = {
      model: new QueueModel(spec.name, settingsOf(spec), deps(spec.name)),
      createTime: now,
      lastModifyTime: now,
      loggingEnabled: false,
      waiters: [],
    };
    if (spec.deadLetterQueue) state.deadLetterQueue = spec.deadLetterQueue;
    queues.set(spec.name, state);
    return state;
  }
  for (const q of opts.queues ?? []) createQueue(q);

  function queueOr404(name: string): QueueState {
    const q = queues.get(name);
    if (!q) throw new MnsHttpError(404, 'QueueNotExist', 'The queue name you provided is not exist.');
    return q;
  }

  function serveWaiters(q: QueueState): void {
    while (q.waiters.length > 0) {
      const w = q.waiters[0];
      if (!w) break;
      const got = q.model.receive(w.max);
      if (got.length === 0) break;
      q.waiters.shift();
      w.done(got);
    }
  }

  function ensureTick(): void {
    if (tick) return;
    tick = setInterval(() => {
      let any = false;
      for (const q of queues.values()) {
        if (q.waiters.length > 0) {
          serveWaiters(q);
          any = any || q.waiters.length > 0;
        }
      }
      if (!any && tick) {
        clearInterval(tick);
        tick = undefined;
      }
    }, 50);
  }

  /** Receives up to `max`, holding the request up to `waitSeconds` for a message. */
  function receiveWait(q: QueueState, max: number, waitSeconds: number, req: IncomingMessage): Promise<MessageView[]> {
    const now = q.model.receive(max);
    if (now.length > 0 || waitSeconds === 0 || closing) return Promise.resolve(now);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (msgs: MessageView[] | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.socket.off('close', onClose);
        const i = q.waiters.indexOf(waiter);
        if (i >= 0) q.waiters.splice(i, 1);
        resolve(msgs ?? []);
      };
      const waiter: Waiter = { max, done: finish };
      const onClose = (): void => finish([]);
      const timer = setTimeout(() => finish(q.model.receive(max)), waitSeconds * 1000);
      req.socket.once('close', onClose);
      q.waiters.push(waiter);
      ensureTick();
    });
  }

  // ------------------------------------------------------------ auth

  function authenticate(req: IncomingMessage, rawTarget: string, body: Buffer): void {
    const h = req.headers;
    const version = h['x-mns-version'];
    if (version === undefined) throw new MnsHttpError(400, 'MissingVersionHeader', 'The x-mns-version header is missing.');
    if (version !== '2015-06-06') throw new MnsHttpError(400, 'InvalidVersionHeader', 'The x-mns-version is not supported.');
    const auth = h.authorization;
    if (!auth) throw new MnsHttpError(400, 'MissingAuthorizationHeader', 'The Authorization header is missing.');
    const m = /^MNS ([^:\s]+):(\S+)$/.exec(auth);
    if (!m) throw new MnsHttpError(400, 'InvalidAuthorizationHeader', 'The Authorization header is malformed.');
    const [, ak = '', given = ''] = m;
    const xDate = h['x-mns-date'];
    const date = h.date ?? (Array.isArray(xDate) ? xDate[0] : xDate);
    if (!date) throw new MnsHttpError(400, 'MissingDateHeader', 'The Date header is missing.');
    const when = Date.parse(date);
    if (Number.isNaN(when)) throw new MnsHttpError(400, 'InvalidDateHeader', 'The Date header is invalid.');
    const cred = creds.get(ak);
    if (!cred) throw new MnsHttpError(403, 'InvalidAccessKeyId', 'The access key id you provided does not exist.');
    const expected = sign(cred.accessKeySecret, req.method ?? 'GET', h, rawTarget);
    if (!signaturesEqual(expected, given)) {
      throw new MnsHttpError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    if (cred.securityToken !== undefined && h['security-token'] !== cred.securityToken) {
      throw new MnsHttpError(403, 'AccessDenied', 'The security token you provided is invalid or expired.');
    }
    if (maxSkewMs > 0 && Math.abs(Date.now() - when) > maxSkewMs) {
      throw new MnsHttpError(400, 'TimeExpired', 'The request time is too far from the server time.');
    }
    const md5 = h['content-md5'];
    if (md5 !== undefined && md5 !== contentMd5(body)) {
      throw new MnsHttpError(400, 'InvalidDegist', 'The Content-MD5 you specified is not valid.');
    }
    stats.accessKeys[ak] = (stats.accessKeys[ak] ?? 0) + 1;
  }

  // ------------------------------------------------------------ operations

  type Reply = { status: number; xml?: string; headers?: Record<string, string> };

  function queueAttrsFrom(el: XmlElement): Partial<QueueSettings> & { loggingEnabled?: boolean } {
    const out: Partial<QueueSettings> & { loggingEnabled?: boolean } = {};
    for (const [tag, [key, low, high]] of Object.entries(ATTR_RANGES)) {
      const v = intIn(childText(el, tag), tag, low, high);
      if (v !== undefined) out[key] = v;
    }
    const logging = childText(el, 'LoggingEnabled');
    if (logging !== undefined) out.loggingEnabled = logging.toLowerCase() === 'true';
    return out;
  }

  function createQueueOp(name: string, body: Buffer): Reply {
    if (!QUEUE_NAME_RE.test(name)) throw new MnsHttpError(400, 'InvalidQueueName', 'The queue name you provided is not valid.');
    const attrs = body.length > 0 ? queueAttrsFrom(parseBody(body, 'Queue')) : {};
    const { loggingEnabled, ...settings } = attrs;
    const wanted: QueueSettings = { ...DEFAULT_QUEUE_SETTINGS, ...settings };
    const existing = queues.get(name);
    if (existing) {
      const cur = existing.model.settings;
      const same = (Object.keys(ATTR_RANGES) as string[]).every((tag) => {
        const key = ATTR_RANGES[tag]?.[0];
        return key === undefined || cur[key] === wanted[key];
      });
      if (same && (loggingEnabled ?? false) === existing.loggingEnabled) return { status: 204 };
      throw new MnsHttpError(409, 'QueueAlreadyExist', 'The queue you want to create already exists with different attributes.');
    }
    const q = createQueue({ name, ...wanted });
    q.loggingEnabled = loggingEnabled ?? false;
    return { status: 201, headers: { Location: `${endpoint}/queues/${name}` } };
  }

  function setQueueAttributesOp(name: string, body: Buffer): Reply {
    const q = queueOr404(name);
    const { loggingEnabled, ...settings } = queueAttrsFrom(parseBody(body, 'Queue'));
    q.model.settings = { ...q.model.settings, ...settings };
    if (loggingEnabled !== undefined) q.loggingEnabled = loggingEnabled;
    q.lastModifyTime = clock.now();
    return { status: 204 };
  }

  function getQueueAttributesOp(name: string): Reply {
    const q = queueOr404(name);
    const s = q.model.settings;
    const c = q.model.counts();
    const xml = fields({
      QueueName: name,
      CreateTime: Math.floor(q.createTime / 1000),
      LastModifyTime: Math.floor(q.lastModifyTime / 1000),
      DelaySeconds: s.delaySeconds,
      MaximumMessageSize: s.maximumMessageSize,
      MessageRetentionPeriod: s.messageRetentionPeriod,
      VisibilityTimeout: s.visibilityTimeout,
      PollingWaitSeconds: s.pollingWaitSeconds,
      ActiveMessages: c.active,
      InactiveMessages: c.inactive,
      DelayMessages: c.delayed,
      LoggingEnabled: q.loggingEnabled ? 'True' : 'False',
    });
    return { status: 200, xml: document('Queue', xml) };
  }

  function deleteQueueOp(name: string): Reply {
    const q = queues.get(name);
    if (q) {
      queues.delete(name);
      for (const w of [...q.waiters]) w.done([]);
      q.model.clear();
    }
    return { status: 204 };
  }

  function listQueueOp(req: IncomingMessage): Reply {
    const prefix = String(req.headers['x-mns-prefix'] ?? '');
    const marker = String(req.headers['x-mns-marker'] ?? '');
    const limit = intIn(req.headers['x-mns-ret-number'] as string | undefined, 'x-mns-ret-number', 1, 1000) ?? 1000;
    const names = [...queues.keys()].filter((n) => n.startsWith(prefix) && (marker === '' || n >= marker)).sort();
    const page = names.slice(0, limit);
    let xml = page.map((n) => `<Queue>${fields({ QueueURL: `${endpoint}/queues/${n}` })}</Queue>`).join('');
    const next = names[limit];
    if (next !== undefined) xml += fields({ NextMarker: next });
    return { status: 200, xml: document('Queues', xml) };
  }

  interface SendItem {
    body: string;
    delaySeconds?: number;
    priority?: number;
  }

  function readMessage(el: XmlElement, q: QueueState): SendItem {
    const body = childText(el, 'MessageBody');
    if (body === undefined || body.length === 0) throw new MnsHttpError(400, 'InvalidArgument', 'The MessageBody should not be empty.');
    const bytes = Buffer.byteLength(body, 'utf8');
    const max = q.model.settings.maximumMessageSize;
    if (bytes > max) {
      throw new MnsHttpError(400, 'InvalidArgument', `The value of MessageBody length should between 1 and ${max} bytes.`);
    }
    const item: SendItem = { body };
    const delay = intIn(childText(el, 'DelaySeconds'), 'DelaySeconds', 0, MNS_LIMITS.maxDelaySeconds);
    if (delay !== undefined) item.delaySeconds = delay;
    const prio = intIn(childText(el, 'Priority'), 'Priority', MNS_LIMITS.minPriority, MNS_LIMITS.maxPriority);
    if (prio !== undefined) item.priority = prio;
    return item;
  }

  function sentXml(v: MessageView, delayed: boolean): string {
    return fields({ MessageId: v.messageId, MessageBodyMD5: v.bodyMd5, ReceiptHandle: delayed ? v.receiptHandle : undefined });
  }

  function sendOp(name: string, body: Buffer): Reply & { op: string } {
    const q = queueOr404(name);
    const el = parseBody(body, ['Message', 'Messages']);
    if (el.name === 'Message') {
      const item = readMessage(el, q);
      const v = q.model.send(item);
      serveWaiters(q);
      const delayed = (item.delaySeconds ?? q.model.settings.delaySeconds) > 0;
      return { op: 'SendMessage', status: 201, xml: document('Message', sentXml(v, delayed)) };
    }
    const items = el.children.filter((c) => c.name === 'Message');
    if (items.length === 0 || items.length > MNS_LIMITS.maxBatch) {
      throw new MnsHttpError(400, 'InvalidArgument', `The count of message should between 1 and ${MNS_LIMITS.maxBatch}.`);
    }
    const total = items.reduce((n, it) => n + Buffer.byteLength(childText(it, 'MessageBody') ?? '', 'utf8'), 0);
    if (total > MNS_LIMITS.maxMessageBytes) {
      throw new MnsHttpError(400, 'InvalidArgument', `The total size of messages should not exceed ${MNS_LIMITS.maxMessageBytes} bytes.`);
    }
    let failed = 0;
    let xml = '';
    for (const it of items) {
      try {
        const item = readMessage(it, q);
        const v = q.model.send(item);
        xml += `<Message>${sentXml(v, (item.delaySeconds ?? q.model.settings.delaySeconds) > 0)}</Message>`;
      } catch (err) {
        if (!(err instanceof MnsHttpError)) throw err;
        failed++;
        xml += `<Message>${fields({ ErrorCode: err.code, ErrorMessage: err.message })}</Message>`;
      }
    }
    serveWaiters(q);
    return { op: 'BatchSendMessage', status: failed > 0 ? 400 : 201, xml: document('Messages', xml) };
  }

  async function receiveOp(name: string, query: Map<string, string>, req: IncomingMessage): Promise<Reply & { op: string }> {
    const q = queueOr404(name);
    const numRaw = query.get('numofmessages');
    const batch = numRaw !== undefined;
    const num = intIn(numRaw, 'numOfMessages', 1, MNS_LIMITS.maxBatch) ?? 1;
    if (query.get('peekonly') === 'true') {
      const got = q.model.peek(num);
      const op = batch ? 'BatchPeekMessage' : 'PeekMessage';
      if (got.length === 0) throw new MnsHttpError(404, 'MessageNotExist', 'Message not exist.');
      return batch
        ? { op, status: 200, xml: document('Messages', got.map((m) => `<Message>${messageXml(m, false)}</Message>`).join('')) }
        : { op, status: 200, xml: document('Message', messageXml(got[0] as MessageView, false)) };
    }
    const wait = intIn(query.get('waitseconds'), 'waitseconds', 0, MNS_LIMITS.maxWaitSeconds) ?? q.model.settings.pollingWaitSeconds;
    const got = await receiveWait(q, num, wait, req);
    const op = batch ? 'BatchReceiveMessage' : 'ReceiveMessage';
    if (got.length === 0) throw new MnsHttpError(404, 'MessageNotExist', 'Message not exist.');
    return batch
      ? { op, status: 200, xml: document('Messages', got.map((m) => `<Message>${messageXml(m, true)}</Message>`).join('')) }
      : { op, status: 200, xml: document('Message', messageXml(got[0] as MessageView, true)) };
  }

  function deleteOp(name: string, query: Map<string, string>, body: Buffer): Reply & { op: string } {
    const q = queueOr404(name);
    const handle = query.get('receipthandle');
    if (handle !== undefined) {
      if (handle === '') throw new MnsHttpError(400, 'MissingReceiptHandle', 'The ReceiptHandle is missing.');
      if (!q.model.delete(handle).ok) {
        throw new MnsHttpError(400, 'ReceiptHandleError', 'The receipt handle you provided is not valid.');
      }
      return { op: 'DeleteMessage', status: 204 };
    }
    if (body.length === 0) throw new MnsHttpError(400, 'MissingReceiptHandle', 'The ReceiptHandle is missing.');
    const handles = parseBody(body, 'ReceiptHandles').children.filter((c) => c.name === 'ReceiptHandle');
    if (handles.length === 0 || handles.length > MNS_LIMITS.maxBatch) {
      throw new MnsHttpError(400, 'InvalidArgument', `The count of receipt handles should between 1 and ${MNS_LIMITS.maxBatch}.`);
    }
    let errors = '';
    for (const h of handles) {
      if (!q.model.delete(h.text).ok) {
        errors += `<Error>${fields({ ErrorCode: 'ReceiptHandleError', ErrorMessage: 'The receipt handle you provided is not valid.', ReceiptHandle: h.text })}</Error>`;
      }
    }
    if (errors === '') return { op: 'BatchDeleteMessage', status: 204 };
    return { op: 'BatchDeleteMessage', status: 404, xml: document('Errors', errors) };
  }

  function changeVisibilityOp(name: string, query: Map<string, string>): Reply {
    const q = queueOr404(name);
    const handle = query.get('receipthandle');
    if (!handle) throw new MnsHttpError(400, 'MissingReceiptHandle', 'The ReceiptHandle is missing.');
    const secs = intIn(query.get('visibilitytimeout'), 'VisibilityTimeout', MNS_LIMITS.minVisibilityTimeout, MNS_LIMITS.maxVisibilityTimeout);
    if (secs === undefined) throw new MnsHttpError(400, 'MissingVisibilityTimeout', 'The VisibilityTimeout is missing.');
    const r = q.model.changeVisibility(handle, secs);
    if (!r.ok) throw new MnsHttpError(404, 'MessageNotExist', 'The message you want to change does not exist or its receipt handle expired.');
    return {
      status: 200,
      xml: document('ChangeVisibility', fields({ ReceiptHandle: r.value.receiptHandle, NextVisibleTime: r.value.nextVisibleTime })),
    };
  }

  async function route(req: IncomingMessage, target: string, body: Buffer): Promise<Reply & { op: string }> {
    const qi = target.indexOf('?');
    const path = qi < 0 ? target : target.slice(0, qi);
    const query = new Map<string, string>();
    if (qi >= 0) for (const [k, v] of new URLSearchParams(target.slice(qi + 1))) query.set(k.toLowerCase(), v);
    const method = req.method ?? 'GET';
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'queues') throw new MnsHttpError(400, 'InvalidRequestURL', `The request URL ${path} is not supported by the emulator.`);
    if (parts.length === 1 && method === 'GET') return { op: 'ListQueue', ...listQueueOp(req) };
    let name: string;
    try {
      name = decodeURIComponent(parts[1] ?? '');
    } catch {
      throw new MnsHttpError(400, 'InvalidQueueName', 'The queue name you provided is not valid.');
    }
    if (parts.length === 2) {
      if (method === 'PUT' && query.get('metaoverride') === 'true') return { op: 'SetQueueAttributes', ...setQueueAttributesOp(name, body) };
      if (method === 'PUT') return { op: 'CreateQueue', ...createQueueOp(name, body) };
      if (method === 'GET') return { op: 'GetQueueAttributes', ...getQueueAttributesOp(name) };
      if (method === 'DELETE') return { op: 'DeleteQueue', ...deleteQueueOp(name) };
    }
    if (parts.length === 3 && parts[2] === 'messages') {
      if (method === 'POST') return sendOp(name, body);
      if (method === 'GET') return receiveOp(name, query, req);
      if (method === 'DELETE') return deleteOp(name, query, body);
      if (method === 'PUT') return { op: 'ChangeMessageVisibility', ...changeVisibilityOp(name, query) };
    }
    throw new MnsHttpError(400, 'InvalidRequestURL', `${method} ${path} is not supported by the emulator.`);
  }

  // ------------------------------------------------------------ HTTP

  function send(res: ServerResponse, requestId: string, reply: Reply): void {
    const headers: Record<string, string | number> = {
      'x-mns-request-id': requestId,
      'x-mns-version': '2015-06-06',
      Date: new Date().toUTCString(),
      ...reply.headers,
    };
    if (reply.xml !== undefined) {
      headers['Content-Type'] = XML_TYPE;
      headers['Content-Length'] = Buffer.byteLength(reply.xml);
    } else headers['Content-Length'] = 0;
    res.writeHead(reply.status, headers);
    res.end(reply.xml);
  }

  /** The operation a request names (for stats), before it is authenticated or validated. */
  function classify(method: string, target: string, body: Buffer): string {
    const qi = target.indexOf('?');
    const path = qi < 0 ? target : target.slice(0, qi);
    const q = qi < 0 ? '' : target.slice(qi + 1).toLowerCase();
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'queues') return 'Unsupported';
    if (parts.length === 1) return method === 'GET' ? 'ListQueue' : 'Unsupported';
    if (parts.length === 2) {
      if (method === 'PUT') return q.includes('metaoverride=true') ? 'SetQueueAttributes' : 'CreateQueue';
      return method === 'GET' ? 'GetQueueAttributes' : method === 'DELETE' ? 'DeleteQueue' : 'Unsupported';
    }
    if (parts.length !== 3 || parts[2] !== 'messages') return 'Unsupported';
    const batch = q.includes('numofmessages=');
    if (method === 'POST') return body.includes('<Messages') ? 'BatchSendMessage' : 'SendMessage';
    if (method === 'GET' && q.includes('peekonly=true')) return batch ? 'BatchPeekMessage' : 'PeekMessage';
    if (method === 'GET') return batch ? 'BatchReceiveMessage' : 'ReceiveMessage';
    if (method === 'DELETE') return q.includes('receipthandle=') ? 'DeleteMessage' : 'BatchDeleteMessage';
    return method === 'PUT' ? 'ChangeMessageVisibility' : 'Unsupported';
  }

  function count(op: string): void {
    stats.operations[op] = (stats.operations[op] ?? 0) + 1;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `${idPrefix.slice(0, 8)}${nextId()}`;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        stats.errors.InvalidArgument = (stats.errors.InvalidArgument ?? 0) + 1;
        send(res, requestId, errorReply(new MnsHttpError(400, 'InvalidArgument', 'The request body is too large.'), requestId));
        req.destroy();
        return;
      }
      chunks.push(c);
    }
    const body = Buffer.concat(chunks);
    const target = req.url ?? '/';
    count(classify(req.method ?? 'GET', target, body));
    try {
      authenticate(req, target, body);
      const reply = await route(req, target, body);
      send(res, requestId, reply);
    } catch (err) {
      const e = err instanceof MnsHttpError ? err : new MnsHttpError(500, 'InternalError', 'The emulator failed.');
      stats.errors[e.code] = (stats.errors[e.code] ?? 0) + 1;
      if (!res.headersSent && !res.destroyed) send(res, requestId, errorReply(e, requestId));
    }
  }

  function errorReply(e: MnsHttpError, requestId: string): Reply {
    return {
      status: e.status,
      xml: document('Error', `${fields({ Code: e.code, Message: e.message, RequestId: requestId, HostId: hostId })}`),
    };
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  endpoint = `http://${host}:${port}`;

  return {
    endpoint,
    url: endpoint,
    port,
    accountId: opts.accountId,
    region,
    stats(): MnsEmulatorStats {
      const qs: MnsEmulatorStats['queues'] = {};
      for (const [n, q] of queues) qs[n] = { ...q.model.counts(), messages: q.model.size };
      return structuredClone({ ...stats, queues: qs });
    },
    createQueue(spec) {
      createQueue(spec);
    },
    messages(queue) {
      return queueOr404(queue).model.all();
    },
    async close() {
      closing = true;
      if (tick) clearInterval(tick);
      tick = undefined;
      for (const q of queues.values()) for (const w of [...q.waiters]) w.done([]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

