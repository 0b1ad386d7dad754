/**
 * Writes the functions heartbeat (shared/domain/heartbeat.ts) after a run: a Lease `eci-bridge-functions` in the
 * bridge namespace. Best-effort: a failed or conflicting write is logged, never fails the run. Successful runs of
 * pod-sync are throttled per instance (`minIntervalMs`), so a busy queue does not turn into a write per invocation;
 * a change in ECI health is always written.
 */
import {
  FUNCTIONS_HEARTBEAT_NAME,
  type FunctionsHeartbeat,
  heartbeatToLease,
  leaseToHeartbeat,
} from '../domain/heartbeat.js';
import type { Lease } from '../domain/k8s.js';
import type { Clock, Cluster, ContainerGroups, Logger } from '../ports/index.js';
import { classify, describeError, isConflict, isNotFound } from './errors.js';

export interface RunOutcome {
  fn: string;
  /** the run completed (pod-level failures handled) */
  ok: boolean;
  /** ECI calls were made in this run */
  eciCalled: boolean;
  /** an ECI call failed in this run: short, secret-free class + message */
  eciError?: string;
  /** frequent runs (pod-sync) are written at most every `minIntervalMs` unless ECI health changed */
  throttle?: boolean;
}

export class HeartbeatWriter {
  private lastWrite = 0;
  private lastEciFailed = false;

  constructor(
    private readonly deps: { cluster: Cluster; clock: Clock; logger: Logger; namespace: string },
    private readonly minIntervalMs = 15_000,
  ) {}

  async record(run: RunOutcome): Promise<FunctionsHeartbeat | undefined> {
    const now = this.deps.clock.now();
    const eciFailed = run.eciError !== undefined;
    if (run.throttle && run.ok && eciFailed === this.lastEciFailed && now - this.lastWrite < this.minIntervalMs) return undefined;
    for (let i = 0; i < 2; i++) {
      try {
        const hb = await this.writeOnce(run, now);
        this.lastWrite = now;
        this.lastEciFailed = eciFailed;
        return hb;
      } catch (err) {
        if (isConflict(err) && i === 0) continue;
        this.deps.logger.warn({ err: String(err) }, 'could not write the functions heartbeat');
        return undefined;
      }
    }
    return undefined;
  }

  private async writeOnce(run: RunOutcome, now: number): Promise<FunctionsHeartbeat> {
    const ns = this.deps.namespace;
    let base: Lease | undefined;
    try {
      base = await this.deps.cluster.getLease(ns, FUNCTIONS_HEARTBEAT_NAME);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const prev = base ? leaseToHeartbeat(base) : undefined;
    const iso = new Date(now).toISOString();
    const failures = run.eciError ? (prev?.consecutiveEciFailures ?? 0) + 1 : run.eciCalled ? 0 : (prev?.consecutiveEciFailures ?? 0);
    const hb: FunctionsHeartbeat = {
      lastRun: iso,
      lastFunction: run.fn,
      consecutiveEciFailures: failures,
      ...(run.ok ? { lastSuccess: iso } : prev?.lastSuccess ? { lastSuccess: prev.lastSuccess } : {}),
      ...(run.eciCalled && !run.eciError ? { lastEciSuccess: iso } : prev?.lastEciSuccess ? { lastEciSuccess: prev.lastEciSuccess } : {}),
      ...(run.eciError ? { lastEciError: run.eciError.slice(0, 200) } : failures > 0 && prev?.lastEciError ? { lastEciError: prev.lastEciError } : {}),
    };
    const lease = heartbeatToLease(hb, ns, base);
    if (base) await this.deps.cluster.replaceLease(ns, lease);
    else await this.deps.cluster.createLease(ns, lease);
    return hb;
  }
}

/** ECI calls and failures seen through an instrumented ContainerGroups since the last `take()`. */
export interface EciTally {
  calls: number;
  failures: number;
  lastError?: string;
}

/**
 * Wraps a ContainerGroups so every call is counted (and every failure classified) for the heartbeat. A NotFound is
 * an answer, not a failure; capacity and permanent errors are answers too (ECI is up): only retryable errors
 * (throttling, 5xx, network, auth expiry surfacing as retryable) count as ECI failures.
 */
export function instrumentEci(eci: ContainerGroups): { eci: ContainerGroups; take(): EciTally } {
  let tally: EciTally = { calls: 0, failures: 0 };
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      tally.calls++;
      try {
        return await fn(...args);
      } catch (err) {
        const cls = classify(err);
        if (cls === 'retryable') {
          tally.failures++;
          tally.lastError = `${cls}: ${describeError(err)}`.slice(0, 200);
        }
        throw err;
      }
    };
  const wrapped: ContainerGroups = {
    create: wrap((req) => eci.create(req)),
    delete: wrap((id) => eci.delete(id)),
    describe: wrap((ids) => eci.describe(ids)),
    list: wrap((filter) => eci.list(filter)),
    events: wrap((ids, since) => eci.events(ids, since)),
    logs: wrap((id, c, opts) => eci.logs(id, c, opts)),
    exec: wrap((id, c, cmd, opts) => eci.exec(id, c, cmd, opts)),
    price: wrap((spec) => eci.price(spec)),
  };
  // optional capabilities pass through only when the adapter has them
  const changedSince = eci.changedSince?.bind(eci);
  if (changedSince) wrapped.changedSince = wrap((filter) => changedSince(filter));
  const metrics = eci.metrics?.bind(eci);
  if (metrics) wrapped.metrics = wrap((ids) => metrics(ids));
  return {
    eci: wrapped,
    take() {
      const t = tally;
      tally = { calls: 0, failures: 0 };
      return t;
    },
  };
}

/** The heartbeat outcome of a run from its ECI tally: ECI counts as failing only if no call was answered. */
export function runOutcome(fn: string, ok: boolean, tally: EciTally): RunOutcome {
  const answered = tally.calls - tally.failures;
  return {
    fn,
    ok,
    eciCalled: tally.calls > 0,
    ...(tally.failures > 0 && answered === 0 ? { eciError: tally.lastError ?? 'retryable: unknown' } : {}),
  };
}
