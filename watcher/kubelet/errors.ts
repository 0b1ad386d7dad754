/** The kubelet API's one error family: each carries the HTTP status the caller gets and a message for it. */
import { BridgeError } from '../../shared/errors.js';

export class KubeletError extends BridgeError {
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 429: the watcher's share of ECI's DescribeContainerLog quota is spent for now. */
export class LogBudgetError extends KubeletError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, 429);
  }
}
