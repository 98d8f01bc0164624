import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createEmulator, type Emulator } from '../../../local/emulator';
import { rejectionOf } from './emulator-harness';

// The SQS API on the emulator's endpoint, through the real SDK (AWS JSON 1.0, X-Amz-Target: AmazonSQS.*).
// Behaviour from the Amazon SQS API Reference and Developer Guide:
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html (DelaySeconds 0-900,
//   the 256 KiB body limit), .../API_ReceiveMessage.html (MaxNumberOfMessages, VisibilityTimeout,
//   ApproximateReceiveCount, WaitTimeSeconds long polling), .../API_DeleteMessage.html (receipt handles), .../API_SendMessageBatch.html
//   (per-entry results, BatchResultErrorEntry), .../API_CreateQueue.html (attributes and defaults,
//   MessageRetentionPeriod),
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-api-responses.html
//   (errors: __type plus x-amzn-query-error, e.g. AWS.SimpleQueueService.NonExistentQueue),
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html (redrive).

let emulator: Emulator | undefined;
let sqs: SQSClient;

beforeEach(async () => {
  // 1 simulated second = 1 real millisecond.
  emulator = await createEmulator({ port: 0, timeScale: 0.001 });
  sqs = new SQSClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  sqs.destroy();
  await emulator?.close();
});

async function queue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return created.QueueUrl ?? '';
}

describe('SQS on the emulator endpoint', () => {
  it('creates a queue once, finds it by name and lists it; a second CreateQueue with other attributes is refused', async () => {
    const url = await queue('jobs', { VisibilityTimeout: '10' });
    expect(url).toBe(`${emulator?.url}/000000000000/jobs`);
    expect(await queue('jobs', { VisibilityTimeout: '10' })).toBe(url);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'jobs' }))).QueueUrl).toBe(url);
    expect((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'jo' }))).QueueUrls).toEqual([url]);
    const clash = await rejectionOf(
      sqs.send(new CreateQueueCommand({ QueueName: 'jobs', Attributes: { VisibilityTimeout: '20' } })),
    );
    expect(clash.name).toBe('QueueNameExists');
  });

  it('answers QueueDoesNotExist with the Query code AWS.SimpleQueueService.NonExistentQueue', async () => {
    const error = await rejectionOf(sqs.send(new GetQueueUrlCommand({ QueueName: 'missing' })));
    expect(error.name).toBe('QueueDoesNotExist');
    expect(error.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
    const send = await rejectionOf(
      sqs.send(new SendMessageCommand({ QueueUrl: `${emulator?.url}/000000000000/missing`, MessageBody: 'x' })),
    );
    expect(send.name).toBe('QueueDoesNotExist');
  });

  it('sends, receives with the body MD5 the SDK checks, hides for the visibility timeout and deletes', async () => {
    const url = await queue('work', { VisibilityTimeout: '300' });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"a":1}' }));
    expect(sent.MD5OfMessageBody).toBe('bb6cb5c68df4652941caf652a366f2d8');
    const first = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
    );
    expect(first.Messages).toHaveLength(1);
    expect(first.Messages?.[0]).toMatchObject({ MessageId: sent.MessageId, Body: '{"a":1}' });
    expect(first.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
    // In flight: not received again until its visibility timeout (300 s = 0.3 s here) ends.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    await emulator?.idle();
    const again = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    expect(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: again.Messages?.[0]?.ReceiptHandle }));
    await emulator?.idle();
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
  });

  it('delays a message by its DelaySeconds, refuses more than 900, and refuses a body over 256 KiB', async () => {
    const url = await queue('later');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'soon', DelaySeconds: 300 }));
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(attributes.Attributes).toMatchObject({
      ApproximateNumberOfMessagesDelayed: '1',
      ApproximateNumberOfMessages: '0',
    });
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    await emulator?.idle(); // 300 s of simulated delay
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages?.[0]?.Body).toBe('soon');

    const tooLate = await rejectionOf(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', DelaySeconds: 901 })),
    );
    expect(tooLate.name).toBe('InvalidParameterValue');
    const tooBig = await rejectionOf(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(262_145) })),
    );
    expect(tooBig.name).toBe('InvalidParameterValue');
  });

  it('answers a batch entry by entry: a bad DelaySeconds fails its entry only; ids must be distinct', async () => {
    const url = await queue('batch');
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'one', DelaySeconds: 5 },
          { Id: 'b', MessageBody: 'two', DelaySeconds: 1000 },
          { Id: 'c', MessageBody: 'three' },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['a', 'c']);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'b', Code: 'InvalidParameterValue', SenderFault: true }),
    ]);
    const twice = await rejectionOf(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'a', MessageBody: 'x' },
            { Id: 'a', MessageBody: 'y' },
          ],
        }),
      ),
    );
    expect(twice.name).toBe('BatchEntryIdsNotDistinct');
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' }));
    expect((await rejectionOf(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: eleven })))).name).toBe(
      'TooManyEntriesInBatchRequest',
    );
  });

  it('deletes in batches, answering a malformed receipt handle as ReceiptHandleIsInvalid for its entry', async () => {
    const url = await queue('drain');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: '1', MessageBody: 'a' },
          { Id: '2', MessageBody: 'b' },
        ],
      }),
    );
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    const [first] = received.Messages ?? [];
    const result = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'ok', ReceiptHandle: first?.ReceiptHandle },
          { Id: 'bad', ReceiptHandle: 'not-a-handle' },
        ],
      }),
    );
    expect(result.Successful).toEqual([{ Id: 'ok' }]);
    expect(result.Failed?.[0]).toMatchObject({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' });
    const single = await rejectionOf(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'nope' })));
    expect(single.name).toBe('ReceiptHandleIsInvalid');
  });

  it('makes a message visible again at once with ChangeMessageVisibility 0, and purges a queue', async () => {
    const url = await queue('visible', { VisibilityTimeout: '600' });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: received.Messages?.[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages?.[0]?.Body).toBe('again');
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(attributes.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it("drops a message older than the queue's MessageRetentionPeriod", async () => {
    const url = await queue('short-lived', { MessageRetentionPeriod: '60' });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'old' }));
    await new Promise((resolve) => setTimeout(resolve, 80)); // 60 s * 0.001, and then some; nothing to await
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
  });

  it('long-polls: WaitTimeSeconds answers as soon as a message arrives, or empty when the wait ends', async () => {
    const url = await queue('poll');
    const started = Date.now();
    expect(
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }))).Messages,
    ).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(15); // 20 s * 0.001
    emulator?.setTimeScale(1); // a real 20 s wait, unless a message ends it
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'arrived' }));
    expect((await waiting).Messages?.[0]?.Body).toBe('arrived');
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue of its RedrivePolicy', async () => {
    const dlqUrl = await queue('dead');
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn;
    const url = await queue('source', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    for (let receive = 0; receive < 2; receive++) {
      expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toHaveLength(1);
      await emulator?.idle(); // the visibility timeout ends
    }
    // The third receive finds it over its maxReceiveCount: it moves instead of being delivered.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageSystemAttributeNames: ['All'] }));
    expect(dead.Messages?.[0]?.Body).toBe('poison');
    expect(dead.Messages?.[0]?.Attributes?.DeadLetterQueueSourceArn).toMatch(/:source$/);
    expect(emulator?.lambdaStats().queues.find((stats) => stats.name === 'source')).toMatchObject({
      sent: 1,
      received: 2,
      movedToDlq: 1,
    });
  });
});
