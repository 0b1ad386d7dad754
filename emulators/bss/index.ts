/**
 * A wire-faithful local BSS OpenAPI (2017-12-14) for the actions the bridge uses: `DescribeInstanceBill`
 * (Granularity MONTHLY|DAILY, BillingDate, ProductCode, MaxResults ≤ 300, opaque NextToken). The real
 * `@alicloud/bssopenapi20171214` SDK talks to it with `endpoint: emulator.endpoint, protocol: 'http'`.
 *
 * Per request: authenticate exactly as the ECI emulator does (its V3 ACS3-HMAC-SHA256 / V1 HMAC-SHA1, STS, clock
 * skew and nonce checks are shared: ../eci/auth.ts) → flow control (a token bucket, `Throttling.User`) → the action.
 * The bill comes from ledger.ts, fed by the ECI emulator's groups (`source`), observed on every request and
 * every 250 ms, so groups ECI forgets after their retention window still show.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator, type EmulatorCredential } from '../eci/auth.js';
import { TokenBucket } from '../eci/control.js';
import { EciEmulatorError, invalidParameter, missingParameter } from '../eci/errors.js';
import { type BillScenario, Ledger } from './ledger.js';
import { readRpcRequest } from '../request.js';

export type { BillItem, BillPrices, BillScenario, ExtraLine } from './ledger.js';

const API_VERSION = '2017-12-14';
const ACTIONS = new Set(['DescribeInstanceBill']);

export interface BssEmulatorOptions {
  port?: number;
  credentials?: EmulatorCredential[];
  scenario: BillScenario;
  /** the container groups to bill (the ECI emulator's `groups()`) */
  source?: () => Record<string, unknown>[];
  /** the bill's clock (lag, open windows); signatures are checked against the real time */
  billClock?: () => number;
  /** DescribeInstanceBill calls per second (token bucket, burst = rate); default 10 */
  callsPerSecond?: number;
}

export interface BssEmulator {
  readonly endpoint: string;
  readonly url: string;
  /** calls by action, and error answers by code */
  calls(): { total: number; byAction: Record<string, number>; errors: Record<string, number> };
  /** observes the source now (tests call it before the source forgets a group) */
  observe(): void;
  setScenario(patch: Partial<BillScenario>): void;
  close(): Promise<void>;
}

export const DEFAULT_BSS_CREDENTIAL: EmulatorCredential = { accessKeyId: 'LTAIemulatorKey', accessKeySecret: 'emulator-secret' };

interface Token {
  o: number;
  q: string;
}

