/**
 * `npx eci-bridge emulate bss [--port N] [--eci-port N] [--scenario FILE] [--time-scale X]`: the ECI emulator and
 * the BSS emulator billing its groups, on 127.0.0.1, until SIGINT/SIGTERM. The scenario file is JSON
 * (`BillScenario` in ledger.ts; default: the China list prices, spot at 0.3, no lag).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_CREDENTIAL, startEciEmulator } from '../eci/index.js';
import { type BillScenario, startBssEmulator } from './index.js';

const DEFAULT_SCENARIO: BillScenario = { prices: { currency: 'CNY', vcpuPerHour: 0.1764, memoryGiBPerHour: 0.022068 }, spotRatio: 0.3 };

export async function main(argv: string[]): Promise<number> {
  let values: { port?: string; 'eci-port'?: string; scenario?: string; 'time-scale'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, 'eci-port': { type: 'string' }, scenario: { type: 'string' }, 'time-scale': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`emulate bss: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write('usage: eci-bridge emulate bss [--port N] [--eci-port N] [--scenario FILE.json] [--time-scale X]\n');
    return 0;
  }
  const port = Number(values.port ?? 0);
  const eciPort = Number(values['eci-port'] ?? 0);
  const timeScale = Number(values['time-scale'] ?? 1);
  if (![port, eciPort].every((p) => Number.isInteger(p) && p >= 0 && p <= 65535) || !(timeScale > 0)) {
    process.stderr.write('emulate bss: ports must be 0-65535 and --time-scale a positive number\n');
    return 2;
  }
  let scenario = DEFAULT_SCENARIO;
  if (values.scenario) {
    try {
      scenario = JSON.parse(readFileSync(values.scenario, 'utf8')) as BillScenario;
    } catch (err) {
      process.stderr.write(`emulate bss: cannot read scenario ${values.scenario}: ${(err as Error).message}\n`);
      return 2;
    }
  }
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
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await bss.close();
  await eci.close();
  return 0;
}
