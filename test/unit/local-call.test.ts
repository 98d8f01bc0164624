import { createSocket } from 'node:dgram';
import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CallDependencies,
  localCall,
  type NameResolver,
  parseCallOptions,
  pickRandom,
  readTaskAnswer,
  resolveTargets,
} from '../../local/call';
import { captureIo } from '../helpers/cli-io';

/** A resolver answering from tables; a name missing from both is NXDOMAIN, as c-ares reports it. */
function fakeResolver(a: Record<string, string[]>, srv: Record<string, { name: string; port: number }[]> = {}) {
  const asked: string[] = [];
  const nxdomain = (name: string) => Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  const nodata = (name: string) => Object.assign(new Error(`querySrv ENODATA ${name}`), { code: 'ENODATA' });
  const resolver: NameResolver = {
    resolve4: async (name) => {
      asked.push(`A ${name}`);
      const records = a[name];
      if (!records) throw nxdomain(name);
      return records.map((address) => ({ address, ttl: 10 }));
    },
    resolveSrv: async (name) => {
      asked.push(`SRV ${name}`);
      const records = srv[name];
      if (records) return records;
      throw a[name] ? nodata(name) : nxdomain(name);
    },
  };
  return { resolver, asked };
}

async function run(args: string[], deps: CallDependencies = {}, env: Record<string, string> = {}) {
  const { io, captured } = captureIo(env);
  const code = await localCall(args, io, deps);
  return { code, out: captured.out, err: captured.err };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('local:call usage', () => {
  it.each([
    [[]],
    [['not a url']],
    [['https://api.kudos.local/x']],
    [['http://api.kudos.local/', 'http://other.kudos.local/']],
    [['http://api.kudos.local/', '--count', '0']],
    [['http://api.kudos.local/', '--count']],
    [['http://api.kudos.local/', '--dns-port', '70000']],
    [['http://api.kudos.local/', '--bogus']],
  ])('answers %j with one line on stderr and exit 2, before any DNS query', async (args) => {
    const { resolver, asked } = fakeResolver({});
    const { code, out, err } = await run(args, { resolver: () => resolver });
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^local:call: [^\n]+\n$/);
    expect(asked).toEqual([]);
  });

  it('takes the DNS port from --dns-port, else LOCAL_DNS_PORT, else 8053', () => {
    const url = 'http://api.kudos.local:8080/';
    expect(parseCallOptions([url], {}).dnsPort).toBe(8053);
    expect(parseCallOptions([url], { LOCAL_DNS_PORT: '5353' }).dnsPort).toBe(5353);
    expect(parseCallOptions([url, '--dns-port', '1053'], { LOCAL_DNS_PORT: '5353' }).dnsPort).toBe(1053);
  });

  it('prints its usage for --help and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^usage: npm run local:call -- URL/);
  });
});

describe('local:call resolution', () => {
  it('asks for A records when the URL has a port, and calls that port', async () => {
    const { resolver, asked } = fakeResolver({ 'api.kudos.local': ['127.10.0.5', '127.10.0.6'] });
    const targets = await resolveTargets(new URL('http://api.kudos.local:8080/x'), resolver, 8053);
    expect(targets).toEqual([
      { address: '127.10.0.5', port: 8080, ttl: 10 },
      { address: '127.10.0.6', port: 8080, ttl: 10 },
    ]);
    expect(asked).toEqual(['A api.kudos.local']);
  });

  it('asks for SRV records when the URL has no port, then the A records of each SRV target', async () => {
    const { resolver, asked } = fakeResolver(
      { 'web.kudos.local': [], 'i-1.web.kudos.local': ['127.20.0.1'] },
      { 'web.kudos.local': [{ name: 'i-1.web.kudos.local', port: 32768 }] },
    );
    const targets = await resolveTargets(new URL('http://web.kudos.local/x'), resolver, 8053);
    expect(targets).toEqual([{ address: '127.20.0.1', port: 32768, ttl: 10 }]);
    expect(asked).toEqual(['SRV web.kudos.local', 'A i-1.web.kudos.local']);
  });

  it('falls back to A records on port 80 when a name without a port has no SRV records', async () => {
    const { resolver } = fakeResolver({ 'api.kudos.local': ['127.10.0.5'] });
    const targets = await resolveTargets(new URL('http://api.kudos.local/x'), resolver, 8053);
    expect(targets).toEqual([{ address: '127.10.0.5', port: 80, ttl: 10 }]);
  });

  it('picks each record with equal chance', () => {
    const items = ['a', 'b', 'c', 'd'];
    expect([0, 0.25, 0.5, 0.99].map((r) => pickRandom(items, () => r))).toEqual(items);
    expect(pickRandom([], () => 0)).toBeUndefined();
  });
});

