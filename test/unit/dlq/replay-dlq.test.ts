import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type ReplayOptions, type ReplayResult, replayDlq } from '../../../lib/dlq/replay-dlq';
import { blob, EVENT, FUNCTION, lambdaMock, message, QUEUE, sqsError, sqsMock } from '../../helpers/dlq-fixtures';
import { loadEvent } from '../../helpers/fixtures';
import { SqsQueueModel } from './sqs-queue-model';

/*
 * SQS behaviour the replay relies on (each also cited in ./sqs-queue-model.ts):
 * - ChangeMessageVisibility counts the new timeout from the time of the call, up to 12 hours in all:
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 * - every receive of a message gives a new receipt handle, and only the newest one surely deletes it:
 *   https://docs.aws.amazon.com/sdk-for-sap-abap/v1/api/latest/sqs/operation/DELETEMESSAGE.html
 * - a stale handle is refused with InvalidParameterValue ("The receipt handle has expired",
 *   https://github.com/aws/aws-sdk-java/issues/1628), ReceiptHandleIsInvalid, or MessageNotInflight.
 */

const LEAVING = loadEvent('02-fargate-stopped-essential-exit255-standalone.json');

const destination = (event: unknown) => ({
  requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
  requestPayload: event,
  responsePayload: { errorType: 'Error', errorMessage: 'boom' },
});
const payloadOf = (call: { args: [unknown] }) =>
  JSON.parse(new TextDecoder().decode((call.args[0] as InvokeCommand).input.Payload as Uint8Array));
const EXPIRED = sqsError(
  'InvalidParameterValue',
  'Value handle-m1 for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.',
);
const HANDLED = { StatusCode: 200, Payload: blob('{"result":"registered"}') } as unknown as InvokeCommandOutput;
const FAILED = {
  StatusCode: 200,
  FunctionError: 'Unhandled',
  Payload: blob('{"errorType":"X"}'),
} as unknown as InvokeCommandOutput;
/** An invocation that answers after `seconds` of the test's clock. */
const slowly = (seconds: number, answer: InvokeCommandOutput) => () =>
  new Promise<InvokeCommandOutput>((resolve) => setTimeout(() => resolve(answer), seconds * 1000));

/** Queues these batches of messages, then empty long polls. */
function queueHolds(...batches: Message[][]) {
  const receive = sqsMock.on(ReceiveMessageCommand);
  for (const batch of batches) receive.resolvesOnce({ Messages: batch });
  receive.resolves({});
}

/** The SQS calls that touched messages, in order, as `Call handle [seconds]`. */
const messageCalls = () =>
  sqsMock
    .calls()
    .map((c) => c.args[0] as ChangeMessageVisibilityCommand | DeleteMessageCommand)
    .filter((command) => command instanceof ChangeMessageVisibilityCommand || command instanceof DeleteMessageCommand)
    .map((command) =>
      command instanceof ChangeMessageVisibilityCommand
        ? `ChangeMessageVisibility ${command.input.ReceiptHandle} ${command.input.VisibilityTimeout}`
        : `DeleteMessage ${command.input.ReceiptHandle}`,
    );

beforeEach(() => {
  sqsMock.reset();
  lambdaMock.reset();
  sqsMock.on(DeleteMessageCommand).resolves({});
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  lambdaMock.on(InvokeCommand).resolves(HANDLED);
});

const replay = (extra: Partial<ReplayOptions> = {}) => {
  const results: ReplayResult[] = [];
  return replayDlq({
    sqs: new SQSClient({}),
    lambda: new LambdaClient({}),
    queueUrl: QUEUE,
    functionName: FUNCTION,
    onResult: (r) => results.push(r),
    ...extra,
  }).then((summary) => ({ summary, results }));
};

/** Runs the replay on jest's fake clock until it settles. */
async function replayOnFakeClock(extra: Partial<ReplayOptions> = {}) {
  const run = replay(extra);
  let settled = false;
  run.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let i = 0; i < 100_000 && !settled; i += 1) await jest.advanceTimersByTimeAsync(1000);
  return run;
}

