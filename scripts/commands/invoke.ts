/**
 * `eci-bridge invoke FUNCTION [--async] [--payload JSON|@file]`: invokes a deployed function (FC_API=fc3, the
 * default, or fc2 with FC_SERVICE) or the local handler module (FC_API=local). Without --payload the event is a
 * timer event (`{triggerTime, triggerName: "eci-bridge-invoke", payload: "{}"}`), what status-sync and gc get.
 * Exit code 0 on success, 1 when the function failed (its error is printed), 2 on bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config.js';
import { cliInvoker } from './_factory.js';

export const summary = 'invoke a function (invoke FUNCTION [--async] [--payload JSON|@file]; FC_API=fc3|fc2|local)';

const usage = 'usage: eci-bridge invoke FUNCTION [--async] [--payload JSON|@file]';

export function timerEvent(now = new Date()): string {
  return JSON.stringify({
    triggerTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    triggerName: 'eci-bridge-invoke',
    payload: '{}',
  });
}

/** The payload: inline JSON, or `@path` to a file; validated as JSON so a typo fails here, not in the function. */
export function readPayload(arg: string | undefined): string {
  if (arg === undefined) return timerEvent();
  const text = arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg;
  JSON.parse(text);
  return text;
}

export async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`invoke: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const name = parsed.positionals[0];
  if (!name || parsed.positionals.length > 1) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  let payload: string;
  try {
    payload = readPayload(parsed.values.payload);
  } catch (err) {
    process.stderr.write(`invoke: --payload is not JSON (${(err as Error).message})\n`);
    return 2;
  }
  const config = loadConfig();
  const invoker = cliInvoker(config);
  const res = await invoker.invoke(name, payload, { async: parsed.values.async ?? false });
  process.stderr.write(
    `invoke: ${name} via ${config.FC_API}: status ${res.status}${res.requestId ? `, request ${res.requestId}` : ''}\n`,
  );
  if (res.body && res.body.length > 0) process.stdout.write(`${res.body.toString('utf8')}\n`);
  if (res.functionError) {
    process.stderr.write(`invoke: the function failed (${res.functionError})\n`);
    return 1;
  }
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { async: { type: 'boolean' }, payload: { type: 'string' } },
  });
}
