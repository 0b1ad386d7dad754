/**
 * Probes and lifecycle hooks. ECI has liveness and readiness probes (exec, httpGet without host/headers,
 * tcpSocket) and flattened postStart / preStop handlers (exec, httpGet with host and headers, tcpSocket).
 * Forms ECI lacks are degraded explicitly (warning) or refused (violation).
 */
import type { Collector } from './collector.js';
import type { EciContainer, EciProbe } from './eci.js';
import type { Container, Probe } from './k8s.js';

/** Resolves a numeric or named port against the container's ports. */
export function resolvePort(c: Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  if (typeof port !== 'string' || port === '') return undefined;
  if (/^\d+$/.test(port)) return resolvePort(c, Number(port));
  return c.ports?.find((p) => p?.name === port)?.containerPort;
}

function timing(p: Probe): Omit<EciProbe, 'Exec' | 'HttpGet' | 'TcpSocket'> {
  const out: Omit<EciProbe, 'Exec' | 'HttpGet' | 'TcpSocket'> = {};
  if (p.initialDelaySeconds !== undefined) out.InitialDelaySeconds = p.initialDelaySeconds;
  if (p.periodSeconds !== undefined) out.PeriodSeconds = p.periodSeconds;
  if (p.timeoutSeconds !== undefined) out.TimeoutSeconds = p.timeoutSeconds;
  if (p.successThreshold !== undefined) out.SuccessThreshold = p.successThreshold;
  if (p.failureThreshold !== undefined) out.FailureThreshold = p.failureThreshold;
  return out;
}

/** One probe → EciProbe, or undefined when refused. */
export function translateProbe(col: Collector, c: Container, p: Probe, field: string): EciProbe | undefined {
  if (p.terminationGracePeriodSeconds !== undefined) col.warn('ProbeGracePeriodIgnored', `${field}.terminationGracePeriodSeconds`);
  const t = timing(p);
  if (p.exec) {
    const cmd = p.exec.command ?? [];
    if (cmd.length === 0) {
      col.refuse('UnsupportedProbe', `${field}.exec.command`, 'an exec probe needs a command');
      return undefined;
    }
    return { Exec: { Command: [...cmd] }, ...t };
  }
  if (p.httpGet) {
    const port = resolvePort(c, p.httpGet.port);
    if (port === undefined) {
      col.refuse('UnsupportedProbe', `${field}.httpGet.port`, `port ${String(p.httpGet.port)} is not a number or a declared port name`);
      return undefined;
    }
    if (p.httpGet.host) col.warn('ProbeDegraded', `${field}.httpGet.host`, 'ECI probes the pod IP: httpGet.host is dropped');
    if (p.httpGet.httpHeaders?.length) col.warn('ProbeDegraded', `${field}.httpGet.httpHeaders`, 'ECI probes send no custom headers: httpGet.httpHeaders are dropped');
    return {
      HttpGet: { Path: p.httpGet.path || '/', Port: port, Scheme: (p.httpGet.scheme ?? 'HTTP').toUpperCase() },
      ...t,
    };
  }
  if (p.tcpSocket) {
    const port = resolvePort(c, p.tcpSocket.port);
    if (port === undefined) {
      col.refuse('UnsupportedProbe', `${field}.tcpSocket.port`, `port ${String(p.tcpSocket.port)} is not a number or a declared port name`);
      return undefined;
    }
    if (p.tcpSocket.host) col.warn('ProbeDegraded', `${field}.tcpSocket.host`, 'ECI probes the pod IP: tcpSocket.host is dropped');
    return { TcpSocket: { Port: port }, ...t };
  }
  if (p.grpc) {
    const port = resolvePort(c, p.grpc.port);
    if (port === undefined) {
      col.refuse('UnsupportedProbe', `${field}.grpc.port`, 'the grpc probe port is invalid');
      return undefined;
    }
    col.warn('ProbeDegraded', `${field}.grpc`, 'ECI has no gRPC probe: it becomes a tcpSocket probe on the same port');
    return { TcpSocket: { Port: port }, ...t };
  }
  col.refuse('UnsupportedProbe', field, 'the probe has no exec, httpGet, tcpSocket or grpc handler');
  return undefined;
}

