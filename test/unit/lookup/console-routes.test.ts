import { Script } from 'node:vm';
import { ListNamespacesCommand, ListServicesCommand } from '@aws-sdk/client-servicediscovery';
import { CONSOLE_CSP, consoleAssetNames } from '../../../lib/lookup/console/assets';
import { lookupHandler } from './handler-under-test';
import { testConfig, v1Event, v2Event } from './helpers';
import { sd } from './mocked-cloud-map';

/**
 * The discovery console's routes (`/console`, `/console/FILE`) and the two JSON routes it reads besides the
 * existing ones (`/namespaces`, `/namespaces/{namespace}/services`). Content-Security-Policy directives as
 * https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Content-Security-Policy describes them;
 * If-None-Match / 304 as in RFC 9110 13.1.2.
 */

const KUDOS = {
  Id: 'ns-abcdefghijklmnop',
  Name: 'kudos.local',
  Type: 'DNS_PRIVATE' as const,
  Properties: { HttpProperties: { HttpName: 'kudos.local' } },
};
const OTHER = {
  Id: 'ns-qrstuvwxyzabcdef',
  Name: 'other.local',
  Type: 'HTTP' as const,
  Properties: { HttpProperties: { HttpName: 'other.local' } },
};

beforeEach(() => {
  sd.reset();
  sd.on(ListNamespacesCommand).resolves({ Namespaces: [KUDOS, OTHER] });
  sd.on(ListServicesCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => {
    const id = input.Filters?.[0]?.Values?.[0];
    return {
      Services: id === OTHER.Id ? [{ Name: 'billing', InstanceCount: 1 }] : [{ Name: 'api', InstanceCount: 2 }],
    };
  });
});

const handler = (lookupNamespaces: '*' | string[] = ['other.local']) =>
  lookupHandler(testConfig({ namespace: 'kudos.local', lookupNamespaces }));

describe('GET /console', () => {
  it('answers the page as HTML with a strict Content-Security-Policy and no inline script or style', async () => {
    const response = await handler()(v2Event('/console'));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
      etag: expect.stringMatching(/^"[0-9a-f]{16}"$/),
    });
    expect(CONSOLE_CSP).toContain("default-src 'none'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    const html = response.body;
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect([...html.matchAll(/<script\b[^>]*>/gi)].map(([tag]) => tag)).toEqual([
      expect.stringMatching(/^<script src="console\/console\.[0-9a-f]{16}\.js" defer>$/),
    ]);
    expect(html).toMatch(/<link rel="stylesheet" href="console\/console\.[0-9a-f]{16}\.css">/);
    // Relative URLs only: nothing from another origin, nothing from the root (a stage prefix must be kept).
    expect(html).not.toMatch(/(src|href)="(https?:|\/)/);
  });

  it('answers 304 to If-None-Match with the page ETag, and the same page through a REST API (v1) event', async () => {
    const first = await handler()(v2Event('/console'));
    const again = await handler()(v2Event('/console', '', { 'if-none-match': first.headers.etag as string }));
    const v1 = await handler()(v1Event('/console'));

    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(v1.statusCode).toBe(200);
    expect(v1.body).toBe(first.body);
  });

  it('takes refresh=1..60 (read by its script) and refuses any other parameter or value', async () => {
    const lookup = handler();

    expect((await lookup(v2Event('/console', 'refresh=1'))).statusCode).toBe(200);
    expect((await lookup(v2Event('/console', 'refresh=60'))).statusCode).toBe(200);
    for (const [query, error] of [
      ['refresh=0', 'invalid-parameter'],
      ['refresh=61', 'invalid-parameter'],
      ['refresh=1.5', 'invalid-parameter'],
      ['refresh=', 'invalid-parameter'],
      ['refresh=1&refresh=2', 'repeated-parameter'],
      ['theme=dark', 'unknown-parameter'],
    ]) {
      const response = await lookup(v2Event('/console', query));
      expect([query, response.statusCode, JSON.parse(response.body).error]).toEqual([query, 400, error]);
    }
  });

  it('makes no Cloud Map call to serve the page or its files', async () => {
    const lookup = handler();
    await lookup(v2Event('/console'));
    for (const name of consoleAssetNames()) await lookup(v2Event(`/console/${name}`));

    expect(sd.calls()).toHaveLength(0);
  });
});

