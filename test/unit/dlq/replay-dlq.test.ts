import { PassThrough } from 'node:stream';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../../cli/main';
import { replayDlqCommand } from '../../../cli/replay-dlq-command';
import { type ReplayResult, replayDlq } from '../../../lib/dlq/replay-dlq';
import { loadEvent } from '../../helpers/fixtures';

const sqsMock = mockClient(SQSClient);
const lambdaMock = mockClient(LambdaClient);
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-cloudmap-registrar-prod-register-dlq';
const FUNCTION = 'ecs-cloudmap-registrar-prod-register';
const EVENT = loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json');
const LEAVING = loadEvent('02-fargate-stopped-essential-exit255-standalone.json');

const message = (id: string, body: unknown): Message => ({
  MessageId: id,
  ReceiptHandle: `handle-${id}`,
  Body: typeof body === 'string' ? body : JSON.stringify(body),
});
const destination = (event: unknown) => ({
  requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
  requestPayload: event,
  responsePayload: { errorType: 'Error', errorMessage: 'boom' },
});
/** A response payload as the SDK returns it (bytes that can also give back their text). */
const blob = (text: string) => Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
const payloadOf = (call: { args: [unknown] }) =>
  JSON.parse(new TextDecoder().decode((call.args[0] as InvokeCommand).input.Payload as Uint8Array));

/** Queues these batches of messages, then empty long polls. */
function queueHolds(...batches: Message[][]) {
  const receive = sqsMock.on(ReceiveMessageCommand);
  for (const batch of batches) receive.resolvesOnce({ Messages: batch });
  receive.resolves({});
}

beforeEach(() => {
  sqsMock.reset();
  lambdaMock.reset();
  sqsMock.on(DeleteMessageCommand).resolves({});
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: blob('{"result":"registered"}') });
});

const replay = (extra: { dryRun?: boolean; maxMessages?: number } = {}) => {
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

describe('replayDlq', () => {
  it('invokes the function with the event of each shape and deletes the messages it handled', async () => {
    queueHolds([message('m1', EVENT), message('m2', destination(LEAVING))]);

    const { summary } = await replay();

    const invokes = lambdaMock.commandCalls(InvokeCommand);
    expect(invokes.map((c) => c.args[0].input.InvocationType)).toEqual(['RequestResponse', 'RequestResponse']);
    expect(invokes.map((c) => c.args[0].input.FunctionName)).toEqual([FUNCTION, FUNCTION]);
    expect(invokes.map(payloadOf)).toEqual([EVENT, LEAVING]);
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: 'handle-m1' },
      { QueueUrl: QUEUE, ReceiptHandle: 'handle-m2' },
    ]);
    expect(summary).toEqual({ queueUrl: QUEUE, received: 2, replayed: 2, failed: 0, unreadable: 0, dryRun: false });
  });

  it('keeps a message whose event fails again, and makes it visible again at the end', async () => {
    queueHolds([message('m1', EVENT)]);
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: blob('{"errorType":"X"}'),
    });

    const { summary, results } = await replay();

    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: 'handle-m1', VisibilityTimeout: 0 },
    ]);
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
    queueHolds([message('m1', EVENT), message('m2', destination(LEAVING))]);

    const { summary, results } = await replay({ dryRun: true });

    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(2);
    expect(results.map((r) => [r.result, 'kind' in r ? r.kind : undefined])).toEqual([
      ['would-replay', 'rule-event'],
      ['would-replay', 'destination-record'],
    ]);
    expect(summary).toMatchObject({ received: 2, replayed: 0, dryRun: true });
  });

  it('reads batch after batch until a long poll comes back empty', async () => {
    queueHolds([message('m1', EVENT)], [message('m2', EVENT)]);

    const { summary } = await replay();

    const receives = sqsMock.commandCalls(ReceiveMessageCommand);
    expect(receives).toHaveLength(3);
    expect(receives[0]?.args[0].input).toMatchObject({ QueueUrl: QUEUE, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 });
    expect(summary.replayed).toBe(2);
  });

  it('stops at maxMessages', async () => {
    queueHolds([message('m1', EVENT), message('m2', EVENT)], [message('m3', EVENT)]);

    const { summary } = await replay({ maxMessages: 2 });

    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
    expect(summary.received).toBe(2);
  });
});

describe('registrar replay-dlq', () => {
  async function run(args: string[]) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => {
      out += c;
    });
    stderr.on('data', (c) => {
      err += c;
    });
    const io = { stdin: new PassThrough(), stdout, stderr, env: {} };
    const clients = () => ({ sqs: new SQSClient({}), lambda: new LambdaClient({}) });
    const code = await replayDlqCommand(args, io, clients);
    return {
      code,
      lines: out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
      err,
    };
  }

  it('finds both queues of the stage by name and replays each into the stage register function', async () => {
    sqsMock
      .on(GetQueueUrlCommand)
      .callsFake((input: { QueueName: string }) => ({ QueueUrl: `https://sqs.example/${input.QueueName}` }));
    sqsMock.on(ReceiveMessageCommand).resolves({});
    sqsMock
      .on(ReceiveMessageCommand, { QueueUrl: 'https://sqs.example/ecs-cloudmap-registrar-prod-rule-dlq' })
      .resolvesOnce({ Messages: [message('r1', EVENT)] })
      .resolves({});

    const { code, lines } = await run(['--stage', 'prod']);

    expect(sqsMock.commandCalls(GetQueueUrlCommand).map((c) => c.args[0].input.QueueName)).toEqual([
      'ecs-cloudmap-registrar-prod-rule-dlq',
      'ecs-cloudmap-registrar-prod-register-dlq',
    ]);
    expect(lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input.FunctionName)).toEqual([FUNCTION]);
    expect(lines).toEqual([
      {
        queueUrl: 'https://sqs.example/ecs-cloudmap-registrar-prod-rule-dlq',
        messageId: 'r1',
        result: 'replayed',
        kind: 'rule-event',
        taskArn: EVENT.detail.taskArn,
      },
      expect.objectContaining({ summary: expect.objectContaining({ replayed: 1 }) }),
      expect.objectContaining({ summary: expect.objectContaining({ received: 0 }) }),
    ]);
    expect(code).toBe(0);
  });

  it('reads only the given queue, and exits 1 when a message stays behind', async () => {
    queueHolds([message('m1', 'garbage')]);

    const { code } = await run(['--stage', 'prod', '--queue-url', QUEUE]);

    expect(sqsMock.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
    expect(code).toBe(1);
  });

  it('is listed by registrar --help and refuses a call without --stage (exit 2)', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => {
      out += c;
    });
    stderr.on('data', (c) => {
      err += c;
    });
    const io = { stdin: new PassThrough(), stdout, stderr, env: {} };

    expect(await main(['--help'], io)).toBe(0);
    expect(out).toContain('registrar replay-dlq --stage STAGE');
    expect(await main(['replay-dlq'], io)).toBe(2);
    expect(err).toContain('--stage STAGE is required');
  });
});
