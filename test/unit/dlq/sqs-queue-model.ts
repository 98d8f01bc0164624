import type {
  ChangeMessageVisibilityCommandInput,
  DeleteMessageCommandInput,
  Message,
  ReceiveMessageCommandInput,
  ReceiveMessageCommandOutput,
} from '@aws-sdk/client-sqs';

/*
 * One SQS standard queue as the replay sees it, on the clock of the test (jest's fake timers), following:
 * - ChangeMessageVisibility: the new timeout counts from the time of the call; at most 12 hours in all.
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 * - DeleteMessage: every receive hands out a new receipt handle; an older one still "succeeds", but the message
 *   may not be deleted (this model takes the worst case: it is not).
 *   https://docs.aws.amazon.com/sdk-for-sap-abap/v1/api/latest/sqs/operation/DELETEMESSAGE.html
 * - A stale receipt handle: SQS answers InvalidParameterValue, "Value ... for parameter ReceiptHandle is invalid.
 *   Reason: The receipt handle has expired." (https://github.com/aws/aws-sdk-java/issues/1628; after the message
 *   was received again: "... not available for visibility timeout change",
 *   https://github.com/mapbox/ecs-watchbot/issues/135), and MessageNotInflight for a message that is visible again
 *   (a modelled error of ChangeMessageVisibility).
 */

const TWELVE_HOURS_MS = 12 * 3600 * 1000;

interface Stored {
  id: string;
  body: string;
  visibleAt: number;
  receivedAt: number;
  receiptHandle?: string;
}

const sqsError = (name: string, message: string) => Object.assign(new Error(message), { name });

export class SqsQueueModel {
  private readonly stored = new Map<string, Stored>();
  private receipts = 0;

  constructor(messages: Array<{ id: string; body: unknown }>) {
    for (const { id, body } of messages) {
      this.stored.set(id, { id, body: JSON.stringify(body), visibleAt: 0, receivedAt: 0 });
    }
  }

  /** Up to MaxNumberOfMessages visible messages, each hidden for VisibilityTimeout under a new receipt handle. */
  async receive(input: ReceiveMessageCommandInput): Promise<Partial<ReceiveMessageCommandOutput>> {
    if (this.visibleIds().length === 0 && input.WaitTimeSeconds) {
      // A long poll waits for a message to become visible.
      await new Promise((resolve) => setTimeout(resolve, (input.WaitTimeSeconds ?? 0) * 1000));
    }
    const now = Date.now();
    const picked = [...this.stored.values()].filter((m) => m.visibleAt <= now).slice(0, input.MaxNumberOfMessages ?? 1);
    const messages: Message[] = picked.map((m) => {
      this.receipts += 1;
      m.receiptHandle = `${m.id}/receipt-${this.receipts}`;
      m.receivedAt = now;
      m.visibleAt = now + (input.VisibilityTimeout ?? 30) * 1000;
      return { MessageId: m.id, ReceiptHandle: m.receiptHandle, Body: m.body };
    });
    return messages.length > 0 ? { Messages: messages } : {};
  }

  async changeVisibility(input: ChangeMessageVisibilityCommandInput): Promise<Record<string, never>> {
    const now = Date.now();
    const m = this.byHandle(input.ReceiptHandle);
    if (!m || m.receiptHandle !== input.ReceiptHandle) {
      throw sqsError(
        'InvalidParameterValue',
        `Value ${input.ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
      );
    }
    if (m.visibleAt <= now) throw sqsError('MessageNotInflight', 'The message referred to isn’t in flight.');
    const seconds = input.VisibilityTimeout ?? 0;
    if (now + seconds * 1000 - m.receivedAt > TWELVE_HOURS_MS) {
      throw sqsError(
        'InvalidParameterValue',
        'Total VisibilityTimeout for the message is beyond the limit [43200 seconds]',
      );
    }
    m.visibleAt = now + seconds * 1000;
    return {};
  }

  async delete(input: DeleteMessageCommandInput): Promise<Record<string, never>> {
    const m = this.byHandle(input.ReceiptHandle);
    if (m && m.receiptHandle === input.ReceiptHandle) this.stored.delete(m.id);
    return {};
  }

  /** Ids of the messages still in the queue. */
  remainingIds(): string[] {
    return [...this.stored.keys()];
  }

  /** Ids of the messages a consumer would receive now. */
  visibleIds(): string[] {
    const now = Date.now();
    return [...this.stored.values()].filter((m) => m.visibleAt <= now).map((m) => m.id);
  }

  private byHandle(receiptHandle: string | undefined): Stored | undefined {
    const id = receiptHandle?.split('/')[0];
    return id === undefined ? undefined : this.stored.get(id);
  }
}
