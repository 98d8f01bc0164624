import { createHash } from 'node:crypto';
import type { Clock, ClockTimer } from '../clock';
import { randomHex, randomUUID } from '../random';

/** A queue's attributes that change what it does, in seconds as CreateQueue takes them. */
export interface QueueSettings {
  delaySeconds: number;
  visibilityTimeout: number;
  messageRetentionPeriod: number;
  maximumMessageSize: number;
  receiveMessageWaitTimeSeconds: number;
  /** Set by a RedrivePolicy: receives beyond maxReceiveCount move a message to the queue of that ARN. */
  redrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
}

/** CreateQueue's defaults (Amazon SQS API Reference, CreateQueue). */
export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  delaySeconds: 0,
  visibilityTimeout: 30,
  messageRetentionPeriod: 345_600,
  maximumMessageSize: 262_144,
  receiveMessageWaitTimeSeconds: 0,
};

/** A message attribute as SendMessage takes it. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

type MessageState = 'delayed' | 'visible' | 'inflight';

/** A message in a queue. Timestamps are epoch milliseconds, as SQS reports them. */
export interface QueueMessage {
  id: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  sentTimestamp: number;
  senderId: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Set when the message came from another queue by redrive. */
  deadLetterQueueSourceArn?: string;
  state: MessageState;
  /** The receipt handle of its latest receive; only that one deletes it. */
  handle?: string;
  timer?: ClockTimer;
}

/** What a queue has done since it was created (or the counters were reset). */
export interface QueueCounters {
  sent: number;
  received: number;
  deleted: number;
  movedToDlq: number;
}

export interface QueueContext {
  clock: Clock;
  /** Called when messages become visible (sent, delay over, visibility timeout over). */
  onVisible: (queue: Queue) => void;
  /** Moves a message over its maxReceiveCount to its dead-letter queue; false when there is none. */
  redrive: (queue: Queue, message: QueueMessage) => boolean;
}

/** Why a receipt handle did not act on a message. */
export type HandleOutcome = 'done' | 'stale' | 'invalid' | 'not-inflight';

/**
 * One standard queue: messages move delayed -> visible -> in flight (received) -> visible again after the
 * visibility timeout, until deleted; every delay runs on the emulator's clock. Receives take the oldest
 * visible messages first (a standard queue promises no order; oldest first keeps runs repeatable).
 */
export class Queue {
  private readonly messages = new Map<string, QueueMessage>();
  /** Visible messages in the order they became visible. */
  private readonly visible = new Map<string, QueueMessage>();
  counters: QueueCounters = { sent: 0, received: 0, deleted: 0, movedToDlq: 0 };
  readonly createdTimestamp = Date.now();
  lastModifiedTimestamp = Date.now();

  constructor(
    readonly name: string,
    readonly arn: string,
    readonly url: string,
    public settings: QueueSettings,
    /** Attributes kept only to be read back (Policy, SqsManagedSseEnabled...). */
    public extraAttributes: Record<string, string>,
    private readonly context: QueueContext,
  ) {}

  /** Adds a message; `delaySeconds` defaults to the queue's DelaySeconds. */
  send(
    body: string,
    options: {
      delaySeconds?: number;
      messageAttributes?: Record<string, MessageAttributeValue>;
      senderId?: string;
    } = {},
  ): QueueMessage {
    const message = this.store({
      id: randomUUID(),
      body,
      md5OfBody: md5(body),
      ...(options.messageAttributes && Object.keys(options.messageAttributes).length > 0
        ? {
            messageAttributes: options.messageAttributes,
            md5OfMessageAttributes: md5OfMessageAttributes(options.messageAttributes),
          }
        : {}),
      sentTimestamp: Date.now(),
      senderId: options.senderId ?? 'AIDAEMULATORSENDER',
      receiveCount: 0,
    });
    this.counters.sent += 1;
    this.enqueue(message, options.delaySeconds ?? this.settings.delaySeconds);
    return message;
  }

  /** Takes a message moved here from another queue by its redrive policy, visible at once. */
  adopt(message: QueueMessage, sourceArn: string): void {
    const adopted = this.store({
      id: message.id,
      body: message.body,
      md5OfBody: message.md5OfBody,
      ...(message.messageAttributes
        ? { messageAttributes: message.messageAttributes, md5OfMessageAttributes: message.md5OfMessageAttributes }
        : {}),
      sentTimestamp: message.sentTimestamp,
      senderId: message.senderId,
      receiveCount: 0,
      deadLetterQueueSourceArn: sourceArn,
    });
    this.enqueue(adopted, 0);
  }

