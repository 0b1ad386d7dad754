/**
 * The build: one CJS bundle per function (and the watcher), each loadable in a FRESH Node process from a folder
 * without node_modules (nothing left unbundled that a handler needs), exporting `handler`. With a test
 * kube-apiserver, each function bundle is then invoked with a real FC-shaped event against the ECI and MNS
 * emulators: a timer event for status-sync and gc, and for pod-sync a CloudEvents batch holding one malformed
 * message, which must be acknowledged (dead-lettered with its reason), not thrown.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { type BssEmulator, startBssEmulator } from '../../../emulators/bss/index.js';
import { DEFAULT_CREDENTIAL, type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { type MnsEmulator, startMnsEmulator } from '../../../emulators/mns/index.js';
import { type BuiltBundle, buildBundles, discoverEntries, discoverFunctions } from '../../../scripts/build.js';

const kubeconfigPath = process.env.KUBE_TEST_KUBECONFIG;
const ACCOUNT = '1234567890';

/** Runs `script` in a fresh node process (cwd: the bundle folder, outside the repository) and parses its JSON output. */
function node(script: string, env: Record<string, string>, cwd: string): Promise<{ code: number; out: unknown; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      let out: unknown;
      try {
        out = JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
      } catch {
        out = stdout;
      }
      resolve({ code: err ? Number(err.code ?? 1) : 0, out, stderr });
    });
  });
}

const LOAD = `
const m = require(process.env.BUNDLE);
process.stdout.write(JSON.stringify({ handler: typeof m.handler }) + '\\n');`;

const INVOKE = `
const m = require(process.env.BUNDLE);
const ctx = {
  requestId: 'req-' + Date.now(),
  credentials: { accessKeyId: process.env.AK, accessKeySecret: process.env.SK, securityToken: '' },
  function: { name: process.env.FN, handler: 'index.handler', memory: 512, timeout: 60 },
  region: 'cn-hangzhou',
  accountId: process.env.ACCOUNT,
};
m.handler(Buffer.from(process.env.EVENT, 'base64'), ctx).then(
  (r) => { process.stdout.write('\\n' + JSON.stringify({ ok: true, result: r }) + '\\n'); process.exit(0); },
  (e) => { process.stdout.write('\\n' + JSON.stringify({ ok: false, error: String(e && e.message) }) + '\\n'); process.exit(0); },
);`;

