import { RouteNotFoundError, ValidationError } from '../../../lib/errors';
import type { LookupHttpRequest } from '../../../lib/lookup/types';
import {
  parseInstancesParameters,
  parseLookupRoute,
  parseNamespaceName,
  parseServiceName,
} from '../../../lib/lookup/validation';

function get(path: string, query: [string, string][] = []): LookupHttpRequest {
  return { method: 'GET', path, query, headers: {} };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError || error instanceof RouteNotFoundError) return error.code;
    throw error;
  }
  return undefined;
}

describe('service names', () => {
  it.each([
    'api',
    'a',
    '_http',
    'api-v2',
    'api_v2',
    'API',
    'a.b',
    `${'a'.repeat(63)}`,
    `${'a'.repeat(63)}.${'b'.repeat(63)}`,
  ])('accepts the Cloud Map service name %s', (name) => {
    expect(parseServiceName(name)).toBe(name);
  });

  it.each([
    ['empty', ''],
    ['a lone dot (Cloud Map allows it, a URL path cannot carry it)', '.'],
    ['a leading hyphen', '-api'],
    ['a trailing hyphen', 'api-'],
    ['a lone underscore', '_'],
    ['an empty label', 'a..b'],
    ['a label of 64 characters', 'a'.repeat(64)],
    ['128 characters in all', `${'a'.repeat(63)}.${'b'.repeat(63)}.c`],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['a NUL', 'api\u0000'],
    ['a trailing newline', 'api\n'],
    ['a non-ASCII letter', 'äpi'],
  ])('refuses a service name with %s', (_why, name) => {
    expect(codeOf(() => parseServiceName(name))).toBe('invalid-name');
  });
});

describe('messages quoting caller input', () => {
  it('escape non-ASCII characters and cut long input short', () => {
    expect(() => parseServiceName('api\u202Ex')).toThrow('"api\\u202ex"');
    const error = (() => {
      try {
        parseServiceName('x'.repeat(500));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message.length).toBeLessThan(250);
  });
});

describe('namespace names', () => {
  it.each(['kudos.local', 'ns-abcdefghijklmnop', 'my_ns', 'example.com', 'a'.repeat(1024)])(
    'accepts the namespace %s',
    (name) => {
      expect(parseNamespaceName(name)).toBe(name);
    },
  );

  it.each([
    ['empty', ''],
    ['1025 characters', 'a'.repeat(1025)],
    ['a path traversal', '../../etc'],
    ['a slash', 'kudos/local'],
    ['a percent sign', 'kudos%2elocal'],
    ['a quote', 'kudos"local'],
    ['a leading dot', '.kudos.local'],
    ['a trailing dot', 'kudos.local.'],
    ['a space', 'kudos local'],
    ['a non-ASCII letter', 'küdos.local'],
  ])('refuses a namespace with %s', (_why, name) => {
    expect(codeOf(() => parseNamespaceName(name))).toBe('invalid-name');
  });
});

describe('instances parameters', () => {
  it('defaults to healthy_or_else_all and 1000 instances without filters', () => {
    expect(parseInstancesParameters([])).toEqual({
      health: 'HEALTHY_OR_ELSE_ALL',
      max: 1000,
      queryParameters: {},
      optionalParameters: {},
    });
  });

  it.each([
    ['healthy', 'HEALTHY'],
    ['UNHEALTHY', 'UNHEALTHY'],
    ['All', 'ALL'],
    ['healthy_or_else_all', 'HEALTHY_OR_ELSE_ALL'],
  ])('reads health=%s in any case as %s', (value, expected) => {
    expect(parseInstancesParameters([['health', value]]).health).toBe(expected);
  });

  it('reads attr. as query parameters and prefer. as optional parameters', () => {
    const parsed = parseInstancesParameters([
      ['attr.version', 'v1'],
      ['attr.AWS_INSTANCE_IPV4', '10.0.0.1'],
      ['prefer.az', 'us-east-1a'],
      ['max', '5'],
    ]);
    expect(parsed.queryParameters).toEqual({ version: 'v1', AWS_INSTANCE_IPV4: '10.0.0.1' });
    expect(parsed.optionalParameters).toEqual({ az: 'us-east-1a' });
    expect(parsed.max).toBe(5);
  });

  it('accepts attribute values with inner spaces and empty values, as Cloud Map does', () => {
    expect(parseInstancesParameters([['attr.team', 'red team']]).queryParameters).toEqual({ team: 'red team' });
    expect(parseInstancesParameters([['attr.team', '']]).queryParameters).toEqual({ team: '' });
  });

  it.each([
    ['max=0', 'max', '0', 'invalid-parameter'],
    ['max=1001', 'max', '1001', 'invalid-parameter'],
    ['max=-1', 'max', '-1', 'invalid-parameter'],
    ['max=2.5', 'max', '2.5', 'invalid-parameter'],
    ['max=', 'max', '', 'invalid-parameter'],
    ['health=sick', 'health', 'sick', 'invalid-parameter'],
    ['health=', 'health', '', 'invalid-parameter'],
    ['attr.=v', 'attr.', 'v', 'invalid-parameter'],
    ['attr.k=tab<NUL>', 'attr.k', 'tab\u0000', 'invalid-parameter'],
    ['attr.k= leading-space', 'attr.k', ' leading-space', 'invalid-parameter'],
    ['attr.k=<1025 characters>', 'attr.k', 'x'.repeat(1025), 'invalid-parameter'],
    ['attr.ké=v', 'attr.ké', 'v', 'invalid-parameter'],
    ['Health=all', 'Health', 'all', 'unknown-parameter'],
    ['callback=x', 'callback', 'x', 'unknown-parameter'],
  ])('refuses %s', (_label, name, value, code) => {
    expect(codeOf(() => parseInstancesParameters([[name, value]]))).toBe(code);
  });

  it('keeps filters on attribute keys named __proto__, constructor and prototype as own keys', () => {
    const out = parseInstancesParameters([
      ['attr.__proto__', 'a'],
      ['attr.constructor', 'b'],
      ['prefer.prototype', 'c'],
    ]);
    expect(Object.entries(out.queryParameters)).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
    ]);
    expect(Object.entries(out.optionalParameters)).toEqual([['prototype', 'c']]);
    expect(Object.getPrototypeOf(out.queryParameters)).toBe(Object.prototype);
  });

  it('refuses a parameter given twice and names it', () => {
    expect(() =>
      parseInstancesParameters([
        ['attr.v', '1'],
        ['attr.v', '2'],
      ]),
    ).toThrow(/"attr\.v" is repeated/);
  });

  it('names an unknown parameter in its message', () => {
    expect(() => parseInstancesParameters([['verbose', '1']])).toThrow(/Unknown query parameter "verbose"/);
  });

  it('refuses more than 30 attribute filters, since no instance has more attributes', () => {
    const query = Array.from({ length: 31 }, (_, i): [string, string] => [`attr.k${i}`, 'v']);
    expect(codeOf(() => parseInstancesParameters(query))).toBe('invalid-parameter');
  });
});

