import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { OperationFailedError, RegistrationInterruptedError } from './errors';
import { logger, metrics } from './observability';
import { pool } from './pool';
import type { RecheckQueue } from './ports';
import type { Outcome, PendingConfirm, RegistrarDeps } from './registrar';
import { runConfirmation, runRegistration } from './registrar-runtime';
import { QUEUE_BATCH_SIZE, REGISTER_BATCH_WINDOW_S, SETTINGS } from './settings';

/**
 * The register and deregister functions' work on their queues. A message holds one ECS task event (from the
 * running or the leaving rule), or a re-check: `{"recheck": {"failures": n}, "events": [...]}`, events put back on
 * the register queue with a delay, for a health-checked task that ECS does not report HEALTHY yet (failures 0), or
 * for an event whose handling failed (failures n > 0). Nothing waits in a function: a task's health is asked again
 * when its re-check comes round, in the batch it comes with (lib/ecs/ecs-task-source.ts reads the batch's tasks in
 * one DescribeTasks per cluster). Nor does a registration wait for its Cloud Map operation: it is confirmed by a
 * re-check message carrying its operations (`"confirm": [...]`, one per event), sent with CONFIRM_DELAY_SECONDS
 * and again while an operation is pending, which undoes the registration if the task
 * started to leave meanwhile (lib/registrar.ts, confirmRegistration). A batch thus holds a slot of the function for
 * its reads and writes only, and the register function's write rate stays bounded by its reserved concurrency
 * times what one batch writes (at most TASKS_AT_ONCE registrations).
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

/**
 * A re-check message's body. With `confirm` (one per event, in the same order), the events' registrations were
 * written without waiting for Cloud Map, and the message confirms them (lib/registrar.ts, confirmRegistration)
 * instead of handling the events again.
 */
export interface RecheckMessage {
  recheck: { failures: number };
  events: unknown[];
  confirm?: PendingConfirm[];
}

/** An event handling that failed this many times is given back to SQS (then its DLQ) rather than re-sent. */
export const MAX_FAILURES = 5;
/** Events a re-check message holds at most (ECS task events are a few KB each; SQS takes 256 KiB a message). */
export const EVENTS_PER_MESSAGE = 40;
const MAX_MESSAGE_BYTES = 200_000;
/**
 * Tasks handled at once in one invocation: a whole batch (10 messages of up to 40 events). Registrations do not
 * wait for their Cloud Map operations (their confirmations come back as messages), so an invocation lasts the
 * time of its reads and writes, not of Cloud Map's operations.
 */
export const TASKS_AT_ONCE = QUEUE_BATCH_SIZE * EVENTS_PER_MESSAGE;
/**
 * The delay of a confirmation, each time (whole seconds): with the register queue's batching window, about the few
 * seconds a Cloud Map operation takes, so most confirmations find it done at the first GetOperation. Without it, a
 * burst of confirmations fills batches at once and asks again several times a second.
 */
export const CONFIRM_DELAY_SECONDS = 1;

function isPendingConfirm(value: unknown): value is PendingConfirm {
  const c = value as Partial<PendingConfirm> | null;
  return (
    typeof c?.taskArn === 'string' &&
    typeof c.namespace === 'string' &&
    typeof c.since === 'number' &&
    Array.isArray(c.registrations) &&
    c.registrations.every(
      (r) =>
        typeof r?.service === 'string' &&
        typeof r.instanceId === 'string' &&
        (r.operationId === undefined || typeof r.operationId === 'string') &&
        (r.ownerAccount === undefined || typeof r.ownerAccount === 'string'),
    )
  );
}

/**
 * The events a message body holds, how many times they failed, and their confirmations (a confirmation message);
 * `recheck` for the function's own re-check envelope (rather than an EventBridge event); `unreadable` when it is
 * none of these shapes.
 */
