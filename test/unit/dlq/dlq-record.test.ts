import { parseDlqMessage } from '../../../lib/dlq/dlq-record';
import { loadEvent } from '../../helpers/fixtures';

const EVENT = loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json');
const TASK_ARN = EVENT.detail.taskArn as string;

/** A record as Lambda's on-failure destination writes it (asynchronous invocation, retries exhausted). */
function destinationRecord(overrides: Record<string, unknown> = {}) {
  return {
    version: '1.0',
    timestamp: '2026-11-24T02:00:00.000Z',
    requestContext: {
      requestId: 'c2a6f2cc-0000-4000-8000-000000000000',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ecs-cloudmap-registrar-prod-register:$LATEST',
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: EVENT,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'ThrottlingException', errorMessage: 'Rate exceeded', trace: [] },
    ...overrides,
  };
}

describe('parseDlqMessage', () => {
  it('reads a raw EventBridge event from the rule DLQ', () => {
    expect(parseDlqMessage(JSON.stringify(EVENT))).toEqual({ kind: 'rule-event', event: EVENT, taskArn: TASK_ARN });
  });

  it('reads a re-check message the register queue moved here (lib/task-queue.ts), to replay as it is', () => {
    const message = { recheck: { failures: 4 }, events: [EVENT] };
    expect(parseDlqMessage(JSON.stringify(message))).toEqual({ kind: 'recheck', event: message, taskArn: TASK_ARN });
  });

  it('reads a confirmation message (a re-check with its registrations to confirm) whole, to replay as it is', () => {
    const confirm = { taskArn: TASK_ARN, namespace: 'kudos.local', since: 1, registrations: [] };
    const message = { recheck: { failures: 0 }, events: [EVENT], confirm: [confirm] };
    expect(parseDlqMessage(JSON.stringify(message))).toEqual({ kind: 'recheck', event: message, taskArn: TASK_ARN });
  });

  it('finds unreadable a re-check message without events', () => {
    expect(parseDlqMessage('{"recheck":{"failures":1},"events":[]}')).toMatchObject({ kind: 'unreadable' });
  });

  it('reads the event out of a Lambda destination record, with why it failed', () => {
    expect(parseDlqMessage(JSON.stringify(destinationRecord()))).toEqual({
      kind: 'destination-record',
      event: EVENT,
      taskArn: TASK_ARN,
      condition: 'RetriesExhausted',
      lastError: 'ThrottlingException: Rate exceeded',
    });
  });

  it('reads a destination record of an event that aged out, which has no response payload', () => {
    const record = destinationRecord({
      requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 0 },
      responseContext: undefined,
      responsePayload: undefined,
    });

    expect(parseDlqMessage(JSON.stringify(record))).toEqual({
      kind: 'destination-record',
      event: EVENT,
      taskArn: TASK_ARN,
      condition: 'EventAgeExceeded',
    });
  });

  it('keeps an event without a task ARN (the function decides what to do with it)', () => {
    const event = { ...EVENT, detail: { lastStatus: 'RUNNING' } };

    expect(parseDlqMessage(JSON.stringify(event))).toEqual({ kind: 'rule-event', event });
  });

  it.each([
    ['an empty body', undefined, 'empty message body'],
    ['a body that is not JSON', '{"detail-type":', 'message body is not JSON'],
    [
      'JSON of another shape',
      '{"hello":"world"}',
      'neither an EventBridge event, a re-check message nor a Lambda destination record',
    ],
    ['a JSON array', '[1,2]', 'neither an EventBridge event, a re-check message nor a Lambda destination record'],
    [
      'a destination record of something else',
      JSON.stringify(destinationRecord({ requestPayload: { Records: [] } })),
      'Lambda destination record whose requestPayload is not an EventBridge event',
    ],
  ])('calls %s unreadable, saying why', (_name, body, reason) => {
    expect(parseDlqMessage(body)).toEqual({ kind: 'unreadable', reason });
  });
});