describe('routes', () => {
  it('routes /services to the default namespace list', () => {
    expect(parseLookupRoute(get('/services'), 'kudos.local')).toEqual({ kind: 'services', namespace: 'kudos.local' });
  });

  it('routes /services/{service} to the default namespace', () => {
    const route = parseLookupRoute(get('/services/api'), 'kudos.local');
    expect(route).toMatchObject({ kind: 'instances', query: { namespace: 'kudos.local', service: 'api' } });
  });

  it('routes /namespaces/{namespace}/services/{service} to that namespace', () => {
    const route = parseLookupRoute(get('/namespaces/other.local/services/web'), 'kudos.local');
    expect(route).toMatchObject({ kind: 'instances', query: { namespace: 'other.local', service: 'web' } });
  });

  it('splits /resolve/{name} at the first dot into service and namespace', () => {
    const route = parseLookupRoute(get('/resolve/api.kudos.local', [['health', 'all']]), 'x');
    expect(route).toMatchObject({
      kind: 'instances',
      query: { namespace: 'kudos.local', service: 'api', health: 'ALL' },
    });
  });

  it('decodes percent-encoded path segments before checking them', () => {
    const route = parseLookupRoute(get('/services/%61pi'), 'kudos.local');
    expect(route).toMatchObject({ query: { service: 'api' } });
  });

  it.each([
    ['POST', '/services/api'],
    ['GET', '/'],
    ['GET', '/service/api'],
    ['GET', '/services/api/instances'],
    ['GET', '/namespaces/kudos.local'],
    ['GET', '/namespaces/kudos.local/instances'],
  ])('answers route-not-found for %s %s', (method, path) => {
    expect(codeOf(() => parseLookupRoute({ method, path, query: [], headers: {} }, 'kudos.local'))).toBe(
      'route-not-found',
    );
  });
});
