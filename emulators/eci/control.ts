/**
 * Emulator controls: token buckets (sized by ECI's published API quotas, shared/domain/eciQuotas.ts), and the
 * fault-injection settings (latency, error rates with chosen codes, NoStock per zone/vSwitch, vCPU
 * quota, "crash after create").
 */
import type { EciErrorCode } from './errors.js';

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
