import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BusEvent } from '../../../local/emulator';
import {
  type FunctionSchedule,
  type InvokeResult,
  invokeFunction,
  parseRate,
  rulesFromConfig,
  scheduledEvent,
  schedulesFromConfig,
  startSchedules,
} from '../../../local/rules';

describe('rules from the resolved serverless config', () => {
  it('keeps every default-bus eventBridge pattern with its deployed function name (`<service>-<stage>-<fn>`)', () => {
    const pattern = { source: ['aws.ecs'] };
    const rules = rulesFromConfig(
      {
        service: 'ecs-cloudmap-registrar',
        functions: {
          register: { events: [{ eventBridge: { pattern } }] },
          other: { name: 'custom-name', events: [{ eventBridge: { pattern, eventBus: 'custom-bus' } }] },
          lookup: { events: [] },
        },
      },
      'local',
    );
    expect(rules).toEqual([{ name: 'register-0', functionName: 'ecs-cloudmap-registrar-local-register', pattern }]);
  });
});

describe('schedules from the resolved serverless config', () => {
  it('keeps every enabled rate schedule with its deployed function name, in both forms serverless.yml allows', () => {
    const { schedules, unsupported } = schedulesFromConfig(
      {
        service: 'ecs-cloudmap-registrar',
        functions: {
          reconcile: { events: [{ schedule: { name: 'svc-local-reconcile', rate: ['rate(5 minutes)'] } }] },
          healthSweep: { events: [{ schedule: 'rate(1 minute)' }] },
          custom: { name: 'custom-name', events: [{ schedule: { rate: 'rate(2 hours)', input: { full: true } } }] },
          off: { events: [{ schedule: { rate: 'rate(1 day)', enabled: false } }] },
          register: { events: [{ eventBridge: { pattern: { source: ['aws.ecs'] } } }] },
        },
      },
      'local',
    );

    expect(schedules).toEqual([
      {
        name: 'svc-local-reconcile',
        functionKey: 'reconcile',
        functionName: 'ecs-cloudmap-registrar-local-reconcile',
        expression: 'rate(5 minutes)',
        rateMs: 300_000,
      },
      {
        name: 'healthSweep-0',
        functionKey: 'healthSweep',
        functionName: 'ecs-cloudmap-registrar-local-healthSweep',
        expression: 'rate(1 minute)',
        rateMs: 60_000,
      },
      {
        name: 'custom-0',
        functionKey: 'custom',
        functionName: 'custom-name',
        expression: 'rate(2 hours)',
        rateMs: 7_200_000,
        input: { full: true },
      },
    ]);
    expect(unsupported).toEqual([]);
  });

  it('reports cron schedules instead of running them', () => {
    const { schedules, unsupported } = schedulesFromConfig(
      { service: 'svc', functions: { nightly: { events: [{ schedule: 'cron(0 3 * * ? *)' }] } } },
      'local',
    );

    expect(schedules).toEqual([]);
    expect(unsupported).toEqual(['nightly: cron(0 3 * * ? *)']);
  });

  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(2 days)', 172_800_000],
    ['rate(1 minutes)', undefined],
    ['rate(5 minute)', undefined],
    ['rate(0 minutes)', undefined],
    ['rate(5 seconds)', undefined],
    ['cron(0 * * * ? *)', undefined],
  ])('parses %s as %p ms (EventBridge rate syntax: singular for 1 only)', (expression, ms) => {
    expect(parseRate(expression)).toBe(ms);
  });

  it('sends a Scheduled Event from aws.events naming its rule, or the constant input when there is one', () => {
    const schedule: FunctionSchedule = {
      name: 'svc-local-reconcile',
      functionKey: 'reconcile',
      functionName: 'svc-local-reconcile',
      expression: 'rate(5 minutes)',
      rateMs: 300_000,
    };

    expect(scheduledEvent(schedule, new Date('2024-05-01T10:00:00.123Z'))).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2024-05-01T10:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/svc-local-reconcile'],
      detail: {},
    });
    expect(scheduledEvent({ ...schedule, input: { a: 1 } }, new Date())).toEqual({ a: 1 });
  });
});

