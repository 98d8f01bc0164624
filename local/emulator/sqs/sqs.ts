import { AwsError } from '../aws-error';
import type { Clock } from '../clock';
import type { QueueInfo, QueueOptions, QueueStats } from '../lambda/types';
import type { Input } from '../wire';
import {
  DEFAULT_QUEUE_SETTINGS,
  type MessageAttributeValue,
  Queue,
  type QueueMessage,
  type QueueSettings,
} from './queue';

/** The largest message body, and the largest batch, SQS accepts (SQS API Reference, SendMessage: 256 KiB). */
export const MAX_MESSAGE_BYTES = 262_144;
const MAX_DELAY_SECONDS = 900;
const MAX_VISIBILITY_TIMEOUT = 43_200;
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** Whether a body holds only the characters SQS accepts: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
function validBody(body: string): boolean {
  for (const char of body) {
    const code = char.codePointAt(0) ?? 0;
    const ok =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!ok) return false;
  }
  return true;
}

/**
 * An SQS error as the AWS JSON 1.0 protocol answers it: `__type` names the shape and the
 * `x-amzn-query-error` header carries the Query-protocol code the SDK exposes as `Code`
 * (SQS Developer Guide, "Interpreting Amazon SQS JSON API responses").
 */
export function sqsError(shape: string, message: string, queryCode = shape, status = 400): AwsError {
  const error = new AwsError(`com.amazonaws.sqs#${shape}`, message, status);
  error.headers = { 'x-amzn-query-error': `${queryCode};Sender` };
  return error;
}

const nonExistentQueue = () =>
  sqsError('QueueDoesNotExist', 'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue');
const invalidParameter = (message: string) => sqsError('InvalidParameterValue', message);

interface SqsOptions {
  clock: Clock;
  region: string;
  accountId: string;
  /** The endpoint's URL (known once it listens): queue URLs are `<url>/<account>/<name>`. */
  endpoint: () => string;
}

type BatchEntryResult<T> = {
  Successful: T[];
  Failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[];
};

/**
 * Amazon SQS standard queues on the emulator's endpoint (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Action>`),
 * and the same queues for the Lambda model (event source mappings, rule targets, on-failure destinations).
 */
export class Sqs {
  private readonly queues = new Map<string, Queue>();
  private readonly listeners = new Map<string, Set<() => void>>();
  /** Long-polling ReceiveMessage calls waiting for a queue's messages. */
  private readonly pollers = new Map<string, Set<() => void>>();

  constructor(private readonly options: SqsOptions) {}