describe('GET /console/FILE', () => {
  it('answers the script and the stylesheet by their hashed names, cacheable for a year, with ETags', async () => {
    const lookup = handler();
    const [script, style] = consoleAssetNames() as [string, string];

    const js = await lookup(v2Event(`/console/${script}`));
    const css = await lookup(v2Event(`/console/${style}`));

    expect(script).toMatch(/^console\.[0-9a-f]{16}\.js$/);
    expect(style).toMatch(/^console\.[0-9a-f]{16}\.css$/);
    expect(js.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      etag: expect.any(String),
    });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const notModified = await lookup(v2Event(`/console/${script}`, '', { 'if-none-match': js.headers.etag as string }));
    expect(notModified.statusCode).toBe(304);
  });

  it('serves a script that parses, and reads only relative JSON routes with If-None-Match', async () => {
    const [script] = consoleAssetNames() as [string];
    const js = (await handler()(v2Event(`/console/${script}`))).body;

    expect(() => new Script(js)).not.toThrow();
    expect(js).toContain("'if-none-match'");
    expect(js).toContain("getJson('namespaces')");
    expect(js).not.toMatch(/https?:\/\//);
    expect(js).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  it.each(['/console/console.0000000000000000.js', '/console/app.js/x', '/console/..%2Fservices', '/console/'])(
    'answers 404 route-not-found for %s',
    async (path) => {
      const response = await handler()(v2Event(path));

      expect(response.statusCode).toBe(404);
      expect(JSON.parse(response.body).error).toBe('route-not-found');
    },
  );

  it('refuses a query on an asset, and any method but GET', async () => {
    const [script] = consoleAssetNames() as [string];

    expect((await handler()(v2Event(`/console/${script}`, 'v=1'))).statusCode).toBe(400);
    expect((await handler()(v2Event('/console', '', {}, 'POST'))).statusCode).toBe(404);
  });
});

describe('GET /namespaces', () => {
  it('lists the served namespaces from the configuration, the default first, without a Cloud Map call', async () => {
    const response = await handler(['Kudos.local', 'other.local', 'ns-qrstuvwxyzabcdef'])(v2Event('/namespaces'));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'max-age=1',
      etag: expect.stringMatching(/^W\//),
    });
    expect(JSON.parse(response.body)).toEqual({
      namespaces: [
        { name: 'kudos.local', default: true },
        { name: 'other.local', default: false },
        { name: 'ns-qrstuvwxyzabcdef', default: false },
      ],
    });
    expect(sd.calls()).toHaveLength(0);
  });

  it('lists a namespace configured by ARN by its id, which the routes take', async () => {
    const arn = 'arn:aws:servicediscovery:us-east-1:111122223333:namespace/ns-qrstuvwxyzabcdef';
    const response = await handler([arn])(v2Event('/namespaces'));

    expect(JSON.parse(response.body).namespaces).toEqual([
      { name: 'kudos.local', default: true },
      { name: 'ns-qrstuvwxyzabcdef', default: false },
    ]);
  });

  it('lists only NAMESPACE with lookupNamespaces=*, answers 304 to its ETag and refuses a parameter', async () => {
    const lookup = handler('*');
    const first = await lookup(v2Event('/namespaces'));
    const again = await lookup(v2Event('/namespaces', '', { 'if-none-match': first.headers.etag as string }));
    const withQuery = await lookup(v2Event('/namespaces', 'all=1'));

    expect(JSON.parse(first.body)).toEqual({ namespaces: [{ name: 'kudos.local', default: true }] });
    expect(again.statusCode).toBe(304);
    expect(withQuery.statusCode).toBe(400);
    expect(JSON.parse(withQuery.body).error).toBe('unknown-parameter');
  });
});

describe('GET /namespaces/{namespace}/services', () => {
  it('lists the services of a served namespace other than the default, with ETag and 304', async () => {
    const lookup = handler();
    const response = await lookup(v2Event('/namespaces/other.local/services'));
    const again = await lookup(
      v2Event('/namespaces/other.local/services', '', { 'if-none-match': response.headers.etag as string }),
    );

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      namespace: 'other.local',
      services: [{ name: 'billing', instances: 1 }],
    });
    expect(again.statusCode).toBe(304);
  });

  it('answers the default namespace as /services does', async () => {
    const lookup = handler();
    const named = await lookup(v2Event('/namespaces/kudos.local/services'));
    const plain = await lookup(v2Event('/services'));

    expect(named.body).toBe(plain.body);
    expect(named.headers.etag).toBe(plain.headers.etag);
  });

  it('answers 404 for a namespace the lookup does not serve, without a Cloud Map call, and 400 for a bad name', async () => {
    const lookup = handler();
    const unserved = await lookup(v2Event('/namespaces/secret.local/services'));
    const bad = await lookup(v2Event('/namespaces/a..b/services'));
    const query = await lookup(v2Event('/namespaces/other.local/services', 'health=all'));

    expect([unserved.statusCode, JSON.parse(unserved.body).error]).toEqual([404, 'namespace-not-found']);
    expect(sd.calls()).toHaveLength(0);
    expect([bad.statusCode, JSON.parse(bad.body).error]).toEqual([400, 'invalid-name']);
    expect([query.statusCode, JSON.parse(query.body).error]).toEqual([400, 'unknown-parameter']);
  });
});
