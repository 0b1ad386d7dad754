/**
 * The part of `@alicloud/fc2` 2.6.6 (FC 2.0 API, 2016-08-15; no types published) that the invoker uses.
 * Note the capital `ID` in `accessKeyID`, and that `securityToken` is required when the key starts with `STS`.
 */
declare module '@alicloud/fc2' {
  interface Fc2ClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    securityToken?: string;
    region: string;
    /** full URL, e.g. https://<acct>.<region>.fc.aliyuncs.com; overrides secure/internal */
    endpoint?: string;
    secure?: boolean;
    internal?: boolean;
    /** ms, default 60000 */
    timeout?: number;
    headers?: Record<string, string>;
  }
  interface Fc2Response {
    headers: Record<string, string | string[] | undefined>;
    /** Buffer with `opts.rawBuf` (unless x-fc-error-type is set); string, or parsed JSON for application/json */
    data: unknown;
  }
  class Fc2Client {
    constructor(accountId: string, config: Fc2ClientConfig);
    invokeFunction(
      serviceName: string,
      functionName: string,
      event: string | Buffer,
      headers?: Record<string, string>,
      qualifier?: string,
      opts?: { rawBuf?: boolean },
    ): Promise<Fc2Response>;
  }
  export default Fc2Client;
}
