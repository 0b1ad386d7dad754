/**
 * A cross-process lock for the shared control plane's start and stop (several test runs and helpers share one
 * plane): an O_EXCL file holding the owner's pid; a dead owner's lock is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { cacheDir, TestenvError } from './paths.js';
import { isAlive } from './proc.js';

export async function withLock<R>(name: string, fn: () => Promise<R>, timeoutMs = 20 * 60_000): Promise<R> {
  const dir = join(cacheDir(), 'testenv');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        continue;
      }
      if (!isAlive(owner)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new TestenvError(`${path} is held by pid ${owner}`);
      await delay(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