describe('the local scheduler', () => {
  const schedule = (functionKey: string, rateMs: number): FunctionSchedule => ({
    name: `${functionKey}-0`,
    functionKey,
    functionName: `svc-local-${functionKey}`,
    expression: 'rate(1 minute)',
    rateMs,
  });
  let stop: (() => void) | undefined;

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    stop?.();
    jest.useRealTimers();
  });

  it('invokes each function at once and then every interval', async () => {
    const invoked: string[] = [];
    stop = startSchedules([schedule('reconcile', 30_000), schedule('healthSweep', 60_000)], {
      invoke: async (name) => {
        invoked.push(name);
        return { ok: true, body: '{}' };
      },
      intervalMs: (s) => s.rateMs,
      log: () => {},
    });
    await jest.advanceTimersByTimeAsync(60_000);

    expect(invoked.filter((n) => n === 'svc-local-reconcile')).toHaveLength(3);
    expect(invoked.filter((n) => n === 'svc-local-healthSweep')).toHaveLength(2);
  });

  it('logs one line for a failed or impossible invocation and keeps the schedule going', async () => {
    const lines: string[] = [];
    const answers: (() => Promise<InvokeResult>)[] = [
      async () => ({ ok: false, body: '{"errorMessage":"boom"}', error: 'Unhandled' }),
      async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:3002');
      },
      async () => ({ ok: true, body: '{"registered":1}' }),
    ];
    stop = startSchedules([schedule('reconcile', 10_000)], {
      invoke: () => (answers.shift() ?? (async () => ({ ok: true, body: '{}' })))(),
      intervalMs: (s) => s.rateMs,
      log: (line) => lines.push(line),
    });
    await jest.advanceTimersByTimeAsync(20_000);

    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^reconcile \(rate\(1 minute\)\) failed \(Unhandled\) in [\d.]+ s: \{"errorMessage":"boom"\}$/,
    );
    expect(lines[1]).toMatch(/^reconcile \(rate\(1 minute\)\) not invoked: connect ECONNREFUSED/);
    expect(lines[2]).toMatch(/done in [\d.]+ s: \{"registered":1\}$/);
  });

  it('skips a turn while the previous invocation of the same function still runs', async () => {
    const lines: string[] = [];
    let calls = 0;
    stop = startSchedules([schedule('healthSweep', 10_000)], {
      invoke: async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 15_000));
        return { ok: true, body: '[]' };
      },
      intervalMs: (s) => s.rateMs,
      log: (line) => lines.push(line),
    });
    await jest.advanceTimersByTimeAsync(20_000);

    expect(calls).toBe(2);
    expect(lines[0]).toBe('healthSweep: previous invocation still running; this turn skipped');
  });

  it('stops every timer when asked', async () => {
    let calls = 0;
    stop = startSchedules([schedule('reconcile', 10_000)], {
      invoke: async () => {
        calls += 1;
        return { ok: true, body: '{}' };
      },
      intervalMs: (s) => s.rateMs,
      log: () => {},
    });
    stop();
    await jest.advanceTimersByTimeAsync(60_000);

    expect(calls).toBe(1);
  });
});

describe('invoking a function through the Lambda endpoint (AWS Lambda API Reference, Invoke)', () => {
  let server: Server;
  let answer: { status: number; functionError?: string };
  let received: { url?: string; type?: string; body?: unknown }[];

  beforeEach(async () => {
    received = [];
    answer = { status: 200 };
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push({
          url: request.url,
          type: String(request.headers['x-amz-invocation-type']),
          body: JSON.parse(body),
        });
        response.writeHead(answer.status, answer.functionError ? { 'x-amz-function-error': answer.functionError } : {});
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const event = { id: 'e1', source: 'aws.ecs', detail: {} } as unknown as BusEvent;
  const invoke = () =>
    invokeFunction(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'svc-local-register', event);

  it('POSTs the event to /2015-03-31/functions/<name>/invocations as RequestResponse', async () => {
    await invoke();
    expect(received).toEqual([
      { url: '/2015-03-31/functions/svc-local-register/invocations', type: 'RequestResponse', body: event },
    ]);
  });

  it('returns what the function answered, and names the function error', async () => {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await expect(invokeFunction(endpoint, 'svc-local-reconcile', { a: 1 })).resolves.toEqual({ ok: true, body: '{}' });
    answer = { status: 200, functionError: 'Unhandled' };
    await expect(invokeFunction(endpoint, 'svc-local-reconcile', {})).resolves.toEqual({
      ok: false,
      body: '{}',
      error: 'Unhandled',
    });
  });

  it('treats X-Amz-Function-Error or an HTTP error as a failed attempt', async () => {
    answer = { status: 200, functionError: 'Unhandled' };
    await expect(invoke()).resolves.toMatchObject({ ok: false, error: expect.stringMatching(/Unhandled/) });
    answer = { status: 502 };
    await expect(invoke()).resolves.toMatchObject({ ok: false, error: expect.stringMatching(/HTTP 502/) });
  });
});
