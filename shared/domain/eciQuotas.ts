/**
 * ECI's published per-account API flow control, as token buckets: the one table, used by the ECI adapter's
 * client-side buckets (and the `ECI_CREATE_*` config defaults) and by the ECI emulator's `quotas` mode.
 *
 * The API quota page (help.aliyun.com/en/eci/developer-reference/api-eci-2018-08-08-quota) gives calls per 60 s;
 * a per-minute quota becomes a bucket of `limit` tokens refilled at `limit/60` per second. For Create and Delete
 * the Limits page (help.aliyun.com/en/eci/product-overview/limits) gives a token bucket instead — burst 100,
 * refill 20/s — and that figure is used (the two pages disagree).
 */

export interface BucketSpec {
  burst: number;
  perSecond: number;
}

export const ECI_API_QUOTAS = {
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
} as const satisfies Readonly<Record<string, BucketSpec>>;

/** The bucket of an action, or undefined when ECI publishes no quota for it. */
export function eciQuotaOf(action: string): BucketSpec | undefined {
  return (ECI_API_QUOTAS as Readonly<Record<string, BucketSpec>>)[action];
}