/** Seconds a startup probe may take before it fails the container (Kubernetes semantics). */
function startupBudget(p: Probe): number {
  return (p.initialDelaySeconds ?? 0) + (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
}

/** Liveness, readiness and (degraded) startup probes onto an ECI container. */
export function applyProbes(col: Collector, c: Container, out: EciContainer, path: string): void {
  if (c.livenessProbe) {
    const p = translateProbe(col, c, c.livenessProbe, `${path}.livenessProbe`);
    if (p) out.LivenessProbe = p;
  }
  if (c.readinessProbe) {
    const p = translateProbe(col, c, c.readinessProbe, `${path}.readinessProbe`);
    if (p) out.ReadinessProbe = p;
  }
  if (c.startupProbe) {
    const budget = startupBudget(c.startupProbe);
    if (out.LivenessProbe) {
      out.LivenessProbe.InitialDelaySeconds = (out.LivenessProbe.InitialDelaySeconds ?? 0) + budget;
      col.warn('StartupProbeDegraded', `${path}.startupProbe`, `ECI has no startup probe: ${budget}s were added to the liveness probe's initialDelaySeconds`);
    } else {
      col.warn('StartupProbeDegraded', `${path}.startupProbe`, 'ECI has no startup probe and there is no liveness probe to delay: the startup probe is not enforced');
    }
  }
}

/** postStart / preStop → the flattened Lifecycle<H>Handler* fields. */
export function applyLifecycle(col: Collector, c: Container, out: EciContainer, path: string): void {
  const hooks: [keyof NonNullable<Container['lifecycle']>, 'PostStart' | 'PreStop'][] = [
    ['postStart', 'PostStart'],
    ['preStop', 'PreStop'],
  ];
  for (const [k, h] of hooks) {
    const hd = c.lifecycle?.[k];
    if (!hd) continue;
    const field = `${path}.lifecycle.${k}`;
    const o = out as unknown as Record<string, unknown>;
    if (hd.exec) {
      if (!hd.exec.command?.length) col.refuse('UnsupportedLifecycleHandler', `${field}.exec`, 'an exec handler needs a command');
      else o[`Lifecycle${h}HandlerExec`] = [...hd.exec.command];
    } else if (hd.httpGet) {
      const port = resolvePort(c, hd.httpGet.port);
      if (port === undefined) {
        col.refuse('UnsupportedLifecycleHandler', `${field}.httpGet.port`, 'the port is not a number or a declared port name');
        continue;
      }
      if (hd.httpGet.host) o[`Lifecycle${h}HandlerHttpGetHost`] = hd.httpGet.host;
      o[`Lifecycle${h}HandlerHttpGetPath`] = hd.httpGet.path || '/';
      o[`Lifecycle${h}HandlerHttpGetPort`] = port;
      o[`Lifecycle${h}HandlerHttpGetScheme`] = (hd.httpGet.scheme ?? 'HTTP').toUpperCase();
      if (hd.httpGet.httpHeaders?.length) {
        o[`Lifecycle${h}HandlerHttpGetHttpHeader`] = hd.httpGet.httpHeaders.map((x) => ({ Name: x.name, Value: x.value }));
      }
    } else if (hd.tcpSocket) {
      const port = resolvePort(c, hd.tcpSocket.port);
      if (port === undefined) {
        col.refuse('UnsupportedLifecycleHandler', `${field}.tcpSocket.port`, 'the port is not a number or a declared port name');
        continue;
      }
      if (hd.tcpSocket.host) o[`Lifecycle${h}HandlerTcpSocketHost`] = hd.tcpSocket.host;
      o[`Lifecycle${h}HandlerTcpSocketPort`] = port;
    } else if (hd.sleep) {
      // ECI has no sleep action (Kubernetes 1.29+): degraded to an exec of the image's `sleep`. Where the image has
      // none (distroless, scratch) the hook fails at once and the container gets SIGTERM without the pause.
      const secs = hd.sleep.seconds;
      if (typeof secs !== 'number' || !Number.isInteger(secs) || secs < 0) {
        col.refuse('UnsupportedLifecycleHandler', `${field}.sleep.seconds`, 'sleep.seconds must be a whole number of seconds ≥ 0');
        continue;
      }
      if (secs === 0) continue; // sleep 0 does nothing: nothing to carry
      o[`Lifecycle${h}HandlerExec`] = ['sleep', String(secs)];
      col.warn('LifecycleSleepAsExec', `${field}.sleep`, `ECI has no sleep action: sent as exec ["sleep", "${secs}"], which needs a sleep binary in the image ${c.image ?? ''} (without one the hook fails and the pause is skipped)`);
    } else {
      col.refuse('UnsupportedLifecycleHandler', field, 'the handler has no exec, httpGet or tcpSocket action');
    }
  }
}