  readonly handlers: Record<string, (input: Input) => unknown> = {
    CreateQueue: (input) => this.createQueueCall(input),
    GetQueueUrl: (input) => {
      const name = String(input.QueueName ?? '');
      const queue = this.queues.get(name);
      if (!queue) throw nonExistentQueue();
      return { QueueUrl: queue.url };
    },
    GetQueueAttributes: (input) => ({ Attributes: this.attributesOf(this.queueOf(input), input.AttributeNames) }),
    SetQueueAttributes: (input) => {
      const queue = this.queueOf(input);
      const parsed = parseAttributes(asStringMap(input.Attributes), queue.settings);
      queue.settings = parsed.settings;
      Object.assign(queue.extraAttributes, parsed.extra);
      queue.lastModifiedTimestamp = Date.now();
      return {};
    },
    ListQueues: (input) => {
      const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
      const urls = [...this.queues.values()].filter((queue) => queue.name.startsWith(prefix)).map((queue) => queue.url);
      const max = input.MaxResults === undefined ? 1000 : Number(input.MaxResults);
      if (!Number.isInteger(max) || max < 1 || max > 1000) throw invalidParameter('MaxResults must be 1 to 1000.');
      const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), 'base64').toString('utf8')) : 0;
      if (!Number.isInteger(start) || start < 0) throw invalidParameter('Invalid NextToken.');
      const page = urls.slice(start, start + max);
      const next = start + max < urls.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
      return page.length === 0 ? {} : { QueueUrls: page, ...(next ? { NextToken: next } : {}) };
    },
    DeleteQueue: (input) => {
      const queue = this.queueOf(input);
      queue.dispose();
      this.queues.delete(queue.name);
      return {};
    },
    PurgeQueue: (input) => {
      this.queueOf(input).purge();
      return {};
    },
    SendMessage: (input) => {
      const queue = this.queueOf(input);
      const message = this.sendChecked(queue, input);
      return sendResult(message);
    },
    SendMessageBatch: (input) => {
      const queue = this.queueOf(input);
      const entries = checkBatch(input.Entries);
      const total = entries.reduce((sum, entry) => sum + Buffer.byteLength(String(entry.MessageBody ?? '')), 0);
      if (total > MAX_MESSAGE_BYTES) {
        throw sqsError(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes.`,
          'AWS.SimpleQueueService.BatchRequestTooLong',
        );
      }
      return eachEntry(entries, (entry) => ({ Id: entry.Id as string, ...sendResult(this.sendChecked(queue, entry)) }));
    },
    ReceiveMessage: async (input) => {
      const queue = this.queueOf(input);
      const max = input.MaxNumberOfMessages === undefined ? 1 : Number(input.MaxNumberOfMessages);
      if (!Number.isInteger(max) || max < 1 || max > 10) {
        throw invalidParameter(
          `Value ${String(input.MaxNumberOfMessages)} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
        );
      }
      const visibility = input.VisibilityTimeout === undefined ? undefined : checkVisibility(input.VisibilityTimeout);
      const wait =
        input.WaitTimeSeconds === undefined
          ? queue.settings.receiveMessageWaitTimeSeconds
          : Number(input.WaitTimeSeconds);
      if (!Number.isInteger(wait) || wait < 0 || wait > 20) {
        throw invalidParameter(
          'Value for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.',
        );
      }
      let messages = queue.receive(max, visibility);
      if (messages.length === 0 && wait > 0) {
        // Long polling: answer as soon as a message is visible, or empty when the (scaled) wait ends.
        await this.visibleOrTimeout(queue, wait);
        messages = queue.receive(max, visibility);
      }
      const systemNames = [
        ...(Array.isArray(input.AttributeNames) ? input.AttributeNames : []),
        ...(Array.isArray(input.MessageSystemAttributeNames) ? input.MessageSystemAttributeNames : []),
      ].map(String);
      const attributeNames = Array.isArray(input.MessageAttributeNames) ? input.MessageAttributeNames.map(String) : [];
      return messages.length === 0
        ? {}
        : { Messages: messages.map((message) => wireMessage(message, systemNames, attributeNames)) };
    },
    DeleteMessage: (input) => {
      const queue = this.queueOf(input);
      checkHandle(queue.delete(String(input.ReceiptHandle ?? '')), input.ReceiptHandle);
      return {};
    },
    DeleteMessageBatch: (input) => {
      const queue = this.queueOf(input);
      return eachEntry(checkBatch(input.Entries), (entry) => {
        checkHandle(queue.delete(String(entry.ReceiptHandle ?? '')), entry.ReceiptHandle);
        return { Id: entry.Id as string };
      });
    },
    ChangeMessageVisibility: (input) => {
      const queue = this.queueOf(input);
      const seconds = checkVisibility(input.VisibilityTimeout);
      checkHandle(queue.changeVisibility(String(input.ReceiptHandle ?? ''), seconds), input.ReceiptHandle);
      return {};
    },
    ChangeMessageVisibilityBatch: (input) => {
      const queue = this.queueOf(input);
      return eachEntry(checkBatch(input.Entries), (entry) => {
        const seconds = checkVisibility(entry.VisibilityTimeout);
        checkHandle(queue.changeVisibility(String(entry.ReceiptHandle ?? ''), seconds), entry.ReceiptHandle);
        return { Id: entry.Id as string };
      });
    },
  };

  /** Creates a queue, or returns the one of that name (as CreateQueue does with the same attributes). */
  addQueue(name: string, options: QueueOptions = {}): QueueInfo {
    const attributes: Record<string, string> = {};
    if (options.delaySeconds !== undefined) attributes.DelaySeconds = String(options.delaySeconds);
    if (options.visibilityTimeout !== undefined) attributes.VisibilityTimeout = String(options.visibilityTimeout);
    if (options.messageRetentionPeriod !== undefined)
      attributes.MessageRetentionPeriod = String(options.messageRetentionPeriod);
    if (options.redrivePolicy) {
      const target = this.resolve(options.redrivePolicy.deadLetterQueue);
      const arn = target?.arn ?? this.arnOf(options.redrivePolicy.deadLetterQueue);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: arn,
        maxReceiveCount: options.redrivePolicy.maxReceiveCount,
      });
    }
    const queue = this.create(name, attributes);
    return { name: queue.name, url: queue.url, arn: queue.arn };
  }

  /** A queue by name, URL or ARN. */
  resolve(ref: string): Queue | undefined {
    if (ref.startsWith('arn:')) {
      const [, , service, region, account, name] = ref.split(':');
      if (service !== 'sqs' || region !== this.options.region || account !== this.options.accountId) return undefined;
      return this.queues.get(name ?? '');
    }
    if (ref.includes('/')) {
      const parts = ref.replace(/\/+$/, '').split('/');
      const name = parts.at(-1) ?? '';
      const account = parts.at(-2);
      return account === this.options.accountId ? this.queues.get(name) : undefined;
    }
    return this.queues.get(ref);
  }

  /** Sends a message as an AWS service does (EventBridge target, Lambda destination): no size check but SQS's. */
  sendInternal(queue: Queue, body: string, senderId: string): QueueMessage {
    if (Buffer.byteLength(body) > queue.settings.maximumMessageSize) {
      throw invalidParameter(`Message must be shorter than ${queue.settings.maximumMessageSize} bytes.`);
    }
    return queue.send(body, { senderId });
  }

  /** Calls `listener` whenever messages of the queue become visible. */
  onVisible(queue: Queue, listener: () => void): void {
    let set = this.listeners.get(queue.name);
    if (!set) {
      set = new Set();
      this.listeners.set(queue.name, set);
    }
    set.add(listener);
  }

  /**
   * Resolves when messages of the queue become visible or `seconds` (scaled) pass. It does not hold the emulator's
   * quiescence: a consumer waiting is not work the emulator has pending.
   */
  private visibleOrTimeout(queue: Queue, seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.pollers.get(queue.name) ?? new Set<() => void>();
      this.pollers.set(queue.name, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.options.clock.scaled(seconds * 1000));
      timer.unref();
      waiters.add(done);
    });
  }

  stats(): QueueStats[] {
    return [...this.queues.values()].map((queue) => ({ name: queue.name, ...queue.counters, ...queue.counts() }));
  }

  resetCounters(): void {
    for (const queue of this.queues.values()) queue.counters = { sent: 0, received: 0, deleted: 0, movedToDlq: 0 };
  }

  dispose(): void {
    for (const queue of this.queues.values()) queue.dispose();
    for (const waiters of this.pollers.values()) for (const poller of [...waiters]) poller();
  }

  private arnOf(name: string): string {
    return `arn:aws:sqs:${this.options.region}:${this.options.accountId}:${name}`;
  }

  private createQueueCall(input: Input): unknown {
    const name = input.QueueName;
    if (typeof name !== 'string' || name === '')
      throw sqsError('MissingParameter', 'The request must contain the parameter QueueName.');
    return { QueueUrl: this.create(name, asStringMap(input.Attributes)).url };
  }

  private create(name: string, attributes: Record<string, string>): Queue {
    if (!QUEUE_NAME.test(name)) {
      throw invalidParameter(
        `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (${name}).`,
      );
    }
    if (attributes.FifoQueue === 'true' || name.endsWith('.fifo')) {
      throw sqsError(
        'UnsupportedOperation',
        'FIFO queues are not emulated.',
        'AWS.SimpleQueueService.UnsupportedOperation',
      );
    }
    const parsed = parseAttributes(attributes, DEFAULT_QUEUE_SETTINGS);
    const existing = this.queues.get(name);
    if (existing) {
      // CreateQueue with a taken name answers the queue's URL if the attributes match, else QueueNameExists.
      const same = JSON.stringify(existing.settings) === JSON.stringify(parsed.settings);
      if (!same) {
        throw sqsError(
          'QueueNameExists',
          `A queue already exists with the same name and a different value for attribute(s).`,
          'QueueAlreadyExists',
        );
      }
      return existing;
    }
    const url = `${this.options.endpoint()}/${this.options.accountId}/${name}`;
    const queue = new Queue(name, this.arnOf(name), url, parsed.settings, parsed.extra, {
      clock: this.options.clock,
      onVisible: (visible) => {
        for (const poller of [...(this.pollers.get(visible.name) ?? [])]) poller();
        for (const listener of this.listeners.get(visible.name) ?? []) listener();
      },
      redrive: (source, message) => {
        const target = source.settings.redrivePolicy && this.resolve(source.settings.redrivePolicy.deadLetterTargetArn);
        if (!target) return false;
        target.adopt(message, source.arn);
        return true;
      },
    });
    this.queues.set(name, queue);
    return queue;
  }

  private queueOf(input: Input): Queue {
    const url = input.QueueUrl;
    if (typeof url !== 'string' || url === '')
      throw sqsError('MissingParameter', 'The request must contain the parameter QueueUrl.');
    const queue = this.resolve(url.includes('/') ? url : `x/${this.options.accountId}/${url}`);
    if (!queue) throw nonExistentQueue();
    return queue;
  }

  private sendChecked(queue: Queue, input: Input): QueueMessage {
    const body = input.MessageBody;
    if (typeof body !== 'string' || body === '') {
      throw sqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    }
    if (Buffer.byteLength(body) > queue.settings.maximumMessageSize) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${queue.settings.maximumMessageSize} bytes.`,
      );
    }
    if (!validBody(body)) {
      throw sqsError(
        'InvalidMessageContents',
        'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
      );
    }
    let delaySeconds: number | undefined;
    if (input.DelaySeconds !== undefined && input.DelaySeconds !== null) {
      delaySeconds = Number(input.DelaySeconds);
      if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
        throw invalidParameter(
          `Value ${String(input.DelaySeconds)} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= ${MAX_DELAY_SECONDS}.`,
        );
      }
    }
    const attributes = input.MessageAttributes as Record<string, MessageAttributeValue> | undefined;
    return queue.send(body, {
      ...(delaySeconds !== undefined ? { delaySeconds } : {}),
      ...(attributes ? { messageAttributes: attributes } : {}),
    });
  }

  private attributesOf(queue: Queue, names: unknown): Record<string, string> {
    const counts = queue.counts();
    const all: Record<string, string> = {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedTimestamp / 1000)),
      DelaySeconds: String(queue.settings.delaySeconds),
      VisibilityTimeout: String(queue.settings.visibilityTimeout),
      MessageRetentionPeriod: String(queue.settings.messageRetentionPeriod),
      MaximumMessageSize: String(queue.settings.maximumMessageSize),
      ReceiveMessageWaitTimeSeconds: String(queue.settings.receiveMessageWaitTimeSeconds),
      ...(queue.settings.redrivePolicy ? { RedrivePolicy: JSON.stringify(queue.settings.redrivePolicy) } : {}),
      ...queue.extraAttributes,
    };
    const wanted = Array.isArray(names) ? names.map(String) : [];
    if (wanted.includes('All')) return all;
    const out: Record<string, string> = {};
    for (const name of wanted) {
      const value = all[name];
      if (value !== undefined) out[name] = value;
      else if (!KNOWN_ATTRIBUTES.has(name)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
    return out;
  }
}

const KNOWN_ATTRIBUTES = new Set([
  'All',
  'Policy',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);

/** Reads CreateQueue/SetQueueAttributes attributes over `base`; a value out of range is InvalidAttributeValue. */
function parseAttributes(
  attributes: Record<string, string>,
  base: QueueSettings,
): { settings: QueueSettings; extra: Record<string, string> } {
  const settings: QueueSettings = { ...base };
  const extra: Record<string, string> = {};
  const ranged = (name: string, min: number, max: number) => {
    const value = Number(attributes[name]);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
    }
    return value;
  };
  for (const name of Object.keys(attributes)) {
    switch (name) {
      case 'DelaySeconds':
        settings.delaySeconds = ranged(name, 0, MAX_DELAY_SECONDS);
        break;
      case 'VisibilityTimeout':
        settings.visibilityTimeout = ranged(name, 0, MAX_VISIBILITY_TIMEOUT);
        break;
      case 'MessageRetentionPeriod':
        settings.messageRetentionPeriod = ranged(name, 60, 1_209_600);
        break;
      case 'MaximumMessageSize':
        settings.maximumMessageSize = ranged(name, 1024, MAX_MESSAGE_BYTES);
        break;
      case 'ReceiveMessageWaitTimeSeconds':
        settings.receiveMessageWaitTimeSeconds = ranged(name, 0, 20);
        break;
      case 'RedrivePolicy': {
        let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
        try {
          policy = JSON.parse(attributes[name] as string) as typeof policy;
        } catch {
          throw sqsError(
            'InvalidAttributeValue',
            'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.',
          );
        }
        const count = Number(policy.maxReceiveCount);
        if (typeof policy.deadLetterTargetArn !== 'string' || !Number.isInteger(count) || count < 1 || count > 1000) {
          throw sqsError(
            'InvalidAttributeValue',
            'Invalid value for the parameter RedrivePolicy. Reason: deadLetterTargetArn and maxReceiveCount (1-1000) are required.',
          );
        }
        settings.redrivePolicy = { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount: count };
        break;
      }
      default:
        if (!KNOWN_ATTRIBUTES.has(name)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
        extra[name] = String(attributes[name]);
    }
  }
  return { settings, extra };
}

function asStringMap(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter('Attributes must be a map.');
  return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, String(member)]));
}

function checkVisibility(value: unknown): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_TIMEOUT) {
    throw invalidParameter(
      `Value ${String(value)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and ${MAX_VISIBILITY_TIMEOUT}.`,
    );
  }
  return seconds;
}

function checkHandle(outcome: ReturnType<Queue['delete']>, handle: unknown): void {
  if (outcome === 'invalid') {
    throw sqsError(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${String(handle)}" is not a valid receipt handle.`,
      'ReceiptHandleIsInvalid',
      404,
    );
  }
  if (outcome === 'not-inflight') {
    throw sqsError(
      'MessageNotInflight',
      'The message referred to is not in flight.',
      'AWS.SimpleQueueService.MessageNotInflight',
    );
  }
}

