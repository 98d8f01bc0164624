import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { main } from '../../../cli/main';
import { replayDlqCommand } from '../../../cli/replay-dlq-command';
import { captureIo } from '../../helpers/cli-io';
import { blob, EVENT, FUNCTION, lambdaMock, message, QUEUE, sqsError, sqsMock } from '../../helpers/dlq-fixtures';

const RULE_DLQ = 'https://sqs.example/ecs-cloudmap-registrar-prod-rule-dlq';
const REGISTER_DLQ = 'https://sqs.example/ecs-cloudmap-registrar-prod-register-dlq';

async function run(args: string[]) {
  const { io, captured } = captureIo();
  const clients = () => ({ sqs: new SQSClient({}), lambda: new LambdaClient({}) });
  const code = await replayDlqCommand(args, io, clients);
  return {
    code,
    lines: captured.out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

/** Both queues of the stage exist, by name. */
function bothQueuesExist() {
  sqsMock
    .on(GetQueueUrlCommand)
    .callsFake((input: { QueueName: string }) => ({ QueueUrl: `https://sqs.example/${input.QueueName}` }));
}

beforeEach(() => {
  sqsMock.reset();
  lambdaMock.reset();
  sqsMock.on(ReceiveMessageCommand).resolves({});
  sqsMock.on(DeleteMessageCommand).resolves({});
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: blob('{"result":"registered"}') });
});

describe('registrar replay-dlq', () => {
  it('finds both queues of the stage by name and replays each into the stage register function', async () => {
    bothQueuesExist();
    sqsMock
      .on(ReceiveMessageCommand, { QueueUrl: RULE_DLQ })
      .resolvesOnce({ Messages: [message('r1', EVENT)] })
      .resolves({});

    const { code, lines } = await run(['--stage', 'prod']);

    expect(sqsMock.commandCalls(GetQueueUrlCommand).map((c) => c.args[0].input.QueueName)).toEqual([
      'ecs-cloudmap-registrar-prod-rule-dlq',
      'ecs-cloudmap-registrar-prod-register-dlq',
    ]);
    expect(lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input.FunctionName)).toEqual([FUNCTION]);
    expect(lines).toEqual([
      { queueUrl: RULE_DLQ, messageId: 'r1', result: 'replayed', kind: 'rule-event', taskArn: EVENT.detail.taskArn },
      expect.objectContaining({ summary: expect.objectContaining({ queueUrl: RULE_DLQ, replayed: 1 }) }),
      expect.objectContaining({ summary: expect.objectContaining({ queueUrl: REGISTER_DLQ, received: 0 }) }),
    ]);
    expect(code).toBe(0);
  });

  it('reads only the given queue, and exits 1 when a message stays behind', async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1', 'garbage')] })
      .resolves({});

    const { code } = await run(['--stage', 'prod', '--queue-url', QUEUE]);

    expect(sqsMock.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
    expect(code).toBe(1);
  });

  it('still reads the register DLQ when the rule DLQ cannot be found, and exits 1', async () => {
    bothQueuesExist();
    sqsMock
      .on(GetQueueUrlCommand, { QueueName: 'ecs-cloudmap-registrar-prod-rule-dlq' })
      .rejects(sqsError('QueueDoesNotExist', 'The specified queue does not exist.'));
    sqsMock
      .on(ReceiveMessageCommand, { QueueUrl: REGISTER_DLQ })
      .resolvesOnce({ Messages: [message('d1', EVENT)] })
      .resolves({});

    const { code, lines } = await run(['--stage', 'prod']);

    expect(lines).toEqual([
      {
        summary: {
          queueName: 'ecs-cloudmap-registrar-prod-rule-dlq',
          error: 'QueueDoesNotExist: The specified queue does not exist.',
        },
      },
      expect.objectContaining({ queueUrl: REGISTER_DLQ, messageId: 'd1', result: 'replayed' }),
      expect.objectContaining({ summary: expect.objectContaining({ queueUrl: REGISTER_DLQ, replayed: 1 }) }),
    ]);
    expect(code).toBe(1);
  });

  it('still reads the register DLQ when reading the rule DLQ fails, and exits 1', async () => {
    bothQueuesExist();
    sqsMock
      .on(ReceiveMessageCommand, { QueueUrl: RULE_DLQ })
      .rejects(sqsError('AccessDenied', 'not authorized to perform: sqs:receivemessage'));
    sqsMock
      .on(ReceiveMessageCommand, { QueueUrl: REGISTER_DLQ })
      .resolvesOnce({ Messages: [message('d1', EVENT)] })
      .resolves({});

    const { code, lines } = await run(['--stage', 'prod']);

    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(lines[0]).toEqual({
      summary: expect.objectContaining({
        queueUrl: RULE_DLQ,
        received: 0,
        error: 'AccessDenied: not authorized to perform: sqs:receivemessage',
      }),
    });
    expect(lines.at(-1)).toEqual({ summary: expect.objectContaining({ queueUrl: REGISTER_DLQ, replayed: 1 }) });
    expect(code).toBe(1);
  });

  it('exits 1 when a message it replayed could not be deleted (stale receipt handle)', async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1', EVENT)] })
      .resolves({});
    sqsMock
      .on(DeleteMessageCommand)
      .rejects(
        sqsError(
          'InvalidParameterValue',
          'Value handle-m1 for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.',
        ),
      );

    const { code, lines } = await run(['--stage', 'prod', '--queue-url', QUEUE]);

    expect(lines[0]).toMatchObject({ messageId: 'm1', result: 'not-deleted' });
    expect(code).toBe(1);
  });

  it('is listed by registrar --help and refuses a call without --stage (exit 2)', async () => {
    const { io, captured } = captureIo();

    expect(await main(['--help'], io)).toBe(0);
    expect(captured.out).toContain('registrar replay-dlq --stage STAGE');
    expect(await main(['replay-dlq'], io)).toBe(2);
    expect(captured.err).toContain('--stage STAGE is required');
  });

  it('gives a loopback --endpoint a default region and dummy credentials, and leaves any other endpoint alone', async () => {
    bothQueuesExist();
    sqsMock.on(ReceiveMessageCommand).resolves({});
    const seen: unknown[] = [];
    const clients = (options: unknown) => {
      seen.push(options);
      return { sqs: new SQSClient({}), lambda: new LambdaClient({}) };
    };

    const local = captureIo();
    await replayDlqCommand(['--stage', 'local', '--endpoint', 'http://127.0.0.1:4566'], local.io, clients);
    const remote = captureIo();
    await replayDlqCommand(['--stage', 'prod', '--endpoint', 'https://sqs.example.com'], remote.io, clients);

    expect(seen[0]).toMatchObject({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', credentials: {} });
    expect(seen[1]).toEqual({ endpoint: 'https://sqs.example.com' });
  });

  it('answers a stray argument and a bad --endpoint with one line and exit 2', async () => {
    const { io, captured } = captureIo();

    expect(await main(['replay-dlq', '--stage', 'prod', 'extra'], io)).toBe(2);
    expect(await main(['replay-dlq', '--stage', 'prod', '--endpoint', 'not a url'], io)).toBe(2);
    expect(captured.err.trim().split('\n')).toHaveLength(2);
  });
});
