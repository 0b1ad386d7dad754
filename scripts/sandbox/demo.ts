/**
 * The demo of `npm start` (workloads through the real scheduler and controllers, the admission webhooks) and what
 * each item must end as, so the summary says what each proved. Containers tell the ECI emulator what to do through its
 * lifecycle convention (`eci-sim:` directives in command/args, emulators/eci/lifecycle.ts); against real ECI the
 * same commands run as written (busybox `sh -c`), with the same outcomes.
 */
import type { Manifest } from '../../shared/adapters/kube/provision.js';
import type { Pod } from '../../shared/domain/k8s.js';
import { isReady, type TrackedPod } from './tracker.js';

export const DEMO_NAMESPACE = 'eci-demo';
export const JOB_FAIL_EXIT_CODE = 3;
/** Every demo object's pods carry this label with the demo name. */
export const DEMO_LABEL = 'eci-bridge.io/demo';
export const WEB_REPLICAS = 2;
export const JOB_COMPLETIONS = 2;
/** The eci-profile selector of the `profile` demo (its pod asks for nothing; the profile sends it to ECI). */
export const DEMO_PROFILE_SELECTOR = 'demo-burst';

export type DemoName = 'web' | 'job' | 'cron' | 'job-fail' | 'refused' | 'profile' | 'deleted';
export const DEMO_PODS: readonly DemoName[] = ['web', 'job', 'cron', 'job-fail', 'refused', 'profile', 'deleted'];

const SPOT_ANNOTATION = 'k8s.aliyun.com/eci-spot-strategy';
const SPECS_ANNOTATION = 'k8s.aliyun.com/eci-use-specs';
/** The instance type the failing demo pod runs on when the demo shows a billing day (the bill misprices it). */
export const DEMO_INSTANCE_TYPE = 'ecs.c6.large';
/**
 * How long (simulated) the Job's and job-fail's containers run when the demo shows a billing day: long enough for
 * several seconds of real running at the sandbox's time scale (ECI's times have one-second resolution).
 */
const BILLED_SECONDS = 80;

const TOLERATION = { key: 'virtual-kubelet.io/provider', operator: 'Equal', value: 'alibabacloud', effect: 'NoSchedule' };
/** How a workload asks for the virtual node (nodeSelector + toleration, docs/cli.md); the scheduler binds it. */
const ON_VNODE = { nodeSelector: { 'k8s.aliyun.com/vnode': 'true' }, tolerations: [TOLERATION] };

/** The eci-profile ConfigMap data: pods labelled for the `profile` demo go to the virtual node only. */
export function demoProfile(): Record<string, string> {
  return {
    selectors: JSON.stringify([
      { name: DEMO_PROFILE_SELECTOR, objectLabels: { matchLabels: { [DEMO_LABEL]: 'profile' } }, policy: 'virtualNodeOnly' },
    ]),
  };
}

/**
 * The demo objects, one per demo name: Deployment `web`, Job `job`, CronJob `cron` (batch/v1beta1: Kubernetes
 * 1.20 has no batch/v1 CronJob), pod `job-fail`, Deployment `refused` (a hostPath volume), pod `profile` (placed by
 * eci-profile), pod `deleted` (deleted by the demo once Running). With `billing` (the sandbox's billing day) the Job's
 * pods are spot and `job-fail` runs on DEMO_INSTANCE_TYPE.
 */
