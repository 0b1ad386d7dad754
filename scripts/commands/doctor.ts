/**
 * `eci-bridge doctor [--kubeconfig K] [--context C] [--env-file FILE]... [--no-cluster]`
 *
 * A pre-flight to run before and after deploying: placeholders left in deploy/, the RAM policies against the actions
 * the code calls, s.yaml resolved with your values and each function's environment size, then (with a kubeconfig)
 * the virtual node, the watcher's replicas and PodDisruptionBudget, the webhooks' caBundle and the functions'
 * heartbeat, and (with credentials) whether ECI and MNS answer. One line per check — ok, warn or fail with the fix —
 * and exit code 1 on any fail (2 on bad arguments). The checks live in scripts/lib/doctor.ts.
 *
 * Values come from the environment, overridden by each --env-file in order (e.g. .env.functions from setup-functions
 * and .env.deploy with REGION, VPC_ID, ...). Credentials are never printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createKubeClient } from '../../shared/adapters/kube/client.js';
import { ConfigError, parseConfig } from '../../shared/domain/config.js';
import { describeError } from '../../shared/usecases/errors.js';
import { KUBE_ARG_OPTIONS } from './setup-functions.js';
import { clusterLines, cloudLines, formatLine, type Line, parseEnvFile, placeholderLines, ramLines, sYamlLines } from '../lib/doctor.js';

export const summary = 'pre-flight checks before and after deploying: ok/warn/fail with the fix (doctor [--kubeconfig K] [--env-file F])';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const usage = `usage: eci-bridge doctor [--kubeconfig K] [--context C] [--env-file FILE]... [--no-cluster] [--root DIR]
  --kubeconfig K    the cluster to check (default KUBECONFIG or ~/.kube/config; skipped when none exists)
  --env-file FILE   KEY=VALUE file (repeatable): .env.functions, .env.deploy
  --no-cluster      check the files (and the cloud) only
  --root DIR        the checkout whose s.yaml and deploy/ to check (default this one)`;

export async function run(argv: string[]): Promise<number> {
  let v: ReturnType<typeof parse>['values'];
  try {
    v = parse(argv).values;
  } catch (err) {
    process.stderr.write(`doctor: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const env: Record<string, string | undefined> = { ...process.env };
  for (const f of v['env-file'] ?? []) {
    if (!existsSync(f)) {
      process.stderr.write(`doctor: no env file ${f}\n`);
      return 2;
    }
    Object.assign(env, parseEnvFile(readFileSync(f, 'utf8')));
  }
  // the region the functions use: s.yaml's REGION is ECI_REGION
  if (env.REGION && !env.ECI_REGION) env.ECI_REGION = env.REGION;

  const lines: Line[] = [];
  const section = async (name: string, fn: () => Line[] | Promise<Line[]>): Promise<void> => {
    try {
      lines.push(...(await fn()));
    } catch (err) {
      lines.push({ status: 'fail', check: name, detail: describeError(err), fix: 'see the message; run again with the same arguments once fixed' });
    }
  };
  const files = { root: v.root ?? ROOT, env };
  await section('placeholders', () => placeholderLines(files));
  await section('RAM policies', () => ramLines(files));
  await section('s.yaml', () => sYamlLines(files));

  let config: ReturnType<typeof parseConfig> | undefined;
  try {
    // the cluster and cloud checks read names, thresholds and endpoints from it
    config = parseConfig(env);
  } catch (err) {
    lines.push({ status: 'fail', check: 'configuration', detail: err instanceof ConfigError ? err.message : describeError(err) });
  }
  if (config && !v['no-cluster']) {
    const kubeconfigPath = v.kubeconfig ?? env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config');
    if (!existsSync(kubeconfigPath)) {
      lines.push({ status: 'warn', check: 'cluster', detail: `no kubeconfig at ${kubeconfigPath}: cluster not checked`, fix: 'pass --kubeconfig' });
    } else {
      const client = createKubeClient({ kubeconfigPath, ...(v.context ? { context: v.context } : {}) });
      const cfg = config;
      await section('cluster', () => clusterLines(client, cfg));
    }
  }
  if (config) {
    const cfg = config;
    await section('cloud', () => cloudLines(cfg));
  }

  for (const l of lines) process.stdout.write(`${formatLine(l)}\n`);
  const count = (s: Line['status']): number => lines.filter((l) => l.status === s).length;
  process.stdout.write(`doctor: ${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail\n`);
  return count('fail') > 0 ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      ...KUBE_ARG_OPTIONS,
      'env-file': { type: 'string', multiple: true },
      'no-cluster': { type: 'boolean' },
      root: { type: 'string' },
    },
  });
}
