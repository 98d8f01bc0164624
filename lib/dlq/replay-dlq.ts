import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DlqRecord, parseDlqMessage } from './dlq-record';

/** An SQS call on one message that SQS refused (most often a stale receipt handle). */
export type QueueAction = 'extend-visibility' | 'hide' | 'delete' | 'reset-visibility';

/** What became of one message, or a problem met with it; reported as it happens. */
export type ReplayResult =
  | { messageId: string; result: 'replayed'; kind: DlqRecord['kind']; taskArn?: string }
  | { messageId: string; result: 'would-replay'; kind: DlqRecord['kind']; taskArn?: string }
  | { messageId: string; result: 'failed'; kind: DlqRecord['kind']; taskArn?: string; error: string }
  /** The function handled the event, but the message could not be deleted: a later run replays it again. */
  | { messageId: string; result: 'not-deleted'; kind: DlqRecord['kind']; taskArn?: string; error: string }
  | { messageId: string; result: 'unreadable'; reason: string }
  /** The queue gave back a message this run had already handled: it is not invoked again. */
  | { messageId: string; result: 'seen-again' }
  | { messageId: string; result: 'queue-error'; action: QueueAction; error: string };

export interface ReplaySummary {
  queueUrl: string;
  /** Distinct messages received. */
  received: number;
  replayed: number;
  failed: number;
  unreadable: number;
  notDeleted: number;
  seenAgain: number;
  queueErrors: number;
  dryRun: boolean;
  /** Why reading the queue stopped early (ReceiveMessage failed). */
  error?: string;
}

export interface ReplayOptions {
  sqs: SQSClient;
  lambda: LambdaClient;
  queueUrl: string;
  /** The register function's name or ARN. */
  functionName: string;
  /** Read and report only: nothing is invoked or deleted. */
  dryRun?: boolean;
  /** Most distinct messages handled in one run. */
  maxMessages?: number;
  /** Seconds the message being handled stays hidden; extended every third of it while the function runs. */
  visibilityTimeoutSeconds?: number;
  /** Seconds a message that stays in the queue is hidden for the rest of the run (given back at the end). */
  holdSeconds?: number;
  /** Called once per message as it is handled, and once per problem met. */
  onResult?: (result: ReplayResult) => void;
}

/** What this run knows of a message it has received, by MessageId. */
interface Seen {
  /** The handle of the latest receive: the only one SQS surely honours. */
  receiptHandle: string | undefined;
  /** The function handled its event: the message is to be deleted, never invoked again. */
  handled: boolean;
  deleted: boolean;
}

/** SQS keeps a received message hidden for at most 12 hours in all (ChangeMessageVisibility's limit). */
const MAX_VISIBILITY_SECONDS = 43_200;

function secondsWithin(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > MAX_VISIBILITY_SECONDS) {
    throw new RangeError(`${name} must be an integer from ${min} to ${MAX_VISIBILITY_SECONDS}, not ${value}`);
  }
  return value;
}

/** An error as one line of a report: its name and message. */
export const describeError = (error: unknown) => `${(error as Error).name}: ${(error as Error).message}`;

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
    return describeError(error);
  }
}

/**
 * Keeps a message hidden while `work` runs: every third of `seconds`, its visibility is set to `seconds` again
 * (SQS counts it from the time of the call), so two extensions can fail or lag before it shows. A refused
 * extension (the handle went stale) is reported once and ends the extensions; the work goes on.
 */
async function whileHidden<T>(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string | undefined,
  seconds: number,
  onRefused: (error: unknown) => void,
  work: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let extending: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = () => {
    timer = setTimeout(
      () => {
        extending = sqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: receiptHandle,
              VisibilityTimeout: seconds,
            }),
          )
          .then(() => {
            if (!stopped) schedule();
          }, onRefused);
      },
      (seconds * 1000) / 3,
    );
  };
  schedule();
  try {
    return await work();
  } finally {
    stopped = true;
    clearTimeout(timer);
    // An extension still in flight finishes before the message is deleted or kept.
    await extending;
  }
}

/**
 * Feeds the events stored in a DLQ back through the register function, one message at a time, and deletes each
 * message whose event the function handled (a skip is handled too: the function decided).
 *
 * - One message is received at a time, so none waits hidden while another is invoked; the one being invoked is
 *   kept hidden for as long as the function runs (its visibility is extended).
 * - Messages that fail again, cannot be read, or are only looked at (dry run) stay in the queue: hidden for the
 *   rest of the run (`holdSeconds`), then made visible again at the end, so the next run (or a person) sees them
 *   at once.
 * - A message the queue gives back during the run (its visibility ran out) is recognised by its MessageId and
 *   never invoked twice; its newest receipt handle replaces the old one.
 * - Each message fails alone: a refused ChangeMessageVisibility or DeleteMessage (a stale receipt handle) is
 *   reported and counted, and the run goes on. A failed ReceiveMessage ends the reading, with the reason in the
 *   summary; what was kept is still given back.
 *
 * Reading stops at the first empty long poll, at `maxMessages` distinct messages, or when the queue gives back
 * more already-seen messages than there are distinct ones (it keeps serving what this run has handled).
 */
