import { request as httpRequest } from 'node:http';
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  ListNamespacesCommand,
  RegisterInstanceCommand,
  type ServiceDiscoveryClient,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery';
import { createHandler } from '../../functions/lookup';
import { createServiceDiscoveryClient } from '../../lib/aws-clients';
import { createCloudMapLookupApp } from '../../lib/lookup/lookup-app';
import { createEmulator, type Emulator } from '../../local/emulator';
import { type LocalHttpServer, startLocalHttpServer } from '../../support/http-api-server';
import { lambdaContext, manualClock, testConfig, v1Event, v2Event } from '../unit/lookup/helpers';
import { HOSTILE_INPUTS, PROTOTYPE_KEY_INPUTS } from '../unit/lookup/hostile-inputs';

/**
 * The real handler and the real SDK against the local emulator over HTTP; the clock of the cache is
 * the test's, so intervals pass without waiting.
 */

let emulator: Emulator;
let admin: ServiceDiscoveryClient;
const ids = { namespace: '', other: '', api: '', empty: '' };

/** Counts the SDK calls the lookup makes, by command name, as they leave for the emulator. */
function countingClient(url: string) {
  const client = createServiceDiscoveryClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1 });
  const calls: Record<string, number> = {};
  const inputs: { command: string; input: Record<string, unknown> }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName);
      calls[name] = (calls[name] ?? 0) + 1;
      inputs.push({ command: name, input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return {
    client,
    calls,
    inputs,
    upstream: () => Object.values(calls).reduce((a, b) => a + b, 0),
    discovery: () => (calls.DiscoverInstancesCommand ?? 0) + (calls.DiscoverInstancesRevisionCommand ?? 0),
  };
}

function lookupUnderTest(clock = manualClock()) {
  const counting = countingClient(emulator.url);
  const config = testConfig({ namespace: 'kudos.local', lookupNamespaces: ['kudos.local'] });
  const app = createCloudMapLookupApp(config, counting.client, { now: clock.now });
  const handler = createHandler(app);
  return {
    ...counting,
    clock,
    handler,
    lookup: (path: string, query = '') => handler(v2Event(path, query), lambdaContext),
  };
}

async function register(serviceId: string, instanceId: string, ipv4: string, extra: Record<string, string> = {}) {
  await admin.send(
    new RegisterInstanceCommand({
      ServiceId: serviceId,
      InstanceId: instanceId,
      Attributes: { AWS_INSTANCE_IPV4: ipv4, AWS_INSTANCE_PORT: '8080', ...extra },
    }),
  );
  await emulator.idle();
}

beforeAll(async () => {
  emulator = await createEmulator({ port: 0, timeScale: 0.001 });
  admin = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1 });
  await admin.send(new CreateHttpNamespaceCommand({ Name: 'kudos.local' }));
  await admin.send(new CreateHttpNamespaceCommand({ Name: 'other.local' }));
  await emulator.idle();
  const listed = await admin.send(new ListNamespacesCommand({}));
  ids.namespace = listed.Namespaces?.find((ns) => ns.Name === 'kudos.local')?.Id ?? '';
  ids.other = listed.Namespaces?.find((ns) => ns.Name === 'other.local')?.Id ?? '';
  await admin.send(new CreateServiceCommand({ Name: 'api', NamespaceId: ids.other }));
  const api = await admin.send(
    new CreateServiceCommand({ Name: 'api', NamespaceId: ids.namespace, HealthCheckCustomConfig: {} }),
  );
  ids.api = api.Service?.Id ?? '';
  const empty = await admin.send(new CreateServiceCommand({ Name: 'empty', NamespaceId: ids.namespace }));
  ids.empty = empty.Service?.Id ?? '';
  await register(ids.api, 'task-a', '10.0.0.1', { version: 'v1' });
  await register(ids.api, 'task-b', '10.0.0.2', { version: 'v2', AWS_INSTANCE_IPV6: 'fd00::2' });
  await register(ids.api, 'task-p', '10.0.0.7', { constructor: 'c1', prototype: 'p1' });
});

afterAll(async () => {
  admin?.destroy();
  await emulator?.close();
});

