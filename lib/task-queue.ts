import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { logger } from './observability';
import { pool } from './pool';
import type { RecheckQueue } from './ports';
import type { Outcome, RegistrarDeps } from './registrar';
import { runRegistration } from './registrar-runtime';

/**
 * The register and deregister functions' work on their queues. A message holds one ECS task event (from the
 * running or the leaving rule), or a re-check: `{"recheck": {"failures": n}, "events": [...]}`, events put back on
 * the register queue with a delay, for a health-checked task that ECS does not report HEALTHY yet (failures 0), or
 * for an event whose handling failed (failures n > 0). Nothing waits in a function: a task's health is asked again
 * when its re-check comes round, in the batch it comes with (lib/ecs/ecs-task-source.ts reads the batch's tasks in
 * one DescribeTasks per cluster).
 *
 * Every event of a batch is handled side by side and fails alone. A failed event is re-sent on its own with a
 * growing delay (10, 20, 40, 80 s); one that failed MAX_FAILURES times, or a message that could not be re-sent,
 * is reported in `batchItemFailures`, so SQS hands the message out again after the visibility timeout and moves it
 * to the DLQ after 5 receives (the queue's RedrivePolicy). Retrying an event is safe: every write is ordered by the
 * version store (lib/registrar.ts).
 */

export interface TaskQueueDeps extends RegistrarDeps {
  /** The register queue; absent (reconcile, tests, the CLI): a task not HEALTHY yet is left to the health sweep. */
  recheck?: RecheckQueue;
}

/** A re-check message's body. */
export interface RecheckMessage {
  recheck: { failures: number };
  events: unknown[];
}

/** An event handling that failed this many times is given back to SQS (then its DLQ) rather than re-sent. */
export const MAX_FAILURES = 5;
/** Events a re-check message holds at most (ECS task events are a few KB each; SQS takes 256 KiB a message). */
export const EVENTS_PER_MESSAGE = 40;
const MAX_MESSAGE_BYTES = 200_000;
/**
 * Tasks handled at once in one invocation: a whole batch (10 messages of up to 40 events). With the queue's event
 * source running at most `registerMaxConcurrency` batches, that bounds the Cloud Map writes in flight (5 x 400 =
 * 2,000 operations at most, by default). Fewer would make a burst of tasks turning HEALTHY together wait for one
 * another's operations (2 s each) inside an invocation.
 */
export const TASKS_AT_ONCE = 10 * EVENTS_PER_MESSAGE;

/** The events a message body holds and how many times they failed; `unreadable` when it is neither shape. */
export function readMessage(body: string): { events: unknown[]; failures: number } | { unreadable: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { unreadable: 'the message body is not JSON' };
  }
  if (json !== null && typeof json === 'object' && 'recheck' in json) {
    const { recheck, events } = json as Partial<RecheckMessage>;
    if (!Array.isArray(events)) return { unreadable: 'a re-check message without an events list' };
    const failures = Number(recheck?.failures ?? 0);
    return { events, failures: Number.isInteger(failures) && failures >= 0 ? failures : 0 };
  }
  return { events: [json], failures: 0 };
}

/** Whether a task whose health is still pending is re-checked again: until `healthWaitMs` after its RUNNING event. */
export function recheckDue(event: unknown, now: number, healthWaitMs: number): boolean {
  const time = Date.parse(String((event as { time?: unknown } | null)?.time));
  return Number.isFinite(time) && now < time + healthWaitMs;
}

/** The delay of a re-check after `failures` failures: the poll for a pending task, else 10 s doubling. */
export function recheckDelaySeconds(failures: number, healthPollMs: number): number {
  const ms = failures === 0 ? healthPollMs : 10_000 * 2 ** (failures - 1);
  return Math.min(900, Math.max(1, Math.ceil(ms / 1000)));
}

