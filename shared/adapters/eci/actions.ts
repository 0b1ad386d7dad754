/**
 * The ECI OpenAPI actions behind each `ContainerGroups` method: the adapter calls exactly these (its `#call` takes
 * an `EciAction`), and `deploy/ram-policy.json` must grant every one (test/unit/deploy/ram-policy.test.ts and
 * `eci-bridge doctor` derive the RAM actions `eci:<Action>` from this list). A new port method does not compile
 * until it names its action here.
 */
import type { ContainerGroups } from '../../ports/index.js';

export const ECI_ACTIONS = {
  create: ['CreateContainerGroup'],
  delete: ['DeleteContainerGroup'],
  describe: ['DescribeContainerGroups'],
  list: ['DescribeContainerGroups'],
  changedSince: ['DescribeContainerGroupStatus'],
  events: ['DescribeContainerGroupEvents'],
  logs: ['DescribeContainerLog'],
  exec: ['ExecContainerCommand'],
  // the kubelet API (watcher/kubelet/): kubectl top and the node's metrics
  metrics: ['DescribeMultiContainerGroupMetric'],
  price: ['DescribeContainerGroupPrice'],
} as const satisfies Record<keyof ContainerGroups, readonly string[]>;

export type EciAction = (typeof ECI_ACTIONS)[keyof typeof ECI_ACTIONS][number];

/**
 * Every RAM action (`eci:<Action>`) the adapter can call, sorted, without repeats; with `methods`, only those the
 * given port methods call (an identity that uses part of the port, e.g. the watcher's kubelet API).
 */
export function eciRamActions(methods: readonly (keyof typeof ECI_ACTIONS)[] = Object.keys(ECI_ACTIONS) as (keyof typeof ECI_ACTIONS)[]): string[] {
  return [...new Set(methods.flatMap((m) => ECI_ACTIONS[m]))].map((a) => `eci:${a}`).sort();
}
