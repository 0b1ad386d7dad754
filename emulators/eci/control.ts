/**
 * Emulator controls: seeded randomness, token buckets sized to ECI's published API quotas (ECI limits, docs/architecture.md#sources),
 * and the fault-injection settings (latency, error rates with chosen codes, NoStock per zone/vSwitch, vCPU
 * quota, "crash after create").
 */
import type { EciErrorCode } from './errors.js';

/** mulberry32: small, fast, seeded PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly burst: number,
    readonly perSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  tryTake(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until one token is available. */
  waitMs(): number {
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}

/**
 * ECI's published per-account API flow control (calls per 60 s; Create/Delete as the Limits page's token bucket,
 * burst 100, refill 20/s). Per-minute quotas become buckets of `limit` tokens refilled at `limit/60` per second.
 */
export const ECI_API_QUOTAS: Record<string, { burst: number; perSecond: number }> = {
  CreateContainerGroup: { burst: 100, perSecond: 20 },
  DeleteContainerGroup: { burst: 100, perSecond: 20 },
  UpdateContainerGroup: { burst: 1000, perSecond: 1000 / 60 },
  RestartContainerGroup: { burst: 1000, perSecond: 1000 / 60 },
  DescribeContainerGroups: { burst: 2000, perSecond: 2000 / 60 },
  DescribeContainerGroupStatus: { burst: 10000, perSecond: 10000 / 60 },
  DescribeContainerGroupEvents: { burst: 10000, perSecond: 10000 / 60 },
  DescribeContainerLog: { burst: 500, perSecond: 500 / 60 },
  ExecContainerCommand: { burst: 500, perSecond: 500 / 60 },
  DescribeContainerGroupPrice: { burst: 1000, perSecond: 1000 / 60 },
  DescribeContainerGroupMetric: { burst: 2000, perSecond: 2000 / 60 },
  DescribeMultiContainerGroupMetric: { burst: 2000, perSecond: 2000 / 60 },
  DescribeRegions: { burst: 10000, perSecond: 10000 / 60 },
};

export interface ActionFault {
  /** Added latency in ms: a fixed value or a [min, max] range (uniform, seeded). */
  latencyMs?: number | [number, number];
  /** Errors injected before the action runs, each with its own probability (checked in order). */
  errors?: { code: EciErrorCode; rate: number; retryAfterMs?: number }[];
  /**
   * CreateContainerGroup only: with this probability the group is created but the response is lost (the
   * connection is destroyed). `crashAfterCreateCount` does it for the next N creates instead.
   */
  crashAfterCreateRate?: number;
  crashAfterCreateCount?: number;
}

export interface Faults {
  /** Per action name; `*` applies to every action (an action's own entry wins). */
  actions?: Record<string, ActionFault>;
  /**
   * CreateContainerGroup answers OperationDenied.NoStock (403) for these zones / vSwitches, and with `spot` for
   * every spot request (SpotStrategy other than NoSpot) anywhere.
   */
  noStock?: { zones?: string[]; vSwitches?: string[]; spot?: boolean };
  /** Regional vCPU quota: creating past it answers QuotaExceeded.Cpu (403). */
  vcpuQuota?: number;
}

export function pickFault(faults: Faults, action: string): ActionFault | undefined {
  return faults.actions?.[action] ?? faults.actions?.['*'];
}

export function latencyOf(f: ActionFault | undefined, rnd: () => number): number {
  const l = f?.latencyMs;
  if (l === undefined) return 0;
  if (typeof l === 'number') return l;
  return l[0] + rnd() * (l[1] - l[0]);
}
