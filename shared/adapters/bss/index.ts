/**
 * The BSS adapter: implements the `BillReader` port over `@alicloud/bssopenapi20171214` (the only place that imports
 * it; loaded on the first call, like the ECI SDK). One pipeline per call: client-side token bucket → SDK call → on
 * failure classify (the ECI adapter's classification: both SDKs throw the same OpenAPI error shapes) → retry the
 * retryable ones with backoff and jitter → a `BssError` with a sanitised message. An answer with `Success: false`
 * (BSS answers some errors with HTTP 200) is an error too.
 */
import type { BssAction } from './actions.js';
import { BridgeError, type ErrorService, type KindedError } from '../../errors.js';
import type { BillReader, Clock, Logger } from '../../ports/index.js';
import { classifyCode, type EciErrorKind, sdkErrorFacts } from '../eci/errors.js';
import { backoffMs, type BucketSpec, DEFAULT_RETRY, type RetryPolicy, systemClock, WaitingBucket } from '../eci/retry.js';
import { Redactor } from '../eci/sanitize.js';
import type { BssClientOptions, BssCredentials, BssCredentialsProvider, BssSdkClient } from './sdk.js';

export type { BssCredentials, BssCredentialsProvider } from './sdk.js';

export class BssError extends BridgeError implements KindedError {
  readonly service: ErrorService = 'bss';
  constructor(
    message: string,
    readonly kind: EciErrorKind,
    readonly code: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type SdkModule = typeof import('./sdk.js');
let sdkModule: Promise<SdkModule> | undefined;
const loadSdk = (): Promise<SdkModule> => {
  sdkModule ??= import('./sdk.js');
  return sdkModule;
};

/**
 * BSS OpenAPI flow control is not published per action; 10 calls per second is what the bill-query actions are
 * commonly held to (unverified). The bucket keeps a run under it; throttling answers are retried.
 */
export const BSS_BUCKET: BucketSpec = { burst: 10, perSecond: 10 };
/** DescribeInstanceBill: at most 300 items per page. */
export const BSS_PAGE_SIZE = 300;

export interface BssAdapterOptions extends Omit<BssClientOptions, 'onCredentials'> {
  retry?: Partial<RetryPolicy>;
  rateLimit?: BucketSpec | false;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
}

export class BssBillReader implements BillReader {
  #client: Promise<BssSdkClient> | undefined;
  readonly #opts: BssClientOptions;
  readonly #retry: RetryPolicy;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #random: () => number;
  readonly #bucket: WaitingBucket | undefined;
  readonly #redactor = new Redactor();
  /** SDK calls made (pages and retries), for tests and logs */
  calls = 0;

  constructor(opts: BssAdapterOptions) {
    this.#retry = { ...DEFAULT_RETRY, maxAttempts: 5, ...opts.retry };
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger;
    this.#random = opts.random ?? Math.random;
    this.#bucket = opts.rateLimit === false ? undefined : new WaitingBucket(opts.rateLimit ?? BSS_BUCKET, this.#clock);
    const seen = this.#redactor;
    this.#opts = { ...opts, onCredentials: (c: BssCredentials) => void seen.add(c.accessKeySecret, c.securityToken) };
  }

  #sdkClient(): Promise<BssSdkClient> {
    this.#client ??= loadSdk().then((m) => m.createBssSdkClient(this.#opts));
    return this.#client;
  }

  async instanceBill(q: { billingDate: string; productCode: string }): Promise<Record<string, unknown>[]> {
    const { bssSdk } = await loadSdk();
    const client = await this.#sdkClient();
    const out: Record<string, unknown>[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const request = new bssSdk.default.DescribeInstanceBillRequest({
        billingCycle: q.billingDate.slice(0, 7),
        billingDate: q.billingDate,
        granularity: 'DAILY',
        productCode: q.productCode,
        maxResults: BSS_PAGE_SIZE,
        nextToken: token,
      });
      const res = await this.#call('DescribeInstanceBill', () => client.describeInstanceBill(request));
      const body = res.body;
      if (!body || body.success === false) {
        const code = body?.code ?? 'EmptyResponse';
        throw new BssError(`BSS DescribeInstanceBill failed: ${code}: ${this.#redactor.redact(body?.message ?? 'no body')}`, 'permanent', code, 1);
      }
      const data = body.data?.toMap() ?? {};
      const items = Array.isArray(data.Items) ? data.Items : [];
      for (const it of items) if (it && typeof it === 'object') out.push(it as Record<string, unknown>);
      token = typeof data.NextToken === 'string' && data.NextToken ? data.NextToken : undefined;
      if (!token) break;
    }
    return out;
  }

  async #call<T>(action: BssAction, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.#bucket?.take();
      this.calls++;
      try {
        return await fn();
      } catch (err) {
        const facts = sdkErrorFacts(err);
        const kind = classifyCode(facts.code, facts.statusCode);
        if (kind === 'retryable' && attempt < this.#retry.maxAttempts) {
          const wait = backoffMs(this.#retry, attempt, this.#random, { hintMs: facts.retryAfterMs });
          this.#log?.debug({ action, code: facts.code, attempt, waitMs: Math.round(wait) }, 'BSS call failed, retrying');
          await this.#clock.sleep(wait);
          continue;
        }
        const message = this.#redactor.redact(facts.message);
        throw new BssError(`BSS ${action} failed${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${facts.code}: ${message}`, kind, facts.code, attempt, {
          cause: new BridgeError(message),
        });
      }
    }
  }
}

/** The site's BSS endpoint for a region (the SDK's endpoint map: `cn-*` → China site, the rest → international). */
export function defaultBssEndpoint(regionId: string): string {
  return regionId.startsWith('cn-') ? 'business.aliyuncs.com' : 'business.ap-southeast-1.aliyuncs.com';
}

/** The adapter from the bridge's config and a credentials provider. */
export function createBssBillReader(
  config: { BSS_ENDPOINT?: string; BSS_PROTOCOL: 'https' | 'http'; ECI_REGION: string },
  credentials: BssCredentials | BssCredentialsProvider,
  extra?: Partial<BssAdapterOptions>,
): BssBillReader {
  return new BssBillReader({ endpoint: config.BSS_ENDPOINT ?? defaultBssEndpoint(config.ECI_REGION), protocol: config.BSS_PROTOCOL, regionId: config.ECI_REGION, credentials, ...extra });
}
