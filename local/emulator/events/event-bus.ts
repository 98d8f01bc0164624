import type { Clock } from '../clock';
import { RETRY_DELAYS_MS } from '../lambda/backoff';
import type { ResourceTarget } from '../lambda/types';
import { type EventPattern, matchesEventPattern, validateEventPattern } from './event-pattern';

/** An event as EventBridge hands it to a target. */
export interface BusEvent {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/**
 * An in-process target: a handler the bus calls itself, with Lambda's asynchronous retries (a failed call is
 * retried about 1 and 2 minutes later, then kept in the DLQ), but no concurrency limit or throttling.
 */
export type EventTarget = (event: BusEvent) => Promise<void>;

/** A rule on the default bus; its target is an in-process handler, or an emulated function or queue. */
export interface EventRule {
  name: string;
  pattern: EventPattern;
  target: EventTarget | ResourceTarget;
}

/** Delivers to emulated resources (a function through its async queue, a queue by SendMessage); throws if absent. */
export interface ResourceDelivery {
  deliver(rule: string, target: ResourceTarget, event: BusEvent): void;
}

/** An event whose every attempt failed, kept as Lambda's on-failure destination / DLQ would keep it. */
export interface DeadLetter {
  rule: string;
  event: BusEvent;
  attempts: number;
  error: string;
  failedAt: string;
}

/**
 * Lambda's asynchronous invocation retries a failed event twice, about 1 and 2 minutes later
 * (AWS Lambda Developer Guide, "Error handling and automatic retries ... asynchronous invocation").
 */
export { RETRY_DELAYS_MS };

/** The default event bus: matches events against rules and delivers them with async-Lambda retries. */
export class EventBus {
  private readonly rules: EventRule[] = [];
  private readonly deadLetters: DeadLetter[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
    private readonly resources?: ResourceDelivery,
  ) {}

  /** Adds a rule; throws InvalidEventPatternError for a pattern EventBridge would refuse. */
  addRule(rule: EventRule): void {
    validateEventPattern(rule.pattern);
    if (this.rules.some((existing) => existing.name === rule.name)) throw new Error(`rule ${rule.name} exists`);
    this.rules.push(rule);
  }

  /** Names of the rules the event matches; each of them gets it delivered. */
  publish(event: BusEvent): string[] {
    const matched = this.rules.filter((rule) => matchesEventPattern(rule.pattern, event));
    for (const rule of matched) this.deliver(rule, event, 1);
    return matched.map((rule) => rule.name);
  }

  /** The failed events, oldest first. */
  listDeadLetters(): DeadLetter[] {
    return [...this.deadLetters];
  }

  /** Empties the DLQ and delivers each event again, with a fresh set of retries. */
  replayDeadLetters(): number {
    const letters = this.deadLetters.splice(0);
    for (const letter of letters) {
      const rule = this.rules.find((candidate) => candidate.name === letter.rule);
      if (rule) this.deliver(rule, letter.event, 1);
      else this.deadLetters.push(letter);
    }
    return letters.length;
  }

  clearDeadLetters(): void {
    this.deadLetters.splice(0);
  }

  /** Keeps an event that an emulated function discarded (Lambda's on-failure destination). */
  addDeadLetter(letter: DeadLetter): void {
    this.deadLetters.push(letter);
  }

  private deliver(rule: EventRule, event: BusEvent, attempt: number): void {
    const target = rule.target;
    if (typeof target !== 'function') {
      this.deliverToResource(rule, target, event);
      return;
    }
    const work = Promise.resolve()
      .then(() => target(event))
      .catch((error: unknown) => this.onFailure(rule, event, attempt, error));
    void this.clock.track(work);
  }

  /**
   * A function target gets the event in its async queue, a queue target as a message. A target that does not
   * exist fails the delivery: the event is kept in the DLQ, as the rule's dead-letter queue would keep it.
   */
  private deliverToResource(rule: EventRule, target: ResourceTarget, event: BusEvent): void {
    try {
      if (!this.resources) throw new Error('no emulated functions or queues');
      this.resources.deliver(rule.name, target, event);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log(`rule ${rule.name}: event ${event.id} not delivered (${reason}); kept in the DLQ`);
      this.deadLetters.push({ rule: rule.name, event, attempts: 1, error: reason, failedAt: new Date().toISOString() });
    }
  }

  private onFailure(rule: EventRule, event: BusEvent, attempt: number, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    const delay = RETRY_DELAYS_MS[attempt - 1];
    if (delay !== undefined) {
      this.log(`rule ${rule.name}: event ${event.id} failed (attempt ${attempt}: ${reason}); retrying`);
      this.clock.after(delay, () => this.deliver(rule, event, attempt + 1));
      return;
    }
    this.log(`rule ${rule.name}: event ${event.id} failed ${attempt} times (${reason}); kept in the DLQ`);
    this.deadLetters.push({
      rule: rule.name,
      event,
      attempts: attempt,
      error: reason,
      failedAt: new Date().toISOString(),
    });
  }
}
