/**
 * The `AdmissionSupport` port over @kubernetes/client-node: namespace reads (profile selectors match namespace
 * labels), the shared webhook TLS Secret, and writing the generated CA into the webhook configurations.
 */
import { AdmissionregistrationV1Api, type CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import type { Namespace, Secret } from '../../domain/k8s.js';
import type { AdmissionSupport } from '../../ports/index.js';
import { createKubeClient, type KubeClient, type KubeClientOptions } from './client.js';
import { isNotFound, toKubeError } from './errors.js';
import { toPlain } from './normalize.js';

async function call<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKubeError(err, context);
  }
}

interface WebhookLike {
  clientConfig?: { caBundle?: string };
}

export class KubeAdmissionSupport implements AdmissionSupport {
  private readonly core: CoreV1Api;
  private readonly adm: AdmissionregistrationV1Api;

  constructor(client: KubeClient) {
    this.core = client.core;
    this.adm = client.config.makeApiClient(AdmissionregistrationV1Api);
  }

  async getNamespace(name: string): Promise<Namespace> {
    return toPlain<Namespace>(await call(`get namespace ${name}`, () => this.core.readNamespace({ name })));
  }

  async createSecret(namespace: string, secret: Secret): Promise<Secret> {
    // The context names the Secret only; its data never reaches a message.
    const out = await call(`create secret ${namespace}/${secret.metadata.name ?? ''}`, () =>
      this.core.createNamespacedSecret({ namespace, body: secret as unknown as V1Secret }),
    );
    return toPlain<Secret>(out);
  }

  async setWebhookCaBundle(name: string, caPem: string): Promise<number> {
    const caBundle = Buffer.from(caPem).toString('base64');
    const ops = (webhooks: WebhookLike[] | undefined) =>
      (webhooks ?? []).flatMap((w, i) =>
        w.clientConfig?.caBundle === caBundle ? [] : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle }],
      );
    let changed = 0;
    const mutating = await call(`get mutatingwebhookconfiguration ${name}`, () =>
      this.adm.readMutatingWebhookConfiguration({ name }),
    ).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    const mOps = ops(mutating?.webhooks as WebhookLike[] | undefined);
    if (mOps.length > 0) {
      await call(`patch mutatingwebhookconfiguration ${name}`, () => this.adm.patchMutatingWebhookConfiguration({ name, body: mOps }));
      changed += mOps.length;
    }
    const validating = await call(`get validatingwebhookconfiguration ${name}`, () =>
      this.adm.readValidatingWebhookConfiguration({ name }),
    ).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    const vOps = ops(validating?.webhooks as WebhookLike[] | undefined);
    if (vOps.length > 0) {
      await call(`patch validatingwebhookconfiguration ${name}`, () => this.adm.patchValidatingWebhookConfiguration({ name, body: vOps }));
      changed += vOps.length;
    }
    return changed;
  }
}

export function createKubeAdmissionSupport(opts: KubeClientOptions): KubeAdmissionSupport {
  return new KubeAdmissionSupport(createKubeClient(opts));
}