/** A batch's entries: 1 to 10, each with a distinct, well-formed Id (SQS API Reference, SendMessageBatch). */
function checkBatch(value: unknown): Input[] {
  const entries = Array.isArray(value) ? (value as Input[]) : [];
  if (entries.length === 0) {
    throw sqsError(
      'EmptyBatchRequest',
      'There should be at least one entry in the request.',
      'AWS.SimpleQueueService.EmptyBatchRequest',
    );
  }
  if (entries.length > 10) {
    throw sqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    );
  }
  const ids = new Set<string>();
  for (const entry of entries) {
    const id = entry.Id;
    if (typeof id !== 'string' || !BATCH_ID.test(id)) {
      throw sqsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
        'AWS.SimpleQueueService.InvalidBatchEntryId',
      );
    }
    if (ids.has(id)) {
      throw sqsError(
        'BatchEntryIdsNotDistinct',
        `Id ${id} repeated.`,
        'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      );
    }
    ids.add(id);
  }
  return entries;
}

/** Runs `act` on each entry; an entry's error becomes its Failed entry, as the batch actions answer. */
function eachEntry<T>(entries: Input[], act: (entry: Input) => T): BatchEntryResult<T> {
  const result: BatchEntryResult<T> = { Successful: [], Failed: [] };
  for (const entry of entries) {
    try {
      result.Successful.push(act(entry));
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      const code = error.headers['x-amzn-query-error']?.split(';')[0] ?? error.code;
      result.Failed.push({ Id: entry.Id as string, Code: code, Message: error.message, SenderFault: true });
    }
  }
  return result;
}

