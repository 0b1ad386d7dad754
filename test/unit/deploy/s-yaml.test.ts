/**
 * s.yaml against the tree and the platform: resolved the way Serverless Devs resolves it (scripts/lib/sYaml.ts, the
 * resolver `eci-bridge doctor` uses) with dummy values — nothing left unresolved, `access` literal, every fc3 and ros
 * resource valid against the props fixture written from the components' published schema — every function under
 * functions/ deployed from its bundle, each function's environment made of config-schema keys and under FC's 4 KB
 * with the largest values supported (LARGEST below), the trigger reading the queue the ROS stack outputs, and the
 * queue's visibility timeout covering a batch's whole EventBridge delivery.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { discoverEntries, discoverFunctions } from '../../../scripts/build.js';
import { envBytes, envNames, FC_ENV_LIMIT_BYTES, functionsOf, leftExpressions, loadSYaml, resolveSYaml } from '../../../scripts/lib/sYaml.js';
import { kubeOptions } from '../../../shared/compose.js';
import { ConfigSchema, parseConfig } from '../../../shared/domain/config.js';
import { compactCa } from '../../../shared/domain/kubeCa.js';
import { Fc3PropsSchema, RosPropsSchema } from '../../fixtures/deploy/fc3-schema.js';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'deploy');
const { doc, dir } = loadSYaml(join(root, 's.yaml'));
const rawText = readFileSync(join(root, 's.yaml'), 'utf8');

type Obj = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((cur, k) => (typeof cur === 'object' && cur !== null ? (cur as Obj)[k] : undefined), o);

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/**
 * The largest Kubernetes credential this project supports in the functions' environment: a bound token
 * (TokenRequest, `setup-functions --token-ttl`) signed with a 4096-bit RSA key, for a 40-character namespace, with
 * the audiences, jti and issuer of a current apiserver; a legacy token Secret's JWT is shorter.
 */
function largestBoundToken(): string {
  const header = { alg: 'RS256', kid: b64url(randomBytes(32)) };
  const ns = 'n'.repeat(40);
  const now = 1_760_000_000;
  const payload = {
    aud: ['https://kubernetes.default.svc.cluster.local', 'k3s'],
    exp: now + 86_400,
    iat: now,
    iss: 'https://kubernetes.default.svc.cluster.local',
    jti: randomUUID(),
    'kubernetes.io': { namespace: ns, serviceaccount: { name: 'eci-bridge-functions', uid: randomUUID() } },
    nbf: now,
    sub: `system:serviceaccount:${ns}:eci-bridge-functions`,
  };
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${b64url(randomBytes(512))}`;
}

/** The largest values supported, stated in docs/deploy.md ("Function environment size"). */
const LARGEST: Record<string, string> = {
  REGION: 'ap-southeast-5',
  VPC_ID: `vpc-${'a'.repeat(21)}`,
  VSWITCH_ID: `vsw-${'a'.repeat(21)}`,
  SECURITY_GROUP_ID: `sg-${'a'.repeat(20)}`,
  CLUSTER_NAME: 'c'.repeat(40),
  VNODE_NAME: 'v'.repeat(40),
  BRIDGE_NAMESPACE: 'n'.repeat(40),
  LOG_LEVEL: 'debug',
  KUBE_API_SERVER: `https://${'k'.repeat(32)}.example.internal:6443`,
  KUBE_TOKEN: largestBoundToken(),
  KUBE_CA: compactCa(readFileSync(join(fixtures, 'ca-rsa4096.pem'), 'utf8')),
  // four zones' vSwitches
  ECI_VSWITCH_IDS: Array.from({ length: 4 }, (_, i) => `vsw-${String(i).repeat(21)}`).join(','),
  ECI_SECURITY_GROUP_ID: `sg-${'b'.repeat(20)}`,
  CLUSTER_DNS: '172.16.255.254',
  CLUSTER_DOMAIN: 'cluster.example.internal',
  BILLING_TEAM_LABELS: 'team,cost-center,app.kubernetes.io/part-of,app.kubernetes.io/name',
  VNODE_TAGS: 'cost-center=platform-burst,env=production',
  // one table with four GPU instance types (shared/domain/prices.ts); more types: let the bill teach them
  // (BILLING_LEARNED_PRICES, docs/billing-reconciliation.md)
  BILLING_PRICE_TABLES: JSON.stringify([
    {
      name: 'intl-contract',
      currency: 'USD',
      regions: ['ap-*', 'eu-*', 'us-*'],
      vcpu: '0.0000070/s',
      memoryGiB: '0.00000090/s',
      spotRatio: '0.25',
      instanceTypes: Object.fromEntries(
        ['ecs.gn6i-c4g1.xlarge', 'ecs.gn6i-c8g1.2xlarge', 'ecs.gn7i-c16g1.4xlarge', 'ecs.gn7i-c32g1.8xlarge'].map(
          (t, i) => [t, `${(1.5 + i).toFixed(4)}/h`],
        ),
      ),
    },
  ]),
};
const ACCOUNT = '1234567890123456';

