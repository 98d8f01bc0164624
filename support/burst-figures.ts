/**
 * The burst benchmark's figures (issue 13), computed from what the run recorded: pure functions, so that
 * test/unit/perf/burst-figures.test.ts can check the definitions without a pipeline.
 *
 * Times are real milliseconds (performance.now()) until `toAws` converts a duration to AWS time: the run
 * goes `timeScale` times faster than AWS, so an AWS duration is the real one divided by the time scale.
 */

/** One answer of the lookup for one query: when it was asked, when it came back, which instances it listed. */
export interface LookupAnswer {
  startedAt: number;
  receivedAt: number;
}

/**
 * What the lookup polls of one query (one key) showed over the run: every answer's times, and per instance the
 * first and last answer that listed it (their receive times).
 */
export class ListingTimeline {
  /** Answers in the order they came back (each poll awaits the previous, so receive times ascend). */
  readonly answers: LookupAnswer[] = [];
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();

  /** Records one answer and the instance ids it listed. */
  record(answer: LookupAnswer, listed: Iterable<string>): void {
    this.answers.push(answer);
    for (const id of listed) {
      if (!this.first.has(id)) this.first.set(id, answer.receivedAt);
      this.last.set(id, answer.receivedAt);
    }
  }

  /** When an answer first listed the instance (undefined: never). */
  firstListed(id: string): number | undefined {
    return this.first.get(id);
  }

  /** When an answer last listed the instance (undefined: never). */
  lastListed(id: string): number | undefined {
    return this.last.get(id);
  }

  /**
   * The moment the instance is out of the answers after `since` (its first leaving event): the receive time of
   * the first answer asked at or after `since` that no longer lists it and after which no answer lists it
   * again (so: the first such answer received after the last one that listed it). Undefined while no answer
   * has shown it gone yet.
   */
  outAfter(id: string, since: number): number | undefined {
    const lastListed = this.last.get(id) ?? Number.NEGATIVE_INFINITY;
    for (const answer of this.answers) {
      if (answer.startedAt >= since && answer.receivedAt > lastListed) return answer.receivedAt;
    }
    return undefined;
  }
}

/** Nearest-rank percentile of ascending values (NaN for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** A distribution of AWS milliseconds over the tasks it covers, of `of` tasks it should cover. */
export interface Distribution {
  p50: number;
  p99: number;
  max: number;
  /** Tasks measured (the others never reached the end moment before the run's deadline). */
  measured: number;
  of: number;
}

/**
 * Percentiles of `values` (AWS ms). Given `missingAs` (the run's deadline: a lower bound of theirs), the tasks that
 * never reached the end moment count as that, so a p99 never looks better for having lost the slow tasks; without
 * it the percentiles are of the measured tasks alone.
 */
export function distribution(values: readonly number[], of: number, missingAs?: number): Distribution {
  const missing = missingAs === undefined ? 0 : Math.max(0, of - values.length);
  const all = [...values, ...Array.from({ length: missing }, () => missingAs as number)].sort((a, b) => a - b);
  const round = (n: number) => (Number.isFinite(n) ? Math.round(n) : n);
  return {
    p50: round(percentile(all, 50)),
    p99: round(percentile(all, 99)),
    max: round(all.length === 0 ? Number.NaN : (all[all.length - 1] as number)),
    measured: values.length,
    of,
  };
}

/** A real duration in AWS milliseconds at `timeScale`. */
export function toAws(realMs: number, timeScale: number): number {
  return realMs / timeScale;
}

/**
 * Per old task: its first leaving event to its instance gone from the `health=healthy` answers (see
 * ListingTimeline.outAfter), in AWS ms. Tasks never listed at all are left out (they were not discoverable).
 */
export function leavingToOut(
  tasks: readonly { instanceId: string; leavingAt?: number }[],
  timeline: ListingTimeline,
  timeScale: number,
): number[] {
  return tasks.flatMap((task) => {
    if (task.leavingAt === undefined || timeline.lastListed(task.instanceId) === undefined) return [];
    const out = timeline.outAfter(task.instanceId, task.leavingAt);
    return out === undefined ? [] : [toAws(Math.max(0, out - task.leavingAt), timeScale)];
  });
}

/**
 * Per new task: the moment ECS set it HEALTHY to the first `health=healthy` answer that listed it, in AWS ms.
 * Negative when an answer listed it before ECS's HEALTHY (a registrar that did not wait for health).
 */
export function healthyToDiscoverable(
  tasks: readonly { instanceId: string; healthyAt?: number }[],
  timeline: ListingTimeline,
  timeScale: number,
): number[] {
  return tasks.flatMap((task) => {
    const listed = timeline.firstListed(task.instanceId);
    return task.healthyAt === undefined || listed === undefined ? [] : [toAws(listed - task.healthyAt, timeScale)];
  });
}

/**
 * Billed seconds per task lifecycle (one task started and registered, one stopped and deregistered), from the work
 * done: the instance registrations and deregistrations Cloud Map applied, two per lifecycle. For a complete run
 * that is billed seconds / tasks; for one cut short by its deadline, the cost of the lifecycles it got through.
 */
export function secondsPerLifecycle(billedSeconds: number, registrations: number, deregistrations: number): number {
  const lifecycles = (registrations + deregistrations) / 2;
  return lifecycles === 0 ? Number.NaN : billedSeconds / lifecycles;
}
