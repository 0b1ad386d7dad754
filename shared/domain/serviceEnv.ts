/**
 * The service environment the kubelet gives every container (pkg/kubelet/kubelet_pods.go getServiceEnvVarMap and
 * pkg/kubelet/envvars/envvars.go FromServices, v1.20): `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT`,
 * `<SVC>_SERVICE_PORT_<PORTNAME>` and the docker-link family (`<SVC>_PORT`, `<SVC>_PORT_<port>_<PROTO>` and its
 * `_PROTO`, `_PORT`, `_ADDR`) for
 * - the `kubernetes` Service of the `default` namespace, always (even with enableServiceLinks false), and
 * - every Service of the pod's namespace when enableServiceLinks is not false (a Service of the pod's namespace
 *   named `kubernetes` replaces the master one, as in the kubelet's map).
 * Only Services whose ClusterIP is set and not `None` count (headless and ExternalName Services give nothing).
 * Names: upper-cased, `-` → `_`. The container's own env and envFrom win over these (env.ts puts them first).
 *
 * On ECI a ClusterIP is reachable only through the group's kube-proxy or a VPC that routes the Service CIDR; when
 * it is not, the `kubernetes` Service is given as the apiserver's real endpoint (its Endpoints object) instead, so
 * in-cluster clients (client-go's InClusterConfig reads KUBERNETES_SERVICE_HOST/PORT) still reach the API.
 */
import type { Endpoints, Service } from './k8s.js';

export const MASTER_SERVICE_NAMESPACE = 'default';
export const MASTER_SERVICE_NAME = 'kubernetes';

/** What the bridge knows of the cluster's Services when it creates a group. */
export interface ServiceView {
  /** The `kubernetes` Service of `default`. */
  kubernetes?: Service;
  /** Its Endpoints: the apiserver's real addresses. */
  kubernetesEndpoints?: Endpoints;
  /** The Services of the pod's namespace; undefined = not known (offline without them in the input). */
  namespace?: readonly Service[];
}

export interface EnvPair {
  name: string;
  value: string;
}

/** The kubelet's v1helper.IsServiceIPSet: a ClusterIP that is neither empty nor `None`. */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/** The kubelet's makeEnvVariableName: upper case, `-` → `_`. */
export function envName(s: string): string {
  return s.replace(/-/g, '_').toUpperCase();
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** envvars.FromServices: the variables of these Services, in their order. */
export function serviceLinkVars(services: readonly Service[]): EnvPair[] {
  const out: EnvPair[] = [];
  for (const svc of services) {
    const ports = svc.spec?.ports ?? [];
    const ip = svc.spec?.clusterIP ?? '';
    const first = ports[0];
    if (!isServiceIPSet(svc) || !first) continue;
    const prefix = envName(svc.metadata.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(first.port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const proto = p.protocol || 'TCP';
      const url = `${proto.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push(
        { name: pp, value: url },
        { name: `${pp}_PROTO`, value: proto.toLowerCase() },
        { name: `${pp}_PORT`, value: String(p.port) },
        { name: `${pp}_ADDR`, value: ip },
      );
    });
  }
  return out;
}

/** A `kubernetes` Service at a given address (the KUBERNETES_SERVICE_ADDRESS override, the offline CLI). */
export function masterServiceAt(host: string, port: number): Service {
  return {
    metadata: { name: MASTER_SERVICE_NAME, namespace: MASTER_SERVICE_NAMESPACE },
    spec: { clusterIP: host, ports: [{ name: 'https', port, protocol: 'TCP' }] },
  };
}

/**
 * The `kubernetes` Service as the pod reaches it: the Service itself when ClusterIPs are reachable, else the
 * apiserver's first endpoint (address and the port named like the Service's first port, else the first port),
 * else undefined (nothing reachable is known).
 */
export function reachableMaster(view: ServiceView, clusterIpReachable: boolean): Service | undefined {
  const svc = view.kubernetes;
  if (svc && clusterIpReachable) return isServiceIPSet(svc) ? svc : undefined;
  for (const subset of view.kubernetesEndpoints?.subsets ?? []) {
    const ip = subset.addresses?.[0]?.ip;
    const wanted = svc?.spec?.ports?.[0]?.name ?? 'https';
    const port = subset.ports?.find((p) => p.name === wanted) ?? subset.ports?.[0];
    if (ip && port) return masterServiceAt(ip, port.port);
  }
  return undefined;
}

/**
 * getServiceEnvVarMap: the master Service (as reachable) always, and the namespace's Services when service links
 * are enabled; a namespace Service named like the master one replaces it. Sorted by Service name (the kubelet's
 * map has no order; env.ts keeps the container's own variables winning).
 */
export function serviceEnv(
  namespace: string,
  enableServiceLinks: boolean,
  master: Service | undefined,
  namespaceServices: readonly Service[] | undefined,
): EnvPair[] {
  const byName = new Map<string, Service>();
  if (master) byName.set(MASTER_SERVICE_NAME, master);
  if (enableServiceLinks) {
    for (const s of namespaceServices ?? []) {
      if ((s.metadata.namespace ?? namespace) !== namespace || !isServiceIPSet(s)) continue;
      // in `default` the `kubernetes` Service is the master one, already given as the pod reaches it
      if (namespace === MASTER_SERVICE_NAMESPACE && s.metadata.name === MASTER_SERVICE_NAME && master) continue;
      byName.set(s.metadata.name ?? '', s);
    }
  }
  const names = [...byName.keys()].sort();
  return serviceLinkVars(names.map((n) => byName.get(n) as Service));
}
