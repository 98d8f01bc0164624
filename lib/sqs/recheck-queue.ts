import { GetQueueUrlCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RecheckQueue } from '../ports';

/** SendMessageBatch's limits: 10 entries, and 262,144 bytes for all their bodies together (SQS API Reference). */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 262_144;

/**
 * The register queue as the place of delayed re-checks (lib/task-queue.ts). Found by name (GetQueueUrl, once per
 * container); messages go out 10 a call, within the call's size limit, each with its own delay.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
export class SqsRecheckQueue implements RecheckQueue {
  private url?: Promise<string>;

  constructor(
    private readonly client: SQSClient,
    private readonly queueName: string,
  ) {}

  private queueUrl(): Promise<string> {
    if (!this.url) {
      this.url = this.client.send(new GetQueueUrlCommand({ QueueName: this.queueName })).then((out) => {
        if (!out.QueueUrl) throw new Error(`GetQueueUrl gave no URL for ${this.queueName}`);
        return out.QueueUrl;
      });
      // A failed lookup is not kept: the next send asks again.
      this.url.catch(() => {
        this.url = undefined;
      });
    }
    return this.url;
  }

  async send(messages: { body: string; delaySeconds: number }[]): Promise<{ failed: number[] }> {
    const failed: number[] = [];
    if (messages.length === 0) return { failed };
    const url = await this.queueUrl();
    for (const chunk of chunks(messages)) {
      try {
        const out = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: chunk.map((i) => ({
              Id: String(i),
              MessageBody: messages[i]?.body ?? '',
              DelaySeconds: messages[i]?.delaySeconds ?? 0,
            })),
          }),
        );
        for (const entry of out.Failed ?? []) failed.push(Number(entry.Id));
      } catch {
        failed.push(...chunk);
      }
    }
    return { failed };
  }
}

/** Indexes of the messages, grouped into calls of at most 10 entries and 256 KiB of bodies. */
export function chunks(messages: { body: string }[]): number[][] {
  const result: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  messages.forEach((message, i) => {
    const size = Buffer.byteLength(message.body);
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length) result.push(current);
  return result;
}
