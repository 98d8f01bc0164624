/**
 * The decisions of Lambda's asynchronous event queue, as pure functions (AWS Lambda Developer Guide, "How Lambda
 * handles errors and retries with asynchronous invocation",
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html):
 * - a function error is retried maximumRetryAttempts times (default 2), one minute, then two minutes later;
 * - a throttled event (the function at its reserved concurrency) returns to the queue and is retried with an
 *   interval that "increases exponentially from 1 second after the first attempt to a maximum of 5 minutes";
 * - either way an event older than maximumEventAge (default 6 hours) is discarded, to the on-failure destination.
 *
 * The throttling waits are jittered ("equal jitter": a uniform draw in the upper half of the exponential wait). AWS
 * does not document Lambda's jitter, but without one every event of a burst that was throttled together retries at
 * the same instant, round after round, and the reserved executions stand idle between rounds: a queue held back
 * far longer than any retry policy AWS advises would hold it (AWS Architecture Blog, "Exponential Backoff And
 * Jitter", https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 */

/** Waits before the retries of a function error (1 and 2 minutes). */
export const RETRY_DELAYS_MS = [60_000, 120_000] as const;
/** The first and the longest wait before retrying a throttled event. */
export const THROTTLE_FIRST_RETRY_MS = 1_000;
export const THROTTLE_MAX_RETRY_MS = 300_000;
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2;
export const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 21_600;

/**
 * The wait before the (n+1)th retry of a throttled event, n counted from 0: 1 s, 2 s, 4 s ... 5 min, less up to half
 * of it by `jitter` (0 to 1: 0 is the whole wait, the default).
 */
export function throttleRetryDelayMs(throttles: number, jitter = 0): number {
  const wait = Math.min(THROTTLE_FIRST_RETRY_MS * 2 ** Math.max(0, throttles), THROTTLE_MAX_RETRY_MS);
  return Math.round(wait * (1 - Math.min(1, Math.max(0, jitter)) / 2));
}

/** Where an asynchronous event stands in Lambda's queue. Ages are simulated milliseconds. */
export interface AsyncEventState {
  /** How long the event has waited in the queue (the sum of the waits so far). */
  ageMs: number;
  /** Function errors so far. */
  errors: number;
  /** Throttled attempts so far. */
  throttles: number;
}

export interface AsyncConfig {
  maximumRetryAttempts: number;
  maximumEventAgeMs: number;
}

export type AsyncOutcome = 'success' | 'throttled' | 'error';

export type AsyncStep =
  | { kind: 'done' }
  | { kind: 'retry'; delayMs: number; state: AsyncEventState }
  | { kind: 'discard'; condition: 'RetriesExhausted' | 'EventAgeExceeded'; delayMs: number; state: AsyncEventState };

/**
 * What Lambda's async queue does after an attempt: done, retry after a wait, or discard (after the wait that
 * makes the event too old, when it ages out rather than running out of retries).
 */
export function nextAsyncStep(
  state: AsyncEventState,
  outcome: AsyncOutcome,
  config: AsyncConfig,
  /** The throttling wait's jitter, 0 to 1 (see throttleRetryDelayMs). */
  jitter = 0,
): AsyncStep {
  if (outcome === 'success') return { kind: 'done' };
  let delayMs: number;
  let next: AsyncEventState;
  if (outcome === 'error') {
    if (state.errors >= config.maximumRetryAttempts) {
      return {
        kind: 'discard',
        condition: 'RetriesExhausted',
        delayMs: 0,
        state: { ...state, errors: state.errors + 1 },
      };
    }
    delayMs = RETRY_DELAYS_MS[Math.min(state.errors, RETRY_DELAYS_MS.length - 1)] as number;
    next = { ...state, errors: state.errors + 1, ageMs: state.ageMs + delayMs };
  } else {
    delayMs = throttleRetryDelayMs(state.throttles, jitter);
    next = { ...state, throttles: state.throttles + 1, ageMs: state.ageMs + delayMs };
  }
  if (next.ageMs > config.maximumEventAgeMs) {
    const untilTooOld = Math.max(0, config.maximumEventAgeMs - state.ageMs);
    return {
      kind: 'discard',
      condition: 'EventAgeExceeded',
      delayMs: untilTooOld,
      state: { ...next, ageMs: state.ageMs + untilTooOld },
    };
  }
  return { kind: 'retry', delayMs, state: next };
}
