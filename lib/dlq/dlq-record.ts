import * as z from 'zod/mini';

/**
 * What a message in one of the registrar's dead-letter queues holds. Three shapes land there:
 * - the rules' DLQ gets the EventBridge event itself, as a rule would have delivered it; so does the register DLQ
 *   for a task-event message (register or leaving queue) that failed 5 times;
 * - the register DLQ also gets re-check messages that failed 5 times (lib/task-queue.ts: `{recheck, events}`, with
 *   `confirm` for a confirmation),
 *   which the register function takes as they are;
 * - stacks deployed before the task-event queues sent the register function's failures to its on-failure
 *   destination: a Lambda invocation record, with the event in `requestPayload` and why it failed in
 *   `requestContext.condition` and `responsePayload`. Such messages may still wait in the register DLQ.
 */
export type DlqRecord =
  | { kind: 'rule-event'; event: Record<string, unknown>; taskArn?: string }
  | { kind: 'recheck'; event: Record<string, unknown>; taskArn?: string }
  | {
      kind: 'destination-record';
      event: Record<string, unknown>;
      taskArn?: string;
      /** `RetriesExhausted` or `EventAgeExceeded`. */
      condition?: string;
      /** The error the function last answered with, as Lambda recorded it. */
      lastError?: string;
    }
  | { kind: 'unreadable'; reason: string };

/** The fields that make a JSON object an EventBridge event. */
// zod/mini, as everywhere in lib/: the same checks as zod classic at a fraction of the import cost.
const EventBridgeEvent = z.looseObject({
  'detail-type': z.string(),
  source: z.string(),
  detail: z.record(z.string(), z.unknown()),
});

const RecheckMessage = z.looseObject({
  recheck: z.looseObject({ failures: z.optional(z.number()) }),
  events: z.array(EventBridgeEvent).check(z.minLength(1)),
});

const DestinationRecord = z.looseObject({
  requestContext: z.looseObject({
    functionArn: z.optional(z.string()),
    condition: z.optional(z.string()),
    approximateInvokeCount: z.optional(z.number()),
  }),
  requestPayload: z.unknown(),
  responsePayload: z.optional(z.unknown()),
});

function taskArnOf(event: Record<string, unknown>): string | undefined {
  const detail = event.detail as { taskArn?: unknown } | undefined;
  return typeof detail?.taskArn === 'string' ? detail.taskArn : undefined;
}

/** The function error Lambda recorded (`{ errorType, errorMessage }`), as one line. */
function lastErrorOf(responsePayload: unknown): string | undefined {
  const payload = responsePayload as { errorType?: unknown; errorMessage?: unknown } | undefined;
  if (typeof payload?.errorMessage !== 'string') return undefined;
  return typeof payload.errorType === 'string' ? `${payload.errorType}: ${payload.errorMessage}` : payload.errorMessage;
}

/**
 * Reads one DLQ message body. Never throws: a body that is neither shape is `unreadable`, with the reason,
 * so the replay can report it and leave it in the queue for a person to look at.
 */
export function parseDlqMessage(body: string | undefined): DlqRecord {
  if (!body) return { kind: 'unreadable', reason: 'empty message body' };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'unreadable', reason: 'message body is not JSON' };
  }
  const destination = DestinationRecord.safeParse(json);
  if (destination.success) {
    const payload = EventBridgeEvent.safeParse(destination.data.requestPayload);
    if (!payload.success) {
      return {
        kind: 'unreadable',
        reason: 'Lambda destination record whose requestPayload is not an EventBridge event',
      };
    }
    const { condition } = destination.data.requestContext;
    const lastError = lastErrorOf(destination.data.responsePayload);
    const taskArn = taskArnOf(payload.data);
    return {
      kind: 'destination-record',
      event: payload.data,
      ...(taskArn ? { taskArn } : {}),
      ...(condition ? { condition } : {}),
      ...(lastError ? { lastError } : {}),
    };
  }
  const recheck = RecheckMessage.safeParse(json);
  if (recheck.success) {
    const taskArn = recheck.data.events[0] ? taskArnOf(recheck.data.events[0]) : undefined;
    return { kind: 'recheck', event: recheck.data, ...(taskArn ? { taskArn } : {}) };
  }
  const event = EventBridgeEvent.safeParse(json);
  if (event.success) {
    const taskArn = taskArnOf(event.data);
    return { kind: 'rule-event', event: event.data, ...(taskArn ? { taskArn } : {}) };
  }
  return {
    kind: 'unreadable',
    reason: 'neither an EventBridge event, a re-check message nor a Lambda destination record',
  };
}
