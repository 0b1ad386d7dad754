/**
 * The billing use-case's price check (billing.ts): DescribeContainerGroupPrice for every size in use against the
 * price table (pay-as-you-go, hourly). Mismatches beyond the tolerance are logged; instance types missing from the
 * table are priced from the answer (so GPU pods get a price).
 */
import { type BilledSize, costOf, describeSize, formatMoney, instanceRate } from '../domain/billing.js';
import { type PriceTable, parseScaledDecimal } from '../domain/prices.js';
import type { ContainerGroups, Logger } from '../ports/index.js';
import { describeError } from './errors.js';

export interface PriceCheck {
  size: string;
  ours: string;
  theirs: string;
  currency: string;
  ok: boolean;
}

/**
 * Asks DescribeContainerGroupPrice for every size in use and compares with `table` (which it completes with the
 * instance types it lacks). The port's price is per hour (the unit is unverified: a mismatch by a factor of 3600 is
 * called out).
 */
export async function checkPrices(
  ports: { groups: Pick<ContainerGroups, 'price'>; logger: Logger },
  table: PriceTable,
  sizes: readonly BilledSize[],
  toleranceBp = 50,
): Promise<PriceCheck[]> {
  const { groups, logger } = ports;
  const distinct = new Map(sizes.map((s) => [describeSize({ ...s, ...(s.kind === 'spec' ? { economy: false } : {}) }), s]));
  const out: PriceCheck[] = [];
  for (const [label, size] of [...distinct].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let answer: { tradePrice: number; currency: string };
    try {
      answer = await groups.price(
        size.kind === 'spec' ? { cpu: size.spec.cpuMilli / 1000, memory: size.spec.memoryMilliGiB / 1000 } : { instanceType: size.instanceType },
      );
    } catch (err) {
      logger.warn({ size: label, err: describeError(err) }, 'billing: price check failed');
      continue;
    }
    const theirs = parseScaledDecimal(answer.tradePrice.toFixed(9), 9) * 1000n; // pico per hour
    if (size.kind === 'type' && table.instanceTypes[size.instanceType] === undefined) {
      table.instanceTypes[size.instanceType] = Number(theirs / 1000n);
      logger.info({ size: label, hourly: answer.tradePrice, currency: answer.currency }, 'billing: priced an instance type from DescribeContainerGroupPrice');
    }
    const rate = instanceRate(size, table);
    if (!rate.ok) continue;
    const ours = rate.picoPerHour;
    const tol = BigInt(toleranceBp);
    const diff = ours > theirs ? ours - theirs : theirs - ours;
    const ok = answer.currency === table.currency && diff * 10_000n <= ours * tol;
    const check = {
      size: label,
      ours: formatMoney(costOf(ours, 3_600_000), 6),
      theirs: formatMoney(costOf(theirs, 3_600_000), 6),
      currency: answer.currency,
      ok,
    };
    out.push(check);
    if (!ok) {
      const perSecond = theirs * 3600n;
      const hint = (perSecond > ours ? perSecond - ours : ours - perSecond) * 100n <= ours ? ' (the API price looks per second)' : '';
      logger.warn({ ...check, table: table.name }, `billing: price table differs from DescribeContainerGroupPrice${hint}`);
    }
  }
  return out;
}
