/**
 * The BSS emulator's ledger: what the bill says, derived from the ECI emulator's container groups (each group's
 * billing window: first image pull → Succeeded/Failed/Expired, or the last time it was seen when it vanished while
 * billed) and priced from a scenario that may differ from the list prices on purpose (the actual spot ratio, a
 * mispriced size, groups ECI no longer shows, lines for FC and MNS resources).
 *
 * Exact integer maths, as ECI bills: pay-as-you-go per second, settled hourly, each instance's hourly fee rounded
 * half-up to 0.01; a daily line is the sum of the hourly fees of the UTC hours in the billing day (UTC+8 by default).
 * A usage hour shows on the bill only `lagMs` after it ended (the bill lags the usage).
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Prices in currency per hour (numbers with at most 9 decimals). */
export interface BillPrices {
  currency: string;
  vcpuPerHour: number;
  memoryGiBPerHour: number;
  instanceTypes?: Record<string, number>;
}

export interface ExtraLine {
  instanceId: string;
  /** eci | fc | mns */
  productCode: string;
  /** YYYY-MM-DD (billing day) */
  billingDate: string;
  amount: number;
  tags: Record<string, string>;
  servicePeriodSeconds?: number;
  instanceSpec?: string;
}

export interface BillScenario {
  prices: BillPrices;
  /** the spot price actually charged, as a ratio of the on-demand price (default 0.3) */
  spotRatio?: number;
  /** size (`ecs.c6.large` or `2-4Gi`) → the hourly price actually charged (a mispriced size) */
  actualPrices?: Record<string, number>;
  /** lines of resources ECI does not show (an unknown group), or of FC functions and MNS queues */
  extraLines?: ExtraLine[];
  /** a usage hour is on the bill this long after it ended (default 0) */
  lagMs?: number;
  /** the bill's time zone, hours east of UTC (default 8) */
  utcOffsetHours?: number;
}

export interface BillItem {
  InstanceID: string;
  ProductCode: string;
  ProductType: string;
  SubscriptionType: string;
  BillingDate: string;
  Currency: string;
  PretaxAmount: number;
  PretaxGrossAmount: number;
  Tag: string;
  InstanceSpec: string;
  ServicePeriod: string;
  ServicePeriodUnit: string;
  Region: string;
  Item: string;
}

interface Seen {
  id: string;
  region: string;
  size: string;
  cpuMilli: number;
  memMilli: number;
  instanceType?: string;
  spot: boolean;
  tags: Record<string, string>;
  start?: number;
  end?: number;
  lastSeen: number;
  billedNow: boolean;
}

const BILLED = new Set(['Pending', 'Running', 'Restarting', 'Updating', 'Terminating']);
const END_KEYS = ['SucceededTime', 'FailedTime', 'ExpiredTime'] as const;

/** nano-currency (1e-9) of a price with at most 9 decimals */
function nano(n: number): bigint {
  const [i = '0', f = ''] = n.toFixed(9).split('.');
  return BigInt(i) * 1_000_000_000n + BigInt(f.padEnd(9, '0'));
}

export class Ledger {
  readonly #seen = new Map<string, Seen>();

  constructor(private readonly scenario: BillScenario) {}

  get offsetHours(): number {
    return this.scenario.utcOffsetHours ?? 8;
  }

  /** Records what ECI shows now (groups in DescribeContainerGroups' wire shape). */
  observe(groups: readonly Record<string, unknown>[], now: number): void {
    const present = new Set<string>();
    for (const g of groups) {
      const id = String(g.ContainerGroupId ?? '');
      if (!id) continue;
      present.add(id);
      const cur = this.#seen.get(id) ?? this.#create(g, id, now);
      const pulls = ((g.Events as { Reason?: string; FirstTimestamp?: string }[] | undefined) ?? [])
        .filter((e) => e.Reason === 'Pulling')
        .map((e) => Date.parse(e.FirstTimestamp ?? ''))
        .filter((t) => !Number.isNaN(t));
      if (pulls.length) cur.start = Math.min(cur.start ?? Number.POSITIVE_INFINITY, ...pulls);
      const status = String(g.Status ?? '');
      for (const k of END_KEYS) {
        const t = typeof g[k] === 'string' ? Date.parse(g[k] as string) : Number.NaN;
        if (!Number.isNaN(t)) cur.end = t;
      }
      if (cur.start === undefined && BILLED.has(status)) cur.start = Date.parse(String(g.CreationTime ?? '')) || now;
      cur.billedNow = BILLED.has(status);
      cur.lastSeen = now;
      this.#seen.set(id, cur);
    }
    // a group that vanished while billed (deleted) stops at the last time it was seen
    for (const s of this.#seen.values()) {
      if (!present.has(s.id) && s.billedNow && s.end === undefined) {
        s.end = s.lastSeen;
        s.billedNow = false;
      }
    }
  }

