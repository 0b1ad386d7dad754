/**
 * The logger `npm start` gives the bridge: JSON lines on stderr at a chosen level (like pino, with the same
 * redaction of secret-looking keys), and the last warnings and errors kept in memory so the live table can show
 * them without lines scrolling through it.
 */
import type { Logger } from '../../shared/ports/index.js';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

const RANK: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 };
const SECRET_KEYS = /^(token|password|accesskeysecret|securitytoken|secret|authorization)$/i;

export interface LogLine {
  at: number;
  level: 'warn' | 'error';
  msg: string;
  detail: string;
}

export interface CapturingLogger extends Logger {
  /** The last warnings and errors (newest last). */
  recent(): readonly LogLine[];
  /** How many warnings and errors were logged in all. */
  counts(): { warn: number; error: number };
}

function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** `write` gets each JSON line at or above `level` (default: nothing is written, warnings are still kept). */
export function capturingLogger(opts: { level?: Level; write?: (line: string) => void; keep?: number } = {}): CapturingLogger {
  const threshold = RANK[opts.level ?? 'silent'];
  const keep = opts.keep ?? 50;
  const recent: LogLine[] = [];
  const counts = { warn: 0, error: 0 };
  const make = (bindings: Record<string, unknown>): CapturingLogger => {
    const emit = (level: Exclude<Level, 'silent' | 'fatal' | 'trace'>, obj: Record<string, unknown>, msg?: string): void => {
      if (level === 'warn' || level === 'error') {
        counts[level]++;
        const detail = Object.entries(redact(obj) as Record<string, unknown>)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        recent.push({ at: Date.now(), level, msg: msg ?? '', detail });
        if (recent.length > keep) recent.shift();
      }
      if (RANK[level] >= threshold && opts.write) {
        opts.write(`${JSON.stringify({ level, time: Date.now(), ...(redact(bindings) as object), ...(redact(obj) as object), msg })}\n`);
      }
    };
    return {
      debug: (o, m) => emit('debug', o, m),
      info: (o, m) => emit('info', o, m),
      warn: (o, m) => emit('warn', o, m),
      error: (o, m) => emit('error', o, m),
      child: (b) => make({ ...bindings, ...b }),
      recent: () => recent,
      counts: () => ({ ...counts }),
    };
  };
  return make({});
}