  /**
   * Receives up to `max` visible messages, hiding each for `visibilityTimeout` seconds (default: the queue's).
   * A message already received maxReceiveCount times moves to the dead-letter queue instead (SQS Developer
   * Guide, dead-letter queues).
   */
  receive(max: number, visibilityTimeout = this.settings.visibilityTimeout): QueueMessage[] {
    const out: QueueMessage[] = [];
    const now = Date.now();
    for (const message of this.visible.values()) {
      if (out.length >= max) break;
      this.visible.delete(message.id);
      if (this.expired(message, now)) {
        this.messages.delete(message.id);
        continue;
      }
      const policy = this.settings.redrivePolicy;
      if (policy && message.receiveCount >= policy.maxReceiveCount && this.context.redrive(this, message)) {
        this.messages.delete(message.id);
        this.counters.movedToDlq += 1;
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.state = 'inflight';
      message.handle = receiptHandle(this.name, message.id);
      this.hideFor(message, visibilityTimeout);
      this.counters.received += 1;
      out.push(message);
    }
    return out;
  }

  /**
   * Deletes the message of a receipt handle. An older handle of a message received again since succeeds
   * without deleting it, and a handle of a message already gone succeeds too (SQS API Reference, DeleteMessage).
   */
  delete(handle: string): HandleOutcome {
    const id = messageIdOf(handle, this.name);
    if (id === undefined) return 'invalid';
    const message = this.messages.get(id);
    if (!message) return 'done';
    if (message.handle !== handle) return 'stale';
    message.timer?.cancel();
    this.messages.delete(id);
    this.visible.delete(id);
    this.counters.deleted += 1;
    return 'done';
  }

  /** Hides an in-flight message for `seconds` from now; 0 makes it visible at once. */
  changeVisibility(handle: string, seconds: number): HandleOutcome {
    const id = messageIdOf(handle, this.name);
    if (id === undefined) return 'invalid';
    const message = this.messages.get(id);
    if (!message || message.handle !== handle) return 'invalid';
    if (message.state !== 'inflight') return 'not-inflight';
    message.timer?.cancel();
    this.hideFor(message, seconds);
    return 'done';
  }

  /** Deletes every message. */
  purge(): void {
    for (const message of this.messages.values()) message.timer?.cancel();
    this.messages.clear();
    this.visible.clear();
  }

  /** Cancels every pending timer (the emulator closes). */
  dispose(): void {
    for (const message of this.messages.values()) message.timer?.cancel();
  }

  get visibleCount(): number {
    return this.visible.size;
  }

  counts(): { visible: number; inFlight: number; delayed: number } {
    let inFlight = 0;
    let delayed = 0;
    for (const message of this.messages.values()) {
      if (message.state === 'inflight') inFlight += 1;
      else if (message.state === 'delayed') delayed += 1;
    }
    return { visible: this.visible.size, inFlight, delayed };
  }

  /**
   * Whether a message outlived the retention period (scaled; at time scale 0, where every delay is nothing, a
   * message is kept: its period would be nothing too).
   */
  private expired(message: QueueMessage, now: number): boolean {
    const retentionMs = this.context.clock.scaled(this.settings.messageRetentionPeriod * 1000);
    return retentionMs > 0 && now - message.sentTimestamp > retentionMs;
  }

  private store(fields: Omit<QueueMessage, 'state'>): QueueMessage {
    const message: QueueMessage = { ...fields, state: 'delayed' };
    this.messages.set(message.id, message);
    return message;
  }

  private enqueue(message: QueueMessage, delaySeconds: number): void {
    if (delaySeconds <= 0) {
      this.show(message);
      return;
    }
    message.state = 'delayed';
    message.timer = this.context.clock.after(delaySeconds * 1000, () => this.show(message));
  }

  private hideFor(message: QueueMessage, seconds: number): void {
    if (seconds <= 0) {
      this.show(message);
      return;
    }
    message.timer = this.context.clock.after(seconds * 1000, () => this.show(message));
  }

  private show(message: QueueMessage): void {
    message.timer = undefined;
    if (!this.messages.has(message.id)) return;
    message.state = 'visible';
    this.visible.set(message.id, message);
    this.context.onVisible(this);
  }
}

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/**
 * The MD5 of message attributes as SQS computes it (SQS Developer Guide, "Calculating the MD5 message digest
 * for message attributes"): per attribute, sorted by name, each of name, data type and value preceded by its
 * 4-byte big-endian length, with a transport byte (1 string, 2 binary) before the value.
 */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const hash = createHash('md5');
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name] as MessageAttributeValue;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}

function receiptHandle(queue: string, id: string): string {
  return Buffer.from(`${queue}\n${id}\n${randomHex(16)}`, 'utf8').toString('base64');
}

/** The message id a receipt handle of this queue names; undefined for anything else. */
function messageIdOf(handle: string, queue: string): string | undefined {
  const parts = Buffer.from(handle, 'base64').toString('utf8').split('\n');
  if (parts.length !== 3 || parts[0] !== queue || !parts[1]) return undefined;
  return parts[1];
}
