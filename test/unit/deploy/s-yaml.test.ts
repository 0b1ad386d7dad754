/**
 * s.yaml against the tree: every functions/<name>/ has an fc3 resource and vice versa, code paths are the build
 * outputs, handlers exist, environment keys are config-schema keys (and the resolved environment parses), the
 * trigger reads the queue the ROS stack creates and dead-letters into its DLQ.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { discoverEntries, discoverFunctions } from '../../../scripts/build.js';
import { ConfigSchema, parseConfig } from '../../../shared/domain/config.js';

const root = join(import.meta.dirname, '..', '..', '..');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function get(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const k of path.split('.')) cur = isObj(cur) ? cur[k] : undefined;
  return cur;
}

const doc = parse(readFileSync(join(root, 's.yaml'), 'utf8')) as Obj;
const vars = (doc.vars ?? {}) as Obj;
const resources = (doc.resources ?? {}) as Record<string, { component: string; props: Obj }>;
const functions = Object.entries(resources).filter(([, r]) => r.component === 'fc3');

/** Sample values for `${env('X')}` without a default, so the resolved environment can be parsed. */
const SAMPLE_ENV: Record<string, string> = {
  KUBE_API_SERVER: 'https://10.0.0.10:6443',
  KUBE_TOKEN: 'sample-token',
  KUBE_CA: 'LS0tLS1CRUdJTi0tLS0t',
  ECI_VSWITCH_IDS: 'vsw-a,vsw-b',
  ECI_SECURITY_GROUP_ID: 'sg-1',
  VPC_ID: 'vpc-1',
  VSWITCH_ID: 'vsw-a',
  SECURITY_GROUP_ID: 'sg-1',
};

/** Resolves Serverless Devs interpolations the way `s` would, with sample values for the environment. */
function resolve(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const whole = /^\$\{vars\.([\w.]+)\}$/.exec(value);
  if (whole?.[1]) return resolve(get(vars, whole[1]));
  return value.replace(/\$\{([^}]+)\}/g, (_m, expr: string) => {
    const env = /^env\('(\w+)'(?:,\s*'([^']*)')?\)$/.exec(expr);
    if (env?.[1]) return env[2] ?? SAMPLE_ENV[env[1]] ?? `sample-${env[1]}`;
    if (expr === "config('AccountID')") return '1234567890';
    const v = /^vars\.([\w.]+)$/.exec(expr);
    if (v?.[1]) return String(resolve(get(vars, v[1])));
    throw new Error(`unsupported interpolation \${${expr}}`);
  });
}

/** Keys a function cannot work without (the rest have defaults, or are injected by FC: credentials, region). */
const FUNCTION_REQUIRED_KEYS = [
  'CLUSTER_NAME',
  'VNODE_NAME',
  'BRIDGE_NAMESPACE',
  'ECI_REGION',
  'ECI_VSWITCH_IDS',
  'ECI_SECURITY_GROUP_ID',
  'ALIBABA_CLOUD_ACCOUNT_ID',
  'MNS_QUEUE',
  'MNS_DEAD_LETTER_QUEUE',
  'KUBE_API_SERVER',
  'KUBE_TOKEN',
  'KUBE_CA',
];
/** Not config keys, but runtime flags the functions need. */
const RUNTIME_KEYS = ['NODE_OPTIONS'];

