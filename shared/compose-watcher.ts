/**
 * The composition root's part for the watcher process (watcher/main.ts): the client-node Kubernetes cluster (a
 * kubeconfig or the in-cluster account), the MNS queue it sends nudges to, and — only when their features are on —
 * the kubelet API's ECI adapter and Kubernetes support and the admission webhooks' support. Kept apart from compose.ts
 * so the function bundles, which never run the watcher, do not carry these adapters.
 */
import { openEciExec } from './adapters/eci/exec.js';
import { createEciContainerGroups } from './adapters/eci/index.js';
import {
  createKubeAdmissionSupport,
  createKubeCluster,
  createKubeKubeletSupport,
  type KubeAdmissionSupport,
  type KubeCluster,
  type KubeKubeletSupport,
} from './adapters/kube/index.js';
import type { MnsQueue } from './adapters/queue/index.js';
import { ComposeError, cloudCredentials, createMnsQueue, kubeOptions } from './compose.js';
import type { Config } from './domain/config.js';
import type { ContainerGroups, EciExecHandlers, EciExecSession, Logger } from './ports/index.js';

/** The queue the watcher sends to: MNS only (the embedded queue runs in-process under `npm start`). */
export function watcherQueue(cfg: Config): MnsQueue {
  if (cfg.QUEUE_KIND !== 'mns') {
    throw new ComposeError('the watcher process sends to MNS; the embedded queue runs in-process under `npm start`');
  }
  const creds = cloudCredentials(cfg);
  if (!cfg.ALIBABA_CLOUD_ACCOUNT_ID || !creds) {
    throw new ComposeError('MNS needs ALIBABA_CLOUD_ACCOUNT_ID, ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  }
  return createMnsQueue(cfg, creds, cfg.MNS_QUEUE, cfg.ALIBABA_CLOUD_ACCOUNT_ID, 'watcher');
}

export interface WatcherAdapters {
  cluster: KubeCluster;
  /** built when asked: the process fails on a bad queue configuration at that point, as it always did */
  queue(): MnsQueue;
  /** the kubelet API's adapters (KUBELET_ENABLED): its ECI calls are the only ones the watcher makes */
  kubelet(): {
    support: KubeKubeletSupport;
    eci: ContainerGroups;
    openExec: (uri: string, handlers: EciExecHandlers) => Promise<EciExecSession>;
  };
  /** the admission webhooks' Kubernetes support (WEBHOOK_ENABLED) */
  admission(): KubeAdmissionSupport;
}

export function watcherAdapters(cfg: Config, log: Logger): WatcherAdapters {
  const kube = kubeOptions(cfg);
  return {
    cluster: createKubeCluster(kube, { component: 'eci-bridge-watcher', host: cfg.VNODE_NAME }),
    queue: () => watcherQueue(cfg),
    kubelet: () => {
      const creds = cloudCredentials(cfg);
      if (!creds) throw new ComposeError('KUBELET_ENABLED needs ECI credentials (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET)');
      return {
        support: createKubeKubeletSupport(kube),
        eci: createEciContainerGroups(cfg, creds, { logger: log.child({ adapter: 'eci' }), retry: { maxAttempts: 2 } }),
        openExec: (uri, handlers) => openEciExec(uri, handlers),
      };
    },
    admission: () => createKubeAdmissionSupport(kube),
  };
}
