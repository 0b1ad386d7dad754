/**
 * Bookkeeping shared by the translation steps: violations, warnings, the wire paths of secret-bearing values
 * (for exact redaction), placeholders for objects unreadable offline; and base64 helpers.
 */
import type { Violation, ViolationCode, Warning, WarningCode } from './errors.js';
import { violation, warning } from './errors.js';

export class Collector {
  readonly violations: Violation[] = [];
  readonly warnings: Warning[] = [];
  /** Wire paths (e.g. `Container[0].EnvironmentVar[2].Value`) whose value is secret. */
  readonly secretPaths = new Set<string>();
  placeholders = 0;

  constructor(readonly strict: boolean) {}

  refuse(code: ViolationCode, field: string, message: string): void {
    this.violations.push(violation(code, field, message));
  }
  warn(code: WarningCode, field: string, message?: string): void {
    this.warnings.push(warning(code, field, message));
  }
  /** Records an unresolvable reference and returns the placeholder text that stands in for it. */
  unresolved(what: string, field: string): string {
    this.placeholders++;
    const text = `<unresolved ${what}>`;
    if (this.strict) this.refuse('Unresolved', field, `${what} cannot be read offline`);
    else this.warn('Unresolved', field, `${what} cannot be read offline: a placeholder stands in for it`);
    return text;
  }
}

export function toBase64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}
export function fromBase64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}
