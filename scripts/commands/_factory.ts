/**
 * CLI-side factory for the pieces `invoke` and `replay` need and shared/compose.ts does not expose: the pod queue
 * and the dead-letter queue as full PodQueues (compose builds them as senders only), and the FunctionInvoker.
 * Built from the same config and credentials as compose (`cloudCredentials`, `createMnsQueue` from outside the VPC). (Not a command: files starting with `_` are skipped by cli.ts.)
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFunctionInvoker } from '../../shared/adapters/fc-invoke/index.js';
import { cloudCredentials, createMnsQueue } from '../../shared/compose.js';
import type { Config } from '../../shared/domain/config.js';
import type { FcEventHandler } from '../../shared/sim/fc.js';
import { BridgeError } from '../../shared/errors.js';
import type { FunctionInvoker, PodQueue } from '../../shared/ports/index.js';

export class CliSetupError extends BridgeError {}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function cliQueues(config: Config): { queue: PodQueue; deadLetter: PodQueue } {
  if (config.QUEUE_KIND !== 'mns') {
    throw new CliSetupError('QUEUE_KIND=embedded lives inside the `npm start` process; replay needs MNS (or the MNS emulator via MNS_ENDPOINT)');
  }
  const accountId = config.ALIBABA_CLOUD_ACCOUNT_ID;
  if (!accountId) throw new CliSetupError('ALIBABA_CLOUD_ACCOUNT_ID is required for MNS');
  const credentials = cloudCredentials(config);
  if (!credentials) throw new CliSetupError('ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are required for MNS');
  // From outside the VPC the CLI uses the public endpoint unless MNS_ENDPOINT says otherwise.
  return {
    queue: createMnsQueue(config, credentials, config.MNS_QUEUE, accountId, 'cli'),
    deadLetter: createMnsQueue(config, credentials, config.MNS_DEAD_LETTER_QUEUE, accountId, 'cli'),
  };
}

/** Loads `functions/<name>/index.ts` (tsx) and returns its `handler`, for FC_API=local. */
export async function loadLocalHandler(name: string): Promise<FcEventHandler | undefined> {
  if (!/^[a-z0-9-]+$/.test(name)) return undefined;
  try {
    const mod = (await import(join(ROOT, 'functions', name, 'index.ts'))) as { handler?: FcEventHandler };
    return typeof mod.handler === 'function' ? mod.handler : undefined;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

export function cliInvoker(config: Config): FunctionInvoker {
  return createFunctionInvoker(config, { loadLocal: loadLocalHandler });
}
