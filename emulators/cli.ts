/**
 * What every `eci-bridge emulate <kind>` entry point does alike (emulators/<kind>/main.ts): parse its flags with
 * `-h` for the usage, read a JSON scenario file, and run until SIGINT/SIGTERM. Kept here so the emulators' command
 * lines answer a bad flag, a bad file and Ctrl-C the same way (exit 2 with `emulate <kind>: …`, exit 0 on help).
 */
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

type Flags<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O }>>['values'];

/** The parsed flags, or the exit code when there is nothing to run: 2 after a bad flag, 0 after printing `usage` for `--help`. */
export function parseFlags<const O extends ParseArgsOptionsConfig>(kind: string, argv: string[], options: O, usage: string): Flags<O> | number {
  let values: Flags<O>;
  try {
    ({ values } = parseArgs({ args: argv, options }));
  } catch (err) {
    process.stderr.write(`emulate ${kind}: ${(err as Error).message}\n`);
    return 2;
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  return values;
}

/** The scenario in the JSON file at `path` (`fallback` without one), or exit code 2 after saying why it cannot be read. */
export function readScenario<T>(kind: string, path: string | undefined, fallback: T): T | number {
  if (!path) return fallback;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    process.stderr.write(`emulate ${kind}: cannot read scenario ${path}: ${(err as Error).message}\n`);
    return 2;
  }
}

/** Resolves at the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