export function demoObjects(namespace: string, nodeName: string, opts: { billing?: boolean } = {}): Record<DemoName, Manifest> {
  const labels = (name: DemoName) => ({ app: 'eci-bridge-demo', [DEMO_LABEL]: name });
  const meta = (name: DemoName) => ({ name, namespace, labels: labels(name) });
  // the sandbox's billing day (bill.ts): the Job's pods run on spot instances, the failing pod on an instance type
  const annotations = (name: DemoName): Record<string, string> | undefined =>
    !opts.billing ? undefined : name === 'job' ? { [SPOT_ANNOTATION]: 'SpotAsPriceGo' } : name === 'job-fail' ? { [SPECS_ANNOTATION]: DEMO_INSTANCE_TYPE } : undefined;
  const template = (name: DemoName, spec: Record<string, unknown>) => ({
    metadata: { labels: labels(name), ...(annotations(name) ? { annotations: annotations(name) } : {}) },
    spec: { ...ON_VNODE, terminationGracePeriodSeconds: 10, ...spec },
  });
  const server = { name: 'web', image: 'nginx:1.25-alpine', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '250m', memory: '512Mi' } } };
  const task = (seconds: number) => ({ name: 'job', image: 'busybox:1.36', command: ['sh', '-c', `sleep ${seconds}; echo done # eci-sim: sleep ${seconds}; exit 0`] });
  const selector = (name: DemoName) => ({ matchLabels: labels(name) });
  const failSeconds = opts.billing ? BILLED_SECONDS : 15;
  return {
    web: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web'),
      spec: { replicas: WEB_REPLICAS, selector: selector('web'), template: template('web', { containers: [server] }) },
    },
    job: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta('job'),
      spec: {
        completions: JOB_COMPLETIONS,
        parallelism: JOB_COMPLETIONS,
        backoffLimit: 2,
        template: template('job', { restartPolicy: 'Never', containers: [task(opts.billing ? BILLED_SECONDS : 20)] }),
      },
    },
    cron: {
      apiVersion: 'batch/v1beta1',
      kind: 'CronJob',
      metadata: meta('cron'),
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 1,
        jobTemplate: { metadata: { labels: labels('cron') }, spec: { template: template('cron', { restartPolicy: 'Never', containers: [task(10)] }) } },
      },
    },
    'job-fail': {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...meta('job-fail'), ...(annotations('job-fail') ? { annotations: annotations('job-fail') } : {}) },
      spec: {
        nodeName,
        tolerations: [TOLERATION],
        restartPolicy: 'Never',
        containers: [
          {
            name: 'job',
            image: 'busybox:1.36',
            command: ['sh', '-c', `sleep ${failSeconds}; exit ${JOB_FAIL_EXIT_CODE} # eci-sim: sleep ${failSeconds}; exit ${JOB_FAIL_EXIT_CODE}`],
          },
        ],
      },
    },
    refused: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('refused'),
      spec: {
        replicas: 2,
        selector: selector('refused'),
        template: template('refused', {
          containers: [{ name: 'reader', image: 'busybox:1.36', command: ['sh', '-c', 'tail -f /host/log/syslog'], volumeMounts: [{ name: 'host-log', mountPath: '/host/log' }] }],
          volumes: [{ name: 'host-log', hostPath: { path: '/var/log', type: 'Directory' } }],
        }),
      },
    },
    profile: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta('profile'),
      // no nodeSelector, no toleration: only the eci-profile webhook can send it to the virtual node
      spec: { containers: [{ ...server, name: 'burst' }] },
    },
    deleted: { apiVersion: 'v1', kind: 'Pod', metadata: meta('deleted'), spec: { nodeName, tolerations: [TOLERATION], containers: [server] } },
  };
}

export interface Expectation {
  pod: DemoName;
  expected: string;
  actual: string;
  ok: boolean;
}

/** What the summary needs to know about one demo object. */
export interface DemoObservation {
  /** the tracked pods with the demo's label (live or gone) */
  pods: readonly TrackedPod[];
  /** container groups still tagged with those pods' UIDs (status each) */
  groups: readonly string[];
  /** the "deleted" pod was deleted by the demo */
  deletedByDemo: boolean;
  /** the admission webhooks run (WEBHOOK_ENABLED) */
  webhooks: boolean;
  /** the API server's answer when the object was refused at apply time */
  refusal?: string;
  /** the workload's own status (Deployment, Job, CronJob's Jobs) */
  workload?: { exists: boolean; available?: number; succeeded?: number; complete?: boolean; failed?: string };
}

function exitCodeOf(pod: Pod): number | undefined {
  for (const c of pod.status?.containerStatuses ?? []) {
    if (c.state?.terminated) return c.state.terminated.exitCode;
  }
  return undefined;
}

function describe(t: TrackedPod | undefined): string {
  if (!t) return 'never seen';
  if (t.goneAt !== undefined) return 'deleted';
  const p = t.pod;
  const code = exitCodeOf(p);
  return [p.status?.phase ?? 'no phase', p.status?.reason, isReady(p) ? 'Ready' : undefined, code !== undefined ? `exit ${code}` : undefined]
    .filter(Boolean)
    .join(', ');
}

/** Has the object reached its end state (the progress line counts these)? */
export function settled(name: DemoName, o: DemoObservation): boolean {
  return evaluate(name, o).ok;
}

