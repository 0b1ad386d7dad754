/**
 * The BSS OpenAPI actions behind each `BillReader` method: the adapter calls exactly these (its `#call` takes a
 * `BssAction`), and `deploy/ram-policy.json` must grant every one (test/unit/deploy/ram-policy.test.ts and
 * `eci-bridge doctor` derive the RAM actions `bss:<Action>` from this list). A new port method does not compile
 * until it names its action here.
 */
import type { BillReader } from '../../ports/index.js';

export const BSS_ACTIONS = {
  instanceBill: ['DescribeInstanceBill'],
} as const satisfies Record<keyof BillReader, readonly string[]>;

export type BssAction = (typeof BSS_ACTIONS)[keyof typeof BSS_ACTIONS][number];

/** Every RAM action (`bss:<Action>`) the adapter can call, sorted, without repeats. BSS has no resource-level authorization. */
export function bssRamActions(): string[] {
  return [...new Set(Object.values(BSS_ACTIONS).flat())].map((a) => `bss:${a}`).sort();
}
