/**
 * The cost model: what the bridge itself costs on Alibaba Cloud, from counted usage at list prices (cn-hangzhou,
 * CNY). Pure. The burst bench (bench/burst.bench.ts) feeds it the invocations, busy seconds and MNS requests it
 * counted; the reconcile function prints its prediction of a day (`predictBridgeDay`, from the bench's measured
 * rates or BILLING_BRIDGE_MODEL) beside the bridge's FC and MNS bill lines.
 *
 * Prices and their sources (list prices, subject to change; see docs/performance.md):
 * - FC 3.0 pay-as-you-go: everything converts to CU at CNY 0.00011/CU (tier 1, 0-200 M CU/month; the 2024-2026
 *   promotion is 0.000088): 75 CU per 10,000 invocations, 1 CU per active vCPU-second, 0.15 CU per GB-second
 *   (help.aliyun.com/en/functioncompute/fc/product-overview/pay-as-you-go-billing-methods).
 * - MNS (Simple Message Queue): queue requests CNY 2.00 per million (older Chinese price page; 20 M requests per
 *   month free per account, help.aliyun.com/en/mns/product-overview/billing-overview), and a queue resource fee per
 *   queue per day (USD 0.08 in China regions on the international page; converted at 7.2 CNY/USD — unverified).
 * - ECI API calls: no per-call charge (ECI bills instances; API calls are not a billable item); they count against the quotas.
 * - One ECI VNode: (2 × vCPU 0.1764 + 8 × GiB 0.0221 CNY/h) × 730 h ≈ 386 CNY/month
 *   (help.aliyun.com/zh/eci/product-overview/elastic-container-instances).
 */
import { z } from 'zod';

export const PRICES = {
  cnyPerCu: 0.00011,
  cuPerInvocation: 75 / 10_000,
  cuPerVcpuSecond: 1,
  cuPerGbSecond: 0.15,
  mnsCnyPerRequest: 2 / 1_000_000,
  mnsQueueCnyPerDay: 0.08 * 7.2,
  vnodeCnyPerMonth: (2 * 0.1764 + 8 * 0.0221) * 730,
} as const;

const HOURS_PER_MONTH = 730;

/** Usage over some period, as counted. */
export interface Usage {
  invocations: number;
  /** seconds functions were busy (FC bills active instances by duration) */
  busySeconds: number;
  /** the instances' size (s.yaml pod-sync: 1 vCPU, 1 GB) */
  vcpu: number;
  memoryGb: number;
  mnsRequests: number;
}

export function cny(u: Usage): number {
  const cu = u.invocations * PRICES.cuPerInvocation + u.busySeconds * (u.vcpu * PRICES.cuPerVcpuSecond + u.memoryGb * PRICES.cuPerGbSecond);
  return cu * PRICES.cnyPerCu + u.mnsRequests * PRICES.mnsCnyPerRequest;
}

export function scale(u: Usage, k: number): Usage {
  return { ...u, invocations: u.invocations * k, busySeconds: u.busySeconds * k, mnsRequests: u.mnsRequests * k };
}

/** The timer functions of s.yaml: runs per hour and an assumed duration per run at their size (0.5 vCPU, 512 MB). */
export const TIMERS = [
  { fn: 'status-sync', perHour: 60, seconds: 1 },
  { fn: 'gc', perHour: 12, seconds: 1 },
  { fn: 'billing', perHour: 1, seconds: 2 },
  { fn: 'reconcile', perHour: 1 / 24, seconds: 5 },
] as const;

export interface IdleCost {
  /** the measured idle rate of the pod-sync side (watcher heartbeats/ticks → MNS → pod-sync), per month */
  podSyncCny: number;
  timersCny: number;
  /** EventBridge's long polls and the watcher's sends, per month */
  mnsRequestsCny: number;
  queuesCny: number;
  totalCny: number;
  /** share of one ECI VNode's monthly price */
  ofVnode: number;
}

