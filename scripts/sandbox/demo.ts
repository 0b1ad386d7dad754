/**
 * The demo pods of `npm start` and what each must end as. Containers tell the ECI emulator what to do through its
 * lifecycle convention (`eci-sim:` directives in command/args, emulators/eci/lifecycle.ts); against real ECI the
 * same commands run as written (busybox `sh -c`), with the same outcomes.
 */
import type { Manifest } from '../../shared/adapters/kube/provision.js';
import type { Pod } from '../../shared/domain/k8s.js';
import { groupIdOf, isReady, type TrackedPod } from './tracker.js';

export const DEMO_NAMESPACE = 'eci-demo';
export const JOB_FAIL_EXIT_CODE = 3;

export type DemoName = 'web' | 'job-ok' | 'job-fail' | 'hostpath' | 'deleted';
export const DEMO_PODS: readonly DemoName[] = ['web', 'job-ok', 'job-fail', 'hostpath', 'deleted'];

const TOLERATION = { key: 'virtual-kubelet.io/provider', operator: 'Equal', value: 'alibabacloud', effect: 'NoSchedule' };

/** The demo pods, bound to the virtual node (no scheduler needed: spec.nodeName). */
export function demoPods(namespace: string, nodeName: string): Manifest[] {
  const pod = (name: DemoName, spec: Record<string, unknown>): Manifest => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'eci-bridge-demo', 'eci-bridge.io/demo': name } },
    spec: { nodeName, tolerations: [TOLERATION], terminationGracePeriodSeconds: 10, ...spec },
  });
  const server = { name: 'web', image: 'nginx:1.25-alpine', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '250m', memory: '512Mi' } } };
  return [
    pod('web', { containers: [server] }),
    pod('job-ok', {
      restartPolicy: 'Never',
      containers: [{ name: 'job', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 20; echo done # eci-sim: sleep 20; exit 0'] }],
    }),
    pod('job-fail', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'job',
          image: 'busybox:1.36',
          command: ['sh', '-c', `sleep 15; exit ${JOB_FAIL_EXIT_CODE} # eci-sim: sleep 15; exit ${JOB_FAIL_EXIT_CODE}`],
        },
      ],
    }),
    pod('hostpath', {
      containers: [{ name: 'reader', image: 'busybox:1.36', command: ['sh', '-c', 'tail -f /host/log/syslog'], volumeMounts: [{ name: 'host-log', mountPath: '/host/log' }] }],
      volumes: [{ name: 'host-log', hostPath: { path: '/var/log', type: 'Directory' } }],
    }),
    pod('deleted', { containers: [{ ...server, name: 'web' }] }),
  ];
}

export interface Expectation {
  pod: DemoName;
  expected: string;
  actual: string;
  ok: boolean;
}

/** What the summary needs to know about one demo pod. */
export interface DemoObservation {
  tracked?: TrackedPod;
  /** container groups still tagged with the pod's UID (status each) */
  groups: readonly string[];
  /** the pod was deleted by the demo (the "deleted" pod) */
  deletedByDemo: boolean;
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

/** Has the pod reached its end state (the progress line counts these)? */
export function settled(name: DemoName, o: DemoObservation): boolean {
  return evaluate(name, o).ok;
}

/** Expected vs actual for one demo pod. */
export function evaluate(name: DemoName, o: DemoObservation): Expectation {
  const t = o.tracked;
  const p = t?.pod;
  const live = t !== undefined && t.goneAt === undefined;
  switch (name) {
    case 'web':
      return {
        pod: name,
        expected: 'Running, Ready, one container group',
        actual: `${describe(t)}; group ${p ? (groupIdOf(p) ?? 'none') : 'none'}`,
        ok: live && p?.status?.phase === 'Running' && isReady(p) && o.groups.length === 1,
      };
    case 'job-ok':
      return { pod: name, expected: 'Succeeded, exit 0', actual: describe(t), ok: live && p?.status?.phase === 'Succeeded' && exitCodeOf(p) === 0 };
    case 'job-fail':
      return {
        pod: name,
        expected: `Failed, exit ${JOB_FAIL_EXIT_CODE}`,
        actual: describe(t),
        ok: live && p?.status?.phase === 'Failed' && exitCodeOf(p) === JOB_FAIL_EXIT_CODE,
      };
    case 'hostpath': {
      const msg = p?.status?.message ?? '';
      return {
        pod: name,
        expected: 'Failed, UnsupportedFeature, with the alternative; no container group',
        actual: `${describe(t)}${msg ? `: ${msg}` : ''}; groups ${o.groups.length}`,
        ok:
          live &&
          p?.status?.phase === 'Failed' &&
          p.status.reason === 'UnsupportedFeature' &&
          /hostPath/i.test(msg) &&
          /Alternative:/.test(msg) &&
          o.groups.length === 0,
      };
    }
    case 'deleted':
      return {
        pod: name,
        expected: 'was Running, deleted: pod gone and its group deleted',
        actual: `${t?.phaseSeen.Running !== undefined ? 'was Running' : 'never Running'}, ${t?.goneAt !== undefined ? 'pod gone' : `pod ${describe(t)}`}, ${o.groups.length === 0 ? 'no group left' : `groups left: ${o.groups.join(', ')}`}`,
        ok: o.deletedByDemo && t?.phaseSeen.Running !== undefined && t.goneAt !== undefined && o.groups.length === 0,
      };
  }
}
