/**
 * FunctionInvoker that runs the handler modules in this process (the sandbox, `npm start`, tests): the same
 * `handler(event: Buffer, context)` FC calls, with an FC-shaped context. Sync invocations return what FC would
 * (Buffer as-is, string, anything else as JSON; a thrown error becomes `functionError: 'UnhandledInvocationError'`
 * with FC's `{errorMessage, errorType}` body). Async invocations resolve 202 at once and run on the next tick;
 * their failures go to `onAsyncError` (FC would retry them per its async config).
 */
import { randomUUID } from 'node:crypto';
import type { FcContextLike, FcCredentials, FcEventHandler } from '../../sim/fc.js';
import type { FunctionInvoker, InvokeResult } from '../../ports/index.js';
import { InvokeError } from './errors.js';

export interface LocalFunctionInvokerOptions {
  /** Loads a function's handler by short name; resolves undefined for an unknown function. */
  load: (name: string) => Promise<FcEventHandler | undefined>;
  region: string;
  accountId?: string;
  credentials?: () => FcCredentials;
  /** seconds, reported in context.function.timeout */
  timeoutSeconds?: number;
  memoryMb?: number;
  onAsyncError?: (name: string, err: unknown) => void;
}

function responseBody(value: unknown): Buffer | undefined {
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export class LocalFunctionInvoker implements FunctionInvoker {
  readonly #opts: LocalFunctionInvokerOptions;
  readonly #pending = new Set<Promise<void>>();

  constructor(opts: LocalFunctionInvokerOptions) {
    this.#opts = opts;
  }

  #context(name: string, requestId: string): FcContextLike {
    const creds = this.#opts.credentials?.() ?? { accessKeyId: '', accessKeySecret: '', securityToken: '' };
    return {
      requestId,
      credentials: creds,
      function: {
        name,
        handler: 'index.handler',
        memory: this.#opts.memoryMb ?? 512,
        timeout: this.#opts.timeoutSeconds ?? 60,
      },
      region: this.#opts.region,
      accountId: this.#opts.accountId ?? 'local',
    };
  }

  async invoke(name: string, payload: Buffer | string, opts: { async?: boolean } = {}): Promise<InvokeResult> {
    const handler = await this.#opts.load(name);
    if (!handler) throw new InvokeError(`local: no function named '${name}'`, 'FunctionNotFound', 404);
    const event = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
    const requestId = randomUUID();
    const ctx = this.#context(name, requestId);
    if (opts.async) {
      const run = Promise.resolve()
        .then(() => handler(event, ctx))
        .then(
          () => undefined,
          (err: unknown) => this.#opts.onAsyncError?.(name, err),
        )
        .finally(() => this.#pending.delete(run));
      this.#pending.add(run);
      return { status: 202, requestId };
    }
    try {
      const body = responseBody(await handler(event, ctx));
      return { status: 200, requestId, ...(body ? { body } : {}) };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const body = Buffer.from(JSON.stringify({ errorMessage: e.message, errorType: e.name }), 'utf8');
      return { status: 200, requestId, functionError: 'UnhandledInvocationError', body };
    }
  }

  /** Resolves when every async invocation started so far has finished (tests, graceful shutdown). */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
