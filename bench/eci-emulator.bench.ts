/**
 * ECI emulator throughput through the real SDK (via the ECI adapter): the emulator runs in its own process,
 * SDK clients in others (keep-alive, many calls in flight), so the figure is the emulator's, not the client's.
 * Target: >= 2,000 ECI calls/s, so the emulator is never the bottleneck of a test or benchmark.
 *
 *   npm run bench -- eci-emulator [--seconds 4] [--concurrency 64] [--clients 3]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type EciEmulator, startEciEmulator } from '../emulators/eci/index.js';
import { acs3Signature, sha256Hex } from '../emulators/eci/signing.js';
import { EciContainerGroups } from '../shared/adapters/eci/index.js';
import { type Figure, figure, writeResult, percentile } from './results.js';

const TARGET = 2000;
const SELF = fileURLToPath(import.meta.url);

/** Runs this file again as a child process in the given role (the children need the tsx loader too). */
function child(role: 'emulator' | 'client'): ChildProcess {
  return fork(SELF, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ECI_BENCH_ROLE: role } });
}
const KEY = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' };

type Phase = 'describe20' | 'create' | 'list' | 'lean-describe1' | 'lean-describe20';
interface ClientJob {
  role: 'client';
  endpoint: string;
  phase: Phase;
  seconds: number;
  concurrency: number;
  ids: string[];
  worker: number;
}
interface ClientResult {
  ok: number;
  failed: number;
  latencies: number[];
}

function adapter(endpoint: string): EciContainerGroups {
  return new EciContainerGroups({
    regionId: 'cn-hangzhou',
    endpoint,
    protocol: 'http',
    credentials: KEY,
    rateLimits: false,
    retry: { maxAttempts: 1 },
  });
}

/**
 * A lean client: V3-signed HTTP with node:crypto, no SDK models. It measures the emulator's own ceiling, which
 * the SDK clients (their Tea model casting costs more CPU than the emulator's answer) cannot reach on few cores.
 */
function leanCall(endpoint: string, agent: Agent, action: string, query: Record<string, string>): Promise<number> {
  const date = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const headers: Record<string, string> = {
    host: endpoint,
    'x-acs-action': action,
    'x-acs-version': '2018-08-08',
    'x-acs-date': date,
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-content-sha256': sha256Hex(''),
  };
  const signedHeaders = Object.keys(headers).sort();
  const signature = acs3Signature(
    { method: 'POST', pathname: '/', query, headers, signedHeaders, hashedPayload: headers['x-acs-content-sha256'] as string },
    KEY.accessKeySecret,
  );
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${KEY.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method: 'POST', path: `/?${new URLSearchParams(query)}`, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function runClient(job: ClientJob): Promise<ClientResult> {
  const eci = adapter(job.endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const end = Date.now() + job.seconds * 1000;
  const res: ClientResult = { ok: 0, failed: 0, latencies: [] };
  let n = 0;
  const loop = async (lane: number) => {
    while (Date.now() < end) {
      const t = performance.now();
      try {
        if (job.phase === 'lean-describe1' || job.phase === 'lean-describe20') {
          const size = job.phase === 'lean-describe1' ? 1 : 20;
          const start = (n++ * size) % Math.max(1, job.ids.length - size);
          const status = await leanCall(job.endpoint, agent, 'DescribeContainerGroups', {
            RegionId: 'cn-hangzhou',
            ContainerGroupIds: JSON.stringify(job.ids.slice(start, start + size)),
          });
          if (status !== 200) throw new Error(`HTTP ${status}`);
        } else if (job.phase === 'describe20') {
          const start = (n++ * 20) % Math.max(1, job.ids.length - 20);
          await eci.describe(job.ids.slice(start, start + 20));
        } else if (job.phase === 'list') {
          await eci.list({ tags: [{ Key: 'bench', Value: 'page' }] });
        } else {
          const i = n++;
          await eci.create({
            RegionId: 'cn-hangzhou',
            ContainerGroupName: `bench-${job.worker}-${lane}-${i}`,
            ClientToken: `bench-${job.worker}-${lane}-${i}-${Date.now()}`,
            Container: [{ Name: 'app', Image: 'nginx:1.25' }],
            Tag: [{ Key: 'bench', Value: 'create' }],
          });
        }
        res.ok++;
      } catch {
        res.failed++;
      }
      res.latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, (_, lane) => loop(lane)));
  agent.destroy();
  return res;
}

async function runEmulatorProcess(): Promise<void> {
  const emu = await startEciEmulator({ credentials: [KEY], scenario: { keepLatestFinished: 100 } });
  process.send?.({ endpoint: emu.endpoint });
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'calls') process.send?.({ calls: emu.calls(), groups: emu.groups().length });
    if (m.cmd === 'close') {
      await emu.close();
      process.exit(0);
    }
  });
}

