/**
 * The live pod table of `npm start`. On a TTY it is redrawn in place (cursor up, clear below); otherwise (CI, a
 * pipe) a row is printed each time it changes, plus the progress line every few seconds, so logs stay readable.
 */
import type { Row } from './tracker.js';

export interface Frame {
  title: string;
  rows: Row[];
  /** e.g. "3/5 demo pods settled" */
  progress: string;
  /** recent warnings, shown under the table on a TTY */
  notes?: readonly string[];
}

const HEADERS: Record<keyof Row, string> = {
  pod: 'NAMESPACE/NAME',
  phase: 'PHASE',
  reason: 'REASON',
  groupId: 'GROUP ID',
  eciStatus: 'ECI STATUS',
  ready: 'READY',
  age: 'AGE',
};
const COLUMNS = Object.keys(HEADERS) as (keyof Row)[];
const MAX_REASON = 34;

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** The table as lines (pure: unit-testable, and what the plain mode prints). */
export function renderTable(rows: readonly Row[]): string[] {
  const cells = rows.map((r) => COLUMNS.map((c) => (c === 'reason' ? clip(r[c], MAX_REASON) : r[c])));
  const widths = COLUMNS.map((c, i) => Math.max(HEADERS[c].length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (vals: readonly string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS.map((c) => HEADERS[c])), ...cells.map(line)];
}

export function rowLine(r: Row): string {
  return `${r.pod}: phase=${r.phase} reason=${r.reason} group=${r.groupId} eci=${r.eciStatus} ready=${r.ready}`;
}

export class Display {
  #drawn = 0;
  #lastRows = new Map<string, string>();
  #lastProgressAt = 0;
  #lastProgress = '';

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly opts: { live?: boolean; plainEveryMs?: number } = {},
  ) {}

  get live(): boolean {
    return this.opts.live ?? this.out.isTTY === true;
  }

  /** Prints a line above the table (it stays in the scrollback). */
  say(line: string): void {
    this.#erase();
    this.out.write(`${line}\n`);
  }

  update(frame: Frame): void {
    if (this.live) {
      this.#erase();
      const width = this.out.columns ?? 160;
      const lines = [frame.title, ...renderTable(frame.rows), '', frame.progress, ...(frame.notes ?? []).map((n) => `  ! ${n}`)].map((l) =>
        clip(l, width - 1),
      );
      this.out.write(`${lines.join('\n')}\n`);
      this.#drawn = lines.length;
      return;
    }
    for (const r of frame.rows) {
      const text = rowLine(r);
      if (this.#lastRows.get(r.pod) !== text) {
        this.#lastRows.set(r.pod, text);
        this.out.write(`  ${text}\n`);
      }
    }
    const now = Date.now();
    if (frame.progress !== this.#lastProgress || now - this.#lastProgressAt >= (this.opts.plainEveryMs ?? 5000)) {
      this.#lastProgress = frame.progress;
      this.#lastProgressAt = now;
      this.out.write(`${frame.progress}\n`);
    }
  }

  /** Leaves the last table on screen (and prints it once in plain mode). */
  finish(frame: Frame): void {
    if (this.live) {
      this.update(frame);
      this.#drawn = 0;
      return;
    }
    this.out.write(`${[frame.title, ...renderTable(frame.rows), frame.progress].join('\n')}\n`);
  }

  #erase(): void {
    if (this.live && this.#drawn > 0) this.out.write(`\x1b[${this.#drawn}A\x1b[0J`);
    this.#drawn = 0;
  }
}
