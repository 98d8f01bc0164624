import { DiscoverInstancesCommand, ListNamespacesCommand } from '@aws-sdk/client-servicediscovery';
import fc from 'fast-check';
import { lookupHandler } from './handler-under-test';
import { v2Event } from './helpers';
import { HOSTILE_INPUTS, PROTOTYPE_KEY_INPUTS } from './hostile-inputs';
import { sd } from './mocked-cloud-map';

function handlerUnderTest() {
  const handler = lookupHandler();
  return (path: string, query = '') => handler(v2Event(path, query));
}

beforeEach(() => {
  sd.reset();
  // Any upstream call is a failure of the test; answering keeps it from hanging or retrying.
  sd.onAnyCommand().rejects(new Error('no upstream call expected'));
});

describe('hostile inputs against the handler', () => {
  const lookup = handlerUnderTest();

  it.each(HOSTILE_INPUTS)('answers $status $error to $name, with no upstream call', async (input) => {
    const response = await lookup(input.path, input.query);

    expect(response.statusCode).toBe(input.status);
    expect(response.headers['content-type']).toBe('application/json');
    const body = JSON.parse(response.body);
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    expect(body.error).toBe(input.error);
    // No control character and no stack frame comes back.
    expect(body.message).not.toMatch(/[^ -~]|at .+:\d+:\d+/);
    expect(sd.calls()).toHaveLength(0);
  });

  it('answers any service segment either with a Cloud Map call or with a 4xx JSON and no call', async () => {
    const serviceRule =
      /^(?=.{1,127}$)([a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$/;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 140 }), async (segment) => {
        sd.resetHistory();
        const response = await lookup(`/services/${encodeURIComponent(segment)}`);
        if (serviceRule.test(segment)) return;
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
        expect(JSON.parse(response.body).error).toMatch(/^[a-z-]+$/);
        expect(sd.calls()).toHaveLength(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('attribute keys named like Object.prototype members', () => {
  it.each(PROTOTYPE_KEY_INPUTS)('passes $name on to Cloud Map as given and answers 200', async (input) => {
    sd.reset();
    sd.on(ListNamespacesCommand).resolves({ Namespaces: [{ Id: 'ns-abcdefghijklmnop', Name: 'kudos.local' }] });
    sd.on(DiscoverInstancesCommand).resolves({ InstancesRevision: 1, Instances: [] });
    const lookup = handlerUnderTest();

    const response = await lookup(input.path, input.query);

    expect(response.statusCode).toBe(200);
    const sent = sd.commandCalls(DiscoverInstancesCommand)[0]?.args[0].input;
    expect(Object.entries(sent?.QueryParameters ?? {})).toEqual(input.queryParameters);
    expect(Object.entries(sent?.OptionalParameters ?? {})).toEqual(input.optionalParameters);
  });
});
