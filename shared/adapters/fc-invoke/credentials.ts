/** Credentials and addressing shared by the FC API invokers. */
export interface FcApiCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token (keys of the form `STS.…`), e.g. the function role's temporary credentials */
  securityToken?: string;
}

export interface FcApiTarget {
  /** Alibaba Cloud account id (the FC endpoint is per account) */
  accountId: string;
  region: string;
  /**
   * `https://host[:port]`, `http://host[:port]` or a bare host (https). Default
   * `https://<accountId>.<region>.fc.aliyuncs.com`.
   */
  endpoint?: string;
  /** ms; default 60000 */
  timeoutMs?: number;
}

export interface ParsedEndpoint {
  protocol: 'http' | 'https';
  /** host[:port] */
  host: string;
  url: string;
}

export function resolveEndpoint(t: FcApiTarget): ParsedEndpoint {
  const raw = t.endpoint ?? `${t.accountId}.${t.region}.fc.aliyuncs.com`;
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(raw);
  const protocol = (m?.[1] as 'http' | 'https' | undefined) ?? 'https';
  const host = m?.[2] ?? raw.replace(/\/+$/, '');
  return { protocol, host, url: `${protocol}://${host}` };
}

/** Normalises an SDK response body (Buffer, string, parsed JSON, undefined) to a Buffer. */
export function toBuffer(data: unknown): Buffer | undefined {
  if (data === undefined || data === null) return undefined;
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(JSON.stringify(data), 'utf8');
}

export function headerValue(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (Array.isArray(v)) return v.length ? String(v[0]) : undefined;
  return v === undefined || v === null ? undefined : String(v);
}