const small = resolveSYaml(doc, dir, {
  env: Object.fromEntries(envNames(doc).required.map((n) => [n, `x-${n.toLowerCase()}`])),
  accountId: ACCOUNT,
});
const large = resolveSYaml(doc, dir, { env: LARGEST, accountId: ACCOUNT });
const fns = functionsOf(large.doc);

/** What each function reads (the rest have defaults, or come from FC: credentials, account id). */
const NEEDS: Record<string, string[]> = {
  all: ['CLUSTER_NAME', 'VNODE_NAME', 'BRIDGE_NAMESPACE', 'ECI_REGION', 'KUBE_API_SERVER', 'KUBE_TOKEN', 'KUBE_CA'],
  'pod-sync': ['ECI_VSWITCH_IDS', 'ECI_SECURITY_GROUP_ID', 'ECI_CREATE_PER_SECOND', 'ECI_CREATE_BURST', 'MNS_QUEUE', 'MNS_DEAD_LETTER_QUEUE', 'CLUSTER_DNS', 'CLUSTER_DOMAIN', 'BILLING_TEAM_LABELS', 'VNODE_TAGS'],
  'status-sync': ['MNS_QUEUE'],
  gc: ['MNS_QUEUE'],
  billing: ['BILLING_PRICE_TABLES', 'BILLING_TEAM_LABELS', 'BILLING_LEARNED_PRICES', 'VNODE_TAGS'],
  reconcile: ['BILLING_PRICE_TABLES', 'BILLING_TEAM_LABELS'],
};

