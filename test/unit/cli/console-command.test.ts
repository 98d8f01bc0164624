import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { mockClient } from 'aws-sdk-client-mock';
import { consoleCommand, consoleOptions, StackApiNotFoundError, stackApiUrl } from '../../../cli/console-command';
import { CONSOLE_CSP } from '../../../lib/lookup/console/assets';
import { captureIo, runCli } from '../../helpers/cli-io';

/**
 * `registrar console`: the console proxy. Every request goes to a fake lookup API on 127.0.0.1 that records what
 * reaches it; nothing leaves loopback (the signer needs no network, the credentials come from the environment).
 * SigV4 for API Gateway: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
 * (service `execute-api`) and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html (the
 * Authorization header, x-amz-date, the credential scope DATE/REGION/SERVICE/aws4_request).
 */

const CREDENTIALS = { accessKeyId: 'AKIDCONSOLETEST', secretAccessKey: 'console-test-secret' };

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

let api: Server;
let apiUrl = '';
const seen: Seen[] = [];

beforeAll(async () => {
  api = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const path = (req.url ?? '').split('?')[0];
    if (path === '/prod/namespaces' || path === '/namespaces') {
      const etag = 'W/"ns-1"';
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag, 'cache-control': 'max-age=1' });
        res.end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        etag,
        'cache-control': 'max-age=1',
        'x-other': 'kept out',
      });
      res.end('{"namespaces":[{"name":"kudos.local","default":true}]}');
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end('{"error":"service-not-found","message":"no"}');
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/prod`;
});

afterAll(async () => {
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

/** Starts `registrar console` in-process with credentials from the environment; stops it after `use`. */
async function withConsole(args: string[], use: (base: string) => Promise<void>): Promise<number> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  const { io, captured } = captureIo({});
  const stop = new AbortController();
  const running = consoleCommand(args, io, { signal: stop.signal });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const check = setInterval(() => {
        const found = /^(http:\/\/127\.0\.0\.1:\d+)\/console /.exec(captured.out);
        if (found?.[1]) {
          clearInterval(check);
          resolve(found[1]);
        }
        if (captured.err) {
          clearInterval(check);
          reject(new Error(captured.err));
        }
      }, 10);
    });
    await use(base);
  } finally {
    stop.abort();
    process.env = saved;
  }
  return running;
}

/** A raw GET (or other method) to the proxy, with the headers given. */
function call(base: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Recomputes the signature of a request the fake API received, with the same signer and its x-amz-date. */
async function expectedAuthorization(received: Seen): Promise<string> {
  const url = new URL(received.url, 'http://placeholder');
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const held = query[name];
    query[name] = held === undefined ? value : [...(Array.isArray(held) ? held : [held]), value];
  }
  const signedNames = /SignedHeaders=([^,]+)/.exec(String(received.headers.authorization))?.[1]?.split(';') ?? [];
  const headers = Object.fromEntries(signedNames.map((name) => [name, String(received.headers[name])]));
  const date = String(received.headers['x-amz-date']);
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    service: 'execute-api',
    region: 'eu-west-1',
    credentials: CREDENTIALS,
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: url.pathname, query, headers },
    { signingDate },
  );
  return String(signed.headers.authorization);
}

describe('registrar console', () => {
  it('serves the console page itself, with its CSP, without calling the API', async () => {
    const code = await withConsole(['--url', apiUrl, '--region', 'eu-west-1'], async (base) => {
      const page = await call(base, '/console?refresh=5');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
      const script = /src="(console\/[^"]+)"/.exec(page.body)?.[1];
      const js = await call(base, `/${script}`);
      expect([js.status, js.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
      const again = await call(base, `/${script}`, { headers: { 'if-none-match': String(js.headers.etag) } });
      expect(again.status).toBe(304);
      expect((await call(base, '/console?refresh=0')).status).toBe(400);
    });

    expect(code).toBe(0);
    expect(seen).toEqual([]);
  });

  it('forwards a GET with its path and query under the URL, signed with SigV4 for execute-api', async () => {
    await withConsole(['--url', apiUrl, '--region', 'eu-west-1'], async (base) => {
      await call(base, '/namespaces/kudos.local/services/api?health=all&attr.team=a%20b&attr.x=(1)');
    });

    expect(seen).toHaveLength(1);
    const [received] = seen as [Seen];
    expect(received.url).toBe('/prod/namespaces/kudos.local/services/api?health=all&attr.team=a%20b&attr.x=%281%29');
    expect(received.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDCONSOLETEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(received.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    await expect(expectedAuthorization(received)).resolves.toBe(received.headers.authorization);
  });

  it('passes back status, body, ETag and caching, 304 for If-None-Match, and error answers unchanged', async () => {
    await withConsole(['--url', apiUrl, '--region', 'eu-west-1'], async (base) => {
      const first = await call(base, '/namespaces');
      expect(first).toMatchObject({
        status: 200,
        body: '{"namespaces":[{"name":"kudos.local","default":true}]}',
        headers: { etag: 'W/"ns-1"', 'cache-control': 'max-age=1', 'content-type': 'application/json' },
      });
      expect(first.headers).not.toHaveProperty('x-other');

      const unchanged = await call(base, '/namespaces', { headers: { 'if-none-match': 'W/"ns-1"' } });
      expect([unchanged.status, unchanged.body, unchanged.headers.etag]).toEqual([304, '', 'W/"ns-1"']);

      const missing = await call(base, '/services/nope');
      expect([missing.status, JSON.parse(missing.body).error]).toEqual([404, 'service-not-found']);
    });

    expect(seen.map((s) => s.headers['if-none-match'])).toEqual([undefined, 'W/"ns-1"', undefined]);
  });

  it('refuses any method but GET, and a Host other than 127.0.0.1 or localhost, without calling the API', async () => {
    await withConsole(['--url', apiUrl, '--region', 'eu-west-1'], async (base) => {
      const post = await call(base, '/namespaces', { method: 'POST' });
      expect([post.status, post.headers.allow, JSON.parse(post.body).error]).toEqual([
        405,
        'GET',
        'method-not-allowed',
      ]);
      const del = await call(base, '/namespaces', { method: 'DELETE' });
      expect(del.status).toBe(405);
      const rebound = await call(base, '/namespaces', { headers: { host: 'evil.example:80' } });
      expect([rebound.status, JSON.parse(rebound.body).error]).toEqual([403, 'forbidden-host']);
    });

    expect(seen).toEqual([]);
  });

  it('answers 502 when the API cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    await withConsole(['--url', `http://127.0.0.1:${port}`, '--region', 'eu-west-1'], async (base) => {
      const answer = await call(base, '/namespaces');
      expect([answer.status, JSON.parse(answer.body).error]).toEqual([502, 'upstream-unreachable']);
    });
  });
});

