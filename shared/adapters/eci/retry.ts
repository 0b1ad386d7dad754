/**
 * Client-side flow control and retry timing for ECI: token buckets sized to ECI's published per-account quotas
 * (ECI limits, docs/architecture.md#sources; configurable, can be off) and exponential backoff with jitter.
 */
import type { Clock } from '../../ports/index.js';

export interface BucketSpec {
  burst: number;
  perSecond: number;
}

/** ECI's API quotas (Create/Delete: burst 100, 20/s; others: N per 60 s as a bucket of N refilled N/60 per s). */
export const ECI_QUOTAS: Readonly<Record<string, BucketSpec>> = {
  CreateContainerGroup: { burst: 100, perSecond: 20 },
  DeleteContainerGroup: { burst: 100, perSecond: 20 },
  DescribeContainerGroups: { burst: 2000, perSecond: 2000 / 60 },
  DescribeContainerGroupStatus: { burst: 10000, perSecond: 10000 / 60 },
  DescribeContainerGroupEvents: { burst: 10000, perSecond: 10000 / 60 },
  DescribeContainerLog: { burst: 500, perSecond: 500 / 60 },
  ExecContainerCommand: { burst: 500, perSecond: 500 / 60 },
  DescribeContainerGroupPrice: { burst: 1000, perSecond: 1000 / 60 },
  DescribeMultiContainerGroupMetric: { burst: 2000, perSecond: 2000 / 60 },
};

/** A token bucket whose `take()` waits (on the injected clock) until a token is free; FIFO among waiters. */
export class WaitingBucket {
  #tokens: number;
  #last: number;
  #tail: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: BucketSpec,
    private readonly clock: Clock,
  ) {
    this.#tokens = spec.burst;
    this.#last = clock.now();
  }

  take(): Promise<void> {
    const next = this.#tail.then(() => this.#takeOne());
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async #takeOne(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.#tokens = Math.min(this.spec.burst, this.#tokens + ((now - this.#last) / 1000) * this.spec.perSecond);
      this.#last = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.#tokens) / this.spec.perSecond) * 1000));
    }
  }
}

export interface RetryPolicy {
  /** total calls per operation, the first included (default 8) */
  maxAttempts: number;
  /** first backoff, ms (default 200) */
  baseDelayMs: number;
  /** cap, ms (default 10 000) */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 10_000 };

/**
 * Backoff before retry number `retry` (1-based): "equal jitter" — half of min(cap, base·2^(retry-1)) plus a random
 * part up to the other half, so retries never bunch up and never spin. `slow` (Degrade.Api) quadruples it; a
 * server hint (`x-acs-retry-after`) is a floor.
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number, opts?: { slow?: boolean; hintMs?: number }): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1) * (opts?.slow ? 4 : 1));
  const delay = exp / 2 + random() * (exp / 2);
  return Math.max(delay, opts?.hintMs ?? 0);
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
