/**
 * The container-group lifecycle simulator: Scheduling → Pending → Running → Succeeded / Failed (and
 * Terminating on delete, Expired on spot reclaim), with image pulls, init containers in order, restarts per
 * RestartPolicy with back-off, readiness, logs and ECI/kubelet-style events.
 *
 * What a container does is read from a marker in its command + args (see `parseProgram`); a container without
 * the marker runs forever and is ready, as a real server image would. Every duration is in simulated seconds and
 * is multiplied by `timeScale` (0.01 → 100 s pass in 1 s). Each group keeps a small queue of timed steps;
 * `advance(now)` runs every step that is due, at its own timestamp, so reported times are exact.
 *
 * Over 400 lines: one state machine; the marker parser, the step queue and the per-container transitions share
 * the group's timeline, and apart each would need the others' internals.
 */

import type { Wire } from './params.js';

// ---------------------------------------------------------------- the marker convention

/**
 * A container's behaviour. Written anywhere in `Command` + `Arg` after the marker `eci-sim:`, directives
 * separated by `;`:
 *
 * | directive | effect |
 * |---|---|
 * | `sleep N` | run N s, then exit (code 0 unless `exit` says otherwise) |
 * | `exit C` | exit with code C (immediately unless `sleep`/`crash-after` gives a run time) |
 * | `crash-after N` | run N s, then exit 1 (or the `exit` code) |
 * | `forever` | never exit (the default) |
 * | `oom` / `oom-after N` | killed after N s (default 1) with reason OOMKilled, exit 137, event OOMKilled |
 * | `not-ready` | running but never Ready |
 * | `ready-after N` | Ready N s after each start |
 * | `ignore-sigterm` | on delete, keep running for the whole TerminationGracePeriodSeconds |
 * | `pull N` | this image takes N s to pull (overrides the scenario's default) |
 * | `log TEXT` | write the line TEXT to the container log on each start |
 * | `log-every MS TEXT` | while running, write `TEXT <n>` (n = 1, 2, …) every MS simulated milliseconds |
 *
 * Example: `["/bin/sh", "-c", "echo hi # eci-sim: log hi; sleep 30; exit 3"]`.
 */
export interface Program {
  /** Seconds until the container exits; undefined = never. */
  runSeconds?: number;
  exitCode: number;
  oom: boolean;
  notReady: boolean;
  readyAfter?: number;
  ignoreSigterm: boolean;
  pullSeconds?: number;
  logs: string[];
  /** a line every `ms` (simulated) while running */
  logEvery?: { ms: number; text: string };
}

export const SIM_MARKER = 'eci-sim:';

export function parseProgram(command: readonly string[], args: readonly string[]): Program {
  const p: Program = { exitCode: 0, oom: false, notReady: false, ignoreSigterm: false, logs: [] };
  const text = [...command, ...args].join(' ');
  const at = text.indexOf(SIM_MARKER);
  if (at < 0) return p;
  let exitSet = false;
  for (const raw of text.slice(at + SIM_MARKER.length).split(';')) {
    const d = raw.trim();
    const [verb = '', ...rest] = d.split(/\s+/);
    const arg = rest.join(' ');
    const n = Number(rest[0]);
    const has = rest.length > 0 && Number.isFinite(n);
    switch (verb) {
      case 'sleep':
        if (has) p.runSeconds = n;
        break;
      case 'exit':
        if (has) {
          p.exitCode = n;
          exitSet = true;
          p.runSeconds ??= 0;
        }
        break;
      case 'crash-after':
        if (has) p.runSeconds = n;
        if (!exitSet) p.exitCode = 1;
        break;
      case 'forever':
        p.runSeconds = undefined;
        break;
      case 'oom':
      case 'oom-after':
        p.oom = true;
        p.exitCode = 137;
        p.runSeconds = has ? n : 1;
        break;
      case 'not-ready':
        p.notReady = true;
        break;
      case 'ready-after':
        if (has) p.readyAfter = n;
        break;
      case 'ignore-sigterm':
        p.ignoreSigterm = true;
        break;
      case 'pull':
        if (has) p.pullSeconds = n;
        break;
      case 'log':
        p.logs.push(arg);
        break;
      case 'log-every':
        if (has && n > 0) p.logEvery = { ms: n, text: rest.slice(1).join(' ') || 'line' };
        break;
      default:
        break; // unknown directives are ignored
    }
  }
  return p;
}

