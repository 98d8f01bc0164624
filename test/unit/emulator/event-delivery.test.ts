import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { BusEvent } from '../../../local/emulator';
import { type Harness, startHarness, stopHarness } from './emulator-harness';

let h: Harness | undefined;
afterEach(() => stopHarness(h));

const registerPattern = {
  source: ['aws.ecs'],
  'detail-type': ['ECS Task State Change'],
  detail: { lastStatus: ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] },
};

async function runOneTask(harness: Harness): Promise<string> {
  await harness.ecs.send(new CreateClusterCommand({ clusterName: 'kudos' }));
  await harness.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'api',
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'nginx' }],
    }),
  );
  const run = await harness.ecs.send(
    new RunTaskCommand({
      cluster: 'kudos',
      taskDefinition: 'api',
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
    }),
  );
  return run.tasks?.[0]?.taskArn ?? '';
}

async function putEvents(url: string, entries: object[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
    body: JSON.stringify({ Entries: entries }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('event delivery', () => {
  it('task events go through the rule pattern to the target (EventBridge User Guide, rules; serverless.yml pattern)', async () => {
    const seen: BusEvent[] = [];
    h = await startHarness({
      rules: [{ name: 'register', pattern: registerPattern, target: async (e) => void seen.push(e) }],
    });
    await runOneTask(h);
    await h.emulator.idle();
    expect(seen.map((event) => event.detail.lastStatus)).toEqual(['RUNNING']);
  });

  it('a failing target is retried twice, about 1 and 2 minutes later, then the event is kept in the DLQ (Lambda Developer Guide, asynchronous invocation retries)', async () => {
    const attempts: number[] = [];
    let fail = true;
    h = await startHarness({
      timeScale: 0.0005,
      rules: [
        {
          name: 'register',
          pattern: registerPattern,
          target: async () => {
            attempts.push(Date.now());
            if (fail) throw new Error('boom');
          },
        },
      ],
    });
    await runOneTask(h);
    await h.emulator.idle();
    expect(attempts).toHaveLength(3);
    const [first = 0, second = 0, third = 0] = attempts;
    expect(second - first).toBeGreaterThanOrEqual(25); // 60 s * 0.0005
    expect(third - second).toBeGreaterThanOrEqual(55); // 120 s * 0.0005
    const [letter] = h.emulator.deadLetters();
    expect(letter).toMatchObject({ rule: 'register', attempts: 3, error: 'boom' });
    fail = false;
    const dlq = h.emulator.knob('dlq', { replay: true }) as { replayed: number };
    expect(dlq.replayed).toBe(1);
    await h.emulator.idle();
    expect(attempts).toHaveLength(4);
    expect(h.emulator.deadLetters()).toEqual([]);
  });

  it('with delivery off, task events are dropped but still use up their version (ECS events: version increments per change)', async () => {
    const seen: BusEvent[] = [];
    h = await startHarness({
      rules: [{ name: 'all', pattern: { source: ['aws.ecs'] }, target: async (e) => void seen.push(e) }],
    });
    h.emulator.setEventDelivery(false);
    const arn = await runOneTask(h);
    await h.emulator.idle();
    expect(seen).toEqual([]);
    expect(h.emulator.knob('events')).toEqual({ deliver: false, dropped: 4 });
    h.emulator.setEventDelivery(true);
    h.emulator.setTaskHealth({ cluster: 'kudos', taskArn: arn }, 'UNHEALTHY'); // no health check: no change, no event
    await h.emulator.idle();
    expect(seen).toEqual([]);
  });

  it('PutEvents delivers custom events by pattern, refuses aws.* sources per entry, and more than 10 entries (EventBridge API Reference, PutEvents)', async () => {
    const seen: BusEvent[] = [];
    h = await startHarness({
      rules: [{ name: 'custom', pattern: { source: ['kudos.test'] }, target: async (e) => void seen.push(e) }],
    });
    const ok = await putEvents(h.emulator.url, [
      { Source: 'kudos.test', DetailType: 'Ping', Detail: '{"n":1}' },
      { Source: 'aws.ecs', DetailType: 'ECS Task State Change', Detail: '{}' },
      { Source: 'kudos.test', DetailType: 'Ping', Detail: 'not json' },
    ]);
    expect(ok.status).toBe(200);
    expect(ok.body.FailedEntryCount).toBe(2);
    expect((ok.body.Entries as { ErrorCode?: string }[]).map((e) => e.ErrorCode)).toEqual([
      undefined,
      'NotAuthorizedForSourceException',
      'MalformedDetail',
    ]);
    await h.emulator.idle();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      source: 'kudos.test',
      'detail-type': 'Ping',
      detail: { n: 1 },
      account: '000000000000',
    });
    const tooMany = await putEvents(
      h.emulator.url,
      Array.from({ length: 11 }, () => ({ Source: 'x', DetailType: 'y', Detail: '{}' })),
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.__type).toBe('ValidationException');
  });

  it('publish() puts a complete AWS event (e.g. a fixture) on the bus', async () => {
    const seen: BusEvent[] = [];
    h = await startHarness({
      rules: [{ name: 'register', pattern: registerPattern, target: async (e) => void seen.push(e) }],
    });
    const fixture = require('../../fixtures/ecs-events/05-fargate-stopped-elb-healthcheck-service.json') as BusEvent;
    expect(h.emulator.publish(fixture)).toEqual(['register']);
    await h.emulator.idle();
    expect(seen).toEqual([fixture]);
  });
});
