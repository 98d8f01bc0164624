import { messagesToKeep, nextAsyncStep, throttleRetryDelayMs } from '../../../local/emulator';

// Lambda's asynchronous queue (AWS Lambda Developer Guide, "How Lambda handles errors and retries with asynchronous
// invocation", https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): a function
// error is retried twice, one minute then two minutes later; a throttled event is retried with an interval that
// "increases exponentially from 1 second after the first attempt to a maximum of 5 minutes", for up to 6 hours.
describe("Lambda's asynchronous queue decisions", () => {
  const config = { maximumRetryAttempts: 2, maximumEventAgeMs: 21_600_000 };
  const fresh = { ageMs: 0, errors: 0, throttles: 0 };

  it('jitters a throttled wait within its upper half: a burst throttled together does not retry in lockstep', () => {
    expect([0, 0.5, 1].map((jitter) => throttleRetryDelayMs(3, jitter))).toEqual([8_000, 6_000, 4_000]);
    expect(throttleRetryDelayMs(20, 1)).toBe(150_000);
  });

  it('waits 1, 2, 4 ... seconds between throttled attempts, never more than 5 minutes', () => {
    expect([0, 1, 2, 3, 8, 9, 20].map((n) => throttleRetryDelayMs(n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000,
    ]);
  });

  it('retries a function error 1 and 2 minutes later, then discards it as RetriesExhausted', () => {
    const first = nextAsyncStep(fresh, 'error', config);
    expect(first).toMatchObject({ kind: 'retry', delayMs: 60_000 });
    const second = first.kind === 'retry' ? nextAsyncStep(first.state, 'error', config) : first;
    expect(second).toMatchObject({ kind: 'retry', delayMs: 120_000 });
    const third = second.kind === 'retry' ? nextAsyncStep(second.state, 'error', config) : second;
    expect(third).toMatchObject({ kind: 'discard', condition: 'RetriesExhausted', delayMs: 0, state: { errors: 3 } });
  });

  it('honours maximumRetryAttempts 0: the first error is discarded', () => {
    expect(nextAsyncStep(fresh, 'error', { ...config, maximumRetryAttempts: 0 })).toMatchObject({
      kind: 'discard',
      condition: 'RetriesExhausted',
    });
  });

  it('does not count throttles as retries, and discards an event that would outlive maximumEventAge when it ages out', () => {
    const oneMinute = { maximumRetryAttempts: 2, maximumEventAgeMs: 60_000 };
    let state = fresh;
    const waits: number[] = [];
    for (;;) {
      const step = nextAsyncStep(state, 'throttled', oneMinute);
      if (step.kind !== 'retry') {
        expect(step).toMatchObject({ kind: 'discard', condition: 'EventAgeExceeded', state: { ageMs: 60_000 } });
        waits.push(step.kind === 'discard' ? step.delayMs : 0);
        break;
      }
      waits.push(step.delayMs);
      state = step.state;
    }
    // 1+2+4+8+16 = 31 s, then 29 s more until the event is a minute old.
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 29_000]);
    expect(state.errors).toBe(0);
  });

  it('is done after a success', () => {
    expect(nextAsyncStep({ ageMs: 5_000, errors: 1, throttles: 3 }, 'success', config)).toEqual({ kind: 'done' });
  });
});

// Partial batch responses (AWS Lambda Developer Guide, "Handling errors for an SQS event source",
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
describe('what an SQS batch leaves in the queue', () => {
  const ids = ['m1', 'm2', 'm3'];

  it('leaves nothing without ReportBatchItemFailures, whatever the function answers', () => {
    expect(messagesToKeep('{"batchItemFailures":[{"itemIdentifier":"m1"}]}', ids, false)).toEqual([]);
  });

  it('leaves nothing for an empty, null or absent batchItemFailures', () => {
    for (const body of ['', 'null', '{}', '{"batchItemFailures":[]}', '{"batchItemFailures":null}']) {
      expect(messagesToKeep(body, ids, true)).toEqual([]);
    }
  });

  it('leaves the messages the function names', () => {
    expect(
      messagesToKeep('{"batchItemFailures":[{"itemIdentifier":"m3"},{"itemIdentifier":"m1"}]}', ids, true),
    ).toEqual(['m1', 'm3']);
  });

  it('treats an empty, null or unknown itemIdentifier as a failure of the whole batch', () => {
    for (const identifier of ['""', 'null', '"other"']) {
      expect(messagesToKeep(`{"batchItemFailures":[{"itemIdentifier":${identifier}}]}`, ids, true)).toEqual(ids);
    }
  });
});
