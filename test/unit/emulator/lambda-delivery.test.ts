import type { BusEvent, Emulator, InvokeResult, SqsEventRecord } from '../../../local/emulator';
import { createEmulator } from '../../../local/emulator';

// The emulator's Lambda model: reserved concurrency, the asynchronous queue with its throttling and error retries,
// on-failure destinations, SQS event source mappings and EventBridge rules with function or queue targets.
// AWS behaviour modelled, from the AWS Lambda Developer Guide:
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html (async retries, throttling backoff)
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (on-failure invocation records)
// https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (the SQS event)
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html (maximum concurrency)
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html (failed batches, partial responses)
// and the EventBridge User Guide (an SQS target gets the event JSON as the message body):
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const pattern = { source: ['test'] };

function event(id: string): BusEvent {
  return {
    version: '0',
    id,
    'detail-type': 'Test',
    source: 'test',
    account: '000000000000',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { n: id },
  };
}

/** Code that holds each execution until released, recording the payloads it got. */
function gatedCode() {
  const payloads: unknown[] = [];
  const waiting: (() => void)[] = [];
  let started: (() => void) | undefined;
  const code = (payload: unknown): Promise<InvokeResult> => {
    payloads.push(payload);
    started?.();
    return new Promise((resolve) => waiting.push(() => resolve({ ok: true, body: 'null' })));
  };
  return {
    code,
    payloads,
    /** Resolves once `count` executions have started in all. */
    startedCount: async (count: number) => {
      while (payloads.length < count) await new Promise<void>((resolve) => (started = resolve));
    },
    releaseAll: () => {
      for (const release of waiting.splice(0)) release();
    },
  };
}

const ok = async (): Promise<InvokeResult> => ({ ok: true, body: 'null' });

describe('EventBridge rule -> function (asynchronous invocation)', () => {
  it('throttles an event at the reserved concurrency and retries it from the async queue once a slot is free', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    const gated = gatedCode();
    emulator.addFunction({ name: 'fn', reservedConcurrency: 1, code: gated.code });
    emulator.addRule({ name: 'r', pattern, target: { function: 'fn' } });
    emulator.publish(event('e1'));
    emulator.publish(event('e2'));
    await gated.startedCount(1);
    // Let the throttled event back off a few times (1 s, 2 s, 4 s simulated) while the slot is held.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stats = emulator.lambdaStats().functions[0];
    expect(stats).toMatchObject({ invocations: 1, concurrentNow: 1, asyncQueued: 1 });
    expect(stats?.throttles).toBeGreaterThanOrEqual(2);
    const release = setInterval(gated.releaseAll, 2);
    await emulator.idle();
    clearInterval(release);
    expect(gated.payloads.map((payload) => (payload as BusEvent).id)).toEqual(['e1', 'e2']);
    expect(emulator.lambdaStats().functions[0]).toMatchObject({ invocations: 2, maxConcurrent: 1, asyncQueued: 0 });
  });

  it('retries a failing function twice, then keeps the event in the DLQ and sends the invocation record to the on-failure queue', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.0005 });
    const times: number[] = [];
    emulator.addQueue('on-failure');
    emulator.addFunction({
      name: 'fn',
      onFailureQueue: 'on-failure',
      code: async () => {
        times.push(Date.now());
        return { ok: false, body: '{"errorMessage":"boom","errorType":"Error"}', error: 'Unhandled' };
      },
    });
    emulator.addRule({ name: 'r', pattern, target: { function: 'fn' } });
    emulator.publish(event('e1'));
    await emulator.idle();
    expect(times).toHaveLength(3);
    const [first = 0, second = 0, third = 0] = times;
    expect(second - first).toBeGreaterThanOrEqual(25); // 60 s * 0.0005
    expect(third - second).toBeGreaterThanOrEqual(55); // 120 s * 0.0005
    expect(emulator.deadLetters()).toEqual([
      expect.objectContaining({ rule: 'r', attempts: 3, error: 'boom', event: expect.objectContaining({ id: 'e1' }) }),
    ]);
    const stats = emulator.lambdaStats();
    expect(stats.functions[0]).toMatchObject({ invocations: 3, errors: 3, asyncDiscarded: 1 });
    expect(stats.queues.find((queue) => queue.name === 'on-failure')).toMatchObject({ sent: 1, visible: 1 });
    const [message] = await receive(emulator, 'on-failure');
    expect(JSON.parse(message?.Body ?? '')).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { id: 'e1' },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'boom' },
    });
  });

  it('discards an event that stays throttled past maximumEventAge as EventAgeExceeded', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    const calls: unknown[] = [];
    emulator.addFunction({
      name: 'fn',
      reservedConcurrency: 0,
      maximumEventAgeSeconds: 60,
      code: async (payload) => {
        calls.push(payload);
        return { ok: true, body: 'null' };
      },
    });
    const started = Date.now();
    emulator.invokeAsync('fn', { hello: 1 });
    await emulator.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55); // a simulated minute
    expect(calls).toEqual([]);
    expect(emulator.deadLetters()).toEqual([
      expect.objectContaining({ rule: 'function:fn', attempts: 0, event: { hello: 1 } }),
    ]);
    // 1 + 2 + 4 + 8 + 16 s and up (jittered down to half), then the wait that ages it out: 6 to 10 throttles.
    const { throttles, invocations, asyncDiscarded } = emulator.lambdaStats().functions[0] ?? {};
    expect({ invocations, asyncDiscarded }).toEqual({ invocations: 0, asyncDiscarded: 1 });
    expect(throttles).toBeGreaterThanOrEqual(6);
    expect(throttles).toBeLessThanOrEqual(10);
  });

  it('replays a discarded event through its rule', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.0001 });
    let fail = true;
    const seen: string[] = [];
    emulator.addFunction({
      name: 'fn',
      maximumRetryAttempts: 0,
      code: async (payload) => {
        seen.push((payload as BusEvent).id);
        return fail ? { ok: false, body: '{"errorMessage":"down"}', error: 'Unhandled' } : { ok: true, body: 'null' };
      },
    });
    emulator.addRule({ name: 'r', pattern, target: { function: 'fn' } });
    emulator.publish(event('e1'));
    await emulator.idle();
    expect(emulator.deadLetters()).toHaveLength(1);
    fail = false;
    expect(emulator.replayDeadLetters()).toBe(1);
    await emulator.idle();
    expect(seen).toEqual(['e1', 'e1']);
    expect(emulator.deadLetters()).toEqual([]);
  });
});