export async function startBssEmulator(opts: BssEmulatorOptions): Promise<BssEmulator> {
  const scenario: BillScenario = { ...opts.scenario };
  const ledger = new Ledger(scenario);
  const billNow = opts.billClock ?? Date.now;
  const auth = new Authenticator(opts.credentials ?? [DEFAULT_BSS_CREDENTIAL], Date.now);
  const rate = opts.callsPerSecond ?? 10;
  const bucket = new TokenBucket(rate, rate, Date.now);
  const counts = { total: 0, byAction: {} as Record<string, number>, errors: {} as Record<string, number> };
  const observe = (): void => {
    if (opts.source) ledger.observe(opts.source(), Date.now());
  };
  const sweeper = setInterval(observe, 250);
  sweeper.unref();

  const send = (res: ServerResponse, body: Record<string, unknown> | EciEmulatorError): void => {
    const requestId = randomUUID().toUpperCase();
    let status = 200;
    let payload: Record<string, unknown>;
    const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId };
    if (body instanceof EciEmulatorError) {
      status = body.status;
      counts.errors[body.code] = (counts.errors[body.code] ?? 0) + 1;
      Object.assign(headers, body.headers);
      payload = { RequestId: requestId, HostId: 'business.aliyuncs.com', Code: body.code, Message: body.message, Success: false };
    } else payload = { RequestId: requestId, ...body };
    const text = JSON.stringify(payload);
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(status, headers);
    res.end(text);
  };

  function describeInstanceBill(p: Record<string, string>): Record<string, unknown> {
    const cycle = p.BillingCycle;
    if (!cycle) throw missingParameter('BillingCycle');
    if (!/^\d{4}-\d{2}$/.test(cycle)) throw invalidParameter('BillingCycle', 'must be YYYY-MM');
    const granularity = p.Granularity ?? 'MONTHLY';
    if (granularity !== 'MONTHLY' && granularity !== 'DAILY') throw invalidParameter('Granularity', 'must be MONTHLY or DAILY');
    const max = p.MaxResults === undefined ? 20 : Number(p.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 300) throw invalidParameter('MaxResults', 'must be 1-300');
    const product = (p.ProductCode ?? '').toLowerCase();
    let days: string[];
    if (granularity === 'DAILY') {
      const day = p.BillingDate;
      if (!day) throw missingParameter('BillingDate');
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !day.startsWith(cycle)) throw invalidParameter('BillingDate', 'must be YYYY-MM-DD within BillingCycle');
      days = [day];
    } else {
      const [y, m] = cycle.split('-').map(Number) as [number, number];
      const n = new Date(Date.UTC(y, m, 0)).getUTCDate();
      days = Array.from({ length: n }, (_, i) => `${cycle}-${String(i + 1).padStart(2, '0')}`);
    }
    observe();
    const now = billNow();
    const products = product ? [product] : ['eci', 'fc', 'mns'];
    let items = days.flatMap((d) => products.flatMap((pc) => ledger.lines(pc, d, now)));
    if (granularity === 'MONTHLY') items = monthly(items);
    if (p.IsHideZeroCharge === 'true') items = items.filter((i) => i.PretaxAmount !== 0);
    const fingerprint = [cycle, granularity, p.BillingDate ?? '', product, String(max)].join('|');
    let offset = 0;
    if (p.NextToken) {
      let t: Token | undefined;
      try {
        t = JSON.parse(Buffer.from(p.NextToken, 'base64url').toString('utf8')) as Token;
      } catch {
        t = undefined;
      }
      if (!t || t.q !== fingerprint || !Number.isInteger(t.o) || t.o < 0) throw invalidParameter('NextToken', 'does not belong to this query');
      offset = t.o;
    }
    const page = items.slice(offset, offset + max);
    const next = offset + max < items.length ? Buffer.from(JSON.stringify({ o: offset + max, q: fingerprint } satisfies Token)).toString('base64url') : '';
    return {
      Code: 'Success',
      Message: 'Successful!',
      Success: true,
      Data: { BillingCycle: cycle, AccountID: '1234567890', AccountName: 'emulator', TotalCount: items.length, MaxResults: max, NextToken: next, Items: page },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { body, url, query } = await readRpcRequest(req);
    counts.total++;
    try {
      const who = auth.authenticate({ method: req.method ?? 'GET', pathname: url.pathname, query, headers: req.headers, body });
      counts.byAction[who.action] = (counts.byAction[who.action] ?? 0) + 1;
      if (who.version !== API_VERSION) throw new EciEmulatorError('InvalidVersion');
      if (!ACTIONS.has(who.action)) throw new EciEmulatorError('InvalidAction.NotFound');
      if (!bucket.tryTake()) throw new EciEmulatorError('Throttling.User', undefined, { headers: { 'x-acs-retry-after': String(Math.max(1, bucket.waitMs())) } });
      const params = { ...query };
      if (body.length > 0 && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(body.toString())) params[k] = v;
      }
      send(res, describeInstanceBill(params));
    } catch (err) {
      if (err instanceof EciEmulatorError) send(res, err);
      else throw err;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, new EciEmulatorError('InternalError', undefined, { cause: err })));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    url: `http://${endpoint}`,
    calls: () => ({ total: counts.total, byAction: { ...counts.byAction }, errors: { ...counts.errors } }),
    observe,
    setScenario: (patch) => void Object.assign(scenario, patch),
    close: async () => {
      clearInterval(sweeper);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A month of daily items summed per instance (MONTHLY granularity). */
function monthly(items: ReturnType<Ledger['lines']>): ReturnType<Ledger['lines']> {
  const by = new Map<string, ReturnType<Ledger['lines']>[number]>();
  for (const i of items) {
    const key = `${i.ProductCode}\u0000${i.InstanceID}`;
    const cur = by.get(key);
    if (!cur) by.set(key, { ...i, BillingDate: '' });
    else {
      cur.PretaxAmount = Math.round((cur.PretaxAmount + i.PretaxAmount) * 100) / 100;
      cur.PretaxGrossAmount = cur.PretaxAmount;
      cur.ServicePeriod = String(Number(cur.ServicePeriod) + Number(i.ServicePeriod));
    }
  }
  return [...by.values()];
}
