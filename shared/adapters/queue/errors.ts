/**
 * The queue adapters' error family. `code` is the MNS error code when there is one (`QueueNotExist`,
 * `ReceiptHandleError`, `MessageNotExist`, `SignatureDoesNotMatch`, …) or `Network`; messages never carry keys,
 * tokens or message bodies.
 */
import { BridgeError } from '../../errors.js';

export interface QueueErrorDetails {
  code: string;
  operation: string;
  cause?: unknown;
}

export class QueueError extends BridgeError {
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
export class QueueNotFoundError extends QueueError {}

/** Refused credentials: unknown key, bad signature, expired STS token, clock skew. */
export class QueueAuthError extends QueueError {}

/** A receipt handle that is stale (superseded by a newer receive, past its visibility, already deleted) or unknown. */
export class QueueReceiptHandleError extends QueueError {}

/** A body over the queue's maximum message size (64 KiB). */
export class QueueMessageTooLargeError extends QueueError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
    details: QueueErrorDetails,
  ) {
    super(`message body of ${bytes} bytes exceeds the ${limit}-byte limit`, details);
  }
}

/** A request MNS refuses as malformed: bad argument, characters XML cannot carry, malformed XML. */
export class QueueInvalidRequestError extends QueueError {}

/** Some messages of a batch were refused (the others were sent). */
export class QueueBatchError extends QueueError {
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
