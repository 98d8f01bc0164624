import type { Clock } from '../clock';
import type { FunctionSpec, FunctionStats, InvokeResult } from './types';

/** What an attempt to run a function came to: refused at its reserved concurrency, or ran. */
export type Execution = { throttled: true } | { throttled: false; result: InvokeResult; durationMs: number };

type Counters = Pick<
  FunctionStats,
  'invocations' | 'throttles' | 'errors' | 'maxConcurrent' | 'billedMs' | 'recordsHandled' | 'asyncDiscarded'
>;

const zeroCounters = (): Counters => ({
  invocations: 0,
  throttles: 0,
  errors: 0,
  maxConcurrent: 0,
  billedMs: 0,
  recordsHandled: 0,
  asyncDiscarded: 0,
});

/**
 * A Lambda function: its code and its concurrent executions. An execution that would exceed the reserved
 * concurrency is refused (throttled, as Lambda answers 429), not queued: what happens next is the caller's
 * (the async queue retries it, an event source mapping leaves its batch in the queue).
 */
export class LambdaFunction {
  running = 0;
  /** Async events waiting in the queue for their next attempt. */
  asyncQueued = 0;
  counters: Counters = zeroCounters();
  private slotWaiters: (() => void)[] = [];

  constructor(
    readonly spec: FunctionSpec,
    private readonly clock: Clock,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** Whether one more execution would be throttled now. */
  get atCapacity(): boolean {
    return this.spec.reservedConcurrency !== undefined && this.running >= this.spec.reservedConcurrency;
  }

  /**
   * Runs the code once with `payload` unless the function is at its reserved concurrency. `records` counts the
   * SQS records of the payload (accounting). The emulator is not idle while the code runs.
   */
  execute(payload: unknown, records = 0): Promise<Execution> {
    if (this.atCapacity) {
      this.counters.throttles += 1;
      return Promise.resolve({ throttled: true });
    }
    this.running += 1;
    this.counters.invocations += 1;
    this.counters.recordsHandled += records;
    this.counters.maxConcurrent = Math.max(this.counters.maxConcurrent, this.running);
    const started = performance.now();
    const run = Promise.resolve()
      .then(() => this.spec.code(payload))
      .catch(
        (error: unknown): InvokeResult => ({
          ok: false,
          body: JSON.stringify({ errorMessage: error instanceof Error ? error.message : String(error) }),
          error: 'Unhandled',
        }),
      )
      .then((result): Execution => {
        const durationMs = performance.now() - started;
        // Lambda bills each execution's duration rounded up to the next millisecond.
        this.counters.billedMs += Math.max(1, Math.ceil(durationMs));
        if (!result.ok) this.counters.errors += 1;
        return { throttled: false, result, durationMs };
      })
      .finally(() => {
        this.running -= 1;
        const waiters = this.slotWaiters;
        this.slotWaiters = [];
        for (const waiter of waiters) waiter();
      });
    return this.clock.track(run);
  }

  /** Calls `listener` once, when the next execution ends (a slot frees). */
  onceSlotFree(listener: () => void): void {
    this.slotWaiters.push(listener);
  }

  stats(): FunctionStats {
    return {
      name: this.name,
      ...(this.spec.reservedConcurrency !== undefined ? { reservedConcurrency: this.spec.reservedConcurrency } : {}),
      ...this.counters,
      concurrentNow: this.running,
      asyncQueued: this.asyncQueued,
    };
  }

  resetCounters(): void {
    this.counters = { ...zeroCounters(), maxConcurrent: this.running };
  }
}

/** The functions of the emulated account, by name. */
export class LambdaFunctions {
  private readonly functions = new Map<string, LambdaFunction>();

  constructor(private readonly clock: Clock) {}

  /** Adds a function; its reserved concurrency must be a whole number >= 0, as PutFunctionConcurrency takes. */
  add(spec: FunctionSpec): LambdaFunction {
    if (this.functions.has(spec.name)) throw new RangeError(`function ${spec.name} exists`);
    const reserved = spec.reservedConcurrency;
    if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 0)) {
      throw new RangeError(`reservedConcurrency of ${spec.name} must be a whole number >= 0, got ${reserved}`);
    }
    const fn = new LambdaFunction(spec, this.clock);
    this.functions.set(spec.name, fn);
    return fn;
  }

  get(name: string): LambdaFunction | undefined {
    return this.functions.get(name);
  }

  /** A function that must exist (a rule or mapping names it). */
  require(name: string): LambdaFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new RangeError(`no such function: ${name} (add it with addFunction first)`);
    return fn;
  }

  all(): LambdaFunction[] {
    return [...this.functions.values()];
  }
}