describe('s.yaml', () => {
  it('is a Serverless Devs v3 project with a literal access alias', () => {
    assert.equal(doc.edition, '3.0.0');
    assert.equal(typeof doc.access, 'string');
    assert.doesNotMatch(String(doc.access), /\$\{/, 'Serverless Devs does not evaluate expressions in access');
    assert.match(rawText, /s deploy -a <alias>/, 'the header says how to use another alias');
  });

  it('resolves completely: every expression is one Serverless Devs evaluates, none left', () => {
    for (const r of [small, large]) {
      assert.deepEqual(r.unsupported, []);
      assert.deepEqual(r.missingEnv, []);
      assert.deepEqual(leftExpressions(r.doc), []);
    }
    const unset = resolveSYaml(doc, dir, { env: {}, accountId: ACCOUNT });
    assert.deepEqual(unset.missingEnv, envNames(doc).required, 'unset variables without a default are reported');
  });

  it('declares exactly the functions that exist under functions/', () => {
    assert.deepEqual(fns.map(([, r]) => String(r.props.functionName)).sort(), discoverFunctions(root));
  });

  it('validates against the fc3 and ros props fixture (written from the components published schema)', () => {
    for (const [id, r] of Object.entries(large.doc.resources)) {
      const schema = r.component === 'fc3' ? Fc3PropsSchema : r.component === 'ros' ? RosPropsSchema : undefined;
      assert.ok(schema, `${id}: component ${r.component} is not modelled`);
      const res = schema.safeParse(r.props);
      assert.ok(res.success, `${id}: ${res.success ? '' : res.error.message}`);
    }
    const typo = structuredClone(large.doc.resources['pod-sync']?.props ?? {});
    typo.memorysize = 1024;
    assert.equal(Fc3PropsSchema.safeParse(typo).success, false, 'a misspelt property is caught');
  });

  for (const [id, r] of fns) {
    describe(`function ${id}`, () => {
      const p = r.props;
      const env = p.environmentVariables as Record<string, string>;

      it('is named after its resource, runs on nodejs20 and deploys the bundle the build writes', () => {
        assert.equal(p.functionName, id);
        assert.equal(p.runtime, 'nodejs20');
        const entry = discoverEntries(root).find((e) => e.name === `functions/${id}`);
        assert.ok(entry, `no build entry for ${id}`);
        assert.equal(p.code, `./dist/${entry.outSubdir}`);
        const [file, exportName] = String(p.handler).split('.');
        assert.equal(file, 'index', 'the build emits index.js');
        assert.match(readFileSync(entry.entry, 'utf8'), new RegExp(`export\\s+(?:const|async function|function)\\s+${exportName}\\b`));
      });

      it('keeps memory, CPU and timeout inside FC 3.0 limits', () => {
        const ratio = Number(p.memorySize) / 1024 / Number(p.cpu);
        assert.ok(ratio >= 1 && ratio <= 4, `memory:vCPU ${ratio} outside 1..4 GB per vCPU`);
        assert.ok(Number(p.timeout) > 0 && Number(p.timeout) <= 300, 'timeout within 300 s (EventBridge push limit)');
      });

      it('gets only config-schema keys, the ones it reads, and they parse into the config the functions build from', () => {
        const known = new Set([...Object.keys(ConfigSchema.shape), 'NODE_OPTIONS']);
        assert.deepEqual(Object.keys(env).filter((k) => !known.has(k)), [], 'unknown environment keys');
        for (const k of [...(NEEDS.all ?? []), ...(NEEDS[id] ?? [])]) assert.ok(k in env, `${k} missing`);
        const extra = Object.keys(env).filter((k) => k !== 'NODE_OPTIONS' && k !== 'LOG_LEVEL' && ![...(NEEDS.all ?? []), ...(NEEDS[id] ?? [])].includes(k));
        assert.deepEqual(extra, [], 'variables the function does not read cost environment bytes');
        assert.match(env.NODE_OPTIONS ?? '', /--enable-source-maps/);
        const cfg = parseConfig(env);
        assert.equal(cfg.QUEUE_KIND, 'mns');
        const kube = kubeOptions(cfg);
        assert.ok('caPem' in kube && /BEGIN CERTIFICATE/.test(kube.caPem), 'the compact CA becomes PEM');
      });

      it(`keeps its environment under FC's ${FC_ENV_LIMIT_BYTES} bytes with the largest values supported`, (t) => {
        const bytes = envBytes(env);
        t.diagnostic(`${id}: ${bytes} bytes (KUBE_TOKEN ${env.KUBE_TOKEN?.length}, KUBE_CA ${env.KUBE_CA?.length})`);
        assert.ok(bytes < FC_ENV_LIMIT_BYTES, `${id}: ${bytes} bytes`);
      });

      it('runs in the VPC with the role, and logs', () => {
        assert.match(String(p.role), new RegExp(`^acs:ram::${ACCOUNT}:role/[\\w-]+$`));
        assert.equal(p.logConfig, 'auto');
      });
    });
  }

  it('feeds pod-sync from the queue the ROS stack outputs, base64-decoded, dead-lettering into its DLQ', () => {
    const eb = (get(large.doc.resources['pod-sync'], 'props.triggers') as Obj[]).find((t) => t.triggerType === 'eventbridge');
    const tpl = parse(readFileSync(join(root, 'deploy', 'aliyun', 'queues.ros.yaml'), 'utf8')) as Obj;
    const q = String(get(doc.vars, 'queue'));
    const dlq = String(get(doc.vars, 'deadLetterQueue'));
    assert.equal(get(eb, 'triggerConfig.eventSourceConfig.eventSourceParameters.sourceMNSParameters.QueueName'), q);
    assert.equal(get(eb, 'triggerConfig.eventSourceConfig.eventSourceParameters.sourceMNSParameters.IsBase64Decode'), true);
    assert.equal(get(eb, 'triggerConfig.runOptions.deadLetterQueue.Arn'), `acs:mns:${LARGEST.REGION}:${ACCOUNT}:/queues/${dlq}`);
    assert.equal(get(eb, 'triggerConfig.runOptions.errorsTolerance'), 'ALL');
    const env = get(large.doc.resources['pod-sync'], 'props.environmentVariables') as Obj;
    assert.deepEqual([env.MNS_QUEUE, env.MNS_DEAD_LETTER_QUEUE], [q, dlq]);
    // the raw file takes them from the stack's outputs: one `s deploy` creates the stack first
    assert.match(JSON.stringify(doc.resources['pod-sync']), /\$\{resources\.eci-bridge-queues\.output\.QueueName\}/);
    assert.deepEqual(Object.keys(get(tpl, 'Outputs') as Obj).sort(), ['DeadLetterQueueName', 'DeadLetterQueueUrl', 'QueueName', 'QueueUrl']);
  });

  it('keeps a message invisible for its whole EventBridge delivery (timeout x attempts + backoff), so it never reappears mid-batch', () => {
    const pod = large.doc.resources['pod-sync']?.props ?? {};
    const run = get((pod.triggers as Obj[]).find((t) => t.triggerType === 'eventbridge'), 'triggerConfig.runOptions');
    // BACKOFF_RETRY: 3 retries, 10-20 s apart (EventBridge retry policy); EXPONENTIAL_DECAY_RETRY runs for a day,
    // longer than any visibility timeout (MNS max 43200 s), so this project uses BACKOFF_RETRY.
    assert.equal(get(run, 'retryStrategy.PushRetryStrategy'), 'BACKOFF_RETRY');
    const hold = Number(pod.timeout) * 4 + 3 * 20;
    const tpl = parse(readFileSync(join(root, 'deploy', 'aliyun', 'queues.ros.yaml'), 'utf8')) as Obj;
    const visibility = Number(get(tpl, 'Resources.Queue.Properties.VisibilityTimeout'));
    assert.ok(visibility >= hold && visibility <= 43200, `VisibilityTimeout ${visibility} s < ${hold} s`);
    assert.ok(Number(get(tpl, 'Resources.Queue.Properties.DlqPolicy.MaxReceiveCount')) >= 2);
  });

  it('runs status-sync every minute, gc every 5 minutes and billing hourly (after the hour, so it is complete)', () => {
    const cron = (fn: string): unknown =>
      get((get(large.doc.resources[fn], 'props.triggers') as Obj[]).find((t) => t.triggerType === 'timer'), 'triggerConfig.cronExpression');
    assert.equal(cron('status-sync'), '@every 1m');
    assert.equal(cron('gc'), '@every 5m');
    const fields = String(cron('billing')).split(' ');
    assert.equal(fields.length, 6);
    assert.deepEqual(fields.slice(2), ['*', '*', '*', '*']);
    assert.ok(Number(fields[1]) > 0 && Number(fields[1]) < 60, 'a minute after the hour');
    // reconcile: once a day at a fixed time, one run at a time (a day is written once)
    const daily = String(cron('reconcile')).split(' ');
    assert.equal(daily.length, 6);
    assert.deepEqual(daily.slice(3), ['*', '*', '*']);
    assert.ok(Number(daily[2]) >= 0 && Number(daily[2]) < 24);
    assert.equal(get(large.doc.resources.reconcile?.props ?? {}, 'concurrencyConfig.reservedConcurrency'), 1);
  });

  it('creates the queue and its dead-letter queue with the names the stack is given', () => {
    const ros = large.doc.resources['eci-bridge-queues'];
    assert.equal(ros?.component, 'ros');
    assert.deepEqual(ros?.props.parameters, {
      QueueName: get(doc.vars, 'queue'),
      DeadLetterQueueName: get(doc.vars, 'deadLetterQueue'),
      ClusterName: get(large.doc.resources['pod-sync'], 'props.environmentVariables.CLUSTER_NAME'),
    });
    const tpl = parse(readFileSync(join(root, String(ros?.props.template)), 'utf8')) as Obj;
    assert.equal(get(tpl, 'Resources.Queue.Properties.QueueName.Ref'), 'QueueName');
    assert.equal(get(tpl, 'Resources.Queue.Properties.DlqPolicy.DeadLetterTargetQueue.Ref'), 'DeadLetterQueueName');
    assert.equal(get(tpl, 'Resources.Queue.Properties.DlqPolicy.Enabled'), true);
  });
});