describe('bundles', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'eci-bridge-bundles-'));
  let built: BuiltBundle[] = [];

  before(async () => {
    built = await buildBundles({ outDir, entries: discoverEntries() });
  });

  after(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it('builds one bundle per function and one for the watcher, each with a commonjs marker and a source map', () => {
    assert.deepEqual(
      built.filter((b) => b.name.startsWith('functions/')).map((b) => b.name.replace('functions/', '')).sort(),
      discoverFunctions(),
    );
    for (const b of built) {
      assert.ok(existsSync(`${b.file}.map`), `${b.name}: no source map`);
      assert.deepEqual(JSON.parse(readFileSync(join(b.file, '..', 'package.json'), 'utf8')), { type: 'commonjs' });
      assert.match(readFileSync(b.file, 'utf8').slice(-200), /sourceMappingURL=index\.js\.map/);
    }
  });

  it('leaves @kubernetes/client-node out of the function bundles (they use the lite client); the watcher keeps it', () => {
    const hasClientNode = (b: BuiltBundle) => Object.keys(b.metafile.inputs).some((i) => i.includes('node_modules/@kubernetes/client-node/'));
    for (const b of built.filter((x) => x.name.startsWith('functions/'))) {
      assert.equal(hasClientNode(b), false, `${b.name} bundles @kubernetes/client-node`);
      assert.ok(Object.keys(b.metafile.inputs).some((i) => i.endsWith('shared/adapters/kube/lite.ts')), `${b.name}: no lite client`);
    }
    const watcher = built.find((b) => b.name === 'watcher');
    assert.ok(watcher && hasClientNode(watcher), 'the watcher bundle lost its Kubernetes client');
  });

  it('only the reconcile bundle carries the BSS SDK, with the models of DescribeInstanceBill only', () => {
    for (const b of built.filter((x) => x.name.startsWith('functions/'))) {
      const models = Object.keys(b.metafile.inputs).filter((i) => i.includes('node_modules/@alicloud/bssopenapi20171214/'));
      if (b.name !== 'functions/reconcile') {
        assert.deepEqual(models, [], `${b.name} bundles the BSS SDK`);
        continue;
      }
      const names = models.filter((i) => i.includes('/dist/models/')).map((i) => i.split('/').at(-1));
      assert.deepEqual(names.sort(), ['DescribeInstanceBillRequest.js', 'DescribeInstanceBillResponse.js', 'DescribeInstanceBillResponseBody.js']);
    }
  });

  it('loads every function bundle in a fresh process, with nothing from node_modules, and exports handler', async () => {
    for (const b of built.filter((x) => x.name.startsWith('functions/'))) {
      const res = await node(LOAD, { BUNDLE: b.file }, outDir);
      assert.equal(res.code, 0, `${b.name}: ${res.stderr}`);
      assert.deepEqual(res.out, { handler: 'function' }, b.name);
    }
  });

  it('compiles the watcher bundle (syntax) for Node 20', async () => {
    const w = built.find((b) => b.name === 'watcher');
    assert.ok(w, 'no watcher bundle');
    const res = await new Promise<number>((resolve) => execFile(process.execPath, ['--check', w.file], (err) => resolve(err ? 1 : 0)));
    assert.equal(res, 0);
  });

  describe('invoked with FC events against the emulators', { skip: kubeconfigPath ? false : 'KUBE_TEST_KUBECONFIG not set' }, () => {
    let eci: EciEmulator;
    let mns: MnsEmulator;
    let bss: BssEmulator;
    let env: Record<string, string>;
    const namespace = `ecib-bundles-${randomBytes(3).toString('hex')}`;
    let kube: { server: string; token: string; ca: string };

    const kubeFetch = async (method: string, path: string, body?: unknown): Promise<number> => {
      const { request } = await import('node:https');
      return new Promise((resolve, reject) => {
        const req = request(
          `${kube.server}${path}`,
          { method, ca: kube.ca, headers: { authorization: `Bearer ${kube.token}`, 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    };

    before(async () => {
      const kc = parse(readFileSync(kubeconfigPath ?? '', 'utf8')) as {
        clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
        users: { user: { token: string } }[];
      };
      const cluster = kc.clusters[0]?.cluster;
      kube = {
        server: cluster?.server ?? '',
        token: kc.users[0]?.user.token ?? '',
        ca: Buffer.from(cluster?.['certificate-authority-data'] ?? '', 'base64').toString('utf8'),
      };
      assert.equal(await kubeFetch('POST', '/api/v1/namespaces', { metadata: { name: namespace } }), 201);
      eci = await startEciEmulator({ timeScale: 0.01 });
      mns = await startMnsEmulator({ accountId: ACCOUNT, credentials: [DEFAULT_CREDENTIAL] });
      bss = await startBssEmulator({
        scenario: { prices: { currency: 'CNY', vcpuPerHour: 1, memoryGiBPerHour: 1 }, extraLines: [{ instanceId: 'fn-1', productCode: 'fc', billingDate: '2026-01-01', amount: 0.5, tags: { 'eci-bridge.io/cluster': 'bundle-test' } }] },
        source: () => eci.groups(),
      });
      mns.createQueue({ name: 'bundle-pods' });
      mns.createQueue({ name: 'bundle-pods-dlq' });
      env = {
        AK: DEFAULT_CREDENTIAL.accessKeyId,
        SK: DEFAULT_CREDENTIAL.accessKeySecret,
        ACCOUNT,
        LOG_LEVEL: 'silent',
        CLUSTER_NAME: 'bundle-test',
        VNODE_NAME: 'bundle-vnode',
        BRIDGE_NAMESPACE: namespace,
        ECI_REGION: 'cn-hangzhou',
        ECI_ENDPOINT: eci.endpoint,
        ECI_PROTOCOL: 'http',
        ECI_VSWITCH_IDS: 'vsw-a',
        ECI_SECURITY_GROUP_ID: 'sg-1',
        ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT,
        QUEUE_KIND: 'mns',
        MNS_ENDPOINT: mns.endpoint,
        MNS_QUEUE: 'bundle-pods',
        MNS_DEAD_LETTER_QUEUE: 'bundle-pods-dlq',
        BSS_ENDPOINT: bss.endpoint,
        BSS_PROTOCOL: 'http',
        KUBE_API_SERVER: kube.server,
        KUBE_TOKEN: kube.token,
        KUBE_CA: Buffer.from(kube.ca).toString('base64'),
        NODE_OPTIONS: '--enable-source-maps',
      };
    });

    after(async () => {
      await eci?.close();
      await mns?.close();
      await bss?.close();
      if (kube) await kubeFetch('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => 0);
    });

    const invoke = async (fn: string, event: string) => {
      const b = built.find((x) => x.name === `functions/${fn}`);
      assert.ok(b, `no bundle for ${fn}`);
      const res = await node(INVOKE, { ...env, BUNDLE: b.file, FN: fn, EVENT: Buffer.from(event).toString('base64') }, outDir);
      assert.equal(res.code, 0, res.stderr);
      return res.out as { ok: boolean; result?: Record<string, unknown>; error?: string };
    };

    const timer = JSON.stringify({ triggerTime: '2026-01-01T00:00:00Z', triggerName: 'every-minute', payload: '{}' });

    for (const fn of ['status-sync', 'gc', 'billing']) {
      it(`${fn} runs a timer event to completion`, async (t) => {
        if (!discoverFunctions().includes(fn)) return t.skip(`no functions/${fn}`);
        const out = await invoke(fn, timer);
        assert.equal(out.ok, true, out.error);
        assert.ok(eci.calls().byAction.DescribeContainerGroups, 'ECI was asked about the groups');
      });
    }

    it('reconcile reads a settled day through the bundled BSS SDK and stores it', async () => {
      const out = await invoke('reconcile', JSON.stringify({ triggerTime: '2026-01-03T00:00:00Z', triggerName: 'daily', payload: '{"day":"2026-01-01"}' }));
      assert.equal(out.ok, true, out.error);
      assert.equal(out.result?.stored, 'created');
      assert.equal(out.result?.bridge, '0.500000000');
      assert.equal(bss.calls().byAction.DescribeInstanceBill, 3, 'one call per product (eci, fc, mns)');
    });

    it('pod-sync acknowledges a batch with a malformed message: dead-lettered with its reason, not thrown', async () => {
      const nudge = { v: 1, kind: 'pod', namespace, name: 'gone', uid: 'uid-gone', reason: 'deleted' };
      const events = [
        { id: 'e1', source: 'MNS-pod-sync-pods-queue', specversion: '1.0', type: 'mns:Queue:SendMessage', data: { requestId: 'r1', messageId: 'M-GOOD', messageBody: JSON.stringify(nudge) } },
        { id: 'e2', source: 'MNS-pod-sync-pods-queue', specversion: '1.0', type: 'mns:Queue:SendMessage', data: { requestId: 'r2', messageId: 'M-BAD', messageBody: 'this is {not json' } },
      ];
      const out = await invoke('pod-sync', JSON.stringify(events));
      assert.equal(out.ok, true, out.error);
      assert.equal(out.result?.deadLettered, 1);
      const dlq = mns.messages('bundle-pods-dlq');
      assert.equal(dlq.length, 1);
      const dead = JSON.parse(Buffer.from(dlq[0]?.body ?? '', 'base64').toString('utf8')) as { deadLetter: { messageId: string; reason: string } };
      assert.equal(dead.deadLetter.messageId, 'M-BAD');
      assert.ok(dead.deadLetter.reason.length > 0);
    });
  });
});
