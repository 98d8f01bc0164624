/**
 * The shapes of the emulator's Lambda model (functions with reserved concurrency, the asynchronous queue,
 * SQS event source mappings) and of its SQS queues, as the local stack and the benchmarks drive them.
 */

/** What a function returned through the Invoke API (RequestResponse), or why it failed. */
export interface InvokeResult {
  ok: boolean;
  /** The response payload (the function's result, or its error object). */
  body: string;
  /** `X-Amz-Function-Error` (`Unhandled`), or `HTTP <status>` for an error of the endpoint itself. */
  error?: string;
}

/** Runs the function's code once with a payload (the local stack: serverless-offline's Invoke API). */
export type FunctionCode = (payload: unknown) => Promise<InvokeResult>;

/** A Lambda function in the emulator: its code, its reserved concurrency and its asynchronous invocation config. */
export interface FunctionSpec {
  /** The function name (`ecs-cloudmap-registrar-local-register`). */
  name: string;
  /** Reserved concurrency: at most this many executions at once; absent = unreserved (no limit modelled). */
  reservedConcurrency?: number;
  code: FunctionCode;
  /** Asynchronous invocations: retries of a function error, 0-2. Default 2, as Lambda. */
  maximumRetryAttempts?: number;
  /** Asynchronous invocations: the oldest an event may get (simulated seconds), 60-21600. Default 21600. */
  maximumEventAgeSeconds?: number;
  /**
   * Asynchronous invocations: where a discarded event's invocation record goes, an emulated SQS queue (name, URL
   * or ARN). The event is kept in the dead-letter list (`/_local/dlq`) either way.
   */
  onFailureQueue?: string;
}

/** A queue's settings, as CreateQueue's attributes give them (seconds). */
export interface QueueOptions {
  /** 0-900; default 0. */
  delaySeconds?: number;
  /** 0-43200; default 30. */
  visibilityTimeout?: number;
  /** 60-1209600; default 345600 (4 days). */
  messageRetentionPeriod?: number;
  /** Messages received maxReceiveCount times move to the dead-letter queue (name, URL or ARN). */
  redrivePolicy?: { deadLetterQueue: string; maxReceiveCount: number };
}

/** A queue's names. */
export interface QueueInfo {
  name: string;
  url: string;
  arn: string;
}

/** An SQS event source mapping: a poller of `queue` invoking `functionName` with batches of messages. */
export interface EventSourceMappingSpec {
  /** The queue (name, URL or ARN). */
  queue: string;
  functionName: string;
  /** 1-10 (standard queue, no batching window beyond 10 here); default 10. */
  batchSize?: number;
  /** Seconds (simulated) the poller waits to fill a batch; 0-300, default 0. */
  maximumBatchingWindowSeconds?: number;
  /** At most this many invocations at once (2-1000); absent = no cap but the function's own. */
  maximumConcurrency?: number;
  /** With ReportBatchItemFailures, only the messages the function names in `batchItemFailures` stay. */
  functionResponseType?: 'ReportBatchItemFailures';
}

/** A rule target that is a function (invoked asynchronously, through its async queue) or a queue (SendMessage). */
export type ResourceTarget = { function: string } | { queue: string };

/** A function's accounting since the emulator started (or the last reset). */
export interface FunctionStats {
  name: string;
  reservedConcurrency?: number;
  /** Invocations that ran the code (throttled ones not counted). */
  invocations: number;
  /** Invocations refused because the function was at its reserved concurrency. */
  throttles: number;
  /** Invocations that returned a function error. */
  errors: number;
  /** Executions running now. */
  concurrentNow: number;
  /** The most executions that ran at once. */
  maxConcurrent: number;
  /** Sum of the executions' durations, each rounded up to 1 ms (real milliseconds, as the code ran here). */
  billedMs: number;
  /** SQS records handed to the function by its event source mappings (throttled batches not counted). */
  recordsHandled: number;
  /** Asynchronous events waiting in the function's async queue now (retry or throttle backoff). */
  asyncQueued: number;
  /** Asynchronous events discarded (retries exhausted or too old) and sent to the on-failure destination. */
  asyncDiscarded: number;
}

/** A queue's accounting since the emulator started (or the last reset), and its messages now. */
export interface QueueStats {
  name: string;
  sent: number;
  received: number;
  deleted: number;
  /** Messages moved to the dead-letter queue by the redrive policy. */
  movedToDlq: number;
  visible: number;
  inFlight: number;
  delayed: number;
}

/** `GET /_local/lambda` and Emulator.lambdaStats(). */
export interface LambdaStats {
  functions: FunctionStats[];
  queues: QueueStats[];
  eventSourceMappings: { uuid: string; queue: string; functionName: string; inFlight: number }[];
}