function ask<T>(w: ChildProcess, msg: unknown): Promise<T> {
  return new Promise((resolve) => {
    w.once('message', (m: T) => resolve(m));
    w.send(msg as object);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      seconds: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '64' },
      clients: { type: 'string', default: String(Math.max(1, Math.min(3, availableParallelism() - 1))) },
    },
    strict: false,
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const clients = Number(values.clients);

  const emuWorker = child('emulator');
  const { endpoint } = await new Promise<{ endpoint: string }>((resolve) => emuWorker.once('message', resolve));

  // seed: 400 groups to describe, 60 under one tag for paging
  const seed = adapter(endpoint);
  const ids: string[] = [];
  for (let i = 0; i < 460; i++) {
    const r = await seed.create({
      RegionId: 'cn-hangzhou',
      ContainerGroupName: `seed-${i}`,
      Container: [{ Name: 'app', Image: 'nginx:1.25' }],
      Tag: [{ Key: 'bench', Value: i < 400 ? 'seed' : 'page' }],
    });
    if (i < 400) ids.push(r.containerGroupId);
  }

  process.stdout.write(
    `ECI emulator through the real SDK: ${clients} client process(es) x ${concurrency} in flight, ${seconds} s per phase\n` +
      `machine: ${availableParallelism()} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (the SDK's model casting costs more CPU than the emulator's answer: with few cores the SDK\n` +
      'clients saturate first; the lean-client rows show the emulator\'s own ceiling)\n\n',
  );
  process.stdout.write(`${'phase'.padEnd(40)}${'calls/s'.padStart(10)}${'target'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}\n`);
  const phases: [Phase, string][] = [
    ['describe20', 'DescribeContainerGroups (20 ids)'],
    ['create', 'CreateContainerGroup'],
    ['list', 'DescribeContainerGroups (tag, 3 pages)'],
    ['lean-describe1', 'lean client: Describe (1 id)'],
    ['lean-describe20', 'lean client: Describe (20 ids)'],
  ];
  const figures: Figure[] = [];
  for (const [phase, label] of phases) {
    const before = await ask<{ calls: { total: number } }>(emuWorker, { cmd: 'calls' });
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: clients }, (_, worker) => {
        const job: ClientJob = { role: 'client', endpoint, phase, seconds, concurrency, ids, worker };
        const w = child('client');
        return new Promise<ClientResult>((resolve, reject) => {
          w.once('message', (r: ClientResult) => {
            resolve(r);
            w.disconnect();
          });
          w.once('error', reject);
          w.send(job);
        });
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const afterCalls = await ask<{ calls: { total: number } }>(emuWorker, { cmd: 'calls' });
    const calls = afterCalls.calls.total - before.calls.total;
    const lat = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const failed = results.reduce((s, r) => s + r.failed, 0);
    const rate = calls / elapsed;
    figures.push(figure(`eciEmulator.${phase}.rate`, `ECI emulator: ${label}`, rate, 'calls/s', { op: '>=', value: TARGET }));
    process.stdout.write(
      `${label.padEnd(40)}${rate.toFixed(0).padStart(10)}${`>=${TARGET}`.padStart(9)}${percentile(lat, 50).toFixed(1).padStart(9)}${percentile(lat, 99).toFixed(1).padStart(9)}${String(failed).padStart(8)}${rate >= TARGET ? '' : '  (below target)'}\n`,
    );
  }
  const final = await ask<{ groups: number }>(emuWorker, { cmd: 'calls' });
  process.stdout.write(`\ncontainer groups held by the emulator at the end: ${final.groups}\n`);
  writeResult('eci-emulator', figures);
  emuWorker.send({ cmd: 'close' });
  await new Promise((r) => emuWorker.once('exit', r));
}

const role = process.env.ECI_BENCH_ROLE;
// a child never outlives the benchmark
if (role) process.once('disconnect', () => process.exit(0));
if (role === 'emulator') {
  await runEmulatorProcess();
} else if (role === 'client') {
  process.once('message', async (job: ClientJob) => {
    process.send?.(await runClient(job));
  });
} else {
  await main();
}

export type { EciEmulator };