function sendResult(message: QueueMessage): Record<string, string> {
  return {
    MessageId: message.id,
    MD5OfMessageBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
  };
}

/** A received message as ReceiveMessage answers it, with the system attributes and message attributes asked for. */
function wireMessage(message: QueueMessage, systemNames: string[], attributeNames: string[]): Record<string, unknown> {
  const system = systemAttributes(message);
  const wantAll = systemNames.includes('All');
  const attributes = Object.fromEntries(
    Object.entries(system).filter(([name]) => wantAll || systemNames.includes(name)),
  );
  const wantAllMessageAttributes = attributeNames.includes('All') || attributeNames.includes('.*');
  const messageAttributes = Object.fromEntries(
    Object.entries(message.messageAttributes ?? {}).filter(
      ([name]) => wantAllMessageAttributes || attributeNames.includes(name),
    ),
  );
  return {
    MessageId: message.id,
    ReceiptHandle: message.handle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    ...(Object.keys(messageAttributes).length > 0 ? { MessageAttributes: messageAttributes } : {}),
  };
}

/** A message's system attributes, as strings (SQS API Reference, ReceiveMessage). */
export function systemAttributes(message: QueueMessage): Record<string, string> {
  return {
    SenderId: message.senderId,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
    ...(message.deadLetterQueueSourceArn ? { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn } : {}),
  };
}
