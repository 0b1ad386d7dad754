/**
 * Native sidecars (`initContainers[].restartPolicy: Always`, Kubernetes 1.28+) → ECI sidecar containers. ECI init
 * containers must finish before any container starts, so a native sidecar cannot stay one; it becomes a container
 * of the group with ECI's documented environment variables:
 * - `ECI_CONTAINER_TYPE=sidecar` and `ECI_CONTAINER_IGNORE_EXIT_CODE=true` (help.aliyun.com "Forcibly terminate
 *   the sidecar container and ignore the container exit code"): when the app containers have exited and will not
 *   restart, ECI stops the sidecars and counts them as succeeded, so a Job completes;
 * - `ECI_CONTAINER_LAUNCH_PRIORITY` / `ECI_CONTAINER_EXIT_PRIORITY` (help.aliyun.com "Configure container startup
 *   and exit order"; -1000..1000, default 0, higher starts / exits first): sidecar k of n (in spec order) gets launch
 *   priority n-k and exit priority -(n-k), so sidecars start before the app containers in their own order (each
 *   after the previous one is Ready when it has a readiness probe) and stop after them in reverse order.
 * A value the user set for one of these variables is kept. What differs from Kubernetes: the regular init
 * containers all run before any sidecar starts (Kubernetes starts a sidecar between the init containers around it);
 * ECI gates the next container on readiness, Kubernetes on the startup probe or postStart; a sidecar that exits is
 * restarted only under the pod's restartPolicy (Always), not always. Each native sidecar gets a warning saying which
 * of these apply to it.
 */
import type { Collector } from './collector.js';
import type { EciContainer } from './eci.js';
import type { Container } from './k8s.js';

export const ECI_SIDECAR_ENV = {
  type: 'ECI_CONTAINER_TYPE',
  ignoreExitCode: 'ECI_CONTAINER_IGNORE_EXIT_CODE',
  launchPriority: 'ECI_CONTAINER_LAUNCH_PRIORITY',
  exitPriority: 'ECI_CONTAINER_EXIT_PRIORITY',
} as const;

export function isNativeSidecar(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

/** Adds the ECI sidecar variables to sidecar k of n (keeping any the user set) and warns what differs. */
export function asEciSidecar(
  col: Collector,
  out: EciContainer,
  k: number,
  n: number,
  path: string,
  laterInits: readonly string[],
  podRestartPolicy: string | undefined,
): EciContainer {
  const env = [...(out.EnvironmentVar ?? [])];
  const set = (key: string, value: string): void => {
    if (!env.some((e) => e.Key === key)) env.push({ Key: key, Value: value });
  };
  set(ECI_SIDECAR_ENV.type, 'sidecar');
  set(ECI_SIDECAR_ENV.ignoreExitCode, 'true');
  set(ECI_SIDECAR_ENV.launchPriority, String(n - k));
  set(ECI_SIDECAR_ENV.exitPriority, String(-(n - k)));
  const differs: string[] = [];
  if (laterInits.length) differs.push(`init containers ${laterInits.join(', ')} run before it starts, not beside it`);
  if (out.ReadinessProbe) differs.push('the containers after it wait for its readiness probe, not a startup probe');
  if ((podRestartPolicy ?? 'Always') !== 'Always') differs.push(`it is not restarted if it exits (ECI applies restartPolicy ${podRestartPolicy} to it)`);
  col.warn(
    'NativeSidecarAsEciSidecar',
    `${path}.restartPolicy`,
    `native sidecar ${out.Name} runs as an ECI sidecar container: started before the app containers, stopped after them${differs.length ? `; ${differs.join('; ')}` : ''}`,
  );
  return { ...out, EnvironmentVar: env };
}