describe('local:call failures', () => {
  afterEach(() => jest.restoreAllMocks());

  it('refuses an address outside 127.0.0.0/8 with one line and exit 2, without opening a connection', async () => {
    const requests = jest.spyOn(http, 'request');
    const { resolver } = fakeResolver({ 'api.kudos.local': ['10.0.0.5'] });
    const { code, out, err } = await run(['http://api.kudos.local:8080/x'], { resolver: () => resolver });
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(
      'local:call: refusing to call 10.0.0.5: only 127.0.0.0/8 (loopback) may be called from this machine\n',
    );
    expect(requests).not.toHaveBeenCalled();
  });

  it('names the name and the DNS port of an NXDOMAIN, exit 1', async () => {
    const { resolver } = fakeResolver({});
    const { code, err } = await run(['http://nope.kudos.local:8080/x', '--dns-port', '5300'], {
      resolver: () => resolver,
    });
    expect(code).toBe(1);
    expect(err).toBe('local:call: nope.kudos.local: no such name (NXDOMAIN) in the local DNS on 127.0.0.1:5300\n');
  });

  it('says in one line that no DNS server answers on the port (a real resolver, a closed UDP port), exit 1', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = socket.address().port;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const { code, err } = await run([
      'http://api.kudos.local:8080/x',
      '--dns-port',
      String(port),
      '--timeout-ms',
      '500',
    ]);
    expect(code).toBe(1);
    expect(err).toMatch(
      new RegExp(`^local:call: no answer from the local DNS on 127\\.0\\.0\\.1:${port} \\(E[A-Z]+\\)`),
    );
    expect(err.split('\n')).toHaveLength(2);
  });

  it('reports a refused connection in one line, exit 1', async () => {
    // The same spy as above sees this call: so its silence there means no connection was tried.
    const requests = jest.spyOn(http, 'request');
    const server = createServer();
    const port = await listen(server);
    await closeServer(server);
    const { resolver } = fakeResolver({ 'api.kudos.local': ['127.0.0.1'] });
    const { code, err } = await run([`http://api.kudos.local:${port}/x`], { resolver: () => resolver });
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`^connection refused at 127\\.0\\.0\\.1:${port} after [0-9.]+ ms\\n$`));
    expect(requests).toHaveBeenCalledTimes(1);
  });

  it('gives up after --timeout-ms on a task that does not answer, exit 1', async () => {
    const server = createServer(() => undefined);
    const port = await listen(server);
    try {
      const { resolver } = fakeResolver({ 'api.kudos.local': ['127.0.0.1'] });
      const { code, err } = await run([`http://api.kudos.local:${port}/x`, '--timeout-ms', '100'], {
        resolver: () => resolver,
      });
      expect(code).toBe(1);
      expect(err).toMatch(/^timed out at 127\.0\.0\.1:\d+ after [0-9.]+ ms\n$/);
    } finally {
      await closeServer(server);
    }
  });
});

describe('local:call answers', () => {
  let server: Server;
  let port: number;
  const hosts: string[] = [];

  beforeAll(async () => {
    let n = 0;
    server = createServer((request, response) => {
      hosts.push(request.headers.host ?? '');
      n += 1;
      const taskId = n % 2 === 0 ? 'aaaa1111' : 'bbbb2222';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          taskArn: `arn:aws:ecs:us-east-1:000000000000:task/kudos/${taskId}`,
          taskId,
          cluster: 'kudos',
          service: 'api',
          taskDefinition: 'api:3',
          container: 'app',
          address: '127.0.0.1',
          port,
          path: request.url,
          draining: false,
        }),
      );
    });
    port = await listen(server);
  });
  afterAll(() => closeServer(server));

  it('calls the picked address with the original Host header and prints the task that answered', async () => {
    const { resolver } = fakeResolver({ 'api.kudos.local': ['127.0.0.1'] });
    hosts.length = 0;
    const { code, out, err } = await run([`http://api.kudos.local:${port}/some-request`], {
      resolver: () => resolver,
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(
      new RegExp(
        `^200 from task bbbb2222 \\(service api, task definition api:3\\) at 127\\.0\\.0\\.1:${port}, [0-9.]+ ms\\n$`,
      ),
    );
    expect(hosts).toEqual([`api.kudos.local:${port}`]);
  });

  it('with --count, resolves for each call and sums up which tasks answered', async () => {
    const { resolver, asked } = fakeResolver({ 'api.kudos.local': ['127.0.0.1'] });
    const { code, out } = await run([`http://api.kudos.local:${port}/x`, '--count', '4'], {
      resolver: () => resolver,
    });
    expect(code).toBe(0);
    expect(asked).toHaveLength(4);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatch(
      /^4 calls, 4 answered below 500, by 2 task\(s\): (aaaa1111 2, bbbb2222 2|bbbb2222 2, aaaa1111 2)$/,
    );
  });

  it('reads the task app fields and ignores other bodies', () => {
    expect(readTaskAnswer('{"taskArn":"arn:aws:ecs:r:1:task/c/abc","service":null,"draining":true}')).toEqual({
      taskArn: 'arn:aws:ecs:r:1:task/c/abc',
      taskId: 'abc',
      draining: true,
    });
    expect(readTaskAnswer('<html>')).toBeUndefined();
    expect(readTaskAnswer('[]')).toBeUndefined();
  });
});