// ---------------------------------------------------------------- state

export interface SimSettings {
  /** Multiplies every simulated duration (seconds) into real milliseconds / 1000. */
  timeScale: number;
  schedulingSeconds: number;
  imagePullSeconds: number;
  /** Pull time per image (overrides imagePullSeconds). */
  imagePull: Record<string, number>;
  /** created → started */
  startSeconds: number;
  /** How long a container takes to stop on SIGTERM (capped by the grace period). */
  stopSeconds: number;
  /** Spot groups get SpotToBeReleased, then Expired, this long after creation (undefined = never). */
  spotReclaimSeconds?: number;
  /** Back-off after the n-th restart: min(base × 2^(n-1), max) seconds (kubelet: 10 s, 300 s). */
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
}

export interface CtrState {
  State: 'Waiting' | 'Running' | 'Terminated';
  DetailStatus?: string;
  Reason?: string;
  Message?: string;
  ExitCode?: number;
  Signal?: number;
  StartTime?: string;
  FinishTime?: string;
}

export interface LogLine {
  at: number;
  line: string;
}

export interface ContainerSpec {
  Name: string;
  Image: string;
  Command: string[];
  Arg: string[];
  Cpu?: number;
  Memory?: number;
  Gpu?: number;
  ImagePullPolicy?: string;
  WorkingDir?: string;
  /** Everything else the request said about it, in wire names, echoed back. */
  extra: Wire;
}

export class SimContainer {
  state: CtrState = { State: 'Waiting', Reason: 'ContainerCreating', DetailStatus: 'ContainerCreating' };
  previous?: CtrState;
  restartCount = 0;
  ready = false;
  pulled = false;
  /** true while a restart is scheduled */
  restarting = false;
  logs: LogLine[] = [];
  previousLogs: LogLine[] = [];
  /** `log-every`: when the current run's periodic lines started, and how many were written */
  periodic?: { from: number; written: number };
  /** increments per start so stale timers of an old run are ignored */
  generation = 0;

  constructor(
    readonly spec: ContainerSpec,
    readonly program: Program,
    readonly init: boolean,
  ) {}
}

export interface SimEvent {
  Count: number;
  Type: 'Normal' | 'Warning';
  Name: string;
  Reason: string;
  Message: string;
  FirstTimestamp: string;
  LastTimestamp: string;
  source: 'EciService' | 'K8sAgent';
  at: number;
}

interface Step {
  at: number;
  seq: number;
  run: () => void;
}

export type GroupStatus =
  | 'Scheduling'
  | 'Pending'
  | 'Running'
  | 'Succeeded'
  | 'Failed'
  | 'Terminating'
  | 'Expired'
  | 'Restarting';

export interface GroupInit {
  id: string;
  seq: number;
  name: string;
  regionId: string;
  zoneId: string;
  vSwitchId: string;
  securityGroupId: string;
  vpcId: string;
  intranetIp: string;
  createdAt: number;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds: number;
  tags: { Key: string; Value: string }[];
  cpu: number;
  memory: number;
  instanceType?: string;
  spotStrategy: string;
  spotPriceLimit?: number;
  containers: ContainerSpec[];
  initContainers: ContainerSpec[];
  /** Wire-name fields echoed back in DescribeContainerGroups (Volumes, DnsConfig, HostAliases, ...). */
  echo: Record<string, unknown>;
}

