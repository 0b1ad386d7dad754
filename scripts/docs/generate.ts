/**
 * `npm run docs`: writes the generated tables into the docs, between marker comments, from the code that defines
 * them — the configuration variables (shared/domain/config.ts: name, default, `.describe()` text) into
 * docs/configuration.md, the refusal and warning codes (shared/domain/errors.ts) into docs/translation.md.
 * `test/unit/docs/generated.test.ts` regenerates them and fails when the committed docs differ.
 *   npm run docs            rewrite the docs
 *   npm run docs -- --check  exit 1 (and name the files) when a doc is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { ConfigSchema } from '../../shared/domain/config.js';
import { TRANSIENT_VIOLATIONS, VIOLATIONS, WARNINGS } from '../../shared/domain/errors.js';

export class DocsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DocsError';
  }
}

/** Text safe inside a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\n/g, ' ');
}

function defaultOf(schema: z.ZodType): unknown {
  const def = (schema as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
  return def.type === 'default' ? def.defaultValue : undefined;
}

function showDefault(v: unknown): string {
  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return '—';
  if (Array.isArray(v)) return `\`${JSON.stringify(v)}\``;
  return `\`${String(v)}\``;
}

/** The configuration table: one row per variable of the schema, in schema order. Every variable needs a description. */
export function configTable(shape: Record<string, z.ZodType>): string {
  const rows = Object.entries(shape).map(([name, schema]) => {
    const description = schema.description;
    if (!description) throw new DocsError(`configuration variable ${name} has no .describe() text (shared/domain/config.ts)`);
    return `| \`${name}\` | ${showDefault(defaultOf(schema))} | ${cell(description)} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export function refusalTable(violations: Record<string, string>, transient: ReadonlySet<string>): string {
  const rows = Object.entries(violations).map(
    ([code, alternative]) => `| \`${code}\` | ${cell(alternative)} | ${transient.has(code) ? 'retried: the object may appear' : 'refused'} |`,
  );
  return ['| code | recommended alternative | pod-sync |', '|---|---|---|', ...rows].join('\n');
}

export function warningTable(warnings: Record<string, string>): string {
  const rows = Object.entries(warnings).map(([code, meaning]) => `| \`${code}\` | ${cell(meaning)} |`);
  return ['| code | meaning |', '|---|---|', ...rows].join('\n');
}

const start = (name: string): string => `<!-- generated:${name} (npm run docs; do not edit) -->`;
const end = (name: string): string => `<!-- /generated:${name} -->`;

/** Replaces the text between the markers of `name` with `content`; throws when the markers are missing. */
export function fill(doc: string, name: string, content: string): string {
  const a = doc.indexOf(start(name));
  const b = doc.indexOf(end(name));
  if (a < 0 || b < a) throw new DocsError(`markers ${start(name)} … ${end(name)} not found`);
  return `${doc.slice(0, a + start(name).length)}\n${content}\n${doc.slice(b)}`;
}

/** The generated blocks per doc file (paths relative to the repository root). */
export function blocks(): Record<string, Record<string, string>> {
  return {
    'docs/configuration.md': { config: configTable(ConfigSchema.shape) },
    'docs/translation.md': {
      refusals: refusalTable(VIOLATIONS, TRANSIENT_VIOLATIONS),
      warnings: warningTable(WARNINGS),
    },
  };
}

/** Each doc as it should be: the committed text with every generated block rewritten. */
export function generate(root: string): Array<{ path: string; current: string; wanted: string }> {
  return Object.entries(blocks()).map(([path, parts]) => {
    const current = readFileSync(join(root, path), 'utf8');
    const wanted = Object.entries(parts).reduce((doc, [name, content]) => fill(doc, name, content), current);
    return { path, current, wanted };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const check = process.argv.includes('--check');
  const stale = generate(root).filter((d) => d.current !== d.wanted);
  for (const d of stale) {
    if (check) process.stderr.write(`docs: ${d.path} is out of date: run npm run docs\n`);
    else writeFileSync(join(root, d.path), d.wanted);
  }
  if (!check) process.stdout.write(stale.length ? `docs: rewrote ${stale.map((d) => d.path).join(', ')}\n` : 'docs: up to date\n');
  process.exitCode = check && stale.length > 0 ? 1 : 0;
}
