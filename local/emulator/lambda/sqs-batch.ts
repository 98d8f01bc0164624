import type { QueueMessage } from '../sqs/queue';
import { systemAttributes } from '../sqs/sqs';

/** One record of the event Lambda hands a function from an SQS queue. */
export interface SqsEventRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, { dataType: string; stringValue?: string; binaryValue?: string }>;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

/**
 * The SQS event of a batch (AWS Lambda Developer Guide, "Using Lambda with Amazon SQS", example event,
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html).
 */
export function sqsEvent(messages: QueueMessage[], queueArn: string, region: string): { Records: SqsEventRecord[] } {
  return {
    Records: messages.map((message) => ({
      messageId: message.id,
      receiptHandle: message.handle ?? '',
      body: message.body,
      attributes: systemAttributes(message),
      messageAttributes: Object.fromEntries(
        Object.entries(message.messageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            dataType: value.DataType,
            ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
            ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
          },
        ]),
      ),
      md5OfBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: region,
    })),
  };
}

/**
 * Which messages of a batch stay in the queue after the function returned `body` (AWS Lambda Developer Guide,
 * "Handling errors for an SQS event source", partial batch responses,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html):
 * - without ReportBatchItemFailures, none (the function succeeded);
 * - with it: none for an empty or null `batchItemFailures` (or no response at all), the named ones otherwise,
 *   and all of them when an itemIdentifier is empty, null, or not a message of the batch (a complete failure).
 */
export function messagesToKeep(body: string, batchIds: readonly string[], reportBatchItemFailures: boolean): string[] {
  if (!reportBatchItemFailures) return [];
  let response: unknown;
  try {
    response = body.trim() === '' ? null : JSON.parse(body);
  } catch {
    return [];
  }
  if (response === null || typeof response !== 'object') return [];
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return [];
  if (!Array.isArray(failures)) return [...batchIds];
  const keep = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !batchIds.includes(id)) return [...batchIds];
    keep.add(id);
  }
  return batchIds.filter((id) => keep.has(id));
}