export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class SimGroup {
  status: GroupStatus = 'Scheduling';
  statusChangedAt: number;
  finishedAt?: number;
  succeededAt?: number;
  failedAt?: number;
  expiredAt?: number;
  /** set when the group has finished terminating and must disappear */
  gone = false;
  readonly containers: SimContainer[];
  readonly initContainers: SimContainer[];
  readonly events: SimEvent[] = [];
  ip?: string;
  /** Bumped whenever anything a Describe* answer shows may have changed (cached wire renderings key on it). */
  version = 0;
  private readonly queue: Step[] = [];
  private stepSeq = 0;
  /** the time of the step being run */
  private t: number;

  constructor(
    readonly init: GroupInit,
    private readonly settings: SimSettings,
  ) {
    this.t = init.createdAt;
    this.statusChangedAt = init.createdAt;
    const mk = (s: ContainerSpec, isInit: boolean) => new SimContainer(s, parseProgram(s.Command, s.Arg), isInit);
    this.containers = init.containers.map((c) => mk(c, false));
    this.initContainers = init.initContainers.map((c) => mk(c, true));
    this.after(settings.schedulingSeconds, () => this.schedule());
    if (settings.spotReclaimSeconds !== undefined && init.spotStrategy !== 'NoSpot') {
      this.after(settings.spotReclaimSeconds, () => this.reclaim());
    }
  }

  get id(): string {
    return this.init.id;
  }

  get terminal(): boolean {
    return this.status === 'Succeeded' || this.status === 'Failed' || this.status === 'Expired';
  }

  /** When the next step is due (ms), undefined when nothing is scheduled. */
  get nextAt(): number | undefined {
    return this.queue[0]?.at;
  }

  /** Runs every step due at or before `now`. */
  advance(now: number): void {
    while (this.queue.length > 0 && (this.queue[0] as Step).at <= now) {
      const step = this.queue.shift() as Step;
      this.t = step.at;
      this.version++;
      step.run();
    }
    if (this.t < now) this.t = now;
  }

  /** The real-time ms of `seconds` simulated seconds. */
  private ms(seconds: number): number {
    return seconds * 1000 * this.settings.timeScale;
  }

  private after(seconds: number, run: () => void): void {
    const step: Step = { at: this.t + this.ms(Math.max(0, seconds)), seq: this.stepSeq++, run };
    // stable: after every step due at the same time or earlier
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1] as Step).at > step.at) i--;
    this.queue.splice(i, 0, step);
  }

  private setStatus(s: GroupStatus): void {
    if (this.status === s) return;
    this.status = s;
    this.statusChangedAt = this.t;
    if (s === 'Succeeded' || s === 'Failed' || s === 'Expired') {
      this.finishedAt = this.t;
      if (s === 'Succeeded') this.succeededAt = this.t;
      if (s === 'Failed') this.failedAt = this.t;
      if (s === 'Expired') this.expiredAt = this.t;
      this.queue.length = 0;
    }
  }

  event(
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: 'EciService' | 'K8sAgent' = 'K8sAgent',
  ): void {
    const ts = iso(this.t);
    const same = this.events.find((e) => e.Reason === reason && e.Message === message && e.Type === type);
    if (same) {
      same.Count++;
      same.LastTimestamp = ts;
      same.at = this.t;
      return;
    }
    this.events.push({
      Count: 1,
      Type: type,
      Name: `${this.id}.${(this.t * 1000).toString(16)}`,
      Reason: reason,
      Message: message,
      FirstTimestamp: ts,
      LastTimestamp: ts,
      source,
      at: this.t,
    });
    if (this.events.length > 50) this.events.shift();
  }

  private log(c: SimContainer, line: string): void {
    this.writePeriodic(c, this.t);
    c.logs.push({ at: this.t, line });
    if (c.logs.length > 10_000) c.logs.splice(0, c.logs.length - 10_000);
  }

  /** Writes the `log-every` lines of a running container due by `until` (lazily: no step per line). */
  private writePeriodic(c: SimContainer, until: number): void {
    const every = c.program.logEvery;
    const p = c.periodic;
    if (!every || !p || c.state.State !== 'Running') return;
    const stepMs = every.ms * this.settings.timeScale;
    while (p.from + (p.written + 1) * stepMs <= until) {
      p.written++;
      c.logs.push({ at: Math.floor(p.from + p.written * stepMs), line: `${every.text} ${p.written}` });
    }
    if (c.logs.length > 10_000) c.logs.splice(0, c.logs.length - 10_000);
  }

  /** The container's log lines as of `now` (the current run's, or the previous run's). */
  logLines(c: SimContainer, previous: boolean, now: number): LogLine[] {
    if (!previous) this.writePeriodic(c, now);
    return previous ? c.previousLogs : c.logs;
  }

  // ---------------------------------------------------------------- steps

  private schedule(): void {
    this.ip = this.init.intranetIp;
    this.setStatus('Pending');
    this.event('Normal', 'Scheduled', `Successfully assigned ${this.id} to zone ${this.init.zoneId}`, 'EciService');
    for (const c of this.containers) {
      c.state = { State: 'Waiting', Reason: this.initContainers.length ? 'PodInitializing' : 'ContainerCreating' };
    }
    if (this.initContainers.length > 0) this.runInit(0);
    else this.startApps();
  }

  private pullSeconds(c: SimContainer): number {
    return c.program.pullSeconds ?? this.settings.imagePull[c.spec.Image] ?? this.settings.imagePullSeconds;
  }

  /** Pulls the image (once), then calls `then` when it is present. */
  private pull(c: SimContainer, then: () => void): void {
    if (c.pulled) {
      then();
      return;
    }
    this.event('Normal', 'Pulling', `Pulling image "${c.spec.Image}"`);
    this.after(this.pullSeconds(c), () => {
      c.pulled = true;
      this.event('Normal', 'Pulled', `Successfully pulled image "${c.spec.Image}"`);
      then();
    });
  }

  private runInit(i: number): void {
    const c = this.initContainers[i];
    if (!c) {
      this.startApps();
      return;
    }
    this.pull(c, () => this.after(this.settings.startSeconds, () => this.start(c, (code) => this.initExited(i, code))));
  }

  private initExited(i: number, code: number): void {
    const c = this.initContainers[i] as SimContainer;
    if (code === 0) {
      this.runInit(i + 1);
      return;
    }
    if (this.init.restartPolicy === 'Never') {
      for (const app of this.containers) app.state = { State: 'Waiting', Reason: 'PodInitializing' };
      this.fail();
      return;
    }
    this.backoffRestart(c, () => this.start(c, (x) => this.initExited(i, x)));
  }

  private startApps(): void {
    for (const c of this.containers) {
      this.pull(c, () => this.after(this.settings.startSeconds, () => this.start(c, (code) => this.appExited(c, code))));
    }
  }

  private start(c: SimContainer, onExit: (code: number) => void): void {
    if (this.status === 'Terminating' || this.terminal) return;
    const gen = ++c.generation;
    c.restarting = false;
    if (c.restartCount === 0 && gen === 1) this.event('Normal', 'Created', `Created container ${c.spec.Name}`);
    this.event('Normal', 'Started', `Started container ${c.spec.Name}`);
    c.state = { State: 'Running', StartTime: iso(this.t) };
    c.ready = false;
    this.log(c, `eci-sim: container ${c.spec.Name} started (image ${c.spec.Image}, restart ${c.restartCount})`);
    for (const line of c.program.logs) this.log(c, line);
    c.periodic = { from: this.t, written: 0 };
    if (!c.init) {
      if (!c.program.notReady) {
        if (c.program.readyAfter) {
          this.after(c.program.readyAfter, () => {
            if (c.generation === gen && c.state.State === 'Running') c.ready = true;
          });
        } else c.ready = true;
      }
      if (this.status === 'Pending' && this.containers.every((x) => x.generation > 0)) this.setStatus('Running');
    }
    const run = c.program.runSeconds;
    if (run !== undefined) {
      this.after(run, () => {
        if (c.generation !== gen || c.state.State !== 'Running') return;
        this.terminate(c, c.program.exitCode, c.program.oom ? 'OOMKilled' : c.program.exitCode === 0 ? 'Completed' : 'Error');
        if (c.program.oom) {
          this.event('Warning', 'OOMKilled', `Container ${c.spec.Name} was killed: out of memory`, 'EciService');
        }
        onExit(c.program.exitCode);
      });
    }
  }

  private terminate(c: SimContainer, code: number, reason: string): void {
    this.log(c, `eci-sim: container ${c.spec.Name} exited with code ${code}`);
    c.state = {
      State: 'Terminated',
      ExitCode: code,
      Reason: reason,
      DetailStatus: reason,
      StartTime: c.state.StartTime,
      FinishTime: iso(this.t),
      ...(code === 137 ? { Signal: 9 } : {}),
    };
    c.ready = false;
  }

  private backoffRestart(c: SimContainer, restart: () => void): void {
    c.restartCount++;
    c.restarting = true;
    c.previous = c.state;
    c.previousLogs = c.logs;
    c.logs = [];
    const wait = Math.min(
      this.settings.backoffBaseSeconds * 2 ** (c.restartCount - 1),
      this.settings.backoffMaxSeconds,
    );
    const msg = `Back-off ${wait}s restarting failed container=${c.spec.Name}`;
    c.state = { State: 'Waiting', Reason: 'CrashLoopBackOff', DetailStatus: 'CrashLoopBackOff', Message: msg };
    this.event('Warning', 'BackOff', `Back-off restarting failed container ${c.spec.Name}`);
    this.after(wait, restart);
  }

  private appExited(c: SimContainer, code: number): void {
    const policy = this.init.restartPolicy;
    if (policy === 'Always' || (policy === 'OnFailure' && code !== 0)) {
      this.backoffRestart(c, () => this.start(c, (x) => this.appExited(c, x)));
      return;
    }
    if (this.containers.every((x) => x.state.State === 'Terminated' && !x.restarting)) {
      if (this.containers.every((x) => x.state.ExitCode === 0)) this.setStatus('Succeeded');
      else this.fail();
    }
  }

  private fail(): void {
    this.setStatus('Failed');
  }

  private reclaim(): void {
    if (this.terminal || this.status === 'Terminating') return;
    this.event('Warning', 'SpotToBeReleased', 'Spot ECI will be released in 3 minutes', 'EciService');
    this.after(180, () => {
      for (const c of [...this.containers, ...this.initContainers]) {
        if (c.state.State === 'Running') this.terminate(c, 137, 'Expired');
      }
      this.setStatus('Expired');
    });
  }

  /**
   * DeleteContainerGroup. Terminal and still-scheduling groups vanish at once; others go Terminating, their
   * running containers get Killing events and stop after min(grace, their stop time), then the group vanishes.
   */
  delete(now: number): void {
    this.advance(now);
    this.version++;
    if (this.status === 'Terminating') return;
    if (this.terminal || this.status === 'Scheduling') {
      this.gone = true;
      return;
    }
    this.queue.length = 0;
    this.setStatus('Terminating');
    const grace = this.init.terminationGracePeriodSeconds;
    let longest = 0;
    for (const c of [...this.containers, ...this.initContainers]) {
      if (c.state.State !== 'Running') continue;
      this.event('Normal', 'Killing', `Stopping container ${c.spec.Name}`);
      const stop = Math.min(grace, c.program.ignoreSigterm ? grace : this.settings.stopSeconds);
      longest = Math.max(longest, stop);
      this.after(stop, () => {
        this.terminate(c, c.program.ignoreSigterm ? 137 : 143, 'Error');
      });
    }
    this.after(longest, () => {
      this.gone = true;
    });
  }

  /** RestartContainerGroup: every container restarts from its image (counts kept). */
  restart(now: number): void {
    this.advance(now);
    this.version++;
    this.queue.length = 0;
    this.setStatus('Restarting');
    for (const c of this.containers) {
      if (c.state.State === 'Running') this.terminate(c, 143, 'Error');
    }
    this.after(this.settings.stopSeconds, () => {
      this.setStatus('Pending');
      this.startApps();
    });
  }
}
