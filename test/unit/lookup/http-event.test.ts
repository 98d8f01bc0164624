import { ValidationError } from '../../../lib/errors';
import { parseLookupEvent } from '../../../lib/lookup/http-event';
import { v1Event, v2Event } from './helpers';

/** A v2 or v1 event with one field replaced (by a JSON value of the wrong type). */
function v2With(change: (event: Record<string, unknown> & { requestContext: Record<string, unknown> }) => void) {
  const event = structuredClone(v2Event('/services/api')) as unknown as Parameters<typeof change>[0];
  change(event);
  return event;
}
function v1With(change: (event: Record<string, unknown>) => void) {
  const event = structuredClone(v1Event('/services/api', [['health', 'all']])) as unknown as Record<string, unknown>;
  change(event);
  return event;
}

/** Event shapes API Gateway never sends: each is the caller's (or a test console's) mistake, not ours. */
const MALFORMED: [string, unknown][] = [
  [
    'a non-string rawPath with a named stage',
    v2With((e) => {
      e.rawPath = 42;
      e.requestContext.stage = 'dev';
    }),
  ],
  [
    'a non-string rawPath on the $default stage',
    v2With((e) => {
      e.rawPath = ['/services/api'];
    }),
  ],
  ['a non-string If-None-Match (v2)', v2With((e) => (e.headers = { 'if-none-match': 7 }))],
  ['a non-string If-None-Match (v1)', v1With((e) => (e.headers = { 'If-None-Match': { etag: 'x' } }))],
  ['headers that are a string', v2With((e) => (e.headers = 'if-none-match: *'))],
  ['headers that are an array', v1With((e) => (e.headers = ['a']))],
  ['a null requestContext', v2With((e) => (e.requestContext = null as never))],
  ['an http context without a method', v2With((e) => (e.requestContext.http = {}))],
  ['a numeric method', v2With((e) => (e.requestContext.http = { method: 1 }))],
  ['a non-string stage', v2With((e) => (e.requestContext.stage = { name: 'dev' }))],
  ['a rawQueryString object', v2With((e) => (e.rawQueryString = { health: 'all' }))],
  ['a rawQueryString array of pairs', v2With((e) => (e.rawQueryString = [['health', 'all']]))],
  ['a non-iterable v1 multi-value query', v1With((e) => (e.multiValueQueryStringParameters = { health: 5 }))],
  ['a v1 multi-value query of non-strings', v1With((e) => (e.multiValueQueryStringParameters = { health: [{}] }))],
  ['a v1 multi-value query that is a string', v1With((e) => (e.multiValueQueryStringParameters = 'health=all'))],
  [
    'a v1 single-value query of objects',
    v1With((e) => {
      e.multiValueQueryStringParameters = null;
      e.queryStringParameters = { health: { all: true } };
    }),
  ],
  ['a v1 query that is an array', v1With((e) => (e.multiValueQueryStringParameters = [['health', 'all']]))],
  ['a numeric v1 path', v1With((e) => (e.path = 1))],
  ['an array', [v2Event('/services/api')]],
  ['null', null],
  ['a string', '/services/api'],
];

describe('parseLookupEvent', () => {
  it('reads an HTTP API v2 event, keeping repeated query names apart', () => {
    const request = parseLookupEvent(
      v2Event('/services/api', 'attr.v=1&attr.v=2&health=ALL', { 'If-None-Match': 'W/"x"' }),
    );
    expect(request).toEqual({
      method: 'GET',
      path: '/services/api',
      query: [
        ['attr.v', '1'],
        ['attr.v', '2'],
        ['health', 'ALL'],
      ],
      headers: { 'if-none-match': 'W/"x"' },
    });
  });

  it('decodes the v2 query string as a browser would', () => {
    expect(parseLookupEvent(v2Event('/services/api', 'attr.team=red%20team&attr.x=a+b')).query).toEqual([
      ['attr.team', 'red team'],
      ['attr.x', 'a b'],
    ]);
  });

  it('reads a REST API v1 event from its multi-value query parameters', () => {
    const request = parseLookupEvent(
      v1Event(
        '/resolve/api.kudos.local',
        [
          ['max', '1'],
          ['max', '2'],
        ],
        { 'IF-NONE-MATCH': '*' },
      ),
    );
    expect(request).toEqual({
      method: 'GET',
      path: '/resolve/api.kudos.local',
      query: [
        ['max', '1'],
        ['max', '2'],
      ],
      headers: { 'if-none-match': '*' },
    });
  });

  it('reads a v1 event without multi-value parameters from its single-value ones', () => {
    const event = v1Event('/services/api');
    event.queryStringParameters = { health: 'all' };
    expect(parseLookupEvent(event).query).toEqual([['health', 'all']]);
  });

  it('leaves the $default stage path as it is and strips a named stage', () => {
    expect(parseLookupEvent(v2Event('/services/api')).path).toBe('/services/api');
    const staged = v2Event('/prod/services/api');
    staged.requestContext.stage = 'prod';
    expect(parseLookupEvent(staged).path).toBe('/services/api');
  });

  it.each(MALFORMED)('refuses %s with invalid-request', (_name, event) => {
    let thrown: unknown;
    try {
      parseLookupEvent(event as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect(thrown).toMatchObject({ code: 'invalid-request' });
  });

  it('accepts the optional fields API Gateway may leave out or set to null', () => {
    const v2 = v2Event('/services/api');
    delete (v2 as Partial<typeof v2>).rawQueryString;
    delete (v2 as Partial<typeof v2>).headers;
    expect(parseLookupEvent(v2)).toEqual({ method: 'GET', path: '/services/api', query: [], headers: {} });
    const v1 = v1Event('/services/api');
    v1.headers = null as never;
    expect(parseLookupEvent(v1)).toEqual({ method: 'GET', path: '/services/api', query: [], headers: {} });
  });

  it('keeps a query parameter and a header named __proto__ as the caller sent them', () => {
    const v1 = JSON.parse(
      JSON.stringify(v1Event('/services/api')).replace(
        '"multiValueQueryStringParameters":null',
        '"multiValueQueryStringParameters":{"__proto__":["x"],"attr.__proto__":["y"]}',
      ),
    );
    expect(parseLookupEvent(v1).query).toEqual([
      ['__proto__', 'x'],
      ['attr.__proto__', 'y'],
    ]);
  });

  it('refuses an event that is neither payload', () => {
    expect(() => parseLookupEvent({} as never)).toThrow(/not an API Gateway HTTP request/);
  });
});
