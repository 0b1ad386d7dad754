/**
 * The one place middy lives (the handler shape and FC request handlers, docs/architecture.md#sources). middy 6 is ESM-only and typed for AWS Lambda's context
 * (`TContext extends aws-lambda Context`, `any` here because @types/aws-lambda is not installed): the handler it
 * returns is cast once, below, to the FC signature `(event: Buffer, context: FcContextLike) => Promise<R>`.
 * Middlewares are plain objects with named functions:
 * - `bufferEvent`: FC hands a Buffer; a string (local invoke, tests) is turned into one;
 * - `invocationLog`: one structured line per invocation (function, requestId, duration, outcome), errors logged
 *   without their payload; FC's `context.logger` is not used (our logger writes JSON to stdout, which FC collects).
 * Early timeout stays off: FC has no `getRemainingTimeInMillis` and the use-cases are idempotent, so a timeout
 * simply re-delivers.
 */
import middy from '@middy/core';
import type { FcContextLike, FcEventHandler } from '../../sim/fc.js';
import type { Logger } from '../../ports/index.js';

export interface FcRequest {
  event: Buffer;
  context: FcContextLike;
  response: unknown;
  error: Error | null;
  internal: Record<string, unknown>;
}

export interface FcMiddleware {
  before?: (request: FcRequest) => unknown;
  after?: (request: FcRequest) => unknown;
  onError?: (request: FcRequest) => unknown;
}

export function bufferEvent(): FcMiddleware {
  return {
    before: function bufferEventBefore(request) {
      const e: unknown = request.event;
      if (typeof e === 'string') request.event = Buffer.from(e, 'utf8');
      else if (e instanceof Uint8Array && !Buffer.isBuffer(e)) request.event = Buffer.from(e);
      else if (e === undefined || e === null) request.event = Buffer.alloc(0);
    },
  };
}

export function invocationLog(fn: string, logger: () => Logger, now: () => number = Date.now): FcMiddleware {
  return {
    before: function invocationLogBefore(request) {
      request.internal.startedAt = now();
    },
    after: function invocationLogAfter(request) {
      const ms = now() - Number(request.internal.startedAt ?? now());
      logger().info({ fn, requestId: request.context.requestId, ms, result: summarise(request.response) }, `${fn} done`);
    },
    onError: function invocationLogOnError(request) {
      const ms = now() - Number(request.internal.startedAt ?? now());
      logger().error(
        { fn, requestId: request.context.requestId, ms, err: request.error?.message, errName: request.error?.name },
        `${fn} failed`,
      );
    },
  };
}

function summarise(response: unknown): unknown {
  if (response && typeof response === 'object') {
    const json = JSON.stringify(response);
    return json.length > 2000 ? `${json.slice(0, 2000)}…` : response;
  }
  return response;
}

/** Wraps a handler core with middy and the FC middlewares. */
export function fcHandler<R>(
  fn: string,
  core: (event: Buffer, context: FcContextLike) => Promise<R>,
  /** `logger` is read per invocation (the handler's logger is built lazily, with its config) */
  opts: { logger: () => Logger; middlewares?: FcMiddleware[] },
): FcEventHandler {
  const wrapped = middy(async (event: Buffer, context: FcContextLike) => core(event, context))
    .use(bufferEvent())
    .use(invocationLog(fn, opts.logger))
    .use(opts.middlewares ?? []);
  // The one cast: middy's handler is typed for AWS Lambda's (event, context) pair; FC calls it with a Buffer and
  // an FcContextLike, which the middlewares above and `core` are typed for.
  return wrapped as unknown as FcEventHandler;
}
