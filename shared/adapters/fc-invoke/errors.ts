import { BridgeError, type ErrorKind, type ErrorService, type KindedError } from '../../errors.js';

/**
 * An invocation that did not reach the function or was refused by the FC API (signature, permission, unknown
 * function, throttling, transport). A function that ran and failed is not an InvokeError: it is reported as
 * `InvokeResult.functionError`.
 */
export class InvokeError extends BridgeError implements KindedError {
  readonly service: ErrorService = 'fc';
  constructor(
    message: string,
    /** FC error code (e.g. `FunctionNotFound`, `InvalidSignature`, `AccessDenied`) or `Network` */
    readonly code: string,
    /** HTTP status of the refusal, when there was one */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** the vocabulary's kind (shared/errors.ts): throttling, 5xx and transport errors are retryable */
  get kind(): ErrorKind {
    if (this.code === 'Network' || this.status === 429 || (this.status !== undefined && this.status >= 500)) return 'retryable';
    return this.status === 404 ? 'notFound' : 'permanent';
  }
}

/** The retryable refusals: throttling, 5xx and transport errors. */
export function isRetryableInvokeError(err: InvokeError): boolean {
  return err.kind === 'retryable';
}