describe('registrar console failures', () => {
  it('exits 1 with one line when there are no AWS credentials, before listening', async () => {
    const { io, captured } = captureIo({});
    const noCredentials = () => Promise.reject(new Error('Could not load credentials from any providers'));

    const code = await consoleCommand(['--url', apiUrl, '--region', 'eu-west-1'], io, { credentials: noCredentials });

    expect(code).toBe(1);
    expect(captured.out).toBe('');
    expect(captured.err).toBe('registrar console: no AWS credentials: Could not load credentials from any providers\n');
  });

  it('exits 1 with one line when the port is taken', async () => {
    const port = (api.address() as AddressInfo).port;
    const { io, captured } = captureIo({});

    const code = await consoleCommand(['--url', apiUrl, '--region', 'eu-west-1', '--port', String(port)], io, {
      credentials: async () => CREDENTIALS,
    });

    expect(code).toBe(1);
    expect(captured.err).toMatch(
      new RegExp(`^registrar console: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*\n$`),
    );
  });
});

describe('registrar console options', () => {
  it('takes the region from an execute-api host name, else --region, else AWS_REGION', () => {
    expect(consoleOptions({ url: 'https://a1b2c3.execute-api.eu-central-1.amazonaws.com/' }, {})).toMatchObject({
      region: 'eu-central-1',
      port: 0,
    });
    expect(
      consoleOptions({ url: 'https://vpce-0a1b-c2d3.execute-api.ap-northeast-1.vpce.amazonaws.com/prod' }, {}),
    ).toMatchObject({ region: 'ap-northeast-1' });
    expect(consoleOptions({ url: 'https://lookup.example.com', region: 'us-west-2', port: '8001' }, {})).toMatchObject({
      region: 'us-west-2',
      port: 8001,
    });
    expect(consoleOptions({ url: 'https://lookup.example.com/prod/' }, { AWS_REGION: 'ap-south-1' })).toMatchObject({
      region: 'ap-south-1',
    });
    const byUrl = consoleOptions({ url: 'https://lookup.example.com/prod/', region: 'us-east-1' }, {});
    expect('url' in byUrl && byUrl.url.pathname).toBe('/prod');
  });

  it.each([
    [['console']],
    [['console', '--url']],
    [['console', '--url', 'not a url', '--region', 'us-east-1']],
    [['console', '--url', 'http://lookup.example.com', '--region', 'us-east-1']],
    [['console', '--url', 'ftp://127.0.0.1/', '--region', 'us-east-1']],
    [['console', '--url', 'https://lookup.example.com/?a=1', '--region', 'us-east-1']],
    [['console', '--url', 'https://lookup.example.com']],
    [['console', '--url', 'https://lookup.example.com', '--region', 'Mars']],
    [['console', '--url', 'http://127.0.0.1:1', '--region', 'us-east-1', '--port', '70000']],
    [['console', '--url', 'http://127.0.0.1:1', '--region', 'us-east-1', '--port', 'x']],
    [['console', '--url', 'http://127.0.0.1:1', '--region', 'us-east-1', '--bogus']],
    [['console', 'extra', '--url', 'http://127.0.0.1:1', '--region', 'us-east-1']],
  ])('answers %j with one line on stderr and exit 2', async (args) => {
    const { code, out, err } = await runCli(args, {});
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^registrar console: [^\n]*\n$/);
  });

  it('prints its help with exit 0', async () => {
    const { code, out } = await runCli(['console', '--help'], {});
    expect(code).toBe(0);
    expect(out).toMatch(/^registrar console --stage STAGE \| --url URL/);
  });
});

