/**
 * `eci-bridge translate -f FILE`: prints the CreateContainerGroup request (ECI wire names) for every pod in the
 * manifests; secrets redacted unless --show-secrets. Exit 0, or 2 when a pod is refused, 1 on usage errors.
 */
import { redactRequest, translatePod } from '../../shared/domain/translate.js';
import { contextFor, FLAGS_HELP, type Io, type Outcome, parseOptions, podId, processIo, readInput, UsageError } from './_manifests.js';

export const summary = 'print the ECI CreateContainerGroup request for pods in manifests (dry run)';

const USAGE = `usage: eci-bridge translate -f FILE [options]\n\n${FLAGS_HELP}\n  --show-secrets         print secret values, tokens and registry passwords instead of <redacted>\n`;

export function translateCommand(argv: string[], io: Io): Outcome {
  if (argv.includes('-h') || argv.includes('--help')) return { code: 0, stdout: USAGE, stderr: '' };
  let err = '';
  try {
    const opts = parseOptions(argv, io, true);
    const input = readInput(opts.files, io);
    for (const n of input.notes) err += `note: ${n}\n`;
    if (input.pods.length === 0) return { code: 1, stdout: '', stderr: `${err}eci-bridge translate: no pod or pod template found\n` };
    let refused = false;
    const results = input.pods.map((pod) => {
      const r = translatePod(pod, contextFor(opts.ctx, input, pod));
      for (const w of r.warnings) err += `warning: ${podId(pod)}: ${w.field}: ${w.message} [${w.code}]\n`;
      if (!r.ok) {
        refused = true;
        for (const v of r.violations) err += `refused: ${podId(pod)}: ${v.field}: ${v.message} [${v.code}]\n`;
        return { violations: r.violations.map(({ code, field, message, alternative }) => ({ code, field, message, alternative })) };
      }
      return opts.showSecrets ? r.request : redactRequest(r.request, r.secretPaths);
    });
    const out = results.length === 1 ? results[0] : results;
    return { code: refused ? 2 : 0, stdout: `${JSON.stringify(out, null, 2)}\n`, stderr: err };
  } catch (e) {
    if (e instanceof UsageError) return { code: 1, stdout: '', stderr: `${err}eci-bridge translate: ${e.message}\n\n${USAGE}` };
    throw e;
  }
}

export async function run(argv: string[]): Promise<number> {
  const o = translateCommand(argv, processIo);
  process.stdout.write(o.stdout);
  process.stderr.write(o.stderr);
  return o.code;
}
