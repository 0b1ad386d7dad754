/**
 * The `KubeletSupport` port over @kubernetes/client-node: TokenReview and SubjectAccessReview (the kubelet's
 * webhook authentication and authorization), the serving certificate's CSR, and the log archives (one ConfigMap
 * per finished pod in the bridge namespace, labelled with the node; binaryData holds each container's gzip).
 */
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CertificatesV1Api,
  type CoreV1Api,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import type { KubeletSupport, KubeletUser, LogArchiveRecord } from '../../ports/index.js';
import { createKubeClient, type KubeClient, type KubeClientOptions } from './client.js';
import { isAlreadyExists, isNotFound, toKubeError } from './errors.js';

async function call<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKubeError(err, context);
  }
}

export const LOG_ARCHIVE_LABEL = 'eci-bridge.io/log-archive';
const ANN = { uid: 'eci-bridge.io/pod-uid', ns: 'eci-bridge.io/pod-namespace', pod: 'eci-bridge.io/pod-name', at: 'eci-bridge.io/archived-at' };

/** ConfigMap names are DNS subdomains: the node name plus the pod UID fit well within 253 characters. */
export function logArchiveName(node: string, podUid: string): string {
  return `${node}-logs-${podUid}`.toLowerCase();
}

/** binaryData keys allow [-._a-zA-Z0-9]: container names (DNS labels) are safe as they are. */
const key = (container: string): string => `${container}.log.gz`;

export class KubeKubeletSupport implements KubeletSupport {
  private readonly core: CoreV1Api;
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly certs: CertificatesV1Api;

  constructor(client: KubeClient) {
    this.core = client.core;
    this.authn = client.config.makeApiClient(AuthenticationV1Api);
    this.authz = client.config.makeApiClient(AuthorizationV1Api);
    this.certs = client.config.makeApiClient(CertificatesV1Api);
  }

  async reviewToken(token: string): Promise<KubeletUser | undefined> {
    // the context never names the token
    const res = await call('create tokenreview', () => this.authn.createTokenReview({ body: { spec: { token } } }));
    const st = res.status;
    if (!st?.authenticated || !st.user?.username) return undefined;
    return { username: st.user.username, uid: st.user.uid, groups: st.user.groups ?? [], extra: st.user.extra };
  }

  async reviewAccess(user: KubeletUser, attrs: { verb: string; subresource: string; name: string }): Promise<{ allowed: boolean; reason: string }> {
    const res = await call(`create subjectaccessreview nodes/${attrs.subresource} ${attrs.verb}`, () =>
      this.authz.createSubjectAccessReview({
        body: {
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            resourceAttributes: { group: '', version: 'v1', resource: 'nodes', subresource: attrs.subresource, name: attrs.name, verb: attrs.verb },
          },
        },
      }),
    );
    return { allowed: res.status?.allowed === true && res.status.denied !== true, reason: res.status?.reason ?? res.status?.evaluationError ?? '' };
  }

  async createCsr(csr: { name: string; requestPem: string; signerName: string; usages: string[] }): Promise<void> {
    await call(`create certificatesigningrequest ${csr.name}`, () =>
      this.certs.createCertificateSigningRequest({
        body: {
          metadata: { name: csr.name },
          spec: { request: Buffer.from(csr.requestPem).toString('base64'), signerName: csr.signerName, usages: csr.usages },
        },
      }),
    );
  }

  async getCsrCertificate(name: string): Promise<{ certificatePem?: string; denied?: string }> {
    const csr = await call(`get certificatesigningrequest ${name}`, () => this.certs.readCertificateSigningRequest({ name }));
    const bad = csr.status?.conditions?.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
    if (bad) return { denied: `${bad.type}: ${bad.reason ?? ''} ${bad.message ?? ''}`.trim() };
    const cert = csr.status?.certificate;
    // client-node types `certificate` as a string of base64 (a []byte on the wire)
    return cert ? { certificatePem: Buffer.from(cert, 'base64').toString('utf8') } : {};
  }

  async listLogArchives(namespace: string, node: string, podUid?: string): Promise<LogArchiveRecord[]> {
    const fieldSelector = podUid ? `metadata.name=${logArchiveName(node, podUid)}` : undefined;
    const list = await call(`list log archives in ${namespace}`, () =>
      this.core.listNamespacedConfigMap({ namespace, labelSelector: `${LOG_ARCHIVE_LABEL}=${node}`, fieldSelector }),
    );
    return list.items.flatMap((cm) => {
      const a = cm.metadata?.annotations ?? {};
      const uid = a[ANN.uid];
      if (!uid) return [];
      const containers: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
        if (k.endsWith('.log.gz')) containers[k.slice(0, -'.log.gz'.length)] = Buffer.from(v, 'base64');
      }
      return [{ podUid: uid, namespace: a[ANN.ns] ?? '', pod: a[ANN.pod] ?? '', archivedAt: Number(a[ANN.at]) || 0, containers }];
    });
  }

  /** A list by name (not a get): the watcher needs no get on the bridge namespace's other ConfigMaps. */
  async getLogArchive(namespace: string, node: string, podUid: string): Promise<LogArchiveRecord | undefined> {
    return (await this.listLogArchives(namespace, node, podUid))[0];
  }

  async putLogArchive(namespace: string, node: string, archive: LogArchiveRecord): Promise<void> {
    const name = logArchiveName(node, archive.podUid);
    const body: V1ConfigMap = {
      metadata: {
        name,
        namespace,
        labels: { [LOG_ARCHIVE_LABEL]: node, 'app.kubernetes.io/part-of': 'eci-bridge' },
        annotations: { [ANN.uid]: archive.podUid, [ANN.ns]: archive.namespace, [ANN.pod]: archive.pod, [ANN.at]: String(archive.archivedAt) },
      },
      binaryData: Object.fromEntries(Object.entries(archive.containers).map(([c, gz]) => [key(c), gz.toString('base64')])),
    };
    try {
      await call(`create log archive ${namespace}/${name}`, () => this.core.createNamespacedConfigMap({ namespace, body }));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await call(`replace log archive ${namespace}/${name}`, () => this.core.replaceNamespacedConfigMap({ namespace, name, body }));
    }
  }

  async deleteLogArchive(namespace: string, node: string, podUid: string): Promise<void> {
    const name = logArchiveName(node, podUid);
    await call(`delete log archive ${namespace}/${name}`, () => this.core.deleteNamespacedConfigMap({ namespace, name })).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

export function createKubeKubeletSupport(opts: KubeClientOptions): KubeKubeletSupport {
  return new KubeKubeletSupport(createKubeClient(opts));
}
