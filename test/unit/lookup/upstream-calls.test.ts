import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetNamespaceCommand,
  ListNamespacesCommand,
  ServiceNotFound,
} from '@aws-sdk/client-servicediscovery';
import type { LookupConfig } from '../../../lib/config';
import { lookupHandler } from './handler-under-test';
import { manualClock, testConfig, v2Event } from './helpers';
import { meta, sd } from './mocked-cloud-map';

/**
 * What the lookup costs upstream when callers vary what they ask: names, `max`, filters, spellings.
 * Every test counts the SDK calls that leave the function.
 */

const KUDOS = { Id: 'ns-abcdefghijklmnop', Name: 'kudos.local', Type: 'HTTP' as const };
const OTHER = { Id: 'ns-qrstuvwxyz012345', Name: 'other.local', Type: 'HTTP' as const };

const INSTANCES = Array.from({ length: 5 }, (_, i) => ({
  InstanceId: `task-${i}`,
  HealthStatus: 'HEALTHY' as const,
  Attributes: { AWS_INSTANCE_IPV4: `10.0.0.${i}`, AWS_INSTANCE_PORT: '8080' },
}));

function build(config: Partial<LookupConfig> = {}) {
  const clock = manualClock();
  const handler = lookupHandler(testConfig(config), { now: clock.now });
  const lookup = async (path: string, query = '') => {
    const response = await handler(v2Event(path, query));
    return { ...response, json: response.body ? JSON.parse(response.body) : undefined };
  };
  return { lookup, clock };
}

const discoveries = () =>
  sd.commandCalls(DiscoverInstancesCommand).length + sd.commandCalls(DiscoverInstancesRevisionCommand).length;

beforeEach(() => {
  sd.reset();
  // ListNamespaces with a NAME filter answers the namespaces of that name, as Cloud Map does.
  sd.on(ListNamespacesCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => {
    const wanted = input.Filters?.[0]?.Values?.[0]?.toLowerCase();
    return { Namespaces: [KUDOS, OTHER].filter((ns) => wanted === undefined || ns.Name === wanted) };
  });
  sd.on(GetNamespaceCommand).rejects(new Error('GetNamespace is not expected'));
  sd.on(DiscoverInstancesCommand).resolves({ InstancesRevision: 3, Instances: INSTANCES });
  sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 3 });
});

describe('the namespace allowlist (lookupNamespaces)', () => {
  it('answers 404 namespace-not-found, with no upstream call, for 500 namespace names outside it', async () => {
    const { lookup } = build({ lookupNamespaces: ['kudos.local'] });

    for (let i = 0; i < 250; i++) {
      const byPath = await lookup(`/namespaces/nope-${i}.local/services/api`);
      const byName = await lookup(`/resolve/api.unknown-${i}.local`);
      for (const response of [byPath, byName]) {
        expect(response.statusCode).toBe(404);
        expect(response.json.error).toBe('namespace-not-found');
      }
    }

    expect(sd.calls()).toHaveLength(0);
  });

  it('answers 404, not 502, for a namespace that exists in Cloud Map but is not in the allowlist', async () => {
    // IAM would refuse DiscoverInstances there (its condition is the same list): no call is made at all.
    sd.on(DiscoverInstancesCommand).rejects(new Error('AccessDeniedException'));
    const { lookup } = build({ lookupNamespaces: ['kudos.local'] });

    const response = await lookup('/namespaces/other.local/services/api');

    expect(response.statusCode).toBe(404);
    expect(response.json.error).toBe('namespace-not-found');
    expect(sd.calls()).toHaveLength(0);
  });

  it('serves the namespaces it names, in any letter case, and the default namespace without being named', async () => {
    const { lookup } = build({ namespace: 'kudos.local', lookupNamespaces: ['Other.Local'] });

    expect((await lookup('/namespaces/OTHER.local/services/api')).statusCode).toBe(200);
    expect((await lookup('/resolve/api.other.local')).statusCode).toBe(200);
    expect((await lookup('/services/api')).statusCode).toBe(200);
    expect((await lookup('/namespaces/kudos.local/services/api')).statusCode).toBe(200);
  });

  it('serves a namespace by id only when the id is that of an allowed namespace, without GetNamespace', async () => {
    const { lookup } = build({ lookupNamespaces: ['kudos.local'] });

    const allowed = await lookup(`/namespaces/${KUDOS.Id}/services/api`);
    const refused = await lookup(`/namespaces/${OTHER.Id}/services/api`);
    const unknown = await lookup('/namespaces/ns-zzzzzzzzzzzzzzzz/services/api');

    expect(allowed.statusCode).toBe(200);
    expect(refused.statusCode).toBe(404);
    expect(refused.json.error).toBe('namespace-not-found');
    expect(unknown.statusCode).toBe(404);
    expect(sd.commandCalls(GetNamespaceCommand)).toHaveLength(0);
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(1);
  });

  it('lets every namespace through with *', async () => {
    const { lookup } = build({ lookupNamespaces: '*' });
    expect((await lookup('/namespaces/other.local/services/api')).statusCode).toBe(200);
  });
});