describe('EventBridge rule -> SQS queue', () => {
  it('sends the matched event as the message body', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('events');
    emulator.addRule({ name: 'to-queue', pattern, target: { queue: 'events' } });
    const records: SqsEventRecord[] = [];
    emulator.addFunction({
      name: 'reader',
      code: async (payload) => {
        records.push(...(payload as { Records: SqsEventRecord[] }).Records);
        return { ok: true, body: 'null' };
      },
    });
    emulator.addEventSourceMapping({ queue: 'events', functionName: 'reader' });
    emulator.publish(event('e1'));
    await emulator.idle();
    expect(records).toHaveLength(1);
    expect(JSON.parse(records[0]?.body ?? '')).toEqual(event('e1'));
  });

  it('keeps the event in the DLQ when the target queue does not exist', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addRule({ name: 'to-nowhere', pattern, target: { queue: 'missing' } });
    emulator.publish(event('e1'));
    await emulator.idle();
    expect(emulator.deadLetters()).toEqual([expect.objectContaining({ rule: 'to-nowhere', attempts: 1 })]);
  });
});

describe('SQS event source mapping', () => {
  it("invokes the function with Lambda's SQS event and deletes the batch it handled", async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    const queue = emulator.addQueue('jobs');
    const events: { Records: SqsEventRecord[] }[] = [];
    emulator.addFunction({
      name: 'worker',
      code: async (payload) => {
        events.push(payload as { Records: SqsEventRecord[] });
        return { ok: true, body: 'null' };
      },
    });
    emulator.addEventSourceMapping({ queue: queue.arn, functionName: 'worker', batchSize: 10 });
    emulator.publish(event('x')); // no rule: nothing
    await sendBodies(emulator, 'jobs', ['a', 'b', 'c']);
    await emulator.idle();
    expect(events).toHaveLength(1);
    const [record] = events[0]?.Records ?? [];
    expect(record).toEqual({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body: 'a',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
      },
      messageAttributes: {},
      md5OfBody: '0cc175b9c0f1b6a831c399e269772661',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      awsRegion: 'us-east-1',
    });
    expect(events[0]?.Records.map((r) => r.body)).toEqual(['a', 'b', 'c']);
    expect(emulator.lambdaStats().queues[0]).toMatchObject({
      sent: 3,
      received: 3,
      deleted: 3,
      visible: 0,
      inFlight: 0,
    });
    expect(emulator.lambdaStats().functions[0]).toMatchObject({ invocations: 1, recordsHandled: 3 });
  });

  it('runs at most maximumConcurrency batches at once', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('jobs');
    const gated = gatedCode();
    emulator.addFunction({ name: 'worker', reservedConcurrency: 5, code: gated.code });
    emulator.addEventSourceMapping({ queue: 'jobs', functionName: 'worker', batchSize: 1, maximumConcurrency: 2 });
    await sendBodies(emulator, 'jobs', ['1', '2', '3', '4', '5']);
    await gated.startedCount(2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(gated.payloads).toHaveLength(2);
    expect(emulator.lambdaStats().eventSourceMappings[0]).toMatchObject({ inFlight: 2 });
    const release = setInterval(gated.releaseAll, 2);
    await emulator.idle();
    clearInterval(release);
    expect(gated.payloads).toHaveLength(5);
    expect(emulator.lambdaStats().functions[0]).toMatchObject({ maxConcurrent: 2, throttles: 0, invocations: 5 });
  });

  it('picks up a delayed message when its delay ends, not before (no polling)', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('later', { delaySeconds: 50 });
    const at: number[] = [];
    emulator.addFunction({
      name: 'worker',
      code: async () => {
        at.push(Date.now());
        return { ok: true, body: 'null' };
      },
    });
    emulator.addEventSourceMapping({ queue: 'later', functionName: 'worker' });
    const sent = Date.now();
    await sendBodies(emulator, 'later', ['x']);
    await emulator.idle();
    expect(at).toHaveLength(1);
    expect((at[0] ?? 0) - sent).toBeGreaterThanOrEqual(45); // 50 s * 0.001
  });

  it('returns only the messages named in batchItemFailures, after the visibility timeout', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('jobs', { visibilityTimeout: 30 });
    const seen: string[] = [];
    emulator.addFunction({
      name: 'worker',
      code: async (payload) => {
        const records = (payload as { Records: SqsEventRecord[] }).Records;
        seen.push(...records.map((record) => `${record.body}#${record.attributes.ApproximateReceiveCount}`));
        const failed = records.filter(
          (record) => record.body === 'bad' && record.attributes.ApproximateReceiveCount === '1',
        );
        return {
          ok: true,
          body: JSON.stringify({ batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) }),
        };
      },
    });
    emulator.addEventSourceMapping({
      queue: 'jobs',
      functionName: 'worker',
      functionResponseType: 'ReportBatchItemFailures',
    });
    await sendBodies(emulator, 'jobs', ['good', 'bad']);
    await emulator.idle();
    expect(seen).toEqual(['good#1', 'bad#1', 'bad#2']);
    expect(emulator.lambdaStats().queues[0]).toMatchObject({ deleted: 2, received: 3 });
  });

  it('deletes nothing of a batch whose function failed, and redrives a message failing maxReceiveCount times to the DLQ', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('dlq');
    emulator.addQueue('jobs', { visibilityTimeout: 10, redrivePolicy: { deadLetterQueue: 'dlq', maxReceiveCount: 3 } });
    let invocations = 0;
    emulator.addFunction({
      name: 'worker',
      code: async () => {
        invocations += 1;
        return { ok: false, body: '{"errorMessage":"always"}', error: 'Unhandled' };
      },
    });
    emulator.addEventSourceMapping({ queue: 'jobs', functionName: 'worker' });
    await sendBodies(emulator, 'jobs', ['poison']);
    await emulator.idle();
    expect(invocations).toBe(3);
    const queues = emulator.lambdaStats().queues;
    expect(queues.find((queue) => queue.name === 'jobs')).toMatchObject({ deleted: 0, movedToDlq: 1, visible: 0 });
    expect(queues.find((queue) => queue.name === 'dlq')).toMatchObject({ visible: 1 });
  });

  it('leaves a throttled batch in flight to reappear after the visibility timeout, never beyond the reserved concurrency', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('jobs', { visibilityTimeout: 200 });
    const gated = gatedCode();
    emulator.addFunction({ name: 'worker', reservedConcurrency: 1, code: gated.code });
    emulator.addEventSourceMapping({ queue: 'jobs', functionName: 'worker', batchSize: 1, maximumConcurrency: 10 });
    await sendBodies(emulator, 'jobs', ['1', '2', '3']);
    await gated.startedCount(1);
    await new Promise((resolve) => setImmediate(resolve));
    // One batch runs, one is throttled (in flight until its visibility timeout), and the mapping backs off.
    expect(emulator.lambdaStats().functions[0]).toMatchObject({ throttles: 1, concurrentNow: 1 });
    expect(emulator.lambdaStats().queues[0]).toMatchObject({ inFlight: 2, visible: 1 });
    const release = setInterval(gated.releaseAll, 2);
    await emulator.idle();
    clearInterval(release);
    expect(gated.payloads).toHaveLength(3);
    const receiveCounts = gated.payloads.map(
      (payload) => (payload as { Records: SqsEventRecord[] }).Records[0]?.attributes.ApproximateReceiveCount,
    );
    expect(receiveCounts.filter((count) => count === '2')).toHaveLength(1);
    expect(emulator.lambdaStats().functions[0]?.maxConcurrent).toBe(1);
  });

  it('delivers a message again when an invocation outlasts its visibility timeout; the late delete does not remove it', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('jobs', { visibilityTimeout: 20 });
    let secondStarted: () => void = () => undefined;
    let firstDone: () => void = () => undefined;
    const second = new Promise<void>((resolve) => (secondStarted = resolve));
    const first = new Promise<void>((resolve) => (firstDone = resolve));
    const counts: string[] = [];
    emulator.addFunction({
      name: 'worker',
      code: async (payload) => {
        const count = (payload as { Records: SqsEventRecord[] }).Records[0]?.attributes.ApproximateReceiveCount ?? '';
        counts.push(count);
        if (count === '1') {
          await second; // still running when the message comes back
          firstDone();
          return { ok: true, body: 'null' };
        }
        if (count === '2') {
          secondStarted();
          await first;
          return { ok: false, body: '{"errorMessage":"second fails"}', error: 'Unhandled' };
        }
        return { ok: true, body: 'null' };
      },
    });
    emulator.addEventSourceMapping({ queue: 'jobs', functionName: 'worker', maximumConcurrency: 2 });
    await sendBodies(emulator, 'jobs', ['slow']);
    await emulator.idle();
    // The first invocation's delete used the first receipt handle: the message stayed for the third receive.
    expect(counts).toEqual(['1', '2', '3']);
    expect(emulator.lambdaStats().queues[0]).toMatchObject({ received: 3, deleted: 1, visible: 0, inFlight: 0 });
  });

  it('waits up to maximumBatchingWindow to fill a batch', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('jobs');
    const sizes: number[] = [];
    emulator.addFunction({
      name: 'worker',
      code: async (payload) => {
        sizes.push((payload as { Records: unknown[] }).Records.length);
        return { ok: true, body: 'null' };
      },
    });
    emulator.addEventSourceMapping({ queue: 'jobs', functionName: 'worker', maximumBatchingWindowSeconds: 300 });
    await sendBodies(emulator, 'jobs', ['1']);
    await new Promise((resolve) => setTimeout(resolve, 2));
    await sendBodies(emulator, 'jobs', ['2', '3']);
    await emulator.idle();
    expect(sizes).toEqual([3]);
  });
});