describe('s.yaml', () => {
  it('is a Serverless Devs v3 project', () => {
    assert.equal(doc.edition, '3.0.0');
    assert.ok(functions.length > 0, 'no fc3 resources');
  });

  it('declares exactly the functions that exist under functions/', () => {
    const declared = functions.map(([, r]) => String(r.props.functionName)).sort();
    assert.deepEqual(declared, discoverFunctions(root));
  });

  for (const [id, r] of functions) {
    describe(`function ${id}`, () => {
      const p = r.props;
      const name = String(p.functionName);

      it('is named after its resource and runs on nodejs20', () => {
        assert.equal(name, id);
        assert.equal(p.runtime, 'nodejs20');
      });

      it('deploys the bundle the build writes, with a handler the entry exports', () => {
        const entry = discoverEntries(root).find((e) => e.name === `functions/${name}`);
        assert.ok(entry, `no build entry for ${name}`);
        assert.equal(p.code, `./dist/${entry.outSubdir}`);
        const [file, exportName] = String(p.handler).split('.');
        assert.equal(file, 'index', 'the build emits index.js');
        const src = readFileSync(entry.entry, 'utf8');
        const exported = new RegExp(
          `export\\s+(?:async\\s+)?(?:function|const|let)\\s+${exportName}\\b|export\\s*\\{[^}]*\\b${exportName}\\b[^}]*\\}`,
        );
        assert.match(src, exported, `${entry.entry} must export ${exportName}`);
      });

      it('keeps memory, CPU and timeout inside FC 3.0 limits', () => {
        const mem = Number(p.memorySize);
        const cpu = Number(p.cpu);
        const ratio = mem / 1024 / cpu;
        assert.ok(ratio >= 1 && ratio <= 4, `memory:vCPU ${ratio} outside 1..4 GB per vCPU`);
        assert.equal(mem % 64, 0, 'memory is a multiple of 64 MB');
        assert.ok(Number(p.timeout) > 0 && Number(p.timeout) <= 300, 'timeout within 300 s (EventBridge push limit)');
      });

      it('uses config-schema keys for its environment, with the required ones, and the result parses', () => {
        const env = resolve(p.environmentVariables);
        assert.ok(isObj(env), 'environmentVariables must resolve to a map');
        const known = new Set([...Object.keys(ConfigSchema.shape), ...RUNTIME_KEYS]);
        assert.deepEqual(
          Object.keys(env).filter((k) => !known.has(k)),
          [],
          'unknown environment keys',
        );
        for (const k of FUNCTION_REQUIRED_KEYS) assert.ok(k in env, `${k} missing`);
        assert.match(String(env.NODE_OPTIONS), /--enable-source-maps/);
        const strings = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(resolve(v))]));
        const cfg = parseConfig(strings);
        assert.equal(cfg.QUEUE_KIND, 'mns');
        assert.equal(cfg.MNS_QUEUE, vars.queue);
        assert.equal(cfg.MNS_DEAD_LETTER_QUEUE, vars.deadLetterQueue);
      });

      it('runs in the VPC with the role, and logs', () => {
        const vpc = resolve(p.vpcConfig);
        assert.ok(isObj(vpc) && vpc.vpcId && Array.isArray(vpc.vSwitchIds) && vpc.securityGroupId, 'vpcConfig');
        assert.match(String(resolve(p.role)), /^acs:ram::\d+:role\/[\w-]+$/);
        assert.ok(p.logConfig, 'logConfig');
      });
    });
  }

  it('feeds pod-sync from the queue through EventBridge, base64-decoded, dead-lettering into the DLQ', () => {
    const triggers = resources['pod-sync']?.props.triggers as Obj[];
    const eb = triggers.find((t) => t.triggerType === 'eventbridge');
    assert.ok(eb, 'pod-sync needs an eventbridge trigger');
    const src = get(eb, 'triggerConfig.eventSourceConfig');
    assert.equal(get(src, 'eventSourceType'), 'MNS');
    const mns = get(src, 'eventSourceParameters.sourceMNSParameters');
    assert.equal(resolve(get(mns, 'QueueName')), vars.queue);
    assert.equal(get(mns, 'IsBase64Decode'), true);
    const run = get(eb, 'triggerConfig.runOptions');
    const count = Number(get(run, 'batchWindow.CountBasedWindow'));
    const secs = Number(get(run, 'batchWindow.TimeBasedWindow'));
    assert.ok(count >= 1 && count <= 10000 && secs >= 0 && secs <= 15, 'batch window within EventBridge limits');
    assert.equal(get(run, 'errorsTolerance'), 'ALL');
    assert.match(String(get(run, 'retryStrategy.PushRetryStrategy')), /^(BACKOFF_RETRY|EXPONENTIAL_DECAY_RETRY)$/);
    assert.equal(
      resolve(get(run, 'deadLetterQueue.Arn')),
      `acs:mns:${String(resolve(vars.region))}:1234567890:/queues/${String(vars.deadLetterQueue)}`,
    );
  });

  it('runs status-sync every minute, gc every 5 minutes and billing hourly (after the hour, so it is complete)', () => {
    const cron = (fn: string): unknown =>
      get((resources[fn]?.props.triggers as Obj[] | undefined)?.find((t) => t.triggerType === 'timer'), 'triggerConfig.cronExpression');
    assert.equal(cron('status-sync'), '@every 1m');
    assert.equal(cron('gc'), '@every 5m');
    // FC cron: seconds minutes hours day month weekday, UTC; one fixed minute in every hour, not at minute 0
    const fields = String(cron('billing')).split(' ');
    assert.equal(fields.length, 6);
    assert.deepEqual(fields.slice(2), ['*', '*', '*', '*']);
    assert.ok(Number(fields[1]) > 0 && Number(fields[1]) < 60, 'a minute after the hour');
    assert.equal(resources.billing?.props.concurrencyConfig && get(resources.billing.props, 'concurrencyConfig.reservedConcurrency'), 1);
    // reconcile: once a day at a fixed time, one run at a time (a day is written once)
    const daily = String(cron('reconcile')).split(' ');
    assert.equal(daily.length, 6);
    assert.deepEqual(daily.slice(3), ['*', '*', '*']);
    assert.ok(Number(daily[2]) >= 0 && Number(daily[2]) < 24);
    assert.equal(get(resources.reconcile?.props ?? {}, 'concurrencyConfig.reservedConcurrency'), 1);
  });

  it('creates the queue and its dead-letter queue with the names the functions use', () => {
    const ros = Object.values(resources).find((r) => r.component === 'ros');
    assert.ok(ros, 'a ros resource creates the queues');
    const tpl = parse(readFileSync(join(root, String(ros.props.template)), 'utf8')) as Obj;
    assert.equal(get(tpl, 'Parameters.QueueName.Default'), vars.queue);
    assert.equal(get(tpl, 'Parameters.DeadLetterQueueName.Default'), vars.deadLetterQueue);
    const res = get(tpl, 'Resources') as Record<string, Obj>;
    const queues = Object.values(res).filter((r) => r.Type === 'ALIYUN::MNS::Queue');
    assert.equal(queues.length, 2);
    const main = queues.find((q) => get(q, 'Properties.DlqPolicy'));
    assert.ok(main, 'the main queue has a DlqPolicy');
    assert.equal(get(main, 'Properties.QueueName.Ref'), 'QueueName');
    assert.equal(get(main, 'Properties.DlqPolicy.DeadLetterTargetQueue.Ref'), 'DeadLetterQueueName');
    assert.equal(get(main, 'Properties.DlqPolicy.Enabled'), true);
  });
});
