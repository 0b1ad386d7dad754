/**
 * The queue adapters' error family, each class with its kind of the one vocabulary (shared/errors.ts). `code` is the MNS error code when there is one (`QueueNotExist`,
 * `ReceiptHandleError`, `MessageNotExist`, `SignatureDoesNotMatch`, …) or `Network`; messages never carry keys,
 * tokens or message bodies.
 */
import { BridgeError, type ErrorKind, type ErrorService, type KindedError } from '../../errors.js';

export interface QueueErrorDetails {
  code: string;
  operation: string;
  cause?: unknown;
}

export class QueueError extends BridgeError implements KindedError {
  /** the vocabulary's kind (shared/errors.ts); the subclasses below set theirs */
  readonly kind: ErrorKind = 'retryable';
  readonly service: ErrorService = 'queue';
  readonly code: string;
  readonly operation: string;
  /** worth retrying later (network, 5xx, throttling) */
  readonly retryable: boolean = false;

  constructor(message: string, details: QueueErrorDetails) {
    super(message, { cause: details.cause });
    this.code = details.code;
    this.operation = details.operation;
  }
}

/** The queue does not exist. */
export class QueueNotFoundError extends QueueError {
  override readonly kind: ErrorKind = 'notFound';
}

/** Refused credentials: unknown key, bad signature, expired STS token, clock skew. */
export class QueueAuthError extends QueueError {
  // retryable: an expired STS token or a clock skew clears with the next credentials; never a fault of a pod
  override readonly kind: ErrorKind = 'retryable';
}

/** A receipt handle that is stale (superseded by a newer receive, past its visibility, already deleted) or unknown. */
export class QueueReceiptHandleError extends QueueError {
  override readonly kind: ErrorKind = 'conflict';
}

/** A body over the queue's maximum message size (64 KiB). */
export class QueueMessageTooLargeError extends QueueError {
  override readonly kind: ErrorKind = 'invalid';
  constructor(
    readonly bytes: number,
    readonly limit: number,
    details: QueueErrorDetails,
  ) {
    super(`message body of ${bytes} bytes exceeds the ${limit}-byte limit`, details);
  }
}

/** A request MNS refuses as malformed: bad argument, characters XML cannot carry, malformed XML. */
export class QueueInvalidRequestError extends QueueError {
  override readonly kind: ErrorKind = 'invalid';
}

/** Some messages of a batch were refused (the others were sent). */
export class QueueBatchError extends QueueError {
  override readonly kind: ErrorKind = 'invalid';
  constructor(
    readonly failures: readonly { index: number; code: string; message: string }[],
    details: QueueErrorDetails,
  ) {
    super(`${failures.length} message(s) of the batch were refused (first: ${failures[0]?.code ?? '?'})`, details);
  }
}

/** The service could not be reached or failed (network, timeout, 5xx, throttling): retry later. */
export class QueueUnavailableError extends QueueError {
  override readonly retryable = true;
}