describe('negative answers', () => {
  it('asks once per interval for an unknown namespace, whatever service, max or filter is asked of it', async () => {
    const { lookup, clock } = build({ lookupNamespaces: '*' });

    for (let i = 1; i <= 100; i++) {
      const response = await lookup(`/namespaces/nope.local/services/svc-${i}`, `max=${i}&attr.v=${i}`);
      expect(response.json.error).toBe('namespace-not-found');
    }
    expect(sd.commandCalls(ListNamespacesCommand)).toHaveLength(1);

    clock.advance(1000);
    await lookup('/namespaces/nope.local/services/api');
    expect(sd.commandCalls(ListNamespacesCommand)).toHaveLength(2);
  });

  it('asks once per interval for an unknown service, whatever max, health or filter is asked of it', async () => {
    sd.on(DiscoverInstancesCommand).rejects(new ServiceNotFound({ message: 'Service not found', ...meta }));
    const { lookup, clock } = build();

    for (let i = 1; i <= 100; i++) {
      const health = ['all', 'healthy', 'unhealthy', 'healthy_or_else_all'][i % 4];
      const response = await lookup('/services/nope', `max=${i}&health=${health}&attr.v=${i}&prefer.az=${i}`);
      expect(response.statusCode).toBe(404);
      expect(response.json).toEqual({
        error: 'service-not-found',
        message: 'Cloud Map service "nope" does not exist in namespace "kudos.local"',
      });
    }
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(1);

    // A service created meanwhile is found after one interval.
    sd.on(DiscoverInstancesCommand).resolves({ InstancesRevision: 1, Instances: INSTANCES });
    clock.advance(1000);
    expect((await lookup('/services/nope')).statusCode).toBe(200);
  });

  it('keeps real answers in memory while thousands of unknown names are asked for', async () => {
    const { lookup } = build({ cacheMaxEntries: 10, lookupNamespaces: '*' });
    sd.on(DiscoverInstancesCommand).callsFake((input: { ServiceName: string }) => {
      if (input.ServiceName === 'api' || input.ServiceName === 'web') {
        return { InstancesRevision: 3, Instances: INSTANCES };
      }
      throw new ServiceNotFound({ message: 'Service not found', ...meta });
    });
    await lookup('/services/api');
    await lookup('/services/web');

    for (let i = 0; i < 2000; i++) await lookup(`/services/missing-${i}`);
    for (let i = 0; i < 500; i++) await lookup(`/namespaces/missing-${i}.local/services/api`);
    sd.resetHistory();

    expect((await lookup('/services/api')).statusCode).toBe(200);
    expect((await lookup('/services/web')).statusCode).toBe(200);
    expect(sd.calls()).toHaveLength(0);
  });
});

describe('what makes a cache key', () => {
  it('answers every max from one upstream read, cutting the cached answer per request', async () => {
    const { lookup } = build();

    for (let max = 1; max <= 1000; max++) {
      const response = await lookup('/services/api', `max=${max}`);
      expect(response.json.instances).toHaveLength(Math.min(max, INSTANCES.length));
    }

    expect(discoveries()).toBe(1);
    expect(sd.commandCalls(DiscoverInstancesCommand)[0]?.args[0].input.MaxResults).toBe(1000);
  });

  it('gives a random choice of max instances, each instance chosen in some answer', async () => {
    const { lookup } = build();
    const chosen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const response = await lookup('/services/api', 'max=1');
      for (const instance of response.json.instances) chosen.add(instance.id);
    }
    expect(chosen.size).toBe(INSTANCES.length);
  });

  it('keeps one ETag per instance set, whatever max cuts from it', async () => {
    const { lookup } = build();
    const one = await lookup('/services/api', 'max=1');
    const all = await lookup('/services/api');
    expect(one.headers.etag).toBe(all.headers.etag);
  });

  it('answers one namespace named four ways (default, name, id, resolve) from one upstream read', async () => {
    const { lookup } = build();

    const answers = [
      await lookup('/services/api'),
      await lookup('/namespaces/KUDOS.local/services/api'),
      await lookup(`/namespaces/${KUDOS.Id}/services/api`),
      await lookup('/resolve/api.kudos.local'),
    ];

    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.headers.etag)).size).toBe(1);
    expect(discoveries()).toBe(1);
  });

  it('keeps service names apart that differ only in case (an HTTP namespace may hold both)', async () => {
    // https://docs.aws.amazon.com/cloud-map/latest/dg/creating-services.html: "If you use a namespace that's
    // only accessible by API calls, then you can create services with names that differ only by case."
    const { lookup } = build();
    await lookup('/services/api');
    await lookup('/services/API');
    expect(sd.commandCalls(DiscoverInstancesCommand).map((c) => c.args[0].input.ServiceName)).toEqual(['api', 'API']);
  });
});