/** Packs events into re-check message bodies of at most EVENTS_PER_MESSAGE events and ~200 KB each. */
export function packRechecks(events: unknown[], failures: number): { body: string; count: number }[] {
  const bodies: { body: string; count: number }[] = [];
  let current: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (current.length === 0) return;
    bodies.push({
      body: `{"recheck":{"failures":${failures}},"events":[${current.join(',')}]}`,
      count: current.length,
    });
    current = [];
    bytes = 0;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    if (current.length === EVENTS_PER_MESSAGE || bytes + json.length > MAX_MESSAGE_BYTES) flush();
    current.push(json);
    bytes += json.length + 1;
  }
  flush();
  return bodies;
}

/** The jobs grouped by task ARN (an event without one is a group of its own), each group by ascending version. */
export function byTask<T extends { event: unknown }>(jobs: T[]): T[][] {
  const groups = new Map<unknown, T[]>();
  jobs.forEach((job, i) => {
    const detail = (job.event as { detail?: { taskArn?: unknown } } | null)?.detail;
    const key = typeof detail?.taskArn === 'string' ? detail.taskArn : i;
    const group = groups.get(key) ?? [];
    group.push(job);
    groups.set(key, group);
  });
  const version = (job: T) => Number((job.event as { detail?: { version?: unknown } }).detail?.version ?? 0) || 0;
  return [...groups.values()].map((group) => group.sort((a, b) => version(a) - version(b)));
}

interface Job {
  record: string;
  event: unknown;
  failures: number;
}

/** What became of a batch: the SQS answer, and each event's outcome (an Error for one that failed). */
export interface BatchResult extends SQSBatchResponse {
  outcomes: (Outcome | Error)[];
}

/** Handles one batch of messages from the register or the leaving queue. */
export async function handleTaskMessages(
  records: Pick<SQSRecord, 'messageId' | 'body'>[],
  deps: TaskQueueDeps,
  /** `resendFailures: false`: a failed event is given back at once (a direct invocation reports it as its error). */
  options: { resendFailures?: boolean } = {},
): Promise<BatchResult> {
  const now = deps.now ?? Date.now;
  const jobs: Job[] = [];
  for (const record of records) {
    const read = readMessage(record.body);
    if ('unreadable' in read) {
      // Never handed out again: no retry can make it readable.
      logger.warn(`skipped: message ${record.messageId}: ${read.unreadable}`, {
        messageId: record.messageId,
        action: 'skip',
        reason: 'unreadable-message',
      });
      continue;
    }
    for (const event of read.events) jobs.push({ record: record.messageId, event, failures: read.failures });
  }

  const outcomes: (Outcome | Error)[] = [];
  const pending: Job[] = [];
  const failed: Job[] = [];
  const givenBack = new Set<string>();
  // Tasks not HEALTHY yet go back on the queue as soon as they are known, not after the batch's registrations have
  // waited for their Cloud Map operations: their next re-check comes round one delay later either way.
  const sends: Promise<void>[] = [];
  let flushing = false;
  const flushPending = () => {
    if (flushing || !deps.recheck) return;
    flushing = true;
    setImmediate(() => {
      flushing = false;
      const jobs = pending.splice(0);
      if (jobs.length) sends.push(sendRechecks([{ jobs, failures: 0 }], deps, givenBack));
    });
  };
  // The events of one task one after the other, oldest version first (a second leaving event then finds the first
  // one's work done instead of waiting for it); different tasks side by side.
  await pool(byTask(jobs), TASKS_AT_ONCE, async (taskJobs) => {
    for (const job of taskJobs) {
      try {
        const outcome = await runRegistration(job.event, deps);
        outcomes.push(outcome);
        const healthWaitMs = deps.settings.healthWaitMs ?? 0;
        if (outcome.result === 'skipped' && outcome.reason === 'health-pending') {
          if (recheckDue(job.event, now(), healthWaitMs)) {
            pending.push({ ...job, failures: 0 });
            flushPending();
          }
        }
      } catch (error) {
        outcomes.push(error instanceof Error ? error : new Error(String(error)));
        failed.push({ ...job, failures: job.failures + 1 });
      }
    }
  });
  // A flush scheduled by the last pending task, then what it did not take.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await Promise.all(sends);

  const resend: { jobs: Job[]; failures: number }[] = [];
  const unsent = pending.splice(0);
  if (unsent.length) resend.push({ jobs: unsent, failures: 0 });
  for (const job of failed) {
    if (job.failures >= MAX_FAILURES || !deps.recheck || options.resendFailures === false) givenBack.add(job.record);
    else resend.push({ jobs: [job], failures: job.failures });
  }
  if (resend.length && deps.recheck) {
    await sendRechecks(resend, deps, givenBack);
  } else if (unsent.length) {
    logger.info(`${unsent.length} task(s) not HEALTHY yet: left to the health sweep (no register queue)`, {
      action: 'recheck',
      pending: unsent.length,
    });
  }
  return { batchItemFailures: [...givenBack].map((itemIdentifier) => ({ itemIdentifier })), outcomes };
}

