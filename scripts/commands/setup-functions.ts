/**
 * `eci-bridge setup-functions [--kubeconfig K] [--context C] [--out FILE] [--namespace NS] [--api-server URL]
 *  [--token-ttl SECONDS] [--print-token] [--enable-namespaces a,b]`
 *
 * Applies deploy/functions-rbac.yaml (ServiceAccount eci-bridge-functions + least-privilege RBAC) with
 * server-side apply, binds the per-namespace role (pods, ConfigMaps, Secrets, tokens) in each namespace given to
 * `--enable-namespaces` (RoleBinding eci-bridge-functions: created here, by the operator's credentials, never by
 * the functions), issues a token for that ServiceAccount, and writes KUBE_API_SERVER, KUBE_TOKEN and KUBE_CA
 * (compact: base64 DER) into an env file (mode 0600) that `s deploy` reads through `${env('…')}`.
 *
 * Token: by default a `kubernetes.io/service-account-token` Secret (eci-bridge-functions-token). The functions
 * cannot refresh a credential themselves, so a token that expires would silently stop the bridge; the Secret's
 * token does not expire, is revoked at once by deleting the Secret (then re-run this command and `s deploy`),
 * and is not subject to the API server's --service-account-max-token-expiration cap. `--token-ttl SECONDS`
 * uses a TokenRequest instead (no Secret stored in the cluster; re-run before it expires); it is also the only
 * choice on control planes without kube-controller-manager's token controller.
 * The token is never printed unless `--print-token` is given.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { createKubeClient } from '../../shared/adapters/kube/client.js';
import {
  applyManifests,
  clusterEndpoint,
  ensureServiceAccountTokenSecret,
  type Manifest,
  requestServiceAccountToken,
} from '../../shared/adapters/kube/provision.js';
import { compactCa } from '../../shared/domain/kubeCa.js';

export const summary =
  'apply the functions RBAC, issue their token, write the env file for s deploy (setup-functions [--out FILE])';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RBAC_FILE = join(ROOT, 'deploy', 'functions-rbac.yaml');
export const SERVICE_ACCOUNT = 'eci-bridge-functions';
export const TOKEN_SECRET = 'eci-bridge-functions-token';
/** The ClusterRole bound in each enabled namespace (deploy/functions-rbac.yaml). */
export const NAMESPACE_ROLE = 'eci-bridge-functions-namespace';
const DEFAULT_NAMESPACE = 'eci-bridge';

const usage = `usage: eci-bridge setup-functions [--kubeconfig K] [--context C] [--out FILE] [--namespace NS]
                                  [--api-server URL] [--token-ttl SECONDS] [--print-token]
                                  [--enable-namespaces a,b]
  --out FILE          env file to write (default .env.functions; mode 0600)
  --namespace NS      the bridge namespace (default BRIDGE_NAMESPACE or eci-bridge)
  --api-server URL    the API server address the functions use (default: the kubeconfig's; use the private
                      VPC address when the kubeconfig points at a public or loopback one)
  --token-ttl SECS    use a TokenRequest with this expiry instead of a long-lived token Secret
  --print-token       also print the token to stdout
  --enable-namespaces the namespaces whose pods may run on the virtual node (comma-separated): the functions may
                      read their ConfigMaps and Secrets, mint their pods' tokens and write their pods only there.
                      Run again with more to enable more; disable one with
                      kubectl delete rolebinding -n NS eci-bridge-functions`;

/** The RoleBinding that enables one namespace for the virtual node: the per-namespace role, for the functions. */
export function namespaceBinding(namespace: string, bridgeNamespace: string): Manifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: {
      name: SERVICE_ACCOUNT,
      namespace,
      labels: { 'app.kubernetes.io/part-of': 'eci-bridge', 'app.kubernetes.io/component': 'functions' },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAMESPACE_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: bridgeNamespace }],
  };
}

/**
 * Loads the RBAC manifests, moved into `namespace` (namespaced objects and ServiceAccount subjects), with the
 * virtual node's name (the one node the functions may get) set to `vnodeName` when given.
 */
export function loadRbacManifests(namespace: string, file = RBAC_FILE, vnodeName?: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null)
    .map((m) => {
      const out = structuredClone(m);
      if (out.metadata.namespace) out.metadata.namespace = namespace;
      if (vnodeName && Array.isArray(out.rules)) {
        for (const r of out.rules as { resources?: string[]; resourceNames?: string[] }[]) {
          if (r.resources?.includes('nodes') && r.resourceNames) r.resourceNames = [vnodeName];
        }
      }
      const subjects = out.subjects;
      if (Array.isArray(subjects)) {
        for (const s of subjects as { kind?: string; namespace?: string }[]) {
          if (s.kind === 'ServiceAccount') s.namespace = namespace;
        }
      }
      return out;
    });
}

