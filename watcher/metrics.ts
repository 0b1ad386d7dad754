/**
 * A tiny Prometheus text-format registry (exposition format 0.0.4): counters, gauges and histograms with
 * labels. No dependency; enough for /metrics.
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

interface Metric {
  readonly name: string;
  render(): string;
}

export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  get(labels?: Labels): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.#values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(value: number, labels?: Labels): void {
    this.#values.set(labelKey(labels), value);
  }
  get(labels?: Labels): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    if (this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.#values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.#counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    this.buckets.forEach((b, i) => {
      if (value <= b) this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    });
  }
  get count(): number {
    return this.#count;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => {
      lines.push(`${this.name}_bucket{le="${b}"} ${this.#counts[i] ?? 0}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`);
    lines.push(`${this.name}_sum ${this.#sum}`);
    lines.push(`${this.name}_count ${this.#count}`);
    return lines.join('\n');
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];
  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }
  #add<T extends Metric>(m: T): T {
    this.#metrics.push(m);
    return m;
  }
  render(): string {
    return `${this.#metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

/** Every metric the watcher exports. */
export function watcherMetrics(reg = new Registry()) {
  return {
    registry: reg,
    pods: reg.gauge('eci_watcher_pods', 'Pods currently bound to the virtual node, as seen by the watch'),
    podEvents: reg.counter('eci_watcher_pod_events_total', 'Pod watch events received, by type'),
    nudgesSent: reg.counter('eci_watcher_nudges_sent_total', 'Pod nudges sent to the queue, by reason'),
    nudgesSkipped: reg.counter('eci_watcher_nudges_skipped_total', 'Pod events that did not need a nudge, by why'),
    nudgesDropped: reg.counter('eci_watcher_nudges_dropped_total', 'Nudges dropped because the send buffer was full'),
    ticksSent: reg.counter('eci_watcher_status_ticks_sent_total', 'Status tick messages sent'),
    sendErrors: reg.counter('eci_watcher_send_errors_total', 'Failed queue sends (each retried with backoff)'),
    sendBuffer: reg.gauge('eci_watcher_send_buffer', 'Messages waiting in the send buffer'),
    watchRestarts: reg.counter('eci_watcher_watch_restarts_total', 'Pod watch errors followed by a reconnect'),
    resyncs: reg.counter('eci_watcher_resyncs_total', 'Periodic resync passes'),
    leaseRenewals: reg.histogram(
      'eci_watcher_node_lease_renewal_seconds',
      'Latency of node lease renewals',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
    leaseFailures: reg.counter('eci_watcher_node_lease_renewal_failures_total', 'Failed node lease renewals'),
    leader: reg.gauge('eci_watcher_leader', '1 while this replica is the leader'),
    leaderTransitions: reg.counter('eci_watcher_leader_transitions_total', 'Times this replica became leader'),
    healthy: reg.gauge('eci_watcher_bridge_healthy', '1 while functions report and ECI calls succeed (see the health rule)'),
  };
}

export type WatcherMetrics = ReturnType<typeof watcherMetrics>;
