import type { HttpInstanceSummary } from '@aws-sdk/client-servicediscovery';
import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  RequestLimitExceeded,
  ServiceNotFound,
} from '@aws-sdk/client-servicediscovery';
import { handler as coldStartHandler } from '../../../functions/lookup';
import { lookupHandler } from './handler-under-test';
import { lambdaContext, testConfig, v1Event, v2Event } from './helpers';
import { meta, sd } from './mocked-cloud-map';

const NAMESPACE = {
  Id: 'ns-abcdefghijklmnop',
  Name: 'kudos.local',
  Type: 'HTTP' as const,
  // Cloud Map adds a hash to HttpName when a Name is reused: DiscoverInstances wants this one.
  Properties: { HttpProperties: { HttpName: 'kudos.local-4f2a' } },
};

const INSTANCES: HttpInstanceSummary[] = [
  {
    InstanceId: 'task-a',
    HealthStatus: 'HEALTHY',
    Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '8080' },
  },
  {
    InstanceId: 'task-b',
    HealthStatus: 'HEALTHY',
    Attributes: { AWS_INSTANCE_IPV4: '10.0.0.2', AWS_INSTANCE_IPV6: 'fd00::2', AWS_INSTANCE_PORT: '8080' },
  },
  {
    InstanceId: 'task-c',
    HealthStatus: 'UNHEALTHY',
    Attributes: { AWS_INSTANCE_IPV4: '10.0.0.3', AWS_INSTANCE_PORT: '8080' },
  },
];

function build(random: () => number = Math.random, config = testConfig()) {
  return lookupHandler(config, { random });
}

const upstreamCalls = () =>
  sd.commandCalls(DiscoverInstancesCommand).length + sd.commandCalls(DiscoverInstancesRevisionCommand).length;

beforeEach(() => {
  sd.reset();
  sd.on(ListNamespacesCommand).resolves({ Namespaces: [NAMESPACE] });
  sd.on(DiscoverInstancesCommand).resolves({ InstancesRevision: 3, Instances: INSTANCES });
  sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 3 });
  jest.useFakeTimers({ now: 1_000_000 });
});

afterEach(() => jest.useRealTimers());