describe('lookup against the emulator', () => {
  it('answers the instances of a service in the default namespace', async () => {
    const { lookup } = lookupUnderTest();
    const response = await lookup('/services/api', 'health=all');
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ namespace: 'kudos.local', service: 'api', revision: expect.any(Number) });
    const byId = Object.fromEntries(body.instances.map((i: { id: string }) => [i.id, i]));
    expect(byId['task-a']).toMatchObject({ ipv4: '10.0.0.1', port: 8080 });
    expect(byId['task-a']).not.toHaveProperty('ipv6');
    expect(byId['task-b']).toMatchObject({ ipv6: 'fd00::2', attributes: { version: 'v2' } });
  });

  it('answers /resolve and /namespaces routes with the same set', async () => {
    const { lookup } = lookupUnderTest();
    const a = await lookup('/resolve/api.kudos.local', 'health=all');
    const b = await lookup('/namespaces/kudos.local/services/api', 'health=all');
    const c = await lookup(`/namespaces/${ids.namespace}/services/api`, 'health=all');
    expect(a.headers.etag).toBe(b.headers.etag);
    expect(c.headers.etag).toBe(a.headers.etag);
  });

  it('answers a REST API v1 event with the same set as the HTTP API v2 event', async () => {
    const { handler, lookup } = lookupUnderTest();
    const v2 = await lookup('/resolve/api.kudos.local', 'health=all');
    const v1 = await handler(v1Event('/resolve/api.kudos.local', [['health', 'all']]), lambdaContext);
    expect(v1.statusCode).toBe(200);
    expect(v1.headers.etag).toBe(v2.headers.etag);
  });

  it('filters with attr. and prefers with prefer.', async () => {
    const { lookup } = lookupUnderTest();
    const only = JSON.parse((await lookup('/services/api', 'health=all&attr.version=v1')).body);
    expect(only.instances.map((i: { id: string }) => i.id)).toEqual(['task-a']);
    const preferred = JSON.parse((await lookup('/services/api', 'health=all&prefer.version=v9')).body);
    expect(preferred.instances).toHaveLength(3);
  });

  it('answers 200 with [] for a known service without instances', async () => {
    const { lookup } = lookupUnderTest();
    const response = await lookup('/services/empty');
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).instances).toEqual([]);
  });

  it('answers 404 for an unknown service and an unknown namespace', async () => {
    const { lookup } = lookupUnderTest();
    expect(JSON.parse((await lookup('/services/nope')).body).error).toBe('service-not-found');
    expect(JSON.parse((await lookup('/namespaces/nope.local/services/api')).body).error).toBe('namespace-not-found');
  });

  it('lists the default namespace services with their instance counts', async () => {
    const { lookup } = lookupUnderTest();
    const body = JSON.parse((await lookup('/services')).body);
    expect(body).toEqual({
      namespace: 'kudos.local',
      services: [
        { name: 'api', instances: expect.any(Number) },
        { name: 'empty', instances: 0 },
      ],
    });
  });

  it('serves from memory, checks the revision once per interval and reads again only after a change', async () => {
    const { lookup, clock, calls } = lookupUnderTest();
    await lookup('/services/api', 'health=all');
    for (let i = 0; i < 20; i++) await lookup('/services/api', 'health=all');
    expect(calls.DiscoverInstancesCommand).toBe(1);
    expect(calls.DiscoverInstancesRevisionCommand).toBeUndefined();

    clock.advance(1000);
    await lookup('/services/api', 'health=all');
    expect(calls).toMatchObject({ DiscoverInstancesCommand: 1, DiscoverInstancesRevisionCommand: 1 });

    await register(ids.api, 'task-c', '10.0.0.3');
    clock.advance(1000);
    const after = JSON.parse((await lookup('/services/api', 'health=all')).body);
    expect(after.instances.map((i: { id: string }) => i.id)).toContain('task-c');
    expect(calls).toMatchObject({ DiscoverInstancesCommand: 2, DiscoverInstancesRevisionCommand: 2 });
  });

  it('shows a health change once the health max age has passed, though the revision did not move', async () => {
    const { lookup, clock } = lookupUnderTest();
    await register(ids.api, 'task-h', '10.0.0.9');
    const before = await lookup('/services/api', 'health=healthy');
    expect(JSON.parse(before.body).instances.map((i: { id: string }) => i.id)).toContain('task-h');

    await admin.send(
      new UpdateInstanceCustomHealthStatusCommand({ ServiceId: ids.api, InstanceId: 'task-h', Status: 'UNHEALTHY' }),
    );
    await emulator.idle();
    clock.advance(1000);
    const within = await lookup('/services/api', 'health=healthy');
    expect(within.headers.etag).toBe(before.headers.etag);

    clock.advance(4000);
    const after = await lookup('/services/api', 'health=healthy');
    expect(JSON.parse(after.body).instances.map((i: { id: string }) => i.id)).not.toContain('task-h');
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('answers 404 namespace-not-found, with no call, for a namespace that exists but is not in lookupNamespaces', async () => {
    const { lookup, upstream } = lookupUnderTest();
    const byName = await lookup('/namespaces/other.local/services/api');
    const byResolve = await lookup('/resolve/api.other.local');
    const byId = await lookup(`/namespaces/${ids.other}/services/api`);
    for (const response of [byName, byResolve, byId]) {
      expect(response.statusCode).toBe(404);
      expect(JSON.parse(response.body).error).toBe('namespace-not-found');
    }
    // Only the allowed namespace was resolved (to know its id): nothing was asked of other.local.
    expect(upstream()).toBe(1);
  });

  it('answers every max, every spelling of the namespace and every unknown service from one call each', async () => {
    const { lookup, calls } = lookupUnderTest();
    const all = JSON.parse((await lookup('/resolve/api.kudos.local', 'health=all')).body).instances.length;
    for (let max = 1; max <= 50; max++) {
      const body = JSON.parse((await lookup('/resolve/api.kudos.local', `health=all&max=${max}`)).body);
      expect(body.instances.length).toBe(Math.min(max, all));
    }
    await lookup('/services/api', 'health=all');
    await lookup(`/namespaces/${ids.namespace}/services/api`, 'health=all');
    for (let max = 1; max <= 50; max++) await lookup('/services/nope', `max=${max}`);
    expect(calls).toMatchObject({ ListNamespacesCommand: 1, DiscoverInstancesCommand: 2 });
  });

  it('filters on attributes named constructor and prototype', async () => {
    const { lookup } = lookupUnderTest();
    const idsOf = (response: { body: string }) => JSON.parse(response.body).instances.map((i: { id: string }) => i.id);
    expect(idsOf(await lookup('/services/api', 'health=all&attr.constructor=c1'))).toEqual(['task-p']);
    expect(idsOf(await lookup('/services/api', 'health=all&attr.prototype=p1'))).toEqual(['task-p']);
    expect(idsOf(await lookup('/services/api', 'health=all&attr.constructor=other'))).toEqual([]);
  });

  it('answers 503 with Retry-After while the emulator throttles, and 502 while it fails', async () => {
    const { lookup } = lookupUnderTest();
    try {
      emulator.setFaults({ throttleRate: 1 });
      const throttled = await lookup('/services/api', 'max=7');
      expect(throttled.statusCode).toBe(503);
      expect(throttled.headers['retry-after']).toBe('1');
      emulator.setFaults({ errorRate: 1 });
      const failed = await lookup('/services/api', 'max=8');
      expect(failed.statusCode).toBe(502);
      expect(JSON.parse(failed.body).error).toBe('upstream-error');
    } finally {
      emulator.setFaults({});
    }
  });

  it('keeps answering a cached key while the emulator throttles', async () => {
    const { lookup, clock } = lookupUnderTest();
    await lookup('/services/api');
    try {
      emulator.setFaults({ throttleRate: 1 });
      clock.advance(1000);
      expect((await lookup('/services/api')).statusCode).toBe(200);
    } finally {
      emulator.setFaults({});
    }
  });
});