/** Sends the re-checks; a message that could not be sent gives its source messages back to SQS. */
async function sendRechecks(
  groups: { jobs: Job[]; failures: number }[],
  deps: TaskQueueDeps,
  givenBack: Set<string>,
): Promise<void> {
  const poll = deps.settings.healthPollMs ?? 1000;
  const messages: { body: string; delaySeconds: number; records: string[] }[] = [];
  for (const { jobs, failures } of groups) {
    let offset = 0;
    for (const packed of packRechecks(
      jobs.map((j) => j.event),
      failures,
    )) {
      const records = jobs.slice(offset, offset + packed.count).map((j) => j.record);
      offset += packed.count;
      messages.push({ body: packed.body, delaySeconds: recheckDelaySeconds(failures, poll), records });
    }
  }
  let failedIndexes: number[];
  try {
    failedIndexes = (await deps.recheck?.send(messages))?.failed ?? [];
  } catch (error) {
    logger.error('re-checks could not be sent; their messages go back to the queue', {
      error: error as Error,
      action: 'recheck',
    });
    failedIndexes = messages.map((_, i) => i);
  }
  for (const i of failedIndexes) for (const record of messages[i]?.records ?? []) givenBack.add(record);
  if (failedIndexes.length > 0) {
    logger.warn(`${failedIndexes.length} re-check message(s) not sent; their messages go back to the queue`, {
      action: 'recheck',
      notSent: failedIndexes.length,
    });
  }
  const sent = messages.length - failedIndexes.length;
  if (sent > 0) {
    logger.info(`re-check(s) sent: ${sent} message(s)`, {
      action: 'recheck',
      messages: sent,
      events: groups.reduce((n, g) => n + g.jobs.length, 0),
    });
  }
}

/** True for the event Lambda gives a function with an SQS event source. */
export function isSqsEvent(input: unknown): input is { Records: SQSRecord[] } {
  const records = (input as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs');
}

/**
 * A task-event function's handler body. An SQS event (the queue's event source) gets the batch answer; anything else
 * is one message invoked directly (`registrar replay-dlq`, tests): an EventBridge event or a re-check message, whose
 * first error is thrown, so the caller sees the function fail; otherwise the outcome of its (first) event.
 */
export async function runTaskInput(input: unknown, deps: TaskQueueDeps): Promise<SQSBatchResponse | Outcome> {
  if (isSqsEvent(input)) {
    const { batchItemFailures } = await handleTaskMessages(input.Records, deps);
    return { batchItemFailures };
  }
  const result = await handleTaskMessages([{ messageId: 'direct', body: JSON.stringify(input ?? null) }], deps, {
    resendFailures: false,
  });
  const error = result.outcomes.find((o): o is Error => o instanceof Error);
  if (error) throw error;
  // A re-check that could not be sent: the caller (a DLQ replay) keeps its message rather than lose the task's turn.
  if (result.batchItemFailures.length > 0) throw new Error('a re-check of this input could not be sent; try it again');
  const outcome = result.outcomes[0];
  if (outcome instanceof Error || outcome === undefined) {
    return { result: 'skipped', reason: 'unreadable-message', message: 'the input holds no task event' };
  }
  return outcome;
}