/**
 * Idle per month from a measured idle window (`usage` over `seconds`, no pods), plus the timers on their schedule
 * and the two queues' daily fee. The MNS free tier is ignored (it is per account, shared with everything else).
 */
export function idlePerMonth(usage: Usage, seconds: number, queues = 2): IdleCost {
  const k = (HOURS_PER_MONTH * 3600) / seconds;
  const podSyncCny = cny({ ...scale(usage, k), mnsRequests: 0 });
  const mnsRequestsCny = usage.mnsRequests * k * PRICES.mnsCnyPerRequest;
  const timersCny = TIMERS.reduce(
    (a, t) => a + cny({ invocations: t.perHour * HOURS_PER_MONTH, busySeconds: t.perHour * HOURS_PER_MONTH * t.seconds, vcpu: 0.5, memoryGb: 0.5, mnsRequests: 0 }),
    0,
  );
  const queuesCny = queues * PRICES.mnsQueueCnyPerDay * (HOURS_PER_MONTH / 24);
  const totalCny = podSyncCny + mnsRequestsCny + timersCny + queuesCny;
  return { podSyncCny, timersCny, mnsRequestsCny, queuesCny, totalCny, ofVnode: totalCny / PRICES.vnodeCnyPerMonth };
}

/** Idle a day: `idlePerMonth` over a month of 730 hours, per 24 of them. */
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

const Rates = z.strictObject({
  invocations: z.number().nonnegative(),
  busySeconds: z.number().nonnegative(),
  mnsRequests: z.number().nonnegative(),
});

/**
 * The model's inputs: the idle usage per second (no pods), the usage per pod lifecycle, pod-sync's size and the
 * number of queues. The defaults are the burst bench's measurements (docs/performance.md, issue 18): idle, no
 * pod-sync invocations and EventBridge's long polls at 2 MNS requests a second; per pod lifecycle 0.20 pod-sync
 * invocations, 0.5 busy seconds (1,000 short Jobs ≈ 0.07 CNY) and 2.4 MNS requests; pod-sync 1 vCPU / 1 GB
 * (s.yaml); two queues (pods and dead letters).
 */
export const BridgeModelSchema = z.strictObject({
  idlePerSecond: Rates.default({ invocations: 0, busySeconds: 0, mnsRequests: 2 }),
  perPod: Rates.default({ invocations: 0.2, busySeconds: 0.5, mnsRequests: 2.4 }),
  podSync: z.strictObject({ vcpu: z.number().positive(), memoryGb: z.number().positive() }).default({ vcpu: 1, memoryGb: 1 }),
  queues: z.number().int().nonnegative().default(2),
});
export type BridgeModel = z.output<typeof BridgeModelSchema>;
export const MEASURED_BRIDGE_MODEL: BridgeModel = BridgeModelSchema.parse({});

/** The currency the model's prices are in. */
export const MODEL_CURRENCY = 'CNY';

export interface BridgeDayPrediction {
  /** idle: pod-sync's idle rate, the MNS requests, the timers and the queues' daily fee, for one day */
  idleCny: number;
  /** the overhead of one pod lifecycle (pod-sync invocations and busy time, MNS requests) */
  perPodCny: number;
  pods: number;
  totalCny: number;
}

/** What the model predicts the bridge's own FC + MNS cost to be for a day with `pods` pod lifecycles. */
export function predictBridgeDay(model: BridgeModel, pods: number): BridgeDayPrediction {
  const size = { vcpu: model.podSync.vcpu, memoryGb: model.podSync.memoryGb };
  const idleCny = idlePerMonth({ ...model.idlePerSecond, ...size }, 1, model.queues).totalCny / DAYS_PER_MONTH;
  const perPodCny = cny({ ...model.perPod, ...size });
  return { idleCny, perPodCny, pods, totalCny: idleCny + perPodCny * pods };
}
