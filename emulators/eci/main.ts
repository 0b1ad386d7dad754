/**
 * `npx eci-bridge emulate eci [--port N] [--scenario FILE] [--time-scale X] [--quotas]`: runs the ECI emulator
 * on 127.0.0.1 until SIGINT/SIGTERM, printing the endpoint and a ready-to-use access key pair.
 * A scenario file is JSON (see `Scenario` in index.ts).
 */
import { parseFlags, readScenario, untilSignal } from '../cli.js';
import { DEFAULT_CREDENTIAL, type Scenario, startEciEmulator } from './index.js';

export async function main(argv: string[]): Promise<number> {
  const values = parseFlags(
    'eci',
    argv,
    {
      port: { type: 'string' },
      scenario: { type: 'string' },
      'time-scale': { type: 'string' },
      quotas: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    'usage: eci-bridge emulate eci [--port N] [--scenario FILE.json] [--time-scale X] [--quotas]',
  );
  if (typeof values === 'number') return values;
  const port = values.port === undefined ? 0 : Number(values.port);
  const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale']);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !(timeScale > 0)) {
    process.stderr.write('emulate eci: --port must be 0-65535 and --time-scale a positive number\n');
    return 2;
  }
  const scenario = readScenario<Scenario>('eci', values.scenario, {});
  if (typeof scenario === 'number') return scenario;
  const emu = await startEciEmulator({ port, scenario, timeScale, quotas: values.quotas ?? false });
  process.stdout.write(
    [
      `ECI emulator listening on ${emu.url}`,
      '',
      'SDK config (@alicloud/eci20180808):',
      `  endpoint: '${emu.endpoint}', protocol: 'http', regionId: 'cn-hangzhou'`,
      `  accessKeyId: '${DEFAULT_CREDENTIAL.accessKeyId}', accessKeySecret: '${DEFAULT_CREDENTIAL.accessKeySecret}'`,
      'Bridge environment:',
      `  ECI_ENDPOINT=${emu.endpoint} ECI_PROTOCOL=http ALIBABA_CLOUD_ACCESS_KEY_ID=${DEFAULT_CREDENTIAL.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${DEFAULT_CREDENTIAL.accessKeySecret}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await untilSignal();
  const calls = emu.calls();
  await emu.close();
  process.stdout.write(`\nstopped after ${calls.total} calls\n`);
  return 0;
}
