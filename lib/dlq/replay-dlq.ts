import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DlqRecord, parseDlqMessage } from './dlq-record';

/** What became of one message. */
export type ReplayResult =
  | { messageId: string; result: 'replayed'; kind: DlqRecord['kind']; taskArn?: string }
  | { messageId: string; result: 'would-replay'; kind: DlqRecord['kind']; taskArn?: string }
  | { messageId: string; result: 'failed'; kind: DlqRecord['kind']; taskArn?: string; error: string }
  | { messageId: string; result: 'unreadable'; reason: string };

export interface ReplaySummary {
  queueUrl: string;
  received: number;
  replayed: number;
  failed: number;
  unreadable: number;
  dryRun: boolean;
}

export interface ReplayOptions {
  sqs: SQSClient;
  lambda: LambdaClient;
  queueUrl: string;
  /** The register function's name or ARN. */
  functionName: string;
  /** Read and report only: nothing is invoked or deleted. */
  dryRun?: boolean;
  /** Most messages handled in one run. */
  maxMessages?: number;
  /** Seconds a received message stays hidden; longer than one invocation of the function. */
  visibilityTimeoutSeconds?: number;
  /** Called once per message, as it is handled. */
  onResult?: (result: ReplayResult) => void;
}

/** Invokes the function synchronously with the event; resolves to the error text, or undefined on success. */
async function invoke(lambda: LambdaClient, functionName: string, event: unknown): Promise<string | undefined> {
  try {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    );
    if (!out.FunctionError) return undefined;
    const payload = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    return `${out.FunctionError}: ${payload.slice(0, 500)}`;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

/**
 * Feeds the events stored in a DLQ back through the register function, one at a time, and deletes each
 * message whose event the function handled (a skip is handled too: the function decided). Messages that
 * fail again or cannot be read stay in the queue and are made visible again at the end, so the next run
 * (or a person) sees them at once. Reading stops at the first empty long poll or at `maxMessages`.
 */
export async function replayDlq(options: ReplayOptions): Promise<ReplaySummary> {
  const { sqs, lambda, queueUrl, functionName, dryRun = false, maxMessages = 10_000 } = options;
  const summary: ReplaySummary = { queueUrl, received: 0, replayed: 0, failed: 0, unreadable: 0, dryRun };
  const kept: Message[] = [];
  const report = (result: ReplayResult) => options.onResult?.(result);

  while (summary.received < maxMessages) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, maxMessages - summary.received),
        // A long poll asks every SQS server, so an empty answer means the queue is (nearly) empty.
        WaitTimeSeconds: 2,
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 300,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      summary.received += 1;
      const messageId = message.MessageId ?? '';
      const record = parseDlqMessage(message.Body);
      if (record.kind === 'unreadable') {
        summary.unreadable += 1;
        kept.push(message);
        report({ messageId, result: 'unreadable', reason: record.reason });
        continue;
      }
      const about = { messageId, kind: record.kind, ...(record.taskArn ? { taskArn: record.taskArn } : {}) };
      if (dryRun) {
        kept.push(message);
        report({ ...about, result: 'would-replay' });
        continue;
      }
      const error = await invoke(lambda, functionName, record.event);
      if (error) {
        summary.failed += 1;
        kept.push(message);
        report({ ...about, result: 'failed', error });
        continue;
      }
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      summary.replayed += 1;
      report({ ...about, result: 'replayed' });
    }
  }

  for (const message of kept) {
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: message.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  }
  return summary;
}
