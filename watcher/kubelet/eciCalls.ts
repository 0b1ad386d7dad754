/**
 * The ContainerGroups methods the kubelet API calls (logs, exec, metrics): its dependency is typed from this list, and
 * the watcher's RAM policy (scripts/lib/ramPolicy.ts `watcherGrants`, deploy/ram-policy-watcher.json) grants exactly
 * their ECI actions. Kept apart from index.ts so the policy check does not load the server.
 */
import type { ContainerGroups } from '../../shared/ports/index.js';

export const KUBELET_ECI_METHODS = ['logs', 'exec', 'metrics'] as const satisfies readonly (keyof ContainerGroups)[];

export type KubeletEci = Pick<ContainerGroups, (typeof KUBELET_ECI_METHODS)[number]>;