  #create(g: Record<string, unknown>, id: string, now: number): Seen {
    const type = String(g.InstanceType ?? '').split(',')[0]?.trim() ?? '';
    const cpuMilli = Math.round(Number(g.Cpu ?? 0) * 1000);
    const memMilli = Math.round(Number(g.Memory ?? 0) * 1000);
    const tags: Record<string, string> = {};
    for (const t of (g.Tags as { Key: string; Value: string }[] | undefined) ?? []) tags[t.Key] = t.Value;
    return {
      id,
      region: String(g.RegionId ?? 'cn-hangzhou'),
      size: type.startsWith('ecs.') ? type : `${cpuMilli / 1000}-${memMilli / 1000}Gi`,
      cpuMilli,
      memMilli,
      ...(type.startsWith('ecs.') ? { instanceType: type } : {}),
      spot: !!g.SpotStrategy && g.SpotStrategy !== 'NoSpot',
      tags,
      lastSeen: now,
      billedNow: false,
    };
  }

  /** Hourly rate in pico-currency per hour, after the scenario's deviations. */
  #ratePico(s: Seen): bigint {
    const p = this.scenario.prices;
    const actual = this.scenario.actualPrices?.[s.size];
    let rate: bigint;
    if (actual !== undefined) rate = nano(actual) * 1000n;
    else if (s.instanceType) rate = nano(p.instanceTypes?.[s.instanceType] ?? 0) * 1000n;
    else rate = nano(p.vcpuPerHour) * BigInt(s.cpuMilli) + nano(p.memoryGiBPerHour) * BigInt(s.memMilli);
    if (s.spot) rate = (rate * nano(this.scenario.spotRatio ?? 0.3) + 500_000_000n) / 1_000_000_000n;
    return rate;
  }

  /** The bill lines of product `productCode` for billing day `day`, as the bill shows them at `now`. */
  lines(productCode: string, day: string, now: number): BillItem[] {
    const dayStart = Date.parse(`${day}T00:00:00Z`) - this.offsetHours * HOUR;
    const dayEnd = dayStart + DAY;
    const visibleUntil = now - (this.scenario.lagMs ?? 0);
    const out: BillItem[] = [];
    const currency = this.scenario.prices.currency;
    if (productCode === 'eci') {
      for (const s of [...this.#seen.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
        if (s.start === undefined) continue;
        const end = s.end ?? (s.billedNow ? now : s.lastSeen);
        const rate = this.#ratePico(s);
        let cents = 0n;
        let ms = 0;
        for (let h = dayStart; h < dayEnd; h += HOUR) {
          if (h + HOUR > visibleUntil) break; // not settled yet
          const used = Math.max(0, Math.min(end, h + HOUR) - Math.max(s.start, h));
          if (used === 0) continue;
          ms += used;
          // money units of 1/3.6e18 per pico×ms; a cent is 3.6e16 units: half-up
          cents += (rate * BigInt(used) + 18_000_000_000_000_000n) / 36_000_000_000_000_000n;
        }
        if (ms === 0) continue;
        out.push(this.#item(s.id, 'eci', day, Number(cents) / 100, s.tags, s.size, Math.round(ms / 1000), s.region, currency));
      }
    }
    for (const x of this.scenario.extraLines ?? []) {
      if (x.productCode !== productCode || x.billingDate !== day || dayEnd > visibleUntil) continue;
      out.push(this.#item(x.instanceId, x.productCode, day, x.amount, x.tags, x.instanceSpec ?? '', x.servicePeriodSeconds ?? 86_400, 'cn-hangzhou', currency));
    }
    return out;
  }

  #item(id: string, product: string, day: string, amount: number, tags: Record<string, string>, spec: string, seconds: number, region: string, currency: string): BillItem {
    return {
      InstanceID: id,
      ProductCode: product,
      ProductType: product,
      SubscriptionType: 'PayAsYouGo',
      BillingDate: day,
      Currency: currency,
      PretaxAmount: amount,
      PretaxGrossAmount: amount,
      Tag: Object.entries(tags)
        .map(([k, v]) => `key:${k} value:${v}`)
        .join('; '),
      InstanceSpec: spec,
      ServicePeriod: String(seconds),
      ServicePeriodUnit: 'Second',
      Region: region,
      Item: 'PayAsYouGoBill',
    };
  }
}