export function readMessage(
  body: string,
): { events: unknown[]; failures: number; recheck?: true; confirm?: PendingConfirm[] } | { unreadable: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { unreadable: 'the message body is not JSON' };
  }
  if (json !== null && typeof json === 'object' && 'recheck' in json) {
    const { recheck, events, confirm } = json as Partial<RecheckMessage>;
    if (!Array.isArray(events)) return { unreadable: 'a re-check message without an events list' };
    const read = Number(recheck?.failures ?? 0);
    const failures = Number.isInteger(read) && read >= 0 ? read : 0;
    if (confirm === undefined) return { events, failures, recheck: true };
    if (!Array.isArray(confirm) || confirm.length !== events.length || !confirm.every(isPendingConfirm)) {
      return { unreadable: 'a confirmation message whose confirm list does not match its events' };
    }
    return { events, failures, recheck: true, confirm };
  }
  return { events: [json], failures: 0 };
}

/** Whether a task whose health is still pending is re-checked again: until `healthWaitMs` after its RUNNING event. */
export function recheckDue(event: unknown, now: number, healthWaitMs: number): boolean {
  const time = Date.parse(String((event as { time?: unknown } | null)?.time));
  return Number.isFinite(time) && now < time + healthWaitMs;
}

/**
 * The delay of a re-check after `failures` failures: for a pending task, the poll less the register queue's batching
 * window, which holds a message up to that long on a quiet queue (0 by default: the window alone paces them), or the
 * whole poll when `windowHeld` is false (the batch came full: the window held nothing, and without a delay a busy
 * queue would bring the task round as fast as the function takes batches); else 10 s doubling.
 */
export function recheckDelaySeconds(failures: number, healthPollMs: number, windowHeld = true): number {
  if (failures === 0) {
    const window = windowHeld ? REGISTER_BATCH_WINDOW_S * 1000 : 0;
    return Math.min(900, Math.max(0, Math.ceil((healthPollMs - window) / 1000)));
  }
  return Math.min(900, Math.ceil((10_000 * 2 ** (failures - 1)) / 1000));
}

/**
 * Packs events (with their confirmations, all or none) into re-check message bodies of at most EVENTS_PER_MESSAGE
 * events and ~200 KB each.
 */
export function packRechecks(
  items: { event: unknown; confirm?: PendingConfirm }[],
  failures: number,
): { body: string; count: number }[] {
  const confirming = items.filter((item) => item.confirm !== undefined).length;
  // A message's confirm list lines up with its events: a mixed group could not be read back.
  if (confirming !== 0 && confirming !== items.length) throw new Error('re-checks and confirmations in one group');
  const bodies: { body: string; count: number }[] = [];
  let events: string[] = [];
  let confirms: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (events.length === 0) return;
    const confirm = confirms.length ? `,"confirm":[${confirms.join(',')}]` : '';
    bodies.push({
      body: `{"recheck":{"failures":${failures}},"events":[${events.join(',')}]${confirm}}`,
      count: events.length,
    });
    events = [];
    confirms = [];
    bytes = 0;
  };
  for (const item of items) {
    const event = JSON.stringify(item.event);
    const confirm = item.confirm ? JSON.stringify(item.confirm) : '';
    // Bytes, as SQS counts its 256 KiB (lib/sqs/recheck-queue.ts measures its batches the same way).
    const size = Buffer.byteLength(event) + Buffer.byteLength(confirm) + 2;
    if (events.length === EVENTS_PER_MESSAGE || bytes + size > MAX_MESSAGE_BYTES) flush();
    events.push(event);
    if (confirm) confirms.push(confirm);
    bytes += size;
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
  /**
   * A re-check of a task not HEALTHY yet, whose outcome was recorded when its RUNNING event came: the function's own
   * re-check message (no failure counted), not a retry after a failure nor an operator's replay.
   */
  recheck?: boolean;
  /** A registration of the event to confirm, rather than the event to handle. */
  confirm?: PendingConfirm;
}

/** Messages to send, of one kind and failure count: they share a delay. */
interface Resend {
  jobs: Job[];
  failures: number;
  delaySeconds: number;
}

/** What became of a batch: the SQS answer, and each event's outcome (an Error for one that failed). */
export interface BatchResult extends SQSBatchResponse {
  outcomes: (Outcome | Error)[];
}

