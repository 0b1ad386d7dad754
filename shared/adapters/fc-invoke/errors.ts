import { BridgeError } from '../../errors.js';

/**
 * An invocation that did not reach the function or was refused by the FC API (signature, permission, unknown
 * function, throttling, transport). A function that ran and failed is not an InvokeError: it is reported as
 * `InvokeResult.functionError`.
 */
export class InvokeError extends BridgeError {
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
}

/** The retryable refusals: throttling, 5xx and transport errors. */
export function isRetryableInvokeError(err: InvokeError): boolean {
  return err.code === 'Network' || err.status === 429 || (err.status !== undefined && err.status >= 500);
}
