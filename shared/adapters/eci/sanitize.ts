/**
 * Keeps secrets out of error messages and logs. The ECI SDK puts every request parameter in the URL query
 * (registry passwords, base64 ConfigFile contents, environment values; with V1 signatures also the STS token),
 * and its network errors quote the URL or the request path. `Redactor` removes URL queries wholesale and every
 * known secret value in its raw and percent-encoded forms.
 */

const MIN_SECRET = 4;
export const REDACTED = '<redacted>';

function encodings(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const uri = encodeURIComponent(secret);
  forms.add(uri);
  forms.add(uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
  forms.add(uri.replace(/%20/g, '+'));
  forms.add(encodeURIComponent(uri));
  return [...forms].filter((f) => f.length >= MIN_SECRET).sort((a, b) => b.length - a.length);
}

export class Redactor {
  readonly #secrets = new Set<string>();

  /** Registers values that must never appear in a message (short values are ignored: too many false hits). */
  add(...values: (string | undefined)[]): this {
    for (const v of values) if (v && v.length >= MIN_SECRET) this.#secrets.add(v);
    return this;
  }

  child(): Redactor {
    const r = new Redactor();
    for (const s of this.#secrets) r.add(s);
    return r;
  }

  redact(text: string): string {
    // 1. any URL or request path with a query string loses the query
    let out = text.replace(/((?:https?:\/\/|\b(?:GET|POST|PUT|DELETE) )[^\s?]*)\?[^\s"'<>]*/gi, `$1?${REDACTED}`);
    out = out.replace(/(^|[\s(])(\/[^\s?]*)\?[^\s"'<>]*/g, `$1$2?${REDACTED}`);
    // 2. known secret values, longest form first
    for (const s of this.#secrets) {
      for (const form of encodings(s)) {
        if (out.includes(form)) out = out.split(form).join(REDACTED);
      }
    }
    return out;
  }
}

/** Every secret-bearing value of a CreateContainerGroup request in wire names. */
export function secretsOfCreate(req: Record<string, unknown>): string[] {
  const out: string[] = [];
  const arr = (v: unknown): Record<string, unknown>[] =>
    Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
  for (const c of arr(req.ImageRegistryCredential)) if (typeof c.Password === 'string') out.push(c.Password);
  for (const v of arr(req.Volume)) {
    const cfg = v.ConfigFileVolume as { ConfigFileToPath?: unknown } | undefined;
    for (const f of arr(cfg?.ConfigFileToPath)) {
      if (typeof f.Content === 'string') {
        out.push(f.Content);
        // the decoded content too: a message might quote it
        try {
          const decoded = Buffer.from(f.Content, 'base64').toString('utf8');
          if (decoded && !decoded.includes('\uFFFD')) out.push(decoded);
        } catch {
          // not base64
        }
      }
    }
  }
  for (const c of [...arr(req.Container), ...arr(req.InitContainer)]) {
    for (const e of arr(c.EnvironmentVar)) if (typeof e.Value === 'string') out.push(e.Value);
  }
  return out;
}
