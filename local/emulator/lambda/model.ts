import type { Clock } from '../clock';
import type { BusEvent, DeadLetter, ResourceDelivery } from '../events/event-bus';
import { Sqs } from '../sqs/sqs';
import { AsyncInvoker, type Discarded } from './async-invoker';
import { EventSourceMapping } from './event-source-mapping';
import { LambdaFunctions } from './functions';
import type {
  EventSourceMappingSpec,
  FunctionSpec,
  LambdaStats,
  QueueInfo,
  QueueOptions,
  ResourceTarget,
} from './types';

/** The SenderId of the messages EventBridge (a queue target) and Lambda (an on-failure destination) send. */
const EVENTBRIDGE_SENDER_ID = 'AIDAEVENTBRIDGEEMULATED';
const LAMBDA_SENDER_ID = 'AROALAMBDAEMULATED:lambda';

export interface LambdaModelOptions {
  clock: Clock;
  region: string;
  accountId: string;
  log: (line: string) => void;
  /** The endpoint's URL, once it listens (queue URLs carry it). */
  endpoint: () => string;
  /** Keeps a discarded asynchronous event where `/_local/dlq` shows it. */
  keepDeadLetter: (letter: DeadLetter) => void;
}

/**
 * What sits between EventBridge and the functions in the emulated account: SQS queues, Lambda functions with
 * their reserved concurrency, Lambda's asynchronous queue and the SQS event source mappings. The event bus hands
 * it the events of rules whose target is a function or a queue.
 */
export class LambdaModel implements ResourceDelivery {
  readonly sqs: Sqs;
  private readonly functions: LambdaFunctions;
  private readonly mappings: EventSourceMapping[] = [];
  private readonly asyncInvoker: AsyncInvoker;

  constructor(private readonly options: LambdaModelOptions) {
    const { clock, region, accountId, log } = options;
    this.sqs = new Sqs({ clock, region, accountId, endpoint: options.endpoint });
    this.functions = new LambdaFunctions(clock);
    this.asyncInvoker = new AsyncInvoker({
      clock,
      region,
      accountId,
      log,
      onDiscard: (discarded) => this.onDiscard(discarded),
    });
  }

  /** A rule's event: into the function's async queue, or into the queue as a message (the event's JSON). */
  deliver(rule: string, target: ResourceTarget, event: BusEvent): void {
    if ('function' in target) {
      this.asyncInvoker.invoke(this.functions.require(target.function), event, rule);
      return;
    }
    const queue = this.sqs.resolve(target.queue);
    if (!queue) throw new Error(`queue ${target.queue} does not exist`);
    this.sqs.sendInternal(queue, JSON.stringify(event), EVENTBRIDGE_SENDER_ID);
  }

  addQueue(name: string, options?: QueueOptions): QueueInfo {
    return this.sqs.addQueue(name, options);
  }

  addFunction(spec: FunctionSpec): void {
    this.functions.add(spec);
  }

  addEventSourceMapping(spec: EventSourceMappingSpec): string {
    const queue = this.sqs.resolve(spec.queue);
    if (!queue) throw new RangeError(`no such queue: ${spec.queue}`);
    const { clock, region, log } = this.options;
    const mapping = new EventSourceMapping(spec, queue, this.functions.require(spec.functionName), {
      clock,
      region,
      log,
    });
    this.mappings.push(mapping);
    this.sqs.onVisible(queue, () => mapping.wake());
    mapping.wake();
    return mapping.uuid;
  }

  invokeAsync(functionName: string, payload: unknown): void {
    this.asyncInvoker.invoke(this.functions.require(functionName), payload);
  }

  stats(): LambdaStats {
    return {
      functions: this.functions.all().map((fn) => fn.stats()),
      queues: this.sqs.stats(),
      eventSourceMappings: this.mappings.map((mapping) => ({
        uuid: mapping.uuid,
        queue: mapping.queue.name,
        functionName: mapping.fn.name,
        inFlight: mapping.inFlight,
      })),
    };
  }

  resetStats(): void {
    for (const fn of this.functions.all()) fn.resetCounters();
    this.sqs.resetCounters();
  }

  dispose(): void {
    for (const mapping of this.mappings) mapping.stop();
    this.sqs.dispose();
  }

  /** Lambda's on-failure handling: the DLQ list, and the invocation record to the function's on-failure queue. */
  private onDiscard(discarded: Discarded): void {
    this.options.keepDeadLetter({
      rule: discarded.rule ?? `function:${discarded.fn.name}`,
      event: discarded.payload as BusEvent,
      attempts: discarded.record.requestContext.approximateInvokeCount,
      error: discarded.error,
      failedAt: discarded.record.timestamp,
    });
    const destination = discarded.fn.spec.onFailureQueue;
    if (destination === undefined) return;
    try {
      const queue = this.sqs.resolve(destination);
      if (!queue) throw new Error('no such queue');
      this.sqs.sendInternal(queue, JSON.stringify(discarded.record), LAMBDA_SENDER_ID);
    } catch (error) {
      this.options.log(
        `function ${discarded.fn.name}: on-failure destination ${destination}: ${(error as Error).message}`,
      );
    }
  }
}