describe('lookup over HTTP', () => {
  let server: LocalHttpServer;
  let under: ReturnType<typeof lookupUnderTest>;

  beforeAll(async () => {
    under = lookupUnderTest();
    server = await startLocalHttpServer(under.handler);
  });

  afterAll(async () => {
    await server?.close();
  });

  /** A raw GET: node:http sends the path as given, without normalising `..` or re-encoding. */
  function get(path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(server.url);
      const req = httpRequest({ hostname, port, path, method: 'GET', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('answers 200 and then 304 for the ETag it gave', async () => {
    const first = await get('/services/api');
    expect(first.status).toBe(200);
    const second = await get('/services/api', { 'if-none-match': String(first.headers.etag) });
    expect(second.status).toBe(304);
    expect(second.body).toBe('');
  });

  it.each(HOSTILE_INPUTS)('answers $status $error to $name, with no upstream call', async (input) => {
    const before = under.upstream();
    const response = await get(input.query ? `${input.path}?${input.query}` : input.path);
    expect(response.status).toBe(input.status);
    expect(response.headers['content-type']).toBe('application/json');
    const body = JSON.parse(response.body);
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    expect(body.error).toBe(input.error);
    expect(under.upstream()).toBe(before);
  });

  it.each(PROTOTYPE_KEY_INPUTS)('answers 200 to $name and passes the filters on as given', async (input) => {
    const response = await get(`${input.path}?${input.query}`);
    expect(response.status).toBe(200);
    const sent = under.inputs.filter((i) => i.command === 'DiscoverInstancesCommand').at(-1)?.input;
    expect(Object.entries(sent?.QueryParameters ?? {})).toEqual(input.queryParameters);
    expect(Object.entries(sent?.OptionalParameters ?? {})).toEqual(input.optionalParameters);
  });
});