describe('replayDlq', () => {
  it('invokes the function with the event of each shape and deletes the messages it handled', async () => {
    queueHolds([message('m1', EVENT)], [message('m2', destination(LEAVING))]);

    const { summary } = await replay();

    const invokes = lambdaMock.commandCalls(InvokeCommand);
    expect(invokes.map((c) => c.args[0].input.InvocationType)).toEqual(['RequestResponse', 'RequestResponse']);
    expect(invokes.map((c) => c.args[0].input.FunctionName)).toEqual([FUNCTION, FUNCTION]);
    expect(invokes.map(payloadOf)).toEqual([EVENT, LEAVING]);
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: 'handle-m1' },
      { QueueUrl: QUEUE, ReceiptHandle: 'handle-m2' },
    ]);
    expect(summary).toEqual({
      queueUrl: QUEUE,
      received: 2,
      replayed: 2,
      failed: 0,
      unreadable: 0,
      notDeleted: 0,
      seenAgain: 0,
      queueErrors: 0,
      dryRun: false,
    });
  });

  it('keeps a message whose event fails again hidden for the rest of the run, and makes it visible again at the end', async () => {
    queueHolds([message('m1', EVENT)]);
    lambdaMock.on(InvokeCommand).resolves(FAILED);

    const { summary, results } = await replay();

    expect(messageCalls()).toEqual(['ChangeMessageVisibility handle-m1 3600', 'ChangeMessageVisibility handle-m1 0']);
    expect(results).toEqual([
      {
        messageId: 'm1',
        result: 'failed',
        kind: 'rule-event',
        taskArn: EVENT.detail.taskArn,
        error: 'Unhandled: {"errorType":"X"}',
      },
    ]);
    expect(summary.failed).toBe(1);
  });

  it('keeps a message when the invocation itself is refused (throttled)', async () => {
    queueHolds([message('m1', EVENT)]);
    lambdaMock
      .on(InvokeCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    const { summary, results } = await replay();

    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(results[0]).toMatchObject({ result: 'failed', error: 'TooManyRequestsException: Rate exceeded' });
    expect(summary).toMatchObject({ replayed: 0, failed: 1 });
  });

  it('leaves an unreadable message in the queue without invoking anything', async () => {
    queueHolds([message('m1', 'not json')]);

    const { summary, results } = await replay();

    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(results).toEqual([{ messageId: 'm1', result: 'unreadable', reason: 'message body is not JSON' }]);
    expect(summary.unreadable).toBe(1);
  });

  it('in a dry run invokes and deletes nothing, and gives every message back', async () => {
    queueHolds([message('m1', EVENT)], [message('m2', destination(LEAVING))]);

    const { summary, results } = await replay({ dryRun: true });

    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(messageCalls()).toEqual([
      'ChangeMessageVisibility handle-m1 3600',
      'ChangeMessageVisibility handle-m2 3600',
      'ChangeMessageVisibility handle-m1 0',
      'ChangeMessageVisibility handle-m2 0',
    ]);
    expect(results.map((r) => [r.result, 'kind' in r ? r.kind : undefined])).toEqual([
      ['would-replay', 'rule-event'],
      ['would-replay', 'destination-record'],
    ]);
    expect(summary).toMatchObject({ received: 2, replayed: 0, dryRun: true });
  });

  it('receives one message at a time, so no message waits hidden while another is invoked, until a long poll comes back empty', async () => {
    queueHolds([message('m1', EVENT)], [message('m2', EVENT)]);

    const { summary } = await replay();

    const receives = sqsMock.commandCalls(ReceiveMessageCommand);
    expect(receives).toHaveLength(3);
    for (const receive of receives) {
      expect(receive.args[0].input).toMatchObject({
        QueueUrl: QUEUE,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 2,
        VisibilityTimeout: 300,
      });
    }
    expect(summary.replayed).toBe(2);
  });

  it('stops at maxMessages', async () => {
    queueHolds([message('m1', EVENT)], [message('m2', EVENT)], [message('m3', EVENT)]);

    const { summary } = await replay({ maxMessages: 2 });

    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
    expect(summary.received).toBe(2);
  });
});