/**
 * The env file body. The CA goes in compactly (base64 DER per certificate, comma-separated: shared/domain/kubeCa.ts),
 * so it fits on one line and a 4096-bit CA leaves room in FC's 4 KB of environment per function.
 */
export function envFile(values: { server: string; token: string; caPem: string; namespace: string }): string {
  return [
    '# Written by `eci-bridge setup-functions`. Holds a credential: keep it out of version control.',
    `KUBE_API_SERVER=${values.server}`,
    `KUBE_TOKEN=${values.token}`,
    `KUBE_CA=${compactCa(values.caPem)}`,
    `BRIDGE_NAMESPACE=${values.namespace}`,
    '',
  ].join('\n');
}

function isLoopback(server: string): boolean {
  try {
    const h = new URL(server).hostname;
    return h === 'localhost' || h.startsWith('127.') || h === '[::1]';
  } catch {
    return false;
  }
}

export async function run(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    process.stderr.write(`setup-functions: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const kubeconfigPath = v.kubeconfig ?? process.env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
  const namespace = v.namespace ?? process.env.BRIDGE_NAMESPACE ?? DEFAULT_NAMESPACE;
  const out = resolve(v.out ?? '.env.functions');
  const ttl = v['token-ttl'] === undefined ? undefined : Number(v['token-ttl']);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 600)) {
    process.stderr.write('setup-functions: --token-ttl must be an integer number of seconds >= 600\n');
    return 2;
  }

  const client = createKubeClient({ kubeconfigPath, ...(v.context ? { context: v.context } : {}) });
  // The namespace too, so this can run before `kubectl apply -k deploy/` (server-side apply shares ownership).
  const ns: Manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
  const enabled = (v['enable-namespaces'] ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  const bindings = enabled.map((n) => namespaceBinding(n, namespace));
  const applied = await applyManifests(client, [ns, ...loadRbacManifests(namespace, RBAC_FILE, process.env.VNODE_NAME), ...bindings]);
  for (const a of applied) process.stdout.write(`applied ${a.kind} ${a.namespace ? `${a.namespace}/` : ''}${a.name}\n`);

  const endpoint = clusterEndpoint(client);
  let token: string;
  let caPem = endpoint.caPem;
  if (ttl !== undefined) {
    const t = await requestServiceAccountToken(client, namespace, SERVICE_ACCOUNT, { expirationSeconds: ttl });
    token = t.token;
    process.stdout.write(`token: TokenRequest for ${namespace}/${SERVICE_ACCOUNT}, expires ${t.expirationTimestamp}\n`);
  } else {
    const s = await ensureServiceAccountTokenSecret(client, namespace, SERVICE_ACCOUNT, TOKEN_SECRET);
    token = s.token;
    caPem = s.caPem ?? caPem;
    process.stdout.write(`token: Secret ${namespace}/${TOKEN_SECRET} (does not expire; delete the Secret to revoke)\n`);
  }
  if (!caPem) {
    process.stderr.write('setup-functions: no CA certificate in the kubeconfig or the token Secret\n');
    return 1;
  }
  const server = v['api-server'] ?? endpoint.server;
  if (isLoopback(server) && !v['api-server']) {
    process.stderr.write(
      `setup-functions: warning: ${server} is a loopback address; FC functions cannot reach it. Pass --api-server with the private (VPC) address.\n`,
    );
  }
  writeFileSync(out, envFile({ server, token, caPem, namespace }), { mode: 0o600 });
  chmodSync(out, 0o600);
  process.stdout.write(`wrote ${out} (KUBE_API_SERVER=${server}, KUBE_TOKEN, KUBE_CA, BRIDGE_NAMESPACE)\n`);
  if (v['print-token']) process.stdout.write(`${token}\n`);
  return 0;
}

/** The cluster options every cluster-facing command takes (setup-functions, doctor). */
export const KUBE_ARG_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      ...KUBE_ARG_OPTIONS,
      out: { type: 'string' },
      namespace: { type: 'string' },
      'api-server': { type: 'string' },
      'token-ttl': { type: 'string' },
      'print-token': { type: 'boolean' },
      'enable-namespaces': { type: 'string' },
    },
  });
}
