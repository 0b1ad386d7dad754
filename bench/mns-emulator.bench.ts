/**
 * `npm run bench -- mns-emulator [--messages N] [--concurrency C]`: queue throughput.
 * 1. MnsQueue (the real @alicloud/mns SDK) against the MNS emulator: send in batches of 16, then receive 16 +
 *    batch-delete, C workers each; the emulator runs in a child process so client and server have their own CPU.
 * 2. The same through EmbeddedQueue (in process, no HTTP).
 * Target: >= 5,000 messages/s send+receive+delete through the adapter.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EmbeddedQueue } from '../shared/adapters/queue/embedded.js';
import { MnsQueue } from '../shared/adapters/queue/mns.js';
import { encodeBody } from '../shared/domain/messages-codec.js';
import { type Figure, figure, writeResult } from './results.js';

const ACCOUNT = '1234567890123456';
const creds = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' };
const TARGET = 5000;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

interface BenchQueue {
  send(m: { body: string }[]): Promise<void>;
  receive(max: number, wait: number): Promise<{ receiptHandle: string }[]>;
  deleteMany(handles: string[]): Promise<unknown>;
}

async function run(label: string, q: BenchQueue, n: number, conc: number): Promise<number> {
  const body = encodeBody({ v: 1, kind: 'pod', namespace: 'default', name: 'web-0', uid: '6d1c2a8e-7a1e-4c0e-9f51-6b0f0a7b1c11', reason: 'bound' });
  const batches = Math.ceil(n / 16);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < batches) {
        next++;
        await q.send(Array.from({ length: 16 }, () => ({ body })));
      }
    }),
  );
  const sent = batches * 16;
  const t1 = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (done < sent) {
        const got = await q.receive(16, 0);
        if (got.length === 0) break;
        await q.deleteMany(got.map((m) => m.receiptHandle));
        done += got.length;
      }
    }),
  );
  const t2 = performance.now();
  const rate = (count: number, ms: number): string => `${Math.round((count / ms) * 1000).toLocaleString('en')} msg/s`;
  const total = (sent / (t2 - t0)) * 1000;
  process.stdout.write(
    `${label.padEnd(34)} ${sent} messages, ${conc} workers: send ${rate(sent, t1 - t0)}, receive+delete ${rate(done, t2 - t1)}, ` +
      `send+receive+delete ${Math.round(total).toLocaleString('en')} msg/s\n`,
  );
  return total;
}

function startEmulatorChild(): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, endpoint: String(m) }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`emulator child exited ${code}`)));
  });
}

async function child(): Promise<void> {
  const { startMnsEmulator } = await import('../emulators/mns/index.js');
  const emu = await startMnsEmulator({ accountId: ACCOUNT, credentials: [creds], queues: [{ name: 'bench' }] });
  process.send?.(emu.endpoint);
  process.once('disconnect', () => {
    void emu.close();
  });
}

async function main(): Promise<void> {
  const n = arg('--messages', 20_000);
  const conc = arg('--concurrency', 8);
  const { child: proc, endpoint } = await startEmulatorChild();
  const figures: Figure[] = [];
  try {
    const mns = new MnsQueue({ accountId: ACCOUNT, endpoint, queueName: 'bench', credentials: creds });
    await run('warm-up (MnsQueue)', mns, 2000, conc);
    const total = await run('MnsQueue -> MNS emulator (HTTP)', mns, n, conc);
    process.stdout.write(`  target >= ${TARGET.toLocaleString('en')} msg/s: ${total >= TARGET ? 'met' : 'NOT met'}\n`);
    figures.push(figure('mns.mnsQueue.rate', 'MnsQueue → MNS emulator, send+receive+delete', total, 'msg/s', { op: '>=', value: TARGET }));
  } finally {
    proc.disconnect();
  }
  const embedded = new EmbeddedQueue({ name: 'bench' });
  figures.push(figure('mns.embedded.rate', 'EmbeddedQueue, send+receive+delete', await run('EmbeddedQueue (in process)', embedded, n * 5, conc), 'msg/s'));
  writeResult('mns-emulator', figures);
  embedded.close();
}

if (process.argv.includes('--child')) await child();
else await main();
