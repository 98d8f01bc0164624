import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BusEvent } from '../../../local/emulator';
import { lambdaInvokeTarget, rulesFromConfig } from '../../../local/rules';

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

describe('Lambda invoke target (AWS Lambda API Reference, Invoke)', () => {
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
  const target = () =>
    lambdaInvokeTarget(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'svc-local-register');

  it('POSTs the event to /2015-03-31/functions/<name>/invocations as RequestResponse', async () => {
    await target()(event);
    expect(received).toEqual([
      { url: '/2015-03-31/functions/svc-local-register/invocations', type: 'RequestResponse', body: event },
    ]);
  });

  it('treats X-Amz-Function-Error or an HTTP error as a failed attempt', async () => {
    answer = { status: 200, functionError: 'Unhandled' };
    await expect(target()(event)).rejects.toThrow(/Unhandled/);
    answer = { status: 502 };
    await expect(target()(event)).rejects.toThrow(/HTTP 502/);
  });
});
