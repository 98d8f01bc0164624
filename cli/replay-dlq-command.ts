import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type ReplaySummary, replayDlq } from '../lib/dlq/replay-dlq';
import { type CliIo, parseArgs, UsageError } from './io';

const SERVICE = 'ecs-cloudmap-registrar';

export const REPLAY_DLQ_USAGE = `registrar replay-dlq --stage STAGE [--queue-url URL] [--function NAME] [--dry-run] [--max N] [--endpoint URL]

Feeds the task events kept in the dead-letter queues back through the register function (Lambda Invoke,
RequestResponse, one at a time) and deletes each message the function handled. Both queues are read by
default: ${SERVICE}-STAGE-rule-dlq (events the rule could not deliver) and ${SERVICE}-STAGE-register-dlq
(Lambda on-failure records, whose requestPayload is the event). --queue-url reads one queue only.
Messages that fail again or cannot be read stay in their queue. --dry-run reads and reports only.
Credentials and region come from the standard AWS environment; --endpoint points both clients at an emulator.
Prints one JSON line per message, then one summary line per queue.
Exit codes: 0 every message replayed (or --dry-run), 1 some message failed or was unreadable, 2 usage.`;

/** The clients the command uses; injected by tests. */
export interface ReplayDlqClients {
  sqs: SQSClient;
  lambda: LambdaClient;
}

function defaultClients(endpoint: string | undefined): ReplayDlqClients {
  const options = endpoint ? { endpoint } : {};
  return { sqs: new SQSClient(options), lambda: new LambdaClient(options) };
}

/** `registrar replay-dlq`: drains the DLQs through the register function. */
export async function replayDlqCommand(
  args: string[],
  io: CliIo,
  clients?: (endpoint: string | undefined) => ReplayDlqClients,
): Promise<number> {
  const { positional, values, switches } = parseArgs(args, {
    values: ['stage', 'queue-url', 'function', 'max', 'endpoint'],
    switches: ['dry-run', 'help'],
  });
  if (switches.has('help')) {
    io.stdout.write(`${REPLAY_DLQ_USAGE}\n`);
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"\n\n${REPLAY_DLQ_USAGE}`);
  const stage = values.stage;
  if (!stage || !/^[a-zA-Z0-9-]+$/.test(stage)) throw new UsageError('--stage STAGE is required (letters, digits, -)');
  const max = values.max === undefined ? 10_000 : Number(values.max);
  if (!Number.isInteger(max) || max < 1) throw new UsageError('--max must be a positive integer');

  const { sqs, lambda } = (clients ?? defaultClients)(values.endpoint);
  const queueUrls = values['queue-url']
    ? [values['queue-url']]
    : await Promise.all(
        ['rule-dlq', 'register-dlq'].map(async (suffix) => {
          const out = await sqs.send(new GetQueueUrlCommand({ QueueName: `${SERVICE}-${stage}-${suffix}` }));
          if (!out.QueueUrl) throw new Error(`SQS returned no URL for ${SERVICE}-${stage}-${suffix}`);
          return out.QueueUrl;
        }),
      );

  const summaries: ReplaySummary[] = [];
  for (const queueUrl of queueUrls) {
    const summary = await replayDlq({
      sqs,
      lambda,
      queueUrl,
      functionName: values.function ?? `${SERVICE}-${stage}-register`,
      dryRun: switches.has('dry-run'),
      maxMessages: max - summaries.reduce((n, s) => n + s.received, 0),
      onResult: (result) => io.stdout.write(`${JSON.stringify({ queueUrl, ...result })}\n`),
    });
    summaries.push(summary);
    io.stdout.write(`${JSON.stringify({ summary })}\n`);
  }
  return summaries.some((s) => s.failed > 0 || s.unreadable > 0) ? 1 : 0;
}
