import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetNamespaceCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { createHandler } from '../../../functions/lookup';
import { ValidationError } from '../../../lib/errors';
import { parseLookupEvent } from '../../../lib/lookup/http-event';
import { createCloudMapLookupApp } from '../../../lib/lookup/lookup-app';
import { lambdaContext, testConfig, v1Event, v2Event } from '../lookup/helpers';

/**
 * The lookup under fuzzed API Gateway events: the event's own shape is fuzzed (any JSON value in any
 * field of a v1 or v2 event, several at a time), not only its path and query. Cloud Map answers every
 * call, so a 5xx could only be the lookup's own fault.
 */

const sd = mockClient(ServiceDiscoveryClient);
const KUDOS = { Id: 'ns-abcdefghijklmnop', Name: 'kudos.local', Type: 'HTTP' as const };
const SEED = Number(process.env.FUZZ_SEED ?? 10);

beforeAll(() => {
  sd.reset();
  sd.on(ListNamespacesCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => ({
    Namespaces: input.Filters?.[0]?.Values?.[0]?.toLowerCase() === 'kudos.local' ? [KUDOS] : [],
  }));
  sd.on(GetNamespaceCommand).resolves({ Namespace: KUDOS });
  sd.on(DiscoverInstancesCommand).resolves({
    InstancesRevision: 1,
    Instances: [{ InstanceId: 't1', HealthStatus: 'HEALTHY', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1' } }],
  });
  sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 1 });
  sd.on(ListServicesCommand).resolves({ Services: [{ Name: 'api', InstanceCount: 1 }] });
});

const PATHS = [
  '/services',
  '/services/api',
  '/namespaces/kudos.local/services/api',
  `/namespaces/${KUDOS.Id}/services/api`,
  '/resolve/api.kudos.local',
  '/dev/services/api',
  '/',
];
const QUERIES: [string, string][][] = [[], [['health', 'all']], [['max', '2']], [['attr.v', '1']]];

/** A valid event of either payload, as the starting point of mutations. */
const validEvent = fc
  .record({
    v2: fc.boolean(),
    path: fc.constantFrom(...PATHS),
    query: fc.constantFrom(...QUERIES),
    etag: fc.option(fc.constantFrom('*', 'W/"x"'), { nil: undefined }),
  })
  .map(({ v2, path, query, etag }) => {
    const headers: Record<string, string> = etag ? { 'if-none-match': etag } : {};
    const event = v2
      ? v2Event(path, new URLSearchParams(query).toString(), headers)
      : v1Event(path, query, etag ? { 'If-None-Match': etag } : {});
    return structuredClone(event) as unknown as Record<string, unknown>;
  });

/** Every field the parser reads, and some it does not, at any depth. */
const FIELDS: string[][] = [
  ['version'],
  ['rawPath'],
  ['rawQueryString'],
  ['headers'],
  ['headers', 'if-none-match'],
  ['headers', 'If-None-Match'],
  ['requestContext'],
  ['requestContext', 'stage'],
  ['requestContext', 'http'],
  ['requestContext', 'http', 'method'],
  ['routeKey'],
  ['body'],
  ['cookies'],
  ['httpMethod'],
  ['path'],
  ['multiValueHeaders'],
  ['queryStringParameters'],
  ['queryStringParameters', 'health'],
  ['multiValueQueryStringParameters'],
  ['multiValueQueryStringParameters', 'health'],
  ['multiValueQueryStringParameters', 'attr.v'],
  ['pathParameters'],
  ['stageVariables'],
];

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  Object.defineProperty(node, path.at(-1) as string, { value, enumerable: true, writable: true, configurable: true });
}

/** A valid event with one to four fields set to any JSON value; or any JSON value as the whole event. */
const fuzzedEvent: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: validEvent },
  {
    weight: 40,
    arbitrary: fc
      .tuple(validEvent, fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.jsonValue()), { minLength: 1, maxLength: 4 }))
      .map(([event, changes]) => {
        for (const [path, value] of changes) setAt(event, path, value);
        return event;
      }),
  },
  { weight: 4, arbitrary: fc.jsonValue() },
  { weight: 2, arbitrary: fc.dictionary(fc.string(), fc.jsonValue()).map((e) => ({ version: '2.0', ...e })) },
);

const handler = createHandler(createCloudMapLookupApp(testConfig(), new ServiceDiscoveryClient({ maxAttempts: 1 })));

describe('the lookup under fuzzed events', () => {
  it('answers any event shape with a 2xx, 304 or 4xx JSON answer, never a 5xx, never a throw', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const statuses = new Set<number>();

    await fc.assert(
      fc.asyncProperty(fuzzedEvent, async (event) => {
        const response = await handler(event as never, lambdaContext);
        statuses.add(response.statusCode);
        const ok = (response.statusCode >= 200 && response.statusCode < 300) || response.statusCode === 304;
        expect(ok || (response.statusCode >= 400 && response.statusCode < 500)).toBe(true);
        expect(response.headers['content-type']).toBe('application/json');
        if (response.statusCode >= 400) {
          expect(Object.keys(JSON.parse(response.body)).sort()).toEqual(['error', 'message']);
        } else if (response.statusCode === 200) {
          expect(() => JSON.parse(response.body)).not.toThrow();
        }
      }),
      { numRuns: 2000, seed: SEED },
    );

    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    // The mix reaches both sides: answers and refusals.
    expect(statuses).toContain(200);
    expect(statuses).toContain(400);
  });

  it('parses an event into strings only, or refuses it as invalid-request', () => {
    fc.assert(
      fc.property(fuzzedEvent, (event) => {
        let request: ReturnType<typeof parseLookupEvent>;
        try {
          request = parseLookupEvent(event as never);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect(error).toMatchObject({ code: 'invalid-request' });
          return;
        }
        expect(typeof request.method).toBe('string');
        expect(typeof request.path).toBe('string');
        for (const pair of request.query) {
          expect(pair).toEqual([expect.any(String), expect.any(String)]);
        }
        for (const value of Object.values(request.headers)) expect(typeof value).toBe('string');
      }),
      { numRuns: 3000, seed: SEED },
    );
  });
});
