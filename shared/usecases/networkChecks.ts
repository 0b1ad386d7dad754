/**
 * Network prerequisites of ECI pods that can be checked from the cluster (docs/networking.md §3), for
 * `eci-bridge doctor` (wired in by the lead: call `networkPrerequisiteChecks` with the composed Cluster port and
 * the parsed config, print each result). What needs the cloud's APIs (VPC route entries, security group rules, a
 * DNS probe from a real group) is stated as advice in the messages, not checked here.
 */
import type { Pod } from '../domain/k8s.js';
import { MASTER_SERVICE_NAME, MASTER_SERVICE_NAMESPACE, reachableMaster } from '../domain/serviceEnv.js';
import type { Cluster } from '../ports/index.js';
import { describeError, isNotFound } from './errors.js';

export interface NetworkCheck {
  id: 'apiserver-endpoint' | 'cluster-dns' | 'kube-proxy' | 'cni';
  status: 'ok' | 'warn' | 'fail';
  message: string;
}

export interface NetworkCheckConfig {
  CLUSTER_DNS: string;
  CLUSTER_IP_ROUTED: boolean;
  KUBE_PROXY_IMAGE?: string | undefined;
  KUBERNETES_SERVICE_ADDRESS?: string | undefined;
}

type Reads = Pick<Cluster, 'getService' | 'getEndpoints' | 'listServices' | 'listPods'>;

/** Runs every check; a failed read becomes a `fail` naming it (never a throw). */
export async function networkPrerequisiteChecks(cluster: Reads, config: NetworkCheckConfig): Promise<NetworkCheck[]> {
  return Promise.all([apiserverCheck(cluster, config), dnsCheck(cluster, config), proxyCheck(config), cniCheck(cluster)]);
}

async function apiserverCheck(cluster: Reads, config: NetworkCheckConfig): Promise<NetworkCheck> {
  const id = 'apiserver-endpoint';
  if (config.KUBERNETES_SERVICE_ADDRESS) {
    return { id, status: 'ok', message: `KUBERNETES_SERVICE_ADDRESS=${config.KUBERNETES_SERVICE_ADDRESS} is given to ECI pods and kube-proxy` };
  }
  try {
    const [kubernetes, kubernetesEndpoints] = await Promise.all([
      cluster.getService(MASTER_SERVICE_NAMESPACE, MASTER_SERVICE_NAME).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e))),
      cluster.getEndpoints(MASTER_SERVICE_NAMESPACE, MASTER_SERVICE_NAME).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e))),
    ]);
    const ep = reachableMaster({ ...(kubernetes ? { kubernetes } : {}), ...(kubernetesEndpoints ? { kubernetesEndpoints } : {}) }, false);
    const host = ep?.spec?.clusterIP;
    const port = ep?.spec?.ports?.[0]?.port;
    if (!host || !port) {
      return { id, status: 'fail', message: 'the kubernetes Endpoints have no address: ECI pods and kube-proxy get no API server address; set KUBERNETES_SERVICE_ADDRESS' };
    }
    if (/^127\.|^::1$|^localhost$/.test(host)) {
      return { id, status: 'fail', message: `the apiserver publishes ${host}, unreachable from ECI: set --advertise-address or KUBERNETES_SERVICE_ADDRESS` };
    }
    return {
      id,
      status: 'ok',
      message: `ECI pods reach the apiserver at ${host}:${port}; its security group must allow TCP ${port} from the ECI vSwitches`,
    };
  } catch (err) {
    return { id, status: 'fail', message: `cannot read the kubernetes Service/Endpoints: ${describeError(err)}` };
  }
}

async function dnsCheck(cluster: Reads, config: NetworkCheckConfig): Promise<NetworkCheck> {
  const id = 'cluster-dns';
  try {
    const svc = (await cluster.listServices('kube-system')).find((s) => s.spec?.clusterIP === config.CLUSTER_DNS);
    if (!svc) return { id, status: 'fail', message: `CLUSTER_DNS ${config.CLUSTER_DNS} is no Service in kube-system: pods with dnsPolicy ClusterFirst resolve nothing` };
    return { id, status: 'ok', message: `CLUSTER_DNS ${config.CLUSTER_DNS} is kube-system/${svc.metadata.name} (a ClusterIP: reached through kube-proxy or a routed Service CIDR)` };
  } catch (err) {
    return { id, status: 'fail', message: `cannot list kube-system Services: ${describeError(err)}` };
  }
}

function proxyCheck(config: NetworkCheckConfig): NetworkCheck {
  const id = 'kube-proxy';
  if (config.KUBE_PROXY_IMAGE) return { id, status: 'ok', message: `kube-proxy sidecar image ${config.KUBE_PROXY_IMAGE} (must match the cluster's version)` };
  if (config.CLUSTER_IP_ROUTED) return { id, status: 'ok', message: 'no kube-proxy sidecar: CLUSTER_IP_ROUTED says the VPC routes the Service CIDR' };
  return { id, status: 'warn', message: 'no KUBE_PROXY_IMAGE and CLUSTER_IP_ROUTED=false: ECI pods cannot reach ClusterIPs or cluster DNS' };
}

const CNI: { re: RegExp; name: string; status: NetworkCheck['status']; advice: string }[] = [
  { re: /^terway/, name: 'Terway', status: 'ok', advice: 'pod IPs are VPC addresses: ECI pods reach them directly (security groups permitting)' },
  {
    re: /^kube-flannel|^flannel/,
    name: 'flannel',
    status: 'warn',
    advice: "pod CIDRs are overlay addresses: ECI pods reach them only if the VPC route table routes each node's podCIDR to it (the cloud controller manager's route controller with flannel's host-gw/alloc backend, not vxlan)",
  },
  {
    re: /^calico/,
    name: 'Calico',
    status: 'warn',
    advice: 'pod CIDRs reach ECI only when advertised to the VPC (BGP peering of an IDC, or VPC routes per node); IPIP/VXLAN encapsulated pod traffic does not',
  },
];

async function cniCheck(cluster: Reads): Promise<NetworkCheck> {
  const id = 'cni';
  let pods: Pod[];
  try {
    pods = await cluster.listPods({ namespace: 'kube-system' });
  } catch (err) {
    return { id, status: 'warn', message: `cannot list kube-system pods to recognise the CNI: ${describeError(err)}` };
  }
  for (const c of CNI) {
    if (pods.some((p) => c.re.test(p.metadata.name ?? ''))) return { id, status: c.status, message: `${c.name}: ${c.advice}` };
  }
  return { id, status: 'warn', message: 'CNI not recognised: make sure the VPC routes the pod CIDRs to the nodes (docs/networking.md §3)' };
}
