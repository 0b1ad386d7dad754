/**
 * `eci-bridge validate -f FILE`: prints only the violations and warnings for every pod in the manifests.
 * Exit 0, or 2 when a pod is refused, 1 on usage errors.
 */
import { translatePod } from '../../shared/domain/translate.js';
import { contextFor, FLAGS_HELP, type Io, type Outcome, parseOptions, podId, processIo, readInput, UsageError } from './_manifests.js';

export const summary = 'print the refusals and warnings for pods in manifests';

const USAGE = `usage: eci-bridge validate -f FILE [options]\n\n${FLAGS_HELP}\n`;

export function validateCommand(argv: string[], io: Io): Outcome {
  if (argv.includes('-h') || argv.includes('--help')) return { code: 0, stdout: USAGE, stderr: '' };
  try {
    const opts = parseOptions(argv, io, false);
    const input = readInput(opts.files, io);
    if (input.pods.length === 0) return { code: 1, stdout: '', stderr: 'eci-bridge validate: no pod or pod template found\n' };
    let refused = false;
    const results = input.pods.map((pod) => {
      const r = translatePod(pod, contextFor(opts.ctx, input, pod));
      if (!r.ok) refused = true;
      return { pod: podId(pod), violations: r.ok ? [] : r.violations, warnings: r.warnings };
    });
    const out = results.length === 1 ? results[0] : results;
    return { code: refused ? 2 : 0, stdout: `${JSON.stringify(out, null, 2)}\n`, stderr: '' };
  } catch (e) {
    if (e instanceof UsageError) return { code: 1, stdout: '', stderr: `eci-bridge validate: ${e.message}\n\n${USAGE}` };
    throw e;
  }
}

export async function run(argv: string[]): Promise<number> {
  const o = validateCommand(argv, processIo);
  process.stdout.write(o.stdout);
  process.stderr.write(o.stderr);
  return o.code;
}
