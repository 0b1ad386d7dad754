/**
 * ECI price tables and the supported vCPU/memory specifications (ECI billing, docs/architecture.md#sources).
 *
 * Exact arithmetic: every price is held as an integer number of **nano-currency per hour** (1e-9 of a CNY or USD),
 * every quantity in **milli** units (milli-vCPU, milli-GiB) and every duration in **milliseconds**. The product
 * `nanoPerHour × milliQty × ms` is then an integer count of 1 / 3.6e18 of the currency unit (see `billing.ts`),
 * so costs add and split without any float drift. The published per-second prices (≤ 8 decimals) and hourly
 * prices (≤ 4 decimals) are all integers in nano-per-hour: 0.000049 CNY/s × 3600 = 0.1764 CNY/h = 176 400 000.
 */
import { z } from 'zod';

// ---------------------------------------------------------------- decimal parsing

export class PriceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PriceError';
  }
}

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

/** Parses a non-negative decimal string into an integer scaled by 10^scale; refuses anything that would round. */
export function parseScaledDecimal(text: string, scale: number): bigint {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new PriceError(`not a non-negative decimal: '${text}'`);
  const int = m[1] ?? '0';
  const frac = m[2] ?? '';
  const trimmed = frac.replace(/0+$/, '');
  if (trimmed.length > scale) throw new PriceError(`'${text}' has more than ${scale} decimal places`);
  return BigInt(int) * 10n ** BigInt(scale) + BigInt(trimmed.padEnd(scale, '0') || '0');
}

