import type { Clock, ClockTimer } from '../clock';
import { randomUUID } from '../random';
import type { Queue, QueueMessage } from '../sqs/queue';
import type { LambdaFunction } from './functions';
import { messagesToKeep, sqsEvent } from './sqs-batch';
import type { EventSourceMappingSpec } from './types';

/** The most concurrent batches a mapping without maximumConcurrency reaches (Lambda Developer Guide, SQS scaling). */
const DEFAULT_MAXIMUM_CONCURRENCY = 1250;

export interface MappingContext {
  clock: Clock;
  region: string;
  log: (line: string) => void;
}

/**
 * An SQS event source mapping: Lambda's pollers receive batches of visible messages and invoke the function
 * with each, at most maximumConcurrency at a time (AWS Lambda Developer Guide, "Configuring scaling behavior
 * for SQS event source mappings", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
 * A batch the function handled is deleted, but for the messages a partial batch response names; a function
 * error deletes nothing, and a throttled invocation leaves the batch in flight: either way the messages
 * reappear after the visibility timeout (and the queue's redrive policy applies). After a throttle the mapping
 * backs off until one of the function's executions ends. Nothing polls: the mapping acts when messages become
 * visible (their delay or visibility timeout ends on the emulator's clock) and when a batch finishes.
 */
export class EventSourceMapping {
  readonly uuid = randomUUID();
  inFlight = 0;
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly maximumConcurrency: number;
  private scheduled = false;
  private backingOff = false;
  private windowTimer: ClockTimer | undefined;
  private windowOver = false;
  private stopped = false;

  constructor(
    readonly spec: EventSourceMappingSpec,
    readonly queue: Queue,
    readonly fn: LambdaFunction,
    private readonly context: MappingContext,
  ) {
    this.batchSize = checkRange('batchSize', spec.batchSize ?? 10, 1, 10);
    this.windowMs = checkRange('maximumBatchingWindowSeconds', spec.maximumBatchingWindowSeconds ?? 0, 0, 300) * 1000;
    this.maximumConcurrency =
      spec.maximumConcurrency === undefined
        ? DEFAULT_MAXIMUM_CONCURRENCY
        : checkRange('maximumConcurrency', spec.maximumConcurrency, 2, 1000);
  }

  /** Looks at the queue soon (after the current turn, so that a batch of sends lands in one batch). */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    void this.context.clock.track(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.scheduled = false;
        this.pump();
      }),
    );
  }

  stop(): void {
    this.stopped = true;
    this.windowTimer?.cancel();
  }

  private pump(): void {
    while (!this.stopped && !this.backingOff && this.inFlight < this.maximumConcurrency) {
      const visible = this.queue.visibleCount;
      if (visible === 0) return;
      if (this.windowMs > 0 && visible < this.batchSize && !this.windowOver) {
        // The batching window: wait for a full batch, or for the window to end.
        this.windowTimer ??= this.context.clock.after(this.windowMs, () => {
          this.windowTimer = undefined;
          this.windowOver = true;
          this.pump();
        });
        return;
      }
      this.windowOver = false;
      this.windowTimer?.cancel();
      this.windowTimer = undefined;
      const batch = this.queue.receive(this.batchSize);
      if (batch.length === 0) continue; // all moved to the dead-letter queue or expired
      this.invoke(batch);
    }
  }

  private invoke(batch: QueueMessage[]): void {
    // A throttled invocation ends this round at once: one batch per back-off, not every visible one.
    if (this.fn.atCapacity) this.backingOff = true;
    this.inFlight += 1;
    // This receive's handles: if a message's visibility timeout ends during the invocation and another batch
    // receives it, deleting with this (older) handle leaves it, as SQS does.
    const handles = new Map(batch.map((message) => [message.id, message.handle ?? '']));
    const event = sqsEvent(batch, this.queue.arn, this.context.region);
    const run = this.fn.execute(event, batch.length).then((execution) => {
      this.inFlight -= 1;
      if (execution.throttled) {
        // The batch stays in flight and reappears after the visibility timeout; back off until a slot frees.
        this.backingOff = true;
        const resume = () => {
          this.backingOff = false;
          this.wake();
        };
        if (this.fn.atCapacity) this.fn.onceSlotFree(resume);
        else resume();
        return;
      }
      const { result } = execution;
      if (result.ok) {
        const ids = batch.map((message) => message.id);
        const keep = new Set(
          messagesToKeep(result.body, ids, this.spec.functionResponseType === 'ReportBatchItemFailures'),
        );
        for (const [id, handle] of handles) if (!keep.has(id)) this.queue.delete(handle);
        if (keep.size > 0)
          this.context.log(
            `${this.fn.name}: ${keep.size} of ${batch.length} messages failed; they return to ${this.queue.name}`,
          );
      } else {
        this.context.log(
          `${this.fn.name}: batch of ${batch.length} from ${this.queue.name} failed (${result.error}); it returns after the visibility timeout`,
        );
      }
      this.wake();
    });
    void this.context.clock.track(run);
  }
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return value;
}
