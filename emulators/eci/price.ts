/**
 * DescribeContainerGroupPrice: a price from China-site list prices per vCPU-hour and GiB-hour (eci-api.md §10), for
 * an instance type or a cpu/memory size, with the spot price at 20 % when a spot strategy is asked for.
 */
import { invalidParameter } from './errors.js';
import { num, requireStr, str, type Wire } from './params.js';
import { INSTANCE_TYPES } from './validate.js';

/** China-site list prices per hour (eci-api.md §10). */
const PRICE_VCPU_HOUR = 0.1764;
const PRICE_GIB_HOUR = 0.0221;

export function priceResponse(p: Wire, zones: readonly string[]): Record<string, unknown> {
  requireStr(p, 'RegionId');
  const instanceType = str(p, 'InstanceType');
  const spec = instanceType ? INSTANCE_TYPES[instanceType] : undefined;
  if (instanceType && !spec) throw invalidParameter('InstanceType', `unknown instance type ${instanceType}`);
  const cpu = spec?.cpu ?? num(p, 'Cpu') ?? 2;
  const memory = spec?.memory ?? num(p, 'Memory') ?? 4;
  const storage = Math.max(0, num(p, 'EphemeralStorage') ?? 0);
  const round = (x: number) => Math.round(x * 10000) / 10000;
  const cpuPrice = round(cpu * PRICE_VCPU_HOUR);
  const memPrice = round(memory * PRICE_GIB_HOUR);
  const diskPrice = round(storage * 0.000_35);
  const total = round(cpuPrice + memPrice + diskPrice);
  const spot = (str(p, 'SpotStrategy') ?? 'NoSpot') !== 'NoSpot';
  const detail = (resource: string, price: number) => ({
    Resource: resource,
    OriginalPrice: price,
    DiscountPrice: 0,
    TradePrice: price,
    Rules: { Rule: [] },
  });
  return {
    PriceInfo: {
      Price: {
        Currency: 'CNY',
        OriginalPrice: total,
        DiscountPrice: 0,
        TradePrice: total,
        DetailInfos: {
          DetailInfo: [detail('Cpu', cpuPrice), detail('Memory', memPrice), ...(storage ? [detail('EphemeralStorage', diskPrice)] : [])],
        },
      },
      Rules: { Rule: [] },
      SpotPrices: {
        SpotPrice: spot
          ? [
              {
                InstanceType: instanceType ?? `eci.${cpu}c${memory}g`,
                ZoneId: str(p, 'ZoneId') ?? zones[0],
                OriginPrice: total,
                SpotPrice: round(total * 0.2),
              },
            ]
          : [],
      },
    },
  };
}
