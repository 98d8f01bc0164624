import { AwsError } from '../aws-error';
import { randomUUID } from '../random';
import type { Input } from '../wire';
import type { BusEvent, EventBus } from './event-bus';

export interface PutEventsContext {
  bus: EventBus;
  region: string;
  accountId: string;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/**
 * EventBridge PutEvents on the default bus (Amazon EventBridge API Reference, PutEvents): at most 10
 * entries; each is checked on its own and answered in order; `aws.*` sources are reserved for AWS
 * services (NotAuthorizedForSourceException), as in EventBridge.
 */
export function putEvents(input: Input, context: PutEventsContext): unknown {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
    throw new AwsError('ValidationException', 'Entries must hold 1 to 10 entries.');
  }
  const results = entries.map((entry) => putEntry(entry as Input, context));
  const failed = results.filter((result) => 'ErrorCode' in result).length;
  return { FailedEntryCount: failed, Entries: results };
}

function putEntry(entry: Input, context: PutEventsContext): EntryResult {
  const bus = entry.EventBusName;
  if (
    bus !== undefined &&
    bus !== 'default' &&
    bus !== `arn:aws:events:${context.region}:${context.accountId}:event-bus/default`
  ) {
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${String(bus)} does not exist.` };
  }
  for (const key of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[key] !== 'string' || entry[key] === '') {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${key} is not valid. Reason: ${key} is a required argument.`,
      };
    }
  }
  const source = entry.Source as string;
  if (source.startsWith('aws.'))
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  const event: BusEvent = {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType as string,
    source,
    account: context.accountId,
    time: eventTime(entry.Time),
    region: context.region,
    resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
    detail: detail as Record<string, unknown>,
  };
  context.bus.publish(event);
  return { EventId: event.id };
}

/** Time comes as epoch seconds on the wire; the event carries it as ISO 8601 without milliseconds. */
function eventTime(raw: unknown): string {
  const date = typeof raw === 'number' ? new Date(raw * 1000) : new Date();
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
