/**
 * `npx eci-bridge emulate bss [--port N] [--eci-port N] [--scenario FILE] [--time-scale X]`: the ECI emulator and
 * the BSS emulator billing its groups, on 127.0.0.1, until SIGINT/SIGTERM. The scenario file is JSON
 * (`BillScenario` in ledger.ts; default: the China list prices, spot at 0.3, no lag).
 */
import { parseFlags, readScenario, untilSignal } from '../cli.js';
import { DEFAULT_CREDENTIAL, startEciEmulator } from '../eci/index.js';
import { type BillScenario, startBssEmulator } from './index.js';

const DEFAULT_SCENARIO: BillScenario = { prices: { currency: 'CNY', vcpuPerHour: 0.1764, memoryGiBPerHour: 0.022068 }, spotRatio: 0.3 };

export async function main(argv: string[]): Promise<number> {
  const values = parseFlags(
    'bss',
    argv,
    { port: { type: 'string' }, 'eci-port': { type: 'string' }, scenario: { type: 'string' }, 'time-scale': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    'usage: eci-bridge emulate bss [--port N] [--eci-port N] [--scenario FILE.json] [--time-scale X]',
  );
  if (typeof values === 'number') return values;
  const port = Number(values.port ?? 0);
  const eciPort = Number(values['eci-port'] ?? 0);
  const timeScale = Number(values['time-scale'] ?? 1);
  if (![port, eciPort].every((p) => Number.isInteger(p) && p >= 0 && p <= 65535) || !(timeScale > 0)) {
    process.stderr.write('emulate bss: ports must be 0-65535 and --time-scale a positive number\n');
    return 2;
  }
  const scenario = readScenario('bss', values.scenario, DEFAULT_SCENARIO);
  if (typeof scenario === 'number') return scenario;
  const eci = await startEciEmulator({ port: eciPort, timeScale });
  const bss = await startBssEmulator({ port, scenario, source: () => eci.groups() });
  process.stdout.write(
    [
      `ECI emulator on ${eci.url}, BSS emulator (billing its groups) on ${bss.url}`,
      'Bridge environment:',
      `  ECI_ENDPOINT=${eci.endpoint} ECI_PROTOCOL=http BSS_ENDPOINT=${bss.endpoint} BSS_PROTOCOL=http ALIBABA_CLOUD_ACCESS_KEY_ID=${DEFAULT_CREDENTIAL.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${DEFAULT_CREDENTIAL.accessKeySecret}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await untilSignal();
  await bss.close();
  await eci.close();
  return 0;
}