describe('registrar console --stage', () => {
  // DescribeStacks answers with the stack's Outputs; a missing stack is a ValidationError "Stack with id X does not
  // exist" (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html). osls names
  // the HTTP API's URL output HttpApiUrl and the REST API's ServiceEndpoint.
  const cfn = mockClient(CloudFormationClient);
  const missing = Object.assign(new Error('Stack with id ecs-cloudmap-registrar-nope does not exist'), {
    name: 'ValidationError',
    $metadata: {},
  });

  beforeEach(() => cfn.reset());
  afterAll(() => cfn.restore());

  it("reads the lookup API's URL from the stack of the stage: HttpApiUrl, else ServiceEndpoint", async () => {
    const client = new CloudFormationClient({ region: 'eu-west-1' });
    cfn.on(DescribeStacksCommand, { StackName: 'ecs-cloudmap-registrar-prod' }).resolves({
      Stacks: [
        {
          StackName: 'ecs-cloudmap-registrar-prod',
          CreationTime: new Date(0),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [
            { OutputKey: 'ServiceEndpoint', OutputValue: 'https://rest.execute-api.eu-west-1.amazonaws.com/prod' },
            { OutputKey: 'HttpApiUrl', OutputValue: 'https://http.execute-api.eu-west-1.amazonaws.com/' },
          ],
        },
      ],
    });
    cfn.on(DescribeStacksCommand, { StackName: 'ecs-cloudmap-registrar-private' }).resolves({
      Stacks: [
        {
          StackName: 'ecs-cloudmap-registrar-private',
          CreationTime: new Date(0),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'ServiceEndpoint', OutputValue: 'https://rest.execute-api.eu-west-1.amazonaws.com/private' },
          ],
        },
      ],
    });
    cfn.on(DescribeStacksCommand, { StackName: 'ecs-cloudmap-registrar-nope' }).rejects(missing);

    expect((await stackApiUrl(client, 'prod')).href).toBe('https://http.execute-api.eu-west-1.amazonaws.com/');
    expect((await stackApiUrl(client, 'private')).href).toBe(
      'https://rest.execute-api.eu-west-1.amazonaws.com/private',
    );
    const failure = stackApiUrl(client, 'nope');
    await expect(failure).rejects.toBeInstanceOf(StackApiNotFoundError);
    await expect(failure).rejects.toThrow(
      'no stack ecs-cloudmap-registrar-nope (deployed with npx osls deploy --stage nope?)',
    );
  });

  it('forwards to the API the stack names, signed for the region given', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'ecs-cloudmap-registrar-prod',
          CreationTime: new Date(0),
          StackStatus: 'CREATE_COMPLETE',
          // A loopback URL in place of the deployed API: nothing leaves the machine.
          Outputs: [{ OutputKey: 'ServiceEndpoint', OutputValue: apiUrl }],
        },
      ],
    });

    const code = await withConsole(['--stage', 'prod', '--region', 'eu-west-1'], async (base) => {
      const answer = await call(base, '/namespaces');
      expect(answer.status).toBe(200);
    });

    expect(code).toBe(0);
    expect(cfn.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: 'ecs-cloudmap-registrar-prod',
    });
    expect(seen[0]?.url).toBe('/prod/namespaces');
    expect(String(seen[0]?.headers.authorization)).toMatch(
      /Credential=AKIDCONSOLETEST\/\d{8}\/eu-west-1\/execute-api\//,
    );
  });

  it('exits 1 with one line when the stage has no stack', async () => {
    cfn.on(DescribeStacksCommand).rejects(missing);
    const { io, captured } = captureIo({});
    const code = await consoleCommand(['--stage', 'nope', '--region', 'us-east-1'], io, {
      credentials: async () => CREDENTIALS,
    });
    expect(code).toBe(1);
    expect(captured.err).toBe(
      'registrar console: no stack ecs-cloudmap-registrar-nope (deployed with npx osls deploy --stage nope?)\n',
    );
  });

  it.each([
    [['console', '--stage', 'prod', '--url', 'https://lookup.example.com', '--region', 'us-east-1']],
    [['console', '--stage', 'a b', '--region', 'us-east-1']],
    [['console', '--stage', 'prod']],
  ])('answers %j with one line on stderr and exit 2', async (args) => {
    const { code, out, err } = await runCli(args, {});
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^registrar console: [^\n]*\n$/);
  });
});

describe('registrar console against an API without a path prefix', () => {
  it('forwards /namespaces as /namespaces (an HTTP API URL has no stage in its path)', async () => {
    const root = apiUrl.replace(/\/prod$/, '');
    const code = await withConsole(['--url', root, '--region', 'eu-west-1'], async (base) => {
      expect((await call(base, '/namespaces')).status).toBe(200);
    });
    expect(code).toBe(0);
    expect(seen.map((request) => request.url)).toEqual(['/namespaces']);
  });
});