/** Formats a number without exponent notation (String(1e-7) is '1e-7'); for config values given as numbers. */
function numberToDecimal(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new PriceError(`not a non-negative finite number: ${n}`);
  const s = String(n);
  if (!s.includes('e')) return s;
  return n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * A unit price as written in configuration: `"0.000049/s"` (per second) or `"0.1764/h"` (per hour). A bare
 * number or decimal string means per hour. Parsed to integer nano-currency per hour.
 */
export const PriceSchema = z.union([z.string(), z.number()]).transform((raw, ctx): number => {
  const text = typeof raw === 'number' ? `${numberToDecimal(raw)}/h` : raw.trim();
  const m = /^([0-9.]+)\s*(?:\/\s*(s|h))?$/.exec(text);
  try {
    if (!m?.[1]) throw new PriceError(`price '${text}' must look like "0.000049/s" or "0.1764/h"`);
    // per second: nano/h = value × 3600 × 1e9 = value(scaled 1e11) × 36
    const nano = m[2] === 's' ? parseScaledDecimal(m[1], 11) * 36n : parseScaledDecimal(m[1], 9);
    if (nano > BigInt(Number.MAX_SAFE_INTEGER)) throw new PriceError(`price '${text}' is too large`);
    return Number(nano);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

/** A fraction with up to 4 decimals in [0, 1], e.g. a spot price ratio "0.3"; held in basis points (1e-4). */
export const RatioSchema = z.union([z.string(), z.number()]).transform((raw, ctx): number => {
  try {
    const bp = parseScaledDecimal(typeof raw === 'number' ? numberToDecimal(raw) : raw, 4);
    if (bp > 10000n) throw new PriceError(`ratio ${raw} is above 1`);
    return Number(bp);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

// ---------------------------------------------------------------- price tables

export const PriceTableSchema = z.strictObject({
  /** A name for messages and reports, e.g. "china" or "international". */
  name: z.string().min(1),
  currency: z.string().min(3).max(3),
  /** Region globs this table applies to (`*` matches any run of characters); the first matching table wins. */
  regions: z.array(z.string().min(1)).min(1),
  /** Per vCPU. */
  vcpu: PriceSchema,
  /** Per GiB of memory. */
  memoryGiB: PriceSchema,
  /** Per vCPU for the economy compute category (`k8s.aliyun.com/eci-compute-category: economy`); default: `vcpu`. */
  economyVcpu: PriceSchema.optional(),
  /** Price per instance for groups created by ECS instance type (GPU types and others), keyed by type. */
  instanceTypes: z.record(z.string().min(1), PriceSchema).prefault({}),
  /**
   * Spot price as a ratio of the pay-as-you-go price, used when nothing better is known (ECI returns no actual
   * spot price; ECI API reference, docs/architecture.md#sources). A group's `SpotPriceLimit` (hourly, per instance) caps the price.
   */
  spotRatio: RatioSchema.prefault('0.3'),
});
export type PriceTable = z.output<typeof PriceTableSchema>;
export type PriceTableInput = z.input<typeof PriceTableSchema>;

export const PriceTablesSchema = z.array(PriceTableSchema).min(1);

/**
 * List prices from ECI's billing documentation (docs/architecture.md#sources; subject to change; region-dependent; override in configuration).
 * - China site (CNY): vCPU 0.000049/s, memory 0.00000613/GiB/s, economy vCPU 0.000027/s.
 * - International site (USD, VNode billing page): vCPU 0.0000077/s, memory 0.00000096/GiB/s.
 * The currency really follows the account's site, not the region: an international account in cn-hangzhou pays
 * USD. The defaults assume China-site accounts for `cn-*` regions; configure the tables otherwise.
 * Instance-type (GPU) prices are not in ECI's published list, so no default is shipped: in cluster mode the billing
 * function fills missing ones from DescribeContainerGroupPrice; offline estimates report such pods as unpriced.
 * The spot ratio 0.3 is an assumption (ECI advertises 30–90 % savings); set it from your spot history.
 */
export const DEFAULT_PRICE_TABLES: readonly PriceTableInput[] = [
  {
    name: 'china',
    currency: 'CNY',
    regions: ['cn-*'],
    vcpu: '0.000049/s',
    memoryGiB: '0.00000613/s',
    economyVcpu: '0.000027/s',
    instanceTypes: {},
    spotRatio: '0.3',
  },
  {
    name: 'international',
    currency: 'USD',
    regions: ['*'],
    vcpu: '0.0000077/s',
    memoryGiB: '0.00000096/s',
    instanceTypes: {},
    spotRatio: '0.3',
  },
];

export function defaultPriceTables(): PriceTable[] {
  return PriceTablesSchema.parse(DEFAULT_PRICE_TABLES);
}

function globMatch(glob: string, text: string): boolean {
  const re = new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(text);
}

/** The first table whose region globs match `region`. Throws PriceError when none does. */
export function priceTableFor(region: string, tables: readonly PriceTable[]): PriceTable {
  const t = tables.find((x) => x.regions.some((g) => globMatch(g, region)));
  if (!t) throw new PriceError(`no price table matches region '${region}'`);
  return t;
}

// ---------------------------------------------------------------- specifications

/** A billed vCPU/memory size in integer milli units. */
export interface CpuMemSpec {
  cpuMilli: number;
  memoryMilliGiB: number;
}

/**
 * vCPU → memory (GiB) combinations ECI supports in every region where it is available (ECI docs, "Specify vCPU and
 * memory to create an instance", table "Specifications supported in all regions"). Some regions add more
 * combinations (the docs round 7 vCPU / 13 GiB to 8 / 14 in cn-hangzhou); pass `extraSpecs` for those.
 */
export const ECI_SPECS: readonly (readonly [cpu: number, memories: readonly number[]])[] = [
  [0.25, [0.5, 1]],
  [0.5, [1, 2]],
  [1, [2, 4, 8]],
  [2, [1, 2, 4, 8, 16]],
  [4, [2, 4, 8, 16, 32]],
  [8, [4, 8, 16, 32, 64]],
  [12, [12, 24, 48, 96]],
  [16, [16, 32, 64, 128]],
  [24, [24, 48, 96, 192]],
  [32, [32, 64, 128, 256]],
  [52, [96, 192, 384]],
  [64, [128, 256, 512]],
];

/** ECI's default size when a pod specifies neither vCPU nor memory. */
export const DEFAULT_SPEC: CpuMemSpec = { cpuMilli: 2000, memoryMilliGiB: 4000 };

export function specList(extra: readonly CpuMemSpec[] = []): CpuMemSpec[] {
  const all = ECI_SPECS.flatMap(([cpu, mems]) =>
    mems.map((m) => ({ cpuMilli: Math.round(cpu * 1000), memoryMilliGiB: Math.round(m * 1000) })),
  ).concat(extra);
  return all.sort((a, b) => a.cpuMilli - b.cpuMilli || a.memoryMilliGiB - b.memoryMilliGiB);
}

const GIB = 1024 ** 3;

/**
 * Rounds a request up to the smallest supported spec that holds it: the fewest vCPUs, then the least memory,
 * among specs with at least the requested vCPU and memory (ECI: "rounds up to the nearest supported
 * specification; the adjusted resources meet or exceed your specification"). `memoryBytes` is compared exactly
 * (integers). Returns undefined when no spec is large enough (ECI would refuse the pod).
 */
export function roundUpSpec(
  req: { cpuMilli: number; memoryBytes: number },
  extraSpecs: readonly CpuMemSpec[] = [],
): CpuMemSpec | undefined {
  return specList(extraSpecs).find(
    // memoryMilliGiB / 1000 GiB >= bytes  <=>  memoryMilliGiB × GIB >= bytes × 1000 (both < 2^53 for ≤ 512 GiB)
    (s) => s.cpuMilli >= req.cpuMilli && s.memoryMilliGiB * GIB >= req.memoryBytes * 1000,
  );
}

/** `2-4Gi`, `0.25-0.5Gi`: the `c-mGi` notation of `k8s.aliyun.com/eci-use-specs`. */
export function formatSpec(s: CpuMemSpec): string {
  return `${s.cpuMilli / 1000}-${s.memoryMilliGiB / 1000}Gi`;
}

/** Parses `2-4Gi` / `2-4` / `2.0-4.0Gi` (also ECI's `k8s.aliyun.com/eci-instance-spec` form); undefined otherwise. */
export function parseSpec(text: string): CpuMemSpec | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*(?:Gi)?\s*$/.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  try {
    return { cpuMilli: Number(parseScaledDecimal(m[1], 3)), memoryMilliGiB: Number(parseScaledDecimal(m[2], 3)) };
  } catch {
    return undefined;
  }
}
