import type { Clock } from '../clock';
import { randomUUID } from '../random';
import {
  type AsyncEventState,
  DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
  DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
  nextAsyncStep,
} from './backoff';
import type { Execution, LambdaFunction } from './functions';

/**
 * A discarded asynchronous event, as Lambda's on-failure destination receives it: the invocation record
 * (AWS Lambda Developer Guide, "Capturing records of Lambda asynchronous invocations",
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
 */
export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted' | 'EventAgeExceeded';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  responsePayload?: unknown;
}

/** A discarded event: which function, from which rule, why, and its invocation record. */
export interface Discarded {
  fn: LambdaFunction;
  rule?: string;
  payload: unknown;
  record: InvocationRecord;
  /** The last error, or why it aged out. */
  error: string;
}

export interface AsyncInvokerOptions {
  clock: Clock;
  region: string;
  accountId: string;
  log: (line: string) => void;
  onDiscard: (discarded: Discarded) => void;
}

/**
 * Lambda's asynchronous invocation (InvocationType Event, and what EventBridge does with a function target):
 * each event waits in the function's queue; a throttled attempt returns it with exponential backoff, a function
 * error is retried maximumRetryAttempts times, and what fails or ages out is discarded to the on-failure destination.
 */
export class AsyncInvoker {
  constructor(private readonly options: AsyncInvokerOptions) {}

  /** Accepts an event for `fn` (as Invoke with InvocationType Event answers 202) and runs it as Lambda would. */
  invoke(fn: LambdaFunction, payload: unknown, rule?: string): void {
    this.attempt(fn, payload, rule, { ageMs: 0, errors: 0, throttles: 0 });
  }

  private attempt(fn: LambdaFunction, payload: unknown, rule: string | undefined, state: AsyncEventState): void {
    void this.options.clock.track(
      fn.execute(payload).then((execution) => this.after(fn, payload, rule, state, execution)),
    );
  }

  private after(
    fn: LambdaFunction,
    payload: unknown,
    rule: string | undefined,
    state: AsyncEventState,
    execution: Execution,
  ): void {
    const outcome = execution.throttled ? 'throttled' : execution.result.ok ? 'success' : 'error';
    const step = nextAsyncStep(
      state,
      outcome,
      {
        maximumRetryAttempts: fn.spec.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
        maximumEventAgeMs: (fn.spec.maximumEventAgeSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS) * 1000,
      },
      Math.random(),
    );
    if (step.kind === 'done') return;
    const lastError = execution.throttled ? undefined : execution.result;
    if (step.kind === 'discard') {
      const discard = () => {
        if (step.delayMs > 0) fn.asyncQueued -= 1;
        this.discard(fn, payload, rule, step.condition, step.state, lastError);
      };
      if (step.delayMs === 0) discard();
      else {
        fn.asyncQueued += 1;
        this.options.clock.after(step.delayMs, discard);
      }
      return;
    }
    if (outcome === 'error') {
      this.options.log(
        `function ${fn.name}: event failed (attempt ${step.state.errors}: ${summary(lastError?.body)}); retrying`,
      );
    }
    fn.asyncQueued += 1;
    this.options.clock.after(step.delayMs, () => {
      fn.asyncQueued -= 1;
      this.attempt(fn, payload, rule, step.state);
    });
  }

  private discard(
    fn: LambdaFunction,
    payload: unknown,
    rule: string | undefined,
    condition: 'RetriesExhausted' | 'EventAgeExceeded',
    state: AsyncEventState,
    last: { body: string; error?: string } | undefined,
  ): void {
    fn.counters.asyncDiscarded += 1;
    const { region, accountId } = this.options;
    const record: InvocationRecord = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: randomUUID(),
        functionArn: `arn:aws:lambda:${region}:${accountId}:function:${fn.name}:$LATEST`,
        condition,
        approximateInvokeCount: state.errors,
      },
      requestPayload: payload,
      ...(last
        ? {
            responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: last.error ?? 'Unhandled' },
            responsePayload: parsePayload(last.body),
          }
        : {}),
    };
    const error =
      condition === 'EventAgeExceeded'
        ? `event older than maximumEventAge (${state.throttles} throttled attempts)`
        : summary(last?.body);
    this.options.log(`function ${fn.name}: event discarded (${condition}: ${error})`);
    this.options.onDiscard({ fn, ...(rule ? { rule } : {}), payload, record, error });
  }
}

/** A function's error payload as the DLQ shows it: its errorMessage when it has one. */
function summary(body: string | undefined): string {
  const parsed = parsePayload(body ?? '');
  if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) return String(parsed.errorMessage);
  return (body ?? '').slice(0, 300);
}

function parsePayload(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
