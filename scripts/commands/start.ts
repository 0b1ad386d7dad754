/**
 * `npm start` / `npx eci-bridge start`: the whole bridge in one process. With nothing configured it runs the
 * sandbox (local control plane + ECI and BSS emulators + demo pods + the day's reconciliation, then a summary; exit 0 only if every expectation held);
 * with KUBECONFIG (or --kubeconfig) it runs against that cluster and the configured ECI endpoint until Ctrl-C.
 * The logic is scripts/sandbox/.
 */
import { parseArgs } from 'node:util';
import { runAgainstCluster, runSandbox } from '../sandbox/index.js';
import type { Level } from '../sandbox/log.js';

export const summary = 'run the whole bridge in one process: the sandbox demo, or against KUBECONFIG (start [--keep] [--demo])';

const USAGE = `usage: npm start [-- options]   (or: npx eci-bridge start [options])

With nothing configured: the sandbox. A private local kube-apiserver + etcd (built once, 6-10 minutes), the ECI
and BSS (billing) emulators, the watcher and every function in this process, the demo pods, a live table, the
reconciliation of the day they ran in against the emulated bill (run twice: nothing changes), then a summary.
  --keep               keep the sandbox running after the demo (Ctrl-C cleans up and stops)
  --time-scale X       emulator and timer scale (default 0.1: 10 simulated seconds per real second)

With KUBECONFIG set (or --kubeconfig FILE): the bridge against that cluster and ECI until Ctrl-C.
  ECI: ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, ECI_REGION, ECI_VSWITCH_IDS, ECI_SECURITY_GROUP_ID;
       ECI_ENDPOINT + ECI_PROTOCOL=http for the emulator (npx eci-bridge emulate eci)
  --demo               also create the demo pods (namespace eci-demo-<vnode>) and check them
  --emulate-eci        run the ECI emulator in this process instead of using ECI_ENDPOINT / real ECI
  --sandbox            ignore KUBECONFIG and run the sandbox

Both:
  --log-level LEVEL    JSON logs on stderr (trace|debug|info|warn|error); default: none (warnings show under the table)
  --no-live            plain lines instead of the live table (the default when stdout is not a terminal)
`;

export async function run(argv: string[]): Promise<number> {
  let values: {
    keep?: boolean;
    demo?: boolean;
    kubeconfig?: string;
    sandbox?: boolean;
    'emulate-eci'?: boolean;
    'time-scale'?: string;
    'log-level'?: string;
    'no-live'?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        keep: { type: 'boolean' },
        demo: { type: 'boolean' },
        kubeconfig: { type: 'string' },
        sandbox: { type: 'boolean' },
        'emulate-eci': { type: 'boolean' },
        'time-scale': { type: 'string' },
        'log-level': { type: 'string' },
        'no-live': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`start: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const levels = ['trace', 'debug', 'info', 'warn', 'error'];
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !levels.includes(logLevel)) {
    process.stderr.write(`start: --log-level must be one of ${levels.join(', ')}\n`);
    return 2;
  }
  const timeScale = values['time-scale'] === undefined ? undefined : Number(values['time-scale']);
  if (timeScale !== undefined && !(timeScale > 0 && timeScale <= 1)) {
    process.stderr.write('start: --time-scale must be a number in (0, 1]\n');
    return 2;
  }
  const ctl = new AbortController();
  let firstSignalAt = 0;
  const onSignal = (sig: string) => {
    // Ctrl-C reaches npm, tsx and node alike, and tsx relays it too: one press can arrive twice within moments,
    // so only a signal well after the first one means "again"
    if (ctl.signal.aborted && Date.now() - firstSignalAt > 1500) {
      process.stderr.write(`\n${sig} again: exiting now\n`);
      process.exit(130);
    }
    if (ctl.signal.aborted) return;
    firstSignalAt = Date.now();
    process.stderr.write(`\n${sig}: stopping (cleaning up; ${sig} again to exit at once)\n`);
    ctl.abort();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const common = {
    signal: ctl.signal,
    ...(logLevel ? { logLevel: logLevel as Level } : {}),
    ...(values['no-live'] ? { live: false } : {}),
  };
  try {
    // the one place `npm start` looks at the environment to choose its mode; the configuration itself is parsed
    // by the sandbox module (shared/domain/config.ts)
    const kubeconfig = values.kubeconfig ?? (values.sandbox ? undefined : process.env.KUBECONFIG || undefined);
    const result = kubeconfig
      ? await runAgainstCluster({ ...common, kubeconfig, demo: values.demo ?? false, emulateEci: values['emulate-eci'] ?? false })
      : await runSandbox({ ...common, keep: values.keep ?? false, ...(timeScale ? { timeScale } : {}) });
    if (ctl.signal.aborted && result.mode === 'cluster' && result.failures.length === 0) return 0;
    return result.exitCode;
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
}