describe('the lookup handler', () => {
  it('answers 200 with the instances, numeric revision and port, and no ipv6 key where there is none', async () => {
    const lookup = build();

    const response = await lookup(v2Event('/services/api', 'health=all'));

    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ namespace: 'kudos.local', service: 'api', revision: 3 });
    const byId = Object.fromEntries(body.instances.map((i: { id: string }) => [i.id, i]));
    expect(byId['task-a']).toEqual({
      id: 'task-a',
      ipv4: '10.0.0.1',
      port: 8080,
      health: 'HEALTHY',
      attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '8080' },
    });
    expect(byId['task-b']).toMatchObject({ ipv6: 'fd00::2' });
    expect(byId['task-c']).toMatchObject({ health: 'UNHEALTHY' });
  });

  it('asks Cloud Map with the namespace HttpName, the health filter and max 1000 by default', async () => {
    await build()(v2Event('/services/api'));
    expect(sd.commandCalls(DiscoverInstancesCommand)[0]?.args[0].input).toEqual({
      NamespaceName: 'kudos.local-4f2a',
      ServiceName: 'api',
      HealthStatus: 'HEALTHY_OR_ELSE_ALL',
      MaxResults: 1000,
    });
  });

  it('sends JSON with a weak ETag and a short Cache-Control', async () => {
    const response = await build()(v2Event('/services/api'));
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'max-age=1',
      etag: expect.stringMatching(/^W\/".+"$/),
    });
  });

  it('answers the REST API v1 event the same way as the HTTP API v2 event', async () => {
    const lookup = build(() => 0);
    const v2 = await lookup(v2Event('/resolve/api.kudos.local', 'health=all&attr.v=1'));
    const v1 = await lookup(
      v1Event('/resolve/api.kudos.local', [
        ['health', 'all'],
        ['attr.v', '1'],
      ]),
    );
    expect(v1).toEqual(v2);
  });

  it('answers 304 without a body when If-None-Match holds the current ETag', async () => {
    const lookup = build();
    const first = await lookup(v2Event('/services/api'));

    const second = await lookup(v2Event('/services/api', '', { 'If-None-Match': first.headers.etag ?? '' }));

    expect(second.statusCode).toBe(304);
    expect(second.body).toBe('');
    expect(second.headers.etag).toBe(first.headers.etag);
  });

  it('answers 200 when If-None-Match holds an older ETag', async () => {
    const response = await build()(v2Event('/services/api', '', { 'if-none-match': 'W/"old"' }));
    expect(response.statusCode).toBe(200);
  });

  it('gives the instances in a new random order under one ETag', async () => {
    let calls = 0;
    // Alternates between two fixed orders: enough to see the order change.
    const lookup = build(() => (calls++ % 6 < 3 ? 0 : 0.99));
    const a = await lookup(v2Event('/services/api', 'health=all'));
    const b = await lookup(v2Event('/services/api', 'health=all'));
    const ids = (r: typeof a) => JSON.parse(r.body).instances.map((i: { id: string }) => i.id);
    expect(ids(a)).not.toEqual(ids(b));
    expect(a.headers.etag).toBe(b.headers.etag);
  });

  it('answers repeated lookups from memory and checks the revision once per interval', async () => {
    const lookup = build();
    await lookup(v2Event('/services/api'));
    for (let i = 0; i < 10; i++) await lookup(v2Event('/services/api'));
    expect(upstreamCalls()).toBe(1);

    jest.advanceTimersByTime(1000);
    for (let i = 0; i < 10; i++) await lookup(v2Event('/services/api'));

    expect(sd.commandCalls(DiscoverInstancesRevisionCommand)).toHaveLength(1);
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(1);
  });

  it('reads the instances again when the revision changed, and the ETag follows', async () => {
    const lookup = build();
    const before = await lookup(v2Event('/services/api'));
    sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 4 });
    sd.on(DiscoverInstancesCommand).resolves({ InstancesRevision: 4, Instances: INSTANCES.slice(0, 2) });

    jest.advanceTimersByTime(1000);
    const after = await lookup(v2Event('/services/api'));

    expect(JSON.parse(after.body).revision).toBe(4);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(2);
  });

  it('shows a health change within the health max age although the revision stays', async () => {
    const lookup = build();
    await lookup(v2Event('/services/api', 'health=all'));
    sd.on(DiscoverInstancesCommand).resolves({
      InstancesRevision: 3,
      Instances: INSTANCES.map((i) => ({ ...i, HealthStatus: 'UNHEALTHY' as const })),
    });

    jest.advanceTimersByTime(5000);
    const response = await lookup(v2Event('/services/api', 'health=all'));

    expect(JSON.parse(response.body).instances.every((i: { health: string }) => i.health === 'UNHEALTHY')).toBe(true);
  });

  it('shares one upstream call among concurrent first lookups', async () => {
    const lookup = build();
    const answers = await Promise.all(Array.from({ length: 25 }, () => lookup(v2Event('/services/api'))));
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(upstreamCalls()).toBe(1);
  });

  it('caches each filter combination under its own key', async () => {
    const lookup = build();
    await lookup(v2Event('/services/api', 'attr.v=1&attr.w=2'));
    await lookup(v2Event('/services/api', 'attr.w=2&attr.v=1'));
    await lookup(v2Event('/services/api', 'attr.v=1'));
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(2);
  });

  it('answers a known service without instances with 200 and []', async () => {
    sd.on(DiscoverInstancesCommand).resolves({ InstancesRevision: 1, Instances: [] });
    const response = await build()(v2Event('/services/empty'));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).instances).toEqual([]);
  });

  it('answers 404 service-not-found for an unknown service', async () => {
    sd.on(DiscoverInstancesCommand).rejects(new ServiceNotFound({ message: 'Service not found', ...meta }));
    const response = await build()(v2Event('/services/nope'));
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toEqual({
      error: 'service-not-found',
      message: 'Cloud Map service "nope" does not exist in namespace "kudos.local"',
    });
  });

  it('answers 404 namespace-not-found for an unknown namespace and remembers it for an interval', async () => {
    sd.on(ListNamespacesCommand).resolves({ Namespaces: [] });
    const lookup = build(Math.random, testConfig({ lookupNamespaces: '*' }));
    const first = await lookup(v2Event('/namespaces/nope.local/services/api'));
    await lookup(v2Event('/namespaces/nope.local/services/api'));
    expect(first.statusCode).toBe(404);
    expect(JSON.parse(first.body).error).toBe('namespace-not-found');
    expect(sd.commandCalls(ListNamespacesCommand)).toHaveLength(1);
  });

  it('answers 503 with Retry-After when Cloud Map throttles and nothing is cached', async () => {
    sd.on(DiscoverInstancesCommand).rejects(new RequestLimitExceeded({ message: 'Rate exceeded', ...meta }));
    const response = await build()(v2Event('/services/api'));
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(JSON.parse(response.body).error).toBe('upstream-throttled');
  });

  it('answers 502 upstream-error without the AWS message when Cloud Map fails', async () => {
    sd.on(DiscoverInstancesCommand).rejects(
      new Error('User: arn:aws:sts::123456789012:assumed-role/x is not authorized'),
    );
    const response = await build()(v2Event('/services/api'));
    expect(response.statusCode).toBe(502);
    expect(JSON.parse(response.body)).toEqual({
      error: 'upstream-error',
      message: 'Cloud Map did not answer the discovery call',
    });
  });

  it('answers 503 when resolving the namespace is throttled', async () => {
    sd.on(ListNamespacesCommand).rejects(new RequestLimitExceeded({ message: 'Rate exceeded', ...meta }));
    const response = await build()(v2Event('/services/api'));
    expect(response.statusCode).toBe(503);
  });

  it('keeps answering from memory while Cloud Map throttles the revision check', async () => {
    const lookup = build();
    await lookup(v2Event('/services/api'));
    sd.on(DiscoverInstancesRevisionCommand).rejects(new RequestLimitExceeded({ message: 'Rate exceeded', ...meta }));

    jest.advanceTimersByTime(1000);
    const response = await lookup(v2Event('/services/api'));

    expect(response.statusCode).toBe(200);
  });

  it('lists the default namespace services with their instance counts', async () => {
    sd.on(ListServicesCommand).resolves({
      Services: [
        { Name: 'web', InstanceCount: 1 },
        { Name: 'api', InstanceCount: 3 },
      ],
    });
    const response = await build()(v2Event('/services'));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      namespace: 'kudos.local',
      services: [
        { name: 'api', instances: 3 },
        { name: 'web', instances: 1 },
      ],
    });
    expect(sd.commandCalls(ListServicesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'NAMESPACE_ID', Values: ['ns-abcdefghijklmnop'], Condition: 'EQ' },
    ]);
  });

  it('strips a named stage from an HTTP API path', async () => {
    const event = v2Event('/dev/services/api');
    event.requestContext.stage = 'dev';
    expect((await build()(event)).statusCode).toBe(200);
  });

  it('answers 400 JSON to an event that is not an HTTP request', async () => {
    const response = await lookupHandler()({ source: 'aws.ecs' } as never);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toBe('invalid-request');
  });

  it('answers 500 invalid-config, without detail, when the environment was wrong at cold start', async () => {
    // setup-env sets no NAMESPACE, so the module's own cold start kept a ConfigError.
    const response = await coldStartHandler(v2Event('/services/api'), lambdaContext);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: 'invalid-config',
      message: 'The lookup function is misconfigured; its logs name the setting',
    });
    expect(sd.calls()).toHaveLength(0);
  });
});
