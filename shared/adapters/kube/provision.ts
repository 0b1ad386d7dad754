/**
 * Provisioning helpers for `eci-bridge setup-functions` and the `npm start` demo (kept apart from the `Cluster`
 * port: only the CLI uses them): server-side apply, dry-run create, read, list and delete of any manifest, a service-account token (TokenRequest, or the long-lived
 * `kubernetes.io/service-account-token` Secret), and the API server URL and CA of the kubeconfig in use.
 * Errors are this adapter's KubeError family; messages never include a token.
 */
import { readFileSync } from 'node:fs';
import {
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Secret,
} from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { KubeError, NotFoundError, toKubeError } from './errors.js';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

export interface AppliedRef {
  kind: string;
  namespace?: string;
  name: string;
}

async function call<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKubeError(err, context);
  }
}

function ref(m: Manifest): string {
  return `${m.kind} ${m.metadata.namespace ? `${m.metadata.namespace}/` : ''}${m.metadata.name}`;
}

/**
 * Server-side apply (field manager `eci-bridge`, forced), in order. Returns what was applied. `dryRun`: the API
 * server validates and admits each object (schema, defaulting, admission) without storing it.
 */
export async function applyManifests(
  client: KubeClient,
  manifests: readonly Manifest[],
  fieldManager = 'eci-bridge',
  opts: { dryRun?: boolean } = {},
): Promise<AppliedRef[]> {
  const api = KubernetesObjectApi.makeApiClient(client.config);
  const out: AppliedRef[] = [];
  for (const m of manifests) {
    // KubernetesObject is client-node's structural type for any object; Manifest is a subset of it.
    const spec = m as unknown as KubernetesObject;
    await call(`apply ${ref(m)}`, () => api.patch(spec, undefined, opts.dryRun ? 'All' : undefined, fieldManager, true, PatchStrategy.ServerSideApply));
    out.push({ kind: m.kind, name: m.metadata.name, ...(m.metadata.namespace ? { namespace: m.metadata.namespace } : {}) });
  }
  return out;
}

/**
 * Server-side dry run of creating each manifest (admission webhooks included): resolves when all would be
 * accepted, rejects with the API server's refusal (a KubeError whose message carries its reason).
 */
export async function dryRunCreate(client: KubeClient, manifests: readonly Manifest[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(client.config);
  for (const m of manifests) await call(`create ${ref(m)} (dry run)`, () => api.create(m as unknown as KubernetesObject, undefined, 'All'));
}

/**
 * Reads any object by apiVersion, kind, namespace and name (for `eci-bridge doctor`): undefined when it does not
 * exist, or when the API server does not serve that apiVersion (e.g. policy/v1 on Kubernetes 1.20).
 */
export async function readObject(
  client: KubeClient,
  ref: { apiVersion: string; kind: string; name: string; namespace?: string },
): Promise<(Record<string, unknown> & { metadata?: Record<string, unknown> }) | undefined> {
  const api = KubernetesObjectApi.makeApiClient(client.config);
  const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } };
  try {
    return (await api.read(spec)) as unknown as Record<string, unknown>;
  } catch (err) {
    const e = toKubeError(err, `read ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`);
    if (e instanceof NotFoundError) return undefined;
    // client-node resolves the resource name through discovery first: an unserved apiVersion fails there
    if (/Unrecognized API version and kind|Failed to fetch resource metadata/.test(String((err as Error)?.message))) return undefined;
    throw e;
  }
}

/** Lists objects of a kind in a namespace by label selector, as plain JSON. */
export async function listObjects(
  client: KubeClient,
  apiVersion: string,
  kind: string,
  namespace: string,
  labelSelector: string,
): Promise<Record<string, unknown>[]> {
  const api = KubernetesObjectApi.makeApiClient(client.config);
  const list = await call(`list ${kind} in ${namespace}`, () =>
    api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector),
  );
  return JSON.parse(JSON.stringify(list.items)) as Record<string, unknown>[];
}

/** Deletes each object (dependents in the background, as kubectl does); absent ones are skipped. */
export async function deleteObjects(client: KubeClient, manifests: readonly Manifest[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(client.config);
  for (const m of manifests) {
    try {
      await api.delete(m as unknown as KubernetesObject, undefined, undefined, undefined, undefined, 'Background');
    } catch (err) {
      const e = toKubeError(err, `delete ${ref(m)}`);
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
}

/** TokenRequest for a service account, not bound to any object. The API server may shorten the expiry. */
export async function requestServiceAccountToken(
  client: KubeClient,
  namespace: string,
  serviceAccount: string,
  opts: { expirationSeconds: number; audiences?: string[] },
): Promise<{ token: string; expirationTimestamp: string }> {
  const res = await call(`token request for serviceaccount ${namespace}/${serviceAccount}`, () =>
    client.core.createNamespacedServiceAccountToken({
      namespace,
      name: serviceAccount,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: opts.expirationSeconds, audiences: opts.audiences ?? [] },
      },
    }),
  );
  const token = res.status?.token;
  if (!token) throw new KubeError(`token request for serviceaccount ${namespace}/${serviceAccount}: no token in the answer`);
  const exp = res.status?.expirationTimestamp;
  return { token, expirationTimestamp: exp instanceof Date ? exp.toISOString() : String(exp ?? '') };
}

/**
 * Ensures a `kubernetes.io/service-account-token` Secret for the service account and waits until the token
 * controller (kube-controller-manager) has filled in `token` and `ca.crt`.
 */
export async function ensureServiceAccountTokenSecret(
  client: KubeClient,
  namespace: string,
  serviceAccount: string,
  secretName: string,
  opts: { timeoutMs?: number; pollMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<{ token: string; caPem?: string }> {
  const body: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: {
      name: secretName,
      namespace,
      annotations: { 'kubernetes.io/service-account.name': serviceAccount },
      labels: { 'app.kubernetes.io/part-of': 'eci-bridge' },
    },
  };
  try {
    await client.core.readNamespacedSecret({ namespace, name: secretName });
  } catch (err) {
    const e = toKubeError(err, `get secret ${namespace}/${secretName}`);
    if (!(e instanceof NotFoundError)) throw e;
    await call(`create secret ${namespace}/${secretName}`, () => client.core.createNamespacedSecret({ namespace, body }));
  }
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const s = await call(`get secret ${namespace}/${secretName}`, () => client.core.readNamespacedSecret({ namespace, name: secretName }));
    const token = s.data?.token;
    if (token) {
      const ca = s.data?.['ca.crt'];
      return { token: Buffer.from(token, 'base64').toString('utf8'), ...(ca ? { caPem: Buffer.from(ca, 'base64').toString('utf8') } : {}) };
    }
    if (Date.now() >= deadline) {
      throw new KubeError(
        `secret ${namespace}/${secretName} got no token: is kube-controller-manager (the token controller) running? ` +
          'Use a TokenRequest instead (--token-ttl).',
      );
    }
    await sleep(opts.pollMs ?? 500);
  }
}

/** The API server URL and CA (PEM) of the kubeconfig's current cluster. */
export function clusterEndpoint(client: KubeClient): { server: string; caPem?: string } {
  const c = client.config.getCurrentCluster();
  if (!c) throw new KubeError('the kubeconfig has no current cluster');
  let caPem: string | undefined;
  if (c.caData) caPem = Buffer.from(c.caData, 'base64').toString('utf8');
  else if (c.caFile) caPem = readFileSync(c.caFile, 'utf8');
  return { server: c.server, ...(caPem ? { caPem } : {}) };
}

