import { RegistrarError } from './errors';
import { logger } from './observability';

/** What one item of a run was, for the line that logs its failure. */
export interface RunItem {
  /** The step that failed: `register`, `deregister`, `set-health`, `list-instances`, `list-tasks`, ... */
  action: string;
  taskArn?: string;
  instanceId?: string;
  namespace?: string;
  /** The Cloud Map service (`service` is a reserved key of the logger). */
  cloudMapService?: string;
  cluster?: string;
}

/** The counts a reconcile or a health sweep reports beside its own. */
export interface ItemCounts {
  /** Items that failed; each is retried by the next run. */
  failed: number;
  /** `failed` by reason: a RegistrarError's code, else the AWS error name (`AccessDeniedException`). */
  failedByReason: Record<string, number>;
  /**
   * Items left alone for a reason: instances and tasks count one each; a Cloud Map service that is not
   * ours and a cluster ECS does not find count once per run.
   */
  skipped: number;
  skippedByReason: Record<string, number>;
}

/** The stable reason code of a failure: a RegistrarError's code, else the AWS SDK error's name. */
export function reasonOf(error: unknown): string {
  if (error instanceof RegistrarError) return error.code;
  if (error instanceof Error && error.name) return error.name;
  return 'unknown';
}

/** The failures of several runs (the passes of one health sweep invocation), added up. */
export function totalFailures(runs: ItemCounts[]): Pick<ItemCounts, 'failed' | 'failedByReason'> {
  const failedByReason: Record<string, number> = {};
  for (const [reason, count] of runs.flatMap((run) => Object.entries(run.failedByReason))) {
    failedByReason[reason] = (failedByReason[reason] ?? 0) + count;
  }
  return { failed: runs.reduce((sum, run) => sum + run.failed, 0), failedByReason };
}

/**
 * The per-item accounting of one run, as a Kubernetes controller's work queue does it (STYLE §12): an
 * item that fails is counted by reason and logged on one line, and never stops the others.
 */
export class ItemTally implements ItemCounts {
  failed = 0;
  readonly failedByReason: Record<string, number> = {};
  skipped = 0;
  readonly skippedByReason: Record<string, number> = {};
  private readonly seen = new Set<string>();

  /** Counts and logs a failed item. */
  fail(item: RunItem, error: unknown): void {
    const reason = reasonOf(error);
    this.failed += 1;
    this.failedByReason[reason] = (this.failedByReason[reason] ?? 0) + 1;
    const message = error instanceof Error ? error.message : String(error);
    logger.error(`${item.action} failed: ${message}`, { ...item, reason });
  }

  /** Runs one item's work; a failure is counted and logged, and the result is undefined. */
  async attempt<T>(item: RunItem, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    try {
      return { value: await work() };
    } catch (error) {
      this.fail(item, error);
      return undefined;
    }
  }

  /** Counts items left alone for `reason`. */
  skip(reason: string, count = 1): void {
    if (count <= 0) return;
    this.skipped += count;
    this.skippedByReason[reason] = (this.skippedByReason[reason] ?? 0) + count;
  }

  /**
   * Counts a skip once per run for `key` (a service that is not ours, a cluster ECS does not find) and
   * logs `message` as a warning the first time: it asks an operator to act.
   */
  skipOnce(reason: string, key: string, message: string, fields: Omit<RunItem, 'action'>): void {
    const seenKey = `${reason}\n${key.toLowerCase()}`;
    if (this.seen.has(seenKey)) return;
    this.seen.add(seenKey);
    this.skip(reason);
    logger.warn(message, { ...fields, reason });
  }

  /** The counts, for a summary. */
  counts(): ItemCounts {
    return {
      failed: this.failed,
      failedByReason: { ...this.failedByReason },
      skipped: this.skipped,
      skippedByReason: { ...this.skippedByReason },
    };
  }
}
