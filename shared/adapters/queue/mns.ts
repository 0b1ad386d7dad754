/**
 * `PodQueue` over MNS with @alicloud/mns 1.2.0 — the only file that imports it (docs/architecture.md#sources).
 * - Bodies go on the queue exactly as given (the bridge sends base64(JSON), see shared/domain/messages-codec.ts).
 *   The SDK concatenates XML without escaping, so this adapter escapes the body itself: `&`, `<` and friends arrive
 *   intact instead of failing with MalformedXML. Characters XML 1.0 cannot carry are refused before sending.
 * - Sends in batches of <= 16 messages and <= 64 KiB; a body over 64 KiB is refused before any call.
 * - An empty queue (404 MessageNotExist) is `[]`. SDK failures become the QueueError family (errors.ts).
 * - STS: pass `credentials.securityToken` and optionally `refreshCredentials`, which the SDK calls every
 *   `refreshIntervalMs` (it only runs when an initial token was given).
 * - The SDK (with its XML parser) is loaded on the first call, not with this module: most function invocations
 *   never send (a re-nudge or a dead letter is the exception), so they never pay for loading it. The options the
 *   SDK's constructor asserts are checked here, at construction, as before.
 */
import type MNS from '@alicloud/mns';
import type { OutgoingMessage, PodQueue, ReceivedMessage } from '../../ports/index.js';
import {
  QueueAuthError,
  QueueBatchError,
  QueueError,
  type QueueErrorDetails,
  QueueInvalidRequestError,
  QueueMessageTooLargeError,
  QueueNotFoundError,
  QueueReceiptHandleError,
  QueueUnavailableError,
} from './errors.js';

export const MNS_MAX_BATCH = 16;
export const MNS_MAX_MESSAGE_BYTES = 65536;
export const MNS_MAX_WAIT_SECONDS = 30;

export interface MnsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface MnsQueueOptions {
  accountId: string;
  queueName: string;
  /** e.g. the emulator's `http://127.0.0.1:PORT`; otherwise `region` (+ `internal`/`vpc`/`secure`) */
  endpoint?: string;
  region?: string;
  internal?: boolean;
  vpc?: boolean;
  secure?: boolean;
  credentials: MnsCredentials;
  /** STS refresh (FC: re-read `context.credentials` / the env), called every `refreshIntervalMs` (default 300000) */
  refreshCredentials?: () => Promise<Required<MnsCredentials>>;
  refreshIntervalMs?: number;
  readTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface PeekedMessage {
  messageId: string;
  body: string;
  dequeueCount: number;
  enqueueTime: number;
  priority: number;
}

export interface MnsQueueAttributes {
  activeMessages: number;
  inactiveMessages: number;
  delayMessages: number;
  visibilityTimeout: number;
  delaySeconds: number;
  maximumMessageSize: number;
  pollingWaitSeconds: number;
  messageRetentionPeriod: number;
}

const AUTH_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'TimeExpired',
  'InvalidAuthorizationHeader',
  'MissingAuthorizationHeader',
  'InvalidDateHeader',
  'MissingDateHeader',
]);
const UNAVAILABLE_CODES = new Set(['InternalError', 'InternalServerError', 'QpsLimitExceeded', 'ServiceUnavailable']);
// XML 1.0 forbids these code points, even escaped
// biome-ignore lint/suspicious/noControlCharactersInRegex: exactly the control characters XML 1.0 forbids
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function escapeXml(text: string): string {
  return text.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** The MNS error code of an SDK error (`err.name` is `'MNS' + Code + 'Error'`), if it is one. */
export function mnsErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  return /^MNS(\w+)Error$/.exec(err.name)?.[1];
}

function toInt(s: string | undefined): number {
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
}

export class MnsQueue implements PodQueue {
  readonly queueName: string;
  readonly #options: MNS.MnsClientOptions;
  readonly #accountId: string;
  #sdk: Promise<MNS> | undefined;

