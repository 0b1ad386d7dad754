/**
 * `npx eci-bridge emulate mns [--port N] [--account ID] [--region R] [--queue NAME]...`: runs the MNS emulator on
 * loopback until SIGINT/SIGTERM, printing the endpoint and the (local, throwaway) keys to use.
 */
import { randomBytes } from 'node:crypto';
import { untilSignal } from '../cli.js';
import { startMnsEmulator } from './index.js';

function flag(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === name && argv[i + 1] !== undefined) out.push(argv[++i] ?? '');
    else if (a.startsWith(`${name}=`)) out.push(a.slice(name.length + 1));
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: eci-bridge emulate mns [--port N] [--account ID] [--region R] [--queue NAME]...\n');
    return 0;
  }
  const portArg = flag(argv, '--port')[0];
  const port = portArg === undefined ? 0 : Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`emulate mns: bad --port ${portArg}\n`);
    return 2;
  }
  const accountId = flag(argv, '--account')[0] ?? '1234567890123456';
  const region = flag(argv, '--region')[0] ?? 'cn-hangzhou';
  // Local keys, minted per run: this emulator guards nothing real.
  const accessKeyId = `LTAIemu${randomBytes(6).toString('hex')}`;
  const accessKeySecret = randomBytes(15).toString('base64');
  const names = flag(argv, '--queue');
  const queues = (names.length > 0 ? names : ['eci-bridge', 'eci-bridge-dlq']).map((name) => ({ name }));
  const emu = await startMnsEmulator({ port, accountId, region, credentials: [{ accessKeyId, accessKeySecret }], queues });
  process.stdout.write(
    [
      `MNS emulator listening on ${emu.endpoint}`,
      `  accountId       ${accountId}`,
      `  region          ${region}`,
      `  accessKeyId     ${accessKeyId}`,
      `  accessKeySecret ${accessKeySecret}`,
      `  queues          ${queues.map((q) => q.name).join(', ')}`,
      '  (@alicloud/mns: new MNS(accountId, { endpoint, accessKeyId, accessKeySecret }))',
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await untilSignal();
  const s = emu.stats();
  await emu.close();
  process.stdout.write(`MNS emulator stopped; operations: ${JSON.stringify(s.operations)}\n`);
  return 0;
}