/** Handles one batch of messages from the register or the leaving queue. */
export async function handleTaskMessages(
  records: Pick<SQSRecord, 'messageId' | 'body'>[],
  deps: TaskQueueDeps,
  /**
   * `resendFailures: false`: a failed event is given back at once (a direct invocation reports it as its error).
   * `replay`: an operator's replay (a direct invocation): every outcome is recorded, a re-check's too.
   */
  options: { resendFailures?: boolean; replay?: boolean } = {},
): Promise<BatchResult> {
  const now = deps.now ?? Date.now;
  const poll = deps.settings.healthPollMs ?? SETTINGS.healthPollMs.default;
  // Every invocation publishes at least this: one whose messages only confirm or re-check would otherwise flush no
  // metric, and Powertools would log a warning for it.
  metrics.addMetric('Messages', MetricUnit.Count, records.length);
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
    const recheck = read.recheck === true && read.failures === 0 && options.replay !== true;
    read.events.forEach((event, i) => {
      const confirm = read.confirm?.[i];
      jobs.push({
        record: record.messageId,
        event,
        failures: read.failures,
        ...(recheck && !confirm ? { recheck } : {}),
        ...(confirm ? { confirm } : {}),
      });
    });
  }
  // With a queue to confirm on, registrations do not wait for their Cloud Map operations.
  const eventDeps: RegistrarDeps = deps.recheck ? { ...deps, confirmLater: true } : deps;

  const outcomes: (Outcome | Error)[] = [];
  const failed: Job[] = [];
  const givenBack = new Set<string>();
  // Messages leave as soon as they are known, not after the rest of the batch: tasks not HEALTHY yet (after the
  // health poll), registrations to confirm, confirmations whose operation is still pending.
  const later = new Map<string, Resend>();
  const sends: Promise<void>[] = [];
  let flushing = false;
  const takeLater = () => {
    const groups = [...later.values()];
    later.clear();
    return groups;
  };
  const sendLater = (job: Job, delaySeconds: number) => {
    const key = `${delaySeconds}/${job.failures}/${job.confirm ? 'c' : 'e'}`;
    const group = later.get(key) ?? { jobs: [], failures: job.failures, delaySeconds };
    group.jobs.push(job);
    later.set(key, group);
    if (flushing) return;
    flushing = true;
    setImmediate(() => {
      flushing = false;
      const groups = takeLater();
      if (groups.length) sends.push(sendRechecks(groups, deps, givenBack));
    });
  };
  let leftToSweep = 0;
  /** Re-checked tasks still not HEALTHY: one metric for the batch (runRegistration records none for them). */
  let stillPending = 0;
  // A batch that came full did not wait for the register queue's window: the re-check's delay is the whole poll.
  const pollDelay = recheckDelaySeconds(0, poll, records.length < QUEUE_BATCH_SIZE);
  /** Handles a task event; `attempt`: the times in a row its registration's operations failed. */
  const handleEvent = async (job: Job, attempt = 0) => {
    const outcome = await runRegistration(job.event, eventDeps, { recheck: job.recheck === true });
    outcomes.push(outcome);
    if (outcome.result === 'registered' && outcome.confirm) {
      const confirm = attempt > 0 ? { ...outcome.confirm, attempt } : outcome.confirm;
      sendLater({ record: job.record, event: job.event, failures: 0, confirm }, CONFIRM_DELAY_SECONDS);
    } else if (outcome.result === 'skipped' && outcome.reason === 'health-pending') {
      if (job.recheck) stillPending += 1;
      if (!recheckDue(job.event, now(), deps.settings.healthWaitMs ?? 0)) {
        // The last re-check: said once, as the first sighting was (runRegistration kept this one at debug).
        if (job.recheck) {
          logger.info(`task ${outcome.taskId} still not HEALTHY after HEALTH_WAIT_MS: left to the health sweep`, {
            taskId: outcome.taskId,
            action: 'recheck',
            reason: 'health-wait-over',
          });
        }
      } else if (deps.recheck) sendLater({ record: job.record, event: job.event, failures: 0 }, pollDelay);
      else leftToSweep += 1;
    }
  };
  /** Confirms a registration; one whose operation failed runs its event again at once (MAX_FAILURES times in a row). */
  const handleConfirm = async (job: Job, confirm: PendingConfirm) => {
    let confirmed: Outcome | 'pending';
    try {
      confirmed = await runConfirmation(job.event, confirm, deps);
    } catch (error) {
      const attempt = (confirm.attempt ?? 0) + 1;
      if (!(error instanceof OperationFailedError) || attempt >= MAX_FAILURES) throw error;
      return handleEvent(job, attempt);
    }
    if (confirmed !== 'pending') {
      outcomes.push(confirmed);
      return;
    }
    // Not logged nor counted: it is asked again CONFIRM_DELAY_SECONDS (and the batching window) later.
    outcomes.push({
      result: 'skipped',
      reason: 'confirmation-pending',
      message: 'a Cloud Map operation of the registration is still pending; asked again later',
      taskId: confirm.registrations[0]?.instanceId ?? '',
    });
    sendLater(job, CONFIRM_DELAY_SECONDS);
  };
  // The events of one task one after the other, oldest version first (a second leaving event then finds the first
  // one's work done instead of waiting for it); different tasks side by side.
  await pool(byTask(jobs), TASKS_AT_ONCE, async (taskJobs) => {
    for (const job of taskJobs) {
      try {
        if (job.confirm) await handleConfirm(job, job.confirm);
        else await handleEvent(job);
      } catch (error) {
        outcomes.push(error instanceof Error ? error : new Error(String(error)));
        // Writes sent before the failure still need their confirmation.
        if (error instanceof RegistrationInterruptedError && deps.recheck) {
          sendLater(
            {
              record: job.record,
              event: job.event,
              failures: 0,
              confirm: error.confirm as PendingConfirm,
            },
            CONFIRM_DELAY_SECONDS,
          );
        }
        if (!job.confirm) {
          // The event is tried again; its retry writes anew what did not stand.
          failed.push({ record: job.record, event: job.event, failures: job.failures + 1 });
        } else if (error instanceof OperationFailedError) {
          // Its operations failed MAX_FAILURES times in a row: given back to SQS, then its DLQ.
          failed.push({ ...job, failures: MAX_FAILURES });
        } else {
          // A confirmation that could not be made (a throttled read, an operation pending past OPERATION_TIMEOUT_MS)
          // is tried again as a confirmation: its operations may still land, and only it can undo them.
          failed.push({ ...job, failures: job.failures + 1 });
        }
      }
    }
  });
  if (stillPending) metrics.addMetric('HealthRechecks', MetricUnit.Count, stillPending);
  // A flush scheduled by the last task, then what it did not take.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await Promise.all(sends);

  const resend = takeLater();
  for (const job of failed) {
    if (job.failures >= MAX_FAILURES || !deps.recheck || options.resendFailures === false) givenBack.add(job.record);
    else resend.push({ jobs: [job], failures: job.failures, delaySeconds: recheckDelaySeconds(job.failures, poll) });
  }
  if (resend.length) await sendRechecks(resend, deps, givenBack);
  if (leftToSweep) {
    logger.info(`${leftToSweep} task(s) not HEALTHY yet: left to the health sweep (no register queue)`, {
      action: 'recheck',
      pending: leftToSweep,
    });
  }
  return { batchItemFailures: [...givenBack].map((itemIdentifier) => ({ itemIdentifier })), outcomes };
}

/** Sends the re-checks; a message that could not be sent gives its source messages back to SQS. */
async function sendRechecks(groups: Resend[], deps: TaskQueueDeps, givenBack: Set<string>): Promise<void> {
  const messages: { body: string; delaySeconds: number; records: string[] }[] = [];
  for (const { jobs, failures, delaySeconds } of groups) {
    let offset = 0;
    for (const packed of packRechecks(jobs, failures)) {
      const records = jobs.slice(offset, offset + packed.count).map((j) => j.record);
      offset += packed.count;
      messages.push({ body: packed.body, delaySeconds, records });
    }
  }
  let failedIndexes: number[];
  try {
    if (!deps.recheck) throw new Error('no queue to send re-checks on');
    failedIndexes = (await deps.recheck.send(messages)).failed;
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
    replay: true,
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
