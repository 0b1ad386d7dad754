/**
 * A small MNS REST client (node built-ins): what the EventBridge delivery simulator needs to consume a queue the way
 * EventBridge does — batch receive with long polling (abortable), batch delete, change visibility, batch send to a
 * dead-letter queue. Signs like the SDKs, escapes XML (unlike @alicloud/mns).
 */
import { Agent, request } from 'node:http';
import { MNS_LIMITS, type MessageView } from '../../shared/sim/queue-model.js';
import { contentMd5, sign } from './signature.js';
import { childText, document, fields, parseXml, type XmlElement } from './xml.js';

export class MnsClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'MnsClientError';
  }
}

export interface MnsClientOptions {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface ReceivedMnsMessage extends MessageView {
  receiptHandle: string;
  requestId: string;
}

interface RawResponse {
  status: number;
  root?: XmlElement;
  requestId: string;
}

function num(el: XmlElement, name: string): number {
  return Number(childText(el, name) ?? '0');
}

function toView(el: XmlElement, requestId: string): ReceivedMnsMessage {
  return {
    messageId: childText(el, 'MessageId') ?? '',
    body: childText(el, 'MessageBody') ?? '',
    bodyMd5: childText(el, 'MessageBodyMD5') ?? '',
    receiptHandle: childText(el, 'ReceiptHandle') ?? '',
    enqueueTime: num(el, 'EnqueueTime'),
    firstDequeueTime: num(el, 'FirstDequeueTime'),
    nextVisibleTime: num(el, 'NextVisibleTime'),
    dequeueCount: num(el, 'DequeueCount'),
    priority: num(el, 'Priority'),
    requestId,
  };
}

export class MnsRestClient {
  readonly #opts: MnsClientOptions;
  readonly #url: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(opts: MnsClientOptions) {
    this.#opts = opts;
    this.#url = new URL(opts.endpoint);
  }

  async request(method: string, resource: string, body = '', signal?: AbortSignal): Promise<RawResponse> {
    const date = new Date().toUTCString();
    const headers: Record<string, string | number> = { date, 'x-mns-date': date, 'x-mns-version': '2015-06-06', host: this.#url.host };
    const buf = Buffer.from(body, 'utf8');
    if (method !== 'GET') {
      headers['content-type'] = 'text/xml';
      headers['content-md5'] = contentMd5(buf);
      headers['content-length'] = buf.length;
    }
    headers.authorization = `MNS ${this.#opts.accessKeyId}:${sign(this.#opts.accessKeySecret, method, headers, resource)}`;
    if (this.#opts.securityToken) headers['security-token'] = this.#opts.securityToken;
    const text = await new Promise<{ status: number; text: string; requestId: string }>((resolve, reject) => {
      const req = request(
        { hostname: this.#url.hostname, port: this.#url.port, method, path: resource, headers, agent: this.#agent, signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              requestId: String(res.headers['x-mns-request-id'] ?? ''),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(buf);
    });
    const root = text.text === '' ? undefined : parseXml(text.text);
    if (root?.name === 'Error') {
      throw new MnsClientError(
        text.status,
        childText(root, 'Code') ?? 'Unknown',
        childText(root, 'Message') ?? '',
        childText(root, 'RequestId'),
      );
    }
    return { status: text.status, root, requestId: text.requestId };
  }

  /** Up to `max` messages, long-polling `waitSeconds`; [] on MessageNotExist. */
  async receive(queue: string, max: number, waitSeconds: number, signal?: AbortSignal): Promise<ReceivedMnsMessage[]> {
    const wait = waitSeconds > 0 ? `&waitseconds=${waitSeconds}` : '';
    try {
      const r = await this.request('GET', `/queues/${queue}/messages?numOfMessages=${max}${wait}`, '', signal);
      return (r.root?.children ?? []).filter((c) => c.name === 'Message').map((c) => toView(c, r.requestId));
    } catch (err) {
      if (err instanceof MnsClientError && err.code === 'MessageNotExist') return [];
      throw err;
    }
  }

  /** Deletes by handle, batches of <= 16; returns the handles MNS refused. */
  async delete(queue: string, handles: readonly string[]): Promise<string[]> {
    const refused: string[] = [];
    for (let i = 0; i < handles.length; i += MNS_LIMITS.maxBatch) {
      const chunk = handles.slice(i, i + MNS_LIMITS.maxBatch);
      const xml = document('ReceiptHandles', chunk.map((h) => fields({ ReceiptHandle: h })).join(''));
      const r = await this.request('DELETE', `/queues/${queue}/messages`, xml);
      for (const e of r.root?.children ?? []) refused.push(childText(e, 'ReceiptHandle') ?? '');
    }
    return refused;
  }

  async changeVisibility(queue: string, handle: string, seconds: number): Promise<{ receiptHandle: string; nextVisibleTime: number }> {
    const r = await this.request('PUT', `/queues/${queue}/messages?receiptHandle=${handle}&visibilityTimeout=${seconds}`);
    if (!r.root) throw new MnsClientError(r.status, 'EmptyResponse', 'ChangeMessageVisibility returned no body');
    return { receiptHandle: childText(r.root, 'ReceiptHandle') ?? '', nextVisibleTime: num(r.root, 'NextVisibleTime') };
  }

  /** Sends bodies (batches of <= 16 and <= 64 KiB). */
  async send(queue: string, bodies: readonly string[]): Promise<void> {
    let chunk: string[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const xml = document('Messages', chunk.map((b) => `<Message>${fields({ MessageBody: b })}</Message>`).join(''));
      chunk = [];
      bytes = 0;
      const r = await this.request('POST', `/queues/${queue}/messages`, xml);
      const failed = (r.root?.children ?? []).find((c) => childText(c, 'ErrorCode') !== undefined);
      if (failed) throw new MnsClientError(r.status, childText(failed, 'ErrorCode') ?? '', childText(failed, 'ErrorMessage') ?? '');
    };
    for (const b of bodies) {
      const n = Buffer.byteLength(b, 'utf8');
      if (chunk.length === MNS_LIMITS.maxBatch || bytes + n > MNS_LIMITS.maxMessageBytes) await flush();
      chunk.push(b);
      bytes += n;
    }
    await flush();
  }

  close(): void {
    this.#agent.destroy();
  }
}