describe('replayDlq with slow invocations and stale receipt handles', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('keeps the message hidden while a slow invocation runs, extending its visibility every third of the timeout', async () => {
    queueHolds([message('m1', EVENT)]);
    lambdaMock.on(InvokeCommand).callsFake(slowly(650, HANDLED));

    const { summary } = await replayOnFakeClock({ visibilityTimeoutSeconds: 300 });

    // Each call hides the message 300 s from the time of the call: 100 s apart, it never becomes visible.
    expect(messageCalls()).toEqual([
      ...Array.from({ length: 6 }, () => 'ChangeMessageVisibility handle-m1 300'),
      'DeleteMessage handle-m1',
    ]);
    expect(summary).toMatchObject({ replayed: 1, queueErrors: 0 });
  });

  it('never invokes a message twice in a run when the queue gives it back, and gives it back with its newest receipt handle', async () => {
    queueHolds([message('m1', EVENT)], [message('m1', EVENT, 'handle-m1-again')]);
    lambdaMock.on(InvokeCommand).resolves(FAILED);

    const { summary, results } = await replay();

    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(messageCalls()).toEqual([
      'ChangeMessageVisibility handle-m1 3600',
      'ChangeMessageVisibility handle-m1-again 3600',
      'ChangeMessageVisibility handle-m1-again 0',
    ]);
    expect(results.map((r) => r.result)).toEqual(['failed', 'seen-again']);
    expect(summary).toMatchObject({ received: 1, failed: 1, seenAgain: 1, queueErrors: 0 });
  });

  it('deletes with its newest receipt handle a message it handled that the queue gives back, without invoking it again', async () => {
    queueHolds([message('m1', EVENT)], [message('m1', EVENT, 'handle-m1-again')]);
    sqsMock.on(DeleteMessageCommand, { ReceiptHandle: 'handle-m1' }).rejects(EXPIRED);

    const { summary, results } = await replay();

    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(messageCalls()).toEqual(['DeleteMessage handle-m1', 'DeleteMessage handle-m1-again']);
    expect(results.map((r) => r.result)).toEqual(['not-deleted', 'seen-again']);
    expect(summary).toMatchObject({ replayed: 1, notDeleted: 0, seenAgain: 1 });
  });

  it('stops reading, and says so, when the queue keeps giving back a message it already handled', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [message('m1', EVENT)] });
    lambdaMock.on(InvokeCommand).resolves(FAILED);

    const { summary } = await replay();

    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(3);
    expect(summary).toMatchObject({
      received: 1,
      seenAgain: 2,
      error: 'stopped reading: the queue keeps giving back messages this run has already handled',
    });
  });

  it('reports a stale receipt handle when giving a kept message back, and goes on with the others', async () => {
    queueHolds([message('m1', EVENT)], [message('m2', EVENT)]);
    lambdaMock.on(InvokeCommand).resolves(FAILED);
    sqsMock.on(ChangeMessageVisibilityCommand, { ReceiptHandle: 'handle-m1', VisibilityTimeout: 0 }).rejects(EXPIRED);

    const { summary, results } = await replay();

    expect(messageCalls()).toContain('ChangeMessageVisibility handle-m2 0');
    expect(results).toContainEqual({
      messageId: 'm1',
      result: 'queue-error',
      action: 'reset-visibility',
      error: `InvalidParameterValue: ${EXPIRED.message}`,
    });
    expect(summary).toMatchObject({ failed: 2, queueErrors: 1 });
  });

  it('reports a message it handled but could not delete, and goes on with the next', async () => {
    queueHolds([message('m1', EVENT)], [message('m2', LEAVING)]);
    sqsMock
      .on(DeleteMessageCommand, { ReceiptHandle: 'handle-m1' })
      .rejects(sqsError('ReceiptHandleIsInvalid', 'The input receipt handle is invalid.'));

    const { summary, results } = await replay();

    expect(results).toEqual([
      {
        messageId: 'm1',
        result: 'not-deleted',
        kind: 'rule-event',
        taskArn: EVENT.detail.taskArn,
        error: 'ReceiptHandleIsInvalid: The input receipt handle is invalid.',
      },
      { messageId: 'm2', result: 'replayed', kind: 'rule-event', taskArn: LEAVING.detail.taskArn },
    ]);
    expect(summary).toMatchObject({ received: 2, replayed: 1, notDeleted: 1 });
  });

  it('reports a visibility extension refused on an expired receipt handle once, and still finishes the message', async () => {
    queueHolds([message('m1', EVENT)]);
    lambdaMock.on(InvokeCommand).callsFake(slowly(200, HANDLED));
    sqsMock
      .on(ChangeMessageVisibilityCommand)
      .rejects(sqsError('MessageNotInflight', 'The message referred to isn’t in flight.'));

    const { summary, results } = await replayOnFakeClock({ visibilityTimeoutSeconds: 30 });

    expect(messageCalls()).toEqual(['ChangeMessageVisibility handle-m1 30', 'DeleteMessage handle-m1']);
    expect(results).toEqual([
      {
        messageId: 'm1',
        result: 'queue-error',
        action: 'extend-visibility',
        error: 'MessageNotInflight: The message referred to isn’t in flight.',
      },
      { messageId: 'm1', result: 'replayed', kind: 'rule-event', taskArn: EVENT.detail.taskArn },
    ]);
    expect(summary).toMatchObject({ replayed: 1, queueErrors: 1 });
  });

  it('stops reading a queue whose ReceiveMessage fails, says why, and still gives back what it kept', async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1', EVENT)] })
      .rejects(sqsError('AccessDenied', 'not authorized to perform: sqs:receivemessage'));
    lambdaMock.on(InvokeCommand).resolves(FAILED);

    const { summary } = await replay();

    expect(messageCalls()).toEqual(['ChangeMessageVisibility handle-m1 3600', 'ChangeMessageVisibility handle-m1 0']);
    expect(summary).toMatchObject({
      received: 1,
      failed: 1,
      error: 'AccessDenied: not authorized to perform: sqs:receivemessage',
    });
  });

  it('with every invocation slower than the visibility timeout, invokes each message once and leaves every failed one visible in the queue', async () => {
    const queue = new SqsQueueModel([
      { id: 'm1', body: EVENT },
      { id: 'm2', body: destination(LEAVING) },
      { id: 'm3', body: EVENT },
    ]);
    sqsMock.on(ReceiveMessageCommand).callsFake((input) => queue.receive(input));
    sqsMock.on(ChangeMessageVisibilityCommand).callsFake((input) => queue.changeVisibility(input));
    sqsMock.on(DeleteMessageCommand).callsFake((input) => queue.delete(input));
    lambdaMock.on(InvokeCommand).callsFake(slowly(400, FAILED));

    const { summary, results } = await replayOnFakeClock({ visibilityTimeoutSeconds: 300, maxMessages: 20 });

    expect(lambdaMock.commandCalls(InvokeCommand).map(payloadOf)).toEqual([EVENT, LEAVING, EVENT]);
    expect(results.filter((r) => r.result === 'queue-error')).toEqual([]);
    expect(summary).toMatchObject({ received: 3, failed: 3, queueErrors: 0 });
    expect(queue.visibleIds()).toEqual(['m1', 'm2', 'm3']);
  });

  it('with slow invocations that succeed, deletes every message', async () => {
    const queue = new SqsQueueModel([
      { id: 'm1', body: EVENT },
      { id: 'm2', body: EVENT },
    ]);
    sqsMock.on(ReceiveMessageCommand).callsFake((input) => queue.receive(input));
    sqsMock.on(ChangeMessageVisibilityCommand).callsFake((input) => queue.changeVisibility(input));
    sqsMock.on(DeleteMessageCommand).callsFake((input) => queue.delete(input));
    lambdaMock.on(InvokeCommand).callsFake(slowly(900, HANDLED));

    const { summary } = await replayOnFakeClock({ visibilityTimeoutSeconds: 60, maxMessages: 20 });

    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(2);
    expect(summary).toMatchObject({ received: 2, replayed: 2, queueErrors: 0 });
    expect(queue.remainingIds()).toEqual([]);
  });
});