export async function replayDlq(options: ReplayOptions): Promise<ReplaySummary> {
  const { sqs, lambda, queueUrl, functionName, dryRun = false, maxMessages = 10_000 } = options;
  const visibility = secondsWithin('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds ?? 300, 3);
  const hold = secondsWithin('holdSeconds', options.holdSeconds ?? 3600, 1);
  const summary: ReplaySummary = {
    queueUrl,
    received: 0,
    replayed: 0,
    failed: 0,
    unreadable: 0,
    notDeleted: 0,
    seenAgain: 0,
    queueErrors: 0,
    dryRun,
  };
  const seen = new Map<string, Seen>();
  const report = (result: ReplayResult) => options.onResult?.(result);
  const queueError = (messageId: string, action: QueueAction, error: unknown) => {
    summary.queueErrors += 1;
    report({ messageId, result: 'queue-error', action, error: describeError(error) });
  };
  /** Runs one SQS call on a message; a refusal is reported and counted, never thrown. True if it succeeded. */
  const attempt = async (messageId: string, action: QueueAction, call: () => Promise<unknown>) => {
    try {
      await call();
      return true;
    } catch (error) {
      queueError(messageId, action, error);
      return false;
    }
  };
  const setVisibility = (messageId: string, action: QueueAction, receiptHandle: string | undefined, seconds: number) =>
    attempt(messageId, action, () =>
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      ),
    );

  /** A message this run has already handled: take its newest handle, delete it or hide it again, never invoke. */
  const again = async (messageId: string, entry: Seen, receiptHandle: string | undefined) => {
    entry.receiptHandle = receiptHandle;
    summary.seenAgain += 1;
    report({ messageId, result: 'seen-again' });
    if (!entry.handled) {
      await setVisibility(messageId, 'hide', receiptHandle, hold);
      return;
    }
    const deleted = await attempt(messageId, 'delete', () =>
      sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle })),
    );
    if (deleted && !entry.deleted) {
      entry.deleted = true;
      summary.notDeleted -= 1;
      summary.replayed += 1;
    }
  };

  /** A message received for the first time. */
  const handle = async (messageId: string, message: Message) => {
    const entry: Seen = { receiptHandle: message.ReceiptHandle, handled: false, deleted: false };
    seen.set(messageId, entry);
    summary.received += 1;
    const keep = () => setVisibility(messageId, 'hide', entry.receiptHandle, hold);
    const record = parseDlqMessage(message.Body);
    if (record.kind === 'unreadable') {
      summary.unreadable += 1;
      report({ messageId, result: 'unreadable', reason: record.reason });
      await keep();
      return;
    }
    const about = { messageId, kind: record.kind, ...(record.taskArn ? { taskArn: record.taskArn } : {}) };
    if (dryRun) {
      report({ ...about, result: 'would-replay' });
      await keep();
      return;
    }
    const error = await whileHidden(
      sqs,
      queueUrl,
      entry.receiptHandle,
      visibility,
      (refused) => queueError(messageId, 'extend-visibility', refused),
      () => invoke(lambda, functionName, record.event),
    );
    if (error) {
      summary.failed += 1;
      report({ ...about, result: 'failed', error });
      await keep();
      return;
    }
    entry.handled = true;
    try {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: entry.receiptHandle }));
      entry.deleted = true;
      summary.replayed += 1;
      report({ ...about, result: 'replayed' });
    } catch (deleteError) {
      summary.notDeleted += 1;
      report({ ...about, result: 'not-deleted', error: describeError(deleteError) });
    }
  };

  while (summary.received < maxMessages) {
    if (summary.seenAgain > summary.received) {
      summary.error = 'stopped reading: the queue keeps giving back messages this run has already handled';
      break;
    }
    let messages: Message[];
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          // A long poll asks every SQS server, so an empty answer means the queue is (nearly) empty.
          WaitTimeSeconds: 2,
          VisibilityTimeout: visibility,
        }),
      );
      messages = out.Messages ?? [];
    } catch (error) {
      summary.error = describeError(error);
      break;
    }
    if (messages.length === 0) break;
    for (const message of messages) {
      const messageId = message.MessageId ?? message.ReceiptHandle ?? '';
      const entry = seen.get(messageId);
      if (entry) await again(messageId, entry, message.ReceiptHandle);
      else await handle(messageId, message);
    }
  }

  for (const [messageId, entry] of seen) {
    if (!entry.handled) await setVisibility(messageId, 'reset-visibility', entry.receiptHandle, 0);
  }
  return summary;
}