const live = (o: DemoObservation) => o.pods.filter((t) => t.goneAt === undefined && !t.pod.metadata.deletionTimestamp);

/** Expected vs actual for one demo object. */
export function evaluate(name: DemoName, o: DemoObservation): Expectation {
  const one = o.pods[o.pods.length - 1];
  const p = one?.pod;
  switch (name) {
    case 'web': {
      const running = live(o).filter((t) => t.pod.status?.phase === 'Running' && isReady(t.pod));
      return {
        pod: name,
        expected: `Deployment scheduled by nodeSelector + toleration: ${WEB_REPLICAS} available, ${WEB_REPLICAS} Running Ready pods, one group each`,
        actual: `${o.workload?.available ?? 0} available, ${running.length} Running Ready, ${o.groups.length} groups`,
        ok: o.workload?.available === WEB_REPLICAS && running.length === WEB_REPLICAS && o.groups.length === WEB_REPLICAS,
      };
    }
    case 'job':
      return {
        pod: name,
        expected: `Job (completions ${JOB_COMPLETIONS}) Complete, every pod Succeeded`,
        actual: `${o.workload?.complete ? 'Complete' : 'not complete'}, ${o.workload?.succeeded ?? 0} succeeded`,
        ok: o.workload?.complete === true && o.workload.succeeded === JOB_COMPLETIONS,
      };
    case 'cron':
      return {
        pod: name,
        expected: 'CronJob (batch/v1beta1, every minute) ran a Job that completed',
        actual: o.workload?.complete ? 'a Job completed' : 'waiting for the next minute',
        ok: o.workload?.complete === true,
      };
    case 'job-fail':
      return {
        pod: name,
        expected: `Failed, exit ${JOB_FAIL_EXIT_CODE}`,
        actual: describe(one),
        ok: one?.goneAt === undefined && p?.status?.phase === 'Failed' && (p ? exitCodeOf(p) : undefined) === JOB_FAIL_EXIT_CODE,
      };
    case 'refused': {
      if (o.webhooks) {
        const msg = o.refusal ?? '';
        return {
          pod: name,
          expected: 'refused at apply time by the webhook, with the reason and the alternative; nothing created',
          actual: msg ? `refused: ${msg.replace(/^.*denied the request: /, '').slice(0, 200)}` : 'accepted',
          ok: /hostPath/i.test(msg) && /emptyDir/.test(msg) && o.workload?.exists === false && o.groups.length === 0,
        };
      }
      const held = live(o).filter((t) => t.pod.status?.phase === 'Pending' && t.pod.status.reason === 'UnsupportedFeature');
      return {
        pod: name,
        expected: 'no webhook: its 2 pods stay Pending, UnsupportedFeature with the alternative, no replacements, no group',
        actual: `${held.length} held Pending of ${o.pods.length} pods, ${o.pods.filter((t) => t.pod.status?.phase === 'Failed').length} Failed, ${o.groups.length} groups`,
        ok: held.length === 2 && o.pods.length === 2 && o.groups.length === 0 && /Alternative:/.test(held[0]?.pod.status?.message ?? ''),
      };
    }
    case 'profile': {
      const selector = p?.metadata.annotations?.['eci-bridge.io/profile-selector'];
      return {
        pod: name,
        expected: o.webhooks
          ? `placed on the virtual node by eci-profile (${DEMO_PROFILE_SELECTOR}, virtualNodeOnly), Running`
          : 'no webhook: nothing sends it to the virtual node',
        actual: `${describe(one)}${selector ? `; profile ${selector}` : ''}`,
        ok: o.webhooks ? one?.goneAt === undefined && p?.status?.phase === 'Running' && selector === DEMO_PROFILE_SELECTOR : one === undefined,
      };
    }
    case 'deleted':
      return {
        pod: name,
        expected: 'was Running, deleted: pod gone and its group deleted',
        actual: `${one?.phaseSeen.Running !== undefined ? 'was Running' : 'never Running'}, ${one?.goneAt !== undefined ? 'pod gone' : `pod ${describe(one)}`}, ${o.groups.length === 0 ? 'no group left' : `groups left: ${o.groups.join(', ')}`}`,
        ok: o.deletedByDemo && one?.phaseSeen.Running !== undefined && one.goneAt !== undefined && o.groups.length === 0,
      };
  }
}
