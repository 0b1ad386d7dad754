/**
 * The part of @alicloud/mns 1.2.0 (CommonJS, no published types) that the queue adapter uses, as read from
 * node_modules/@alicloud/mns/lib/client.js. Every body value the SDK returns is a string (numbers included).
 */
declare module '@alicloud/mns' {
  namespace MNS {
    export interface MnsStsCredentials {
      accessKeyId: string;
      accessKeySecret: string;
      securityToken: string;
    }

    export interface MnsClientOptions {
      accessKeyId: string;
      accessKeySecret: string;
      securityToken?: string;
      /** 1.2.0: runs before a request once `refreshSTSTokenInterval` has passed, only if `securityToken` was given */
      refreshSTSToken?: () => Promise<MnsStsCredentials>;
      refreshSTSTokenInterval?: number;
      region?: string;
      /** 1.1.0+: `http(s)://host[:port]`, replaces region/secure/internal/vpc */
      endpoint?: string;
      secure?: boolean;
      internal?: boolean;
      vpc?: boolean;
      readTimeout?: number;
      connectTimeout?: number;
    }

    export interface MnsResponse<T> {
      code: number;
      headers: Record<string, string | undefined>;
      body: T;
    }

    export interface MnsSendParams {
      MessageBody: string;
      DelaySeconds?: number;
      Priority?: number;
    }

    export interface MnsSentMessage {
      MessageId: string;
      MessageBodyMD5: string;
      ReceiptHandle?: string;
      ErrorCode?: string;
      ErrorMessage?: string;
    }

    export interface MnsMessage {
      MessageId: string;
      MessageBodyMD5: string;
      MessageBody: string;
      ReceiptHandle: string;
      EnqueueTime: string;
      FirstDequeueTime: string;
      NextVisibleTime: string;
      DequeueCount: string;
      Priority: string;
    }

    export type MnsPeekedMessage = Omit<MnsMessage, 'ReceiptHandle' | 'NextVisibleTime'>;

    export interface MnsDeleteError {
      ErrorCode: string;
      ErrorMessage: string;
      ReceiptHandle: string;
    }

    export type MnsQueueAttributes = Record<string, string>;

  }

  class MNS {
    constructor(accountId: string, opts: MNS.MnsClientOptions);
    createQueue(name: string, attrs?: Record<string, string | number>): Promise<MNS.MnsResponse<undefined>>;
    deleteQueue(name: string): Promise<MNS.MnsResponse<undefined>>;
    getQueueAttributes(name: string): Promise<MNS.MnsResponse<MNS.MnsQueueAttributes>>;
    setQueueAttributes(name: string, attrs: Record<string, string | number>): Promise<MNS.MnsResponse<undefined>>;
    listQueue(start?: string, limit?: number, prefix?: string): Promise<MNS.MnsResponse<{ QueueURL: string }[]>>;
    sendMessage(queue: string, params: MNS.MnsSendParams): Promise<MNS.MnsResponse<MNS.MnsSentMessage>>;
    batchSendMessage(queue: string, params: MNS.MnsSendParams[]): Promise<MNS.MnsResponse<MNS.MnsSentMessage[]>>;
    receiveMessage(queue: string, waitSeconds?: number): Promise<MNS.MnsResponse<MNS.MnsMessage>>;
    batchReceiveMessage(queue: string, n: number, waitSeconds?: number): Promise<MNS.MnsResponse<MNS.MnsMessage[]>>;
    peekMessage(queue: string): Promise<MNS.MnsResponse<MNS.MnsPeekedMessage>>;
    batchPeekMessage(queue: string, n: number): Promise<MNS.MnsResponse<MNS.MnsPeekedMessage[]>>;
    deleteMessage(queue: string, receiptHandle: string): Promise<MNS.MnsResponse<undefined>>;
    /** partial failure: resolves with the refused handles in `body` */
    batchDeleteMessage(queue: string, receiptHandles: string[]): Promise<MNS.MnsResponse<MNS.MnsDeleteError[] | undefined>>;
    changeMessageVisibility(
      queue: string,
      receiptHandle: string,
      visibilityTimeout: number,
    ): Promise<MNS.MnsResponse<{ ReceiptHandle: string; NextVisibleTime: string }>>;
  }

  export = MNS;
}