describe('/_local/lambda', () => {
  it('reports functions and queues over HTTP and resets the counters on POST {"reset": true}', async () => {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    emulator.addQueue('jobs');
    emulator.addFunction({ name: 'worker', reservedConcurrency: 2, code: ok });
    emulator.addEventSourceMapping({ queue: 'jobs', functionName: 'worker' });
    await sendBodies(emulator, 'jobs', ['x']);
    await emulator.idle();
    const read = (await (await fetch(`${emulator.url}/_local/lambda`)).json()) as Record<string, unknown>;
    expect(read).toMatchObject({
      functions: [{ name: 'worker', reservedConcurrency: 2, invocations: 1, recordsHandled: 1 }],
      queues: [{ name: 'jobs', sent: 1, deleted: 1 }],
      eventSourceMappings: [{ queue: 'jobs', functionName: 'worker', inFlight: 0 }],
    });
    const reset = await fetch(`${emulator.url}/_local/lambda`, { method: 'POST', body: '{"reset":true}' });
    expect(await reset.json()).toMatchObject({ functions: [{ invocations: 0, billedMs: 0 }], queues: [{ sent: 0 }] });
  });
});

/** Sends messages through the SQS API (AWS JSON 1.0), as a producer would. */
async function sendBodies(target: Emulator, queue: string, bodies: string[]): Promise<void> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessageBatch' },
    body: JSON.stringify({
      QueueUrl: `${target.url}/000000000000/${queue}`,
      Entries: bodies.map((body, index) => ({ Id: `m${index}`, MessageBody: body })),
    }),
  });
  const answer = (await response.json()) as { Failed?: unknown[] };
  if (response.status !== 200 || (answer.Failed ?? []).length > 0) throw new Error(JSON.stringify(answer));
}

/** Receives up to 10 messages through the SQS API. */
async function receive(target: Emulator, queue: string): Promise<{ Body: string }[]> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ReceiveMessage' },
    body: JSON.stringify({ QueueUrl: `${target.url}/000000000000/${queue}`, MaxNumberOfMessages: 10 }),
  });
  return ((await response.json()) as { Messages?: { Body: string }[] }).Messages ?? [];
}
