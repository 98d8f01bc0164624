import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClientOptions, awsEndpointConfig } from '../lib/aws-clients';
import { describeError, type ReplaySummary, replayDlq } from '../lib/dlq/replay-dlq';
import { ENDPOINT_HELP, endpointClientOptions, parseEndpoint } from './endpoint';
import { type CliIo, parseArgs, UsageError } from './io';

const SERVICE = 'ecs-cloudmap-registrar';

export const REPLAY_DLQ_USAGE = `registrar replay-dlq --stage STAGE [--queue-url URL] [--function NAME] [--dry-run] [--max N] [--endpoint URL]

Feeds the task events kept in the dead-letter queues back through the register function (Lambda Invoke,
RequestResponse, one message at a time) and deletes each message the function handled. Both queues are read
by default, each on its own (one that cannot be found or read does not stop the other):
${SERVICE}-STAGE-rule-dlq (events the rule could not deliver) and ${SERVICE}-STAGE-register-dlq (Lambda
on-failure records, whose requestPayload is the event). --queue-url reads one queue only.
The message being replayed stays hidden while the function runs (its visibility is extended); a message the
queue gives back during the run is never invoked twice. Messages that fail again or cannot be read stay in
their queue, hidden until the end of the run, then visible again. --dry-run reads and reports only.
A refused SQS call on a message (a stale receipt handle) is reported on its line and the run goes on.
Credentials and region come from the standard AWS environment; --endpoint points both clients at an emulator.
${ENDPOINT_HELP}
Prints one JSON line per message (and per problem), then one summary line per queue.
Exit codes: 0 every message replayed (or --dry-run) and no problem, 1 a message failed, was unreadable or
could not be deleted, an SQS call was refused, or a queue could not be read; 2 usage.`;

/** The clients the command uses; injected by tests. */
export interface ReplayDlqClients {
  sqs: SQSClient;
  lambda: LambdaClient;
}

function defaultClients(options: AwsClientOptions): ReplayDlqClients {
  // The SDK's own retry policy: a replay goes one message at a time and reports each failure.
  return {
    sqs: new SQSClient(awsEndpointConfig('SQS', options)),
    lambda: new LambdaClient(awsEndpointConfig('LAMBDA', options)),
  };
}

async function queueUrlOf(sqs: SQSClient, queueName: string | undefined): Promise<string> {
  const out = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  if (!out.QueueUrl) throw new Error(`SQS returned no URL for ${queueName}`);
  return out.QueueUrl;
}

/** Every message replayed (or only looked at), and no SQS call refused. */
function allWellIn(summary: ReplaySummary): boolean {
  return (
    summary.error === undefined && summary.failed + summary.unreadable + summary.notDeleted + summary.queueErrors === 0
  );
}

/** `registrar replay-dlq`: drains the DLQs through the register function. */
export async function replayDlqCommand(
  args: string[],
  io: CliIo,
  clients?: (options: AwsClientOptions) => ReplayDlqClients,
): Promise<number> {
  const { positional, values, switches } = parseArgs(args, {
    values: ['stage', 'queue-url', 'function', 'max', 'endpoint'],
    switches: ['dry-run', 'help'],
  });
  if (switches.has('help')) {
    io.stdout.write(`${REPLAY_DLQ_USAGE}\n`);
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}" (see --help)`);
  const stage = values.stage;
  if (!stage || !/^[a-zA-Z0-9-]+$/.test(stage)) throw new UsageError('--stage STAGE is required (letters, digits, -)');
  const max = values.max === undefined ? 10_000 : Number(values.max);
  if (!Number.isInteger(max) || max < 1) throw new UsageError('--max must be a positive integer');

  const { sqs, lambda } = (clients ?? defaultClients)(endpointClientOptions(parseEndpoint(values.endpoint), io.env));
  const queues: Array<{ queueUrl?: string; queueName?: string }> = values['queue-url']
    ? [{ queueUrl: values['queue-url'] }]
    : ['rule-dlq', 'register-dlq'].map((suffix) => ({ queueName: `${SERVICE}-${stage}-${suffix}` }));

  // Each queue on its own: a queue that cannot be found or read is reported, and the next one is still read.
  let allWell = true;
  let received = 0;
  for (const queue of queues) {
    try {
      const queueUrl = queue.queueUrl ?? (await queueUrlOf(sqs, queue.queueName));
      const summary = await replayDlq({
        sqs,
        lambda,
        queueUrl,
        functionName: values.function ?? `${SERVICE}-${stage}-register`,
        dryRun: switches.has('dry-run'),
        maxMessages: max - received,
        onResult: (result) => io.stdout.write(`${JSON.stringify({ queueUrl, ...result })}\n`),
      });
      received += summary.received;
      io.stdout.write(`${JSON.stringify({ summary })}\n`);
      if (!allWellIn(summary)) allWell = false;
    } catch (error) {
      // replayDlq reports SQS and Lambda failures in its summary; this is GetQueueUrl, or the unexpected.
      allWell = false;
      io.stdout.write(`${JSON.stringify({ summary: { ...queue, error: describeError(error) } })}\n`);
    }
  }
  return allWell ? 0 : 1;
}
