/**
 * Scaled time for the emulator: every simulated delay (ECS transitions, Cloud Map operations, Lambda
 * retries) goes through here, so tests can run minutes of AWS behaviour in milliseconds and can await
 * the moment nothing is left to happen.
 */
/** A pending `Clock.after` callback. */
export interface ClockTimer {
  /** Drops the callback if it has not run yet (no-op afterwards). */
  cancel(): void;
}

export class Clock {
  private scaleValue: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly backgroundTimers = new Set<NodeJS.Timeout>();
  private busy = 0;
  private waiters: (() => void)[] = [];

  constructor(scale = 1) {
    this.scaleValue = checkScale(scale);
  }

  get scale(): number {
    return this.scaleValue;
  }

  set scale(value: number) {
    this.scaleValue = checkScale(value);
  }

  now(): Date {
    return new Date();
  }

  /** The real delay for a simulated one. */
  scaled(baseMs: number): number {
    return Math.max(0, Math.round(baseMs * this.scaleValue));
  }

  /**
   * Runs `fn` after the scaled delay; the emulator is not idle until it has run, or until the returned
   * handle cancels it (an SQS message deleted before its visibility timeout ends).
   */
  after(baseMs: number, fn: () => void | Promise<void>): ClockTimer {
    this.busy += 1;
    let pending = true;
    const timer = setTimeout(() => {
      pending = false;
      this.timers.delete(timer);
      void this.track(Promise.resolve().then(fn)).finally(() => this.release());
    }, this.scaled(baseMs));
    this.timers.add(timer);
    return {
      cancel: () => {
        if (!pending || !this.timers.has(timer)) return;
        pending = false;
        clearTimeout(timer);
        this.timers.delete(timer);
        this.release();
      },
    };
  }

  /** Runs `fn` after the scaled delay without holding quiescence (e.g. forgetting stopped tasks). */
  background(baseMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.backgroundTimers.delete(timer);
      fn();
    }, this.scaled(baseMs));
    timer.unref();
    this.backgroundTimers.add(timer);
  }

  /** Holds quiescence while `work` runs; errors are the caller's to handle. */
  track<T>(work: Promise<T>): Promise<T> {
    this.busy += 1;
    return work.finally(() => this.release());
  }

  /** Resolves once no timer or tracked work is pending. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Cancels every pending timer; used when the emulator closes. */
  dispose(): void {
    for (const timer of [...this.timers, ...this.backgroundTimers]) clearTimeout(timer);
    this.timers.clear();
    this.backgroundTimers.clear();
    this.busy = 0;
    this.flush();
  }

  private release(): void {
    this.busy = Math.max(0, this.busy - 1);
    if (this.busy === 0) this.flush();
  }

  private flush(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function checkScale(scale: number): number {
  if (!Number.isFinite(scale) || scale < 0) throw new RangeError(`time scale must be a number >= 0, got ${scale}`);
  return scale;
}
