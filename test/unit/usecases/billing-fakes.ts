/** In-memory fakes of the ports the billing use-case and `eci-bridge cost` need. */
import type { EciContainerGroup, EciKeyValue } from '../../../shared/domain/eci.js';
import type { EventWrite } from '../../../shared/domain/events.js';
import type { ConfigMap, K8sEvent, Namespace, Node, Pod } from '../../../shared/domain/k8s.js';
import type { Logger } from '../../../shared/ports/index.js';

export class KubeErr extends Error {
  /** the kind of the one error vocabulary (shared/errors.ts), as the Kubernetes adapters set it */
  readonly kind: 'notFound' | 'conflict' | 'retryable';
  readonly service = 'kubernetes';
  constructor(
    name: string,
    readonly status: number,
  ) {
    super(name);
    this.name = name;
    this.kind = status === 404 ? 'notFound' : status === 409 ? 'conflict' : 'retryable';
  }
}

export class FakeCluster {
  pods: Pod[] = [];
  nodes = new Map<string, Node>();
  configMaps = new Map<string, ConfigMap>();
  namespaces: Namespace[] = [];
  events: Omit<K8sEvent, 'metadata' | 'count' | 'firstTimestamp' | 'lastTimestamp'>[] = [];
  writes = 0;
  patches = 0;
  /** make the next create fail with AlreadyExists after creating the object (a concurrent writer) */
  raceOnCreate = false;
  private rv = 1;

  async listPods(opts: { nodeName?: string }): Promise<Pod[]> {
    return structuredClone(this.pods.filter((p) => !opts.nodeName || p.spec.nodeName === opts.nodeName));
  }
  async getNode(name: string): Promise<Node> {
    const n = this.nodes.get(name);
    if (!n) throw new KubeErr('NotFoundError', 404);
    return structuredClone(n);
  }
  async patchPodMetadata(namespace: string, name: string, patch: { annotations?: Record<string, string | null> }): Promise<Pod> {
    this.patches++;
    const p = this.pods.find((x) => x.metadata.namespace === namespace && x.metadata.name === name);
    if (!p) throw new KubeErr('NotFoundError', 404);
    const ann = { ...(p.metadata.annotations ?? {}) };
    for (const [k, v] of Object.entries(patch.annotations ?? {})) {
      if (v === null) delete ann[k];
      else ann[k] = v;
    }
    p.metadata.annotations = ann;
    return structuredClone(p);
  }
  async recordEvent(ev: Omit<K8sEvent, 'metadata' | 'count' | 'firstTimestamp' | 'lastTimestamp'>): Promise<EventWrite> {
    this.events.push(ev);
    return 'created';
  }
  async getConfigMap(namespace: string, name: string): Promise<ConfigMap> {
    const c = this.configMaps.get(`${namespace}/${name}`);
    if (!c) throw new KubeErr('NotFoundError', 404);
    return structuredClone(c);
  }
  async createConfigMap(namespace: string, cm: ConfigMap): Promise<ConfigMap> {
    const key = `${namespace}/${cm.metadata.name}`;
    if (this.raceOnCreate) {
      this.raceOnCreate = false;
      this.configMaps.set(key, { metadata: { name: cm.metadata.name, namespace, resourceVersion: String(++this.rv) }, data: {} });
      throw new KubeErr('AlreadyExistsError', 409);
    }
    if (this.configMaps.has(key)) throw new KubeErr('AlreadyExistsError', 409);
    this.writes++;
    const stored = { ...structuredClone(cm), metadata: { ...cm.metadata, resourceVersion: String(++this.rv) } };
    this.configMaps.set(key, stored);
    return structuredClone(stored);
  }
  async replaceConfigMap(namespace: string, cm: ConfigMap): Promise<ConfigMap> {
    const key = `${namespace}/${cm.metadata.name}`;
    const cur = this.configMaps.get(key);
    if (!cur) throw new KubeErr('NotFoundError', 404);
    if (cm.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new KubeErr('ConflictError', 409);
    this.writes++;
    const stored = { ...structuredClone(cm), metadata: { ...cm.metadata, resourceVersion: String(++this.rv) } };
    this.configMaps.set(key, stored);
    return structuredClone(stored);
  }
  async listNamespaces(): Promise<Namespace[]> {
    return structuredClone(this.namespaces);
  }
}

export class FakeGroups {
  groups: EciContainerGroup[] = [];
  priceCalls: unknown[] = [];
  /** hourly trade price per spec label */
  prices = new Map<string, number>();
  async list(filter: { tags: readonly EciKeyValue[] }): Promise<EciContainerGroup[]> {
    return structuredClone(this.groups.filter((g) => filter.tags.every((t) => g.Tags?.some((x) => x.Key === t.Key && x.Value === t.Value))));
  }
  async price(spec: { cpu?: number; memory?: number; instanceType?: string }) {
    this.priceCalls.push(spec);
    const key = spec.instanceType ?? `${spec.cpu}-${spec.memory}`;
    const p = this.prices.get(key);
    if (p === undefined) throw new Error(`no price for ${key}`);
    return { tradePrice: p, originalPrice: p, currency: 'CNY' };
  }
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg?: string;
}
export function memLogger(lines: LogLine[]): Logger {
  const l = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
    lines.push({ level, obj, ...(msg !== undefined ? { msg } : {}) });
  };
  const logger: Logger = { debug: l('debug'), info: l('info'), warn: l('warn'), error: l('error'), child: () => logger };
  return logger;
}