  constructor(opts: MnsQueueOptions) {
    this.queueName = opts.queueName;
    const refresh = opts.refreshCredentials;
    // what @alicloud/mns's constructor asserts, checked now although the SDK is built on first use
    const missing = !opts.accountId
      ? 'accountId'
      : !opts.credentials.accessKeyId
        ? 'credentials.accessKeyId'
        : !opts.credentials.accessKeySecret
          ? 'credentials.accessKeySecret'
          : !opts.endpoint && !opts.region
            ? 'region (or endpoint)'
            : undefined;
    if (missing) throw new QueueError(`MNS queue ${opts.queueName}: ${missing} is required`, { code: 'InvalidOptions', operation: 'configure' });
    this.#accountId = opts.accountId;
    this.#options = {
      accessKeyId: opts.credentials.accessKeyId,
      accessKeySecret: opts.credentials.accessKeySecret,
      securityToken: opts.credentials.securityToken,
      refreshSTSToken: refresh ? async () => refresh() : undefined,
      refreshSTSTokenInterval: opts.refreshIntervalMs,
      endpoint: opts.endpoint,
      region: opts.region,
      internal: opts.internal,
      vpc: opts.vpc,
      secure: opts.secure,
      readTimeout: opts.readTimeoutMs,
      connectTimeout: opts.connectTimeoutMs,
    };
  }

  /** The SDK client, built on first use (one load per process, one client per queue). */
  #client(): Promise<MNS> {
    this.#sdk ??= import('@alicloud/mns').then((m) => new m.default(this.#accountId, this.#options));
    return this.#sdk;
  }

  /** Sends every message, in batches of <= 16 and <= 64 KiB. Nothing is sent if any body is invalid. */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const prepared = messages.map((m, i) => this.#prepare(m, i));
    let chunk: typeof prepared = [];
    let bytes = 0;
    for (const p of prepared) {
      if (chunk.length === MNS_MAX_BATCH || bytes + p.bytes > MNS_MAX_MESSAGE_BYTES) {
        await this.#sendBatch(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(p);
      bytes += p.bytes;
    }
    if (chunk.length > 0) await this.#sendBatch(chunk);
  }

  async receive(max: number, waitSeconds: number): Promise<ReceivedMessage[]> {
    const n = Math.min(MNS_MAX_BATCH, Math.max(1, Math.floor(max)));
    const wait = Math.min(MNS_MAX_WAIT_SECONDS, Math.max(0, Math.floor(waitSeconds)));
    try {
      const res = await (await this.#client()).batchReceiveMessage(this.queueName, n, wait);
      return res.body.map((m) => ({
        messageId: m.MessageId,
        body: m.MessageBody,
        receiptHandle: m.ReceiptHandle,
        dequeueCount: toInt(m.DequeueCount),
        enqueueTime: toInt(m.EnqueueTime),
        firstDequeueTime: toInt(m.FirstDequeueTime),
      }));
    } catch (err) {
      if (mnsErrorCode(err) === 'MessageNotExist') return [];
      throw this.#translate(err, 'BatchReceiveMessage');
    }
  }

  async delete(receiptHandle: string): Promise<void> {
    try {
      await (await this.#client()).deleteMessage(this.queueName, encodeURIComponent(receiptHandle));
    } catch (err) {
      throw this.#translate(err, 'DeleteMessage', true);
    }
  }

  /** Deletes in batches of <= 16; returns the handles MNS refused (stale ones), without throwing for them. */
  async deleteMany(receiptHandles: readonly string[]): Promise<{ receiptHandle: string; code: string }[]> {
    const refused: { receiptHandle: string; code: string }[] = [];
    for (let i = 0; i < receiptHandles.length; i += MNS_MAX_BATCH) {
      const chunk = receiptHandles.slice(i, i + MNS_MAX_BATCH);
      try {
        const res = await (await this.#client()).batchDeleteMessage(this.queueName, chunk.map(escapeXml));
        for (const e of res.body ?? []) refused.push({ receiptHandle: e.ReceiptHandle, code: e.ErrorCode });
      } catch (err) {
        throw this.#translate(err, 'BatchDeleteMessage', true);
      }
    }
    return refused;
  }

  async changeVisibility(receiptHandle: string, seconds: number): Promise<string> {
    try {
      const res = await (await this.#client()).changeMessageVisibility(this.queueName, encodeURIComponent(receiptHandle), seconds);
      return res.body.ReceiptHandle;
    } catch (err) {
      throw this.#translate(err, 'ChangeMessageVisibility', true);
    }
  }

  /** Up to `max` visible messages without receiving them. */
  async peek(max: number): Promise<PeekedMessage[]> {
    try {
      const res = await (await this.#client()).batchPeekMessage(this.queueName, Math.min(MNS_MAX_BATCH, Math.max(1, max)));
      return res.body.map((m) => ({
        messageId: m.MessageId,
        body: m.MessageBody,
        dequeueCount: toInt(m.DequeueCount),
        enqueueTime: toInt(m.EnqueueTime),
        priority: toInt(m.Priority),
      }));
    } catch (err) {
      if (mnsErrorCode(err) === 'MessageNotExist') return [];
      throw this.#translate(err, 'BatchPeekMessage');
    }
  }

  async attributes(): Promise<MnsQueueAttributes> {
    try {
      const { body: b } = await (await this.#client()).getQueueAttributes(this.queueName);
      return {
        activeMessages: toInt(b.ActiveMessages),
        inactiveMessages: toInt(b.InactiveMessages),
        delayMessages: toInt(b.DelayMessages),
        visibilityTimeout: toInt(b.VisibilityTimeout),
        delaySeconds: toInt(b.DelaySeconds),
        maximumMessageSize: toInt(b.MaximumMessageSize),
        pollingWaitSeconds: toInt(b.PollingWaitSeconds),
        messageRetentionPeriod: toInt(b.MessageRetentionPeriod),
      };
    } catch (err) {
      throw this.#translate(err, 'GetQueueAttributes');
    }
  }

  /** CreateQueue: 'created' (201) or 'exists' (204, same attributes). Different attributes → QueueError QueueAlreadyExist. */
  async ensureQueue(attrs: { VisibilityTimeout?: number; DelaySeconds?: number; PollingWaitSeconds?: number } = {}): Promise<'created' | 'exists'> {
    const params: Record<string, number> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) params[k] = v;
    try {
      const res = await (await this.#client()).createQueue(this.queueName, params);
      return res.code === 201 ? 'created' : 'exists';
    } catch (err) {
      throw this.#translate(err, 'CreateQueue');
    }
  }

  async deleteQueue(): Promise<void> {
    try {
      await (await this.#client()).deleteQueue(this.queueName);
    } catch (err) {
      throw this.#translate(err, 'DeleteQueue');
    }
  }

  #prepare(m: OutgoingMessage, index: number): { params: MNS.MnsSendParams; bytes: number; index: number } {
    const op = 'SendMessage';
    const bytes = Buffer.byteLength(m.body, 'utf8');
    if (bytes > MNS_MAX_MESSAGE_BYTES) {
      throw new QueueMessageTooLargeError(bytes, MNS_MAX_MESSAGE_BYTES, { code: 'MessageTooLarge', operation: op });
    }
    if (bytes === 0) throw new QueueInvalidRequestError('message body is empty', { code: 'InvalidArgument', operation: op });
    if (XML_FORBIDDEN.test(m.body)) {
      throw new QueueInvalidRequestError('message body holds characters XML cannot carry (send base64)', {
        code: 'InvalidCharacter',
        operation: op,
      });
    }
    const params: MNS.MnsSendParams = { MessageBody: escapeXml(m.body) };
    if (m.delaySeconds !== undefined) params.DelaySeconds = m.delaySeconds;
    if (m.priority !== undefined) params.Priority = m.priority;
    return { params, bytes, index };
  }

  async #sendBatch(chunk: { params: MNS.MnsSendParams; index: number }[]): Promise<void> {
    let items: MNS.MnsSentMessage[];
    try {
      const res = await (await this.#client()).batchSendMessage(
        this.queueName,
        chunk.map((c) => c.params),
      );
      items = res.body;
    } catch (err) {
      throw this.#translate(err, 'BatchSendMessage');
    }
    const failures = items.flatMap((it, i) =>
      it.ErrorCode ? [{ index: chunk[i]?.index ?? i, code: it.ErrorCode, message: it.ErrorMessage ?? '' }] : [],
    );
    if (failures.length > 0) throw new QueueBatchError(failures, { code: failures[0]?.code ?? 'BatchSendFail', operation: 'BatchSendMessage' });
  }

  #translate(err: unknown, operation: string, handleOp = false): QueueError {
    const code = mnsErrorCode(err);
    const details: QueueErrorDetails = { code: code ?? 'Network', operation, cause: err };
    const where = `MNS ${operation} on queue ${this.queueName}`;
    if (code === undefined) return new QueueUnavailableError(`${where} failed: service unreachable or unreadable reply`, details);
    if (code === 'QueueNotExist') return new QueueNotFoundError(`${where}: the queue does not exist`, details);
    if (handleOp && (code === 'ReceiptHandleError' || code === 'MessageNotExist')) {
      return new QueueReceiptHandleError(`${where}: stale or unknown receipt handle (${code})`, details);
    }
    if (AUTH_CODES.has(code)) return new QueueAuthError(`${where}: credentials refused (${code})`, details);
    if (UNAVAILABLE_CODES.has(code)) return new QueueUnavailableError(`${where} failed (${code})`, details);
    if (code === 'InvalidArgument' || code === 'MalformedXML' || code.startsWith('Missing')) {
      return new QueueInvalidRequestError(`${where}: request refused (${code})`, details);
    }
    return new QueueError(`${where} failed (${code})`, details);
  }
}
