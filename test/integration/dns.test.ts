import { execFile, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import {
  CreatePrivateDnsNamespaceCommand,
  CreatePublicDnsNamespaceCommand,
  CreateServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
  type ServiceDiscoveryClient,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery';
import { createServiceDiscoveryClient } from '../../lib/aws-clients';
import { createEmulator, type Emulator, PortInUseError } from '../../local/emulator';
import { startLocalAws } from '../../local/stack';

/*
 * The local DNS server answers for private DNS namespaces as Route 53 answers for the private hosted zone Cloud
 * Map creates; queried here with real clients (Node's c-ares resolver and dig), over UDP and TCP.
 * Behaviour followed (details and more links in test/unit/emulator/dns-answers.test.ts):
 * - records per DnsConfig, SRV "1 1 port instance-id.service.namespace":
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html
 * - multivalue answers (up to eight healthy; unhealthy ones when none is healthy):
 *   https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-multivalue.html
 * - custom health (UpdateInstanceCustomHealthStatus): https://docs.aws.amazon.com/cloud-map/latest/api/API_HealthCheckCustomConfig.html
 * - SOA/NS of a private hosted zone: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/create-service-discovery.html
 * - public namespaces are resolved by public Route 53, not here:
 *   https://docs.aws.amazon.com/cloud-map/latest/dg/creating-namespaces.html
 */

const run = promisify(execFile);
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const NAMESPACE = 'kudos.test';

let emulator: Emulator;
let cloudMap: ServiceDiscoveryClient;
let apiId: string;
let webId: string;

/** A resolver per lookup, pointed at the emulator's DNS port only (no cache carried between queries). */
function resolver(): Resolver {
  const out = new Resolver({ timeout: 2000, tries: 1 });
  out.setServers([`127.0.0.1:${emulator.dnsPort}`]);
  return out;
}

interface Dig {
  status: string;
  flags: string[];
  answers: string[][];
  stdout: string;
}

/** dig against the emulator; the answer section as [name, ttl, class, type, ...data] rows. */
async function dig(args: string[]): Promise<Dig> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(emulator.dnsPort), '+tries=1', '+time=2', ...args]);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? '';
  const flags = (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/);
  const section = stdout.split(';; ANSWER SECTION:\n')[1]?.split('\n\n')[0] ?? '';
  const answers = section
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/\s+/));
  return { status, flags, answers, stdout };
}

async function operationDone(operationId: string | undefined): Promise<Record<string, string>> {
  await emulator.idle();
  const out = await cloudMap.send(new GetOperationCommand({ OperationId: operationId }));
  expect(out.Operation?.Status).toBe('SUCCESS');
  return out.Operation?.Targets ?? {};
}

async function register(serviceId: string, instanceId: string, attributes: Record<string, string>): Promise<void> {
  const out = await cloudMap.send(
    new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId, Attributes: attributes }),
  );
  await operationDone(out.OperationId);
}

async function deregister(serviceId: string, instanceId: string): Promise<void> {
  const out = await cloudMap.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId }));
  await operationDone(out.OperationId);
}

beforeAll(async () => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
  } catch {
    throw new Error('dig is not installed: install the dnsutils package (apt-get install dnsutils)');
  }
  emulator = await createEmulator({ port: 0, dnsPort: 0, timeScale: 0.001 });
  cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
  const ns = await cloudMap.send(
    new CreatePrivateDnsNamespaceCommand({
      Name: NAMESPACE,
      Vpc: 'vpc-local',
      Properties: { DnsProperties: { SOA: { TTL: 30 } } },
    }),
  );
  const namespaceId = (await operationDone(ns.OperationId)).NAMESPACE;
  const api = await cloudMap.send(
    new CreateServiceCommand({
      Name: 'api',
      NamespaceId: namespaceId,
      DnsConfig: {
        RoutingPolicy: 'MULTIVALUE',
        DnsRecords: [
          { Type: 'A', TTL: 10 },
          { Type: 'AAAA', TTL: 20 },
        ],
      },
      HealthCheckCustomConfig: { FailureThreshold: 1 },
    }),
  );
  apiId = api.Service?.Id ?? '';
  const web = await cloudMap.send(
    new CreateServiceCommand({
      Name: '_web._tcp',
      NamespaceId: namespaceId,
      DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'SRV', TTL: 5 }] },
    }),
  );
  webId = web.Service?.Id ?? '';
  await register(apiId, 'task-1', { AWS_INSTANCE_IPV4: '127.10.0.1', AWS_INSTANCE_IPV6: '::1' });
  await register(apiId, 'task-2', { AWS_INSTANCE_IPV4: '127.10.0.2' });
  await register(webId, 'web-1', { AWS_INSTANCE_IPV4: '127.10.1.1', AWS_INSTANCE_PORT: '8080' });
});

afterAll(async () => {
  cloudMap?.destroy();
  await emulator?.close();
});

describe('Node dns.Resolver against the emulator DNS port', () => {
  it('resolves A records of every healthy instance, with the DnsRecord TTL', async () => {
    const records = await resolver().resolve4(`api.${NAMESPACE}`, { ttl: true });

    expect(records.map((r) => r.address).sort()).toEqual(['127.10.0.1', '127.10.0.2']);
    expect(records.every((r) => r.ttl === 10)).toBe(true);
  });

  it('resolves AAAA from AWS_INSTANCE_IPV6', async () => {
    await expect(resolver().resolve6(`api.${NAMESPACE}`)).resolves.toEqual(['::1']);
  });

  it('resolves SRV as priority 1, weight 1, the port and instance-id.service.namespace, and A at that target', async () => {
    await expect(resolver().resolveSrv(`_web._tcp.${NAMESPACE}`)).resolves.toEqual([
      { name: `web-1._web._tcp.${NAMESPACE}`, port: 8080, priority: 1, weight: 1 },
    ]);
    await expect(resolver().resolve4(`web-1._web._tcp.${NAMESPACE}`)).resolves.toEqual(['127.10.1.1']);
  });

  it('resolves the SOA and NS of the private hosted zone', async () => {
    await expect(resolver().resolveSoa(NAMESPACE)).resolves.toEqual({
      nsname: 'ns-1536.awsdns-00.co.uk',
      hostmaster: 'awsdns-hostmaster.amazon.com',
      serial: 1,
      refresh: 7200,
      retry: 900,
      expire: 1209600,
      minttl: 86400,
    });
    await expect(resolver().resolveNs(NAMESPACE)).resolves.toEqual([
      'ns-1536.awsdns-00.co.uk',
      'ns-0.awsdns-00.com',
      'ns-1024.awsdns-00.org',
      'ns-512.awsdns-00.net',
    ]);
  });

  it('fails with ENOTFOUND (NXDOMAIN) for an unknown name and ENODATA for a missing type', async () => {
    await expect(resolver().resolve4(`nope.${NAMESPACE}`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver().resolveTxt(`api.${NAMESPACE}`)).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('is refused (EREFUSED) a name outside every private namespace, a public one included', async () => {
    const pub = await cloudMap.send(new CreatePublicDnsNamespaceCommand({ Name: 'kudos.example.com' }));
    await operationDone(pub.OperationId);

    await expect(resolver().resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
    await expect(resolver().resolve4('api.kudos.example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });
});

describe('dig against the emulator DNS port', () => {
  it.each([['+notcp'], ['+tcp']])('answers A authoritatively over %s, names in any case', async (transport) => {
    const out = await dig([transport, `API.Kudos.TEST`, 'A']);

    expect(out.status).toBe('NOERROR');
    expect(out.flags).toEqual(expect.arrayContaining(['qr', 'aa']));
    expect(out.answers.map((row) => [row[1], row[3], row[4]]).sort()).toEqual([
      ['10', 'A', '127.10.0.1'],
      ['10', 'A', '127.10.0.2'],
    ]);
  });

  it('answers SRV with the target addresses in the additional section', async () => {
    const out = await dig(['+tcp', `_web._tcp.${NAMESPACE}`, 'SRV']);

    expect(out.answers).toEqual([
      [`_web._tcp.${NAMESPACE}.`, '5', 'IN', 'SRV', '1', '1', '8080', `web-1._web._tcp.${NAMESPACE}.`],
    ]);
    expect(out.stdout).toMatch(/;; ADDITIONAL SECTION:\nweb-1\._web\._tcp\.kudos\.test\.\s+5\s+IN\s+A\s+127\.10\.1\.1/);
  });

  it('answers NXDOMAIN with the SOA (TTL = the namespace SOA TTL) in the authority section', async () => {
    const out = await dig(['+notcp', `nope.${NAMESPACE}`, 'A']);

    expect(out.status).toBe('NXDOMAIN');
    expect(out.flags).toContain('aa');
    expect(out.stdout).toMatch(
      /;; AUTHORITY SECTION:\nkudos\.test\.\s+30\s+IN\s+SOA\s+ns-1536\.awsdns-00\.co\.uk\. awsdns-hostmaster\.amazon\.com\. 1 7200 900 1209600 86400/,
    );
  });

  it('sets TC on a UDP answer over 512 bytes without EDNS, and dig gets it all over TCP', async () => {
    for (let i = 0; i < 8; i++) {
      await register(webId, `bulk-${i}-${'x'.repeat(50)}`, {
        AWS_INSTANCE_IPV4: `127.10.2.${i + 1}`,
        AWS_INSTANCE_PORT: '8080',
      });
    }
    try {
      const out = await dig(['+notcp', '+noedns', `_web._tcp.${NAMESPACE}`, 'SRV']);

      expect(out.stdout).toContain('Truncated, retrying in TCP mode');
      expect(out.status).toBe('NOERROR');
      expect(out.answers).toHaveLength(8);
    } finally {
      for (let i = 0; i < 8; i++) await deregister(webId, `bulk-${i}-${'x'.repeat(50)}`);
    }
  });
});

describe('answers follow the live Cloud Map model', () => {
  it('shows a health change and deregistrations on the next query', async () => {
    await cloudMap.send(
      new UpdateInstanceCustomHealthStatusCommand({ ServiceId: apiId, InstanceId: 'task-2', Status: 'UNHEALTHY' }),
    );
    await expect(resolver().resolve4(`api.${NAMESPACE}`)).resolves.toEqual(['127.10.0.1']);

    await deregister(apiId, 'task-1');
    // Only an unhealthy instance is left: Route 53 answers with unhealthy records rather than none.
    expect((await dig(['+notcp', `api.${NAMESPACE}`, 'A'])).answers.map((row) => row[4])).toEqual(['127.10.0.2']);

    await deregister(apiId, 'task-2');
    await expect(resolver().resolve4(`api.${NAMESPACE}`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('the DNS port', () => {
  it('fails createEmulator with PortInUseError when the UDP port is taken', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    try {
      const port = socket.address().port;
      await expect(createEmulator({ port: 0, dnsPort: port })).rejects.toThrow(PortInUseError);
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });

  it('fails createEmulator with PortInUseError when the TCP port is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as { port: number }).port;
      await expect(createEmulator({ port: 0, dnsPort: port })).rejects.toThrow(
        `port ${port} (DNS, UDP and TCP) on 127.0.0.1 is already in use`,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is released by close(), and absent without dnsPort', async () => {
    const other = await createEmulator({ port: 0, dnsPort: 0 });
    const port = other.dnsPort;
    await other.close();
    const socket = createSocket('udp4');
    await expect(
      new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, '127.0.0.1', () => resolve());
      }),
    ).resolves.toBeUndefined();
    await new Promise<void>((resolve) => socket.close(() => resolve()));

    const none = await createEmulator({ port: 0 });
    expect(none.dnsPort).toBeUndefined();
    await none.close();
  });

  it('is passed through by startLocalAws, which answers for its namespace', async () => {
    const aws = await startLocalAws({
      port: 0,
      dnsPort: 0,
      timeScale: 0.001,
      namespace: 'kudos.local',
      taskTable: 'tasks',
    });
    try {
      const local = new Resolver({ timeout: 2000, tries: 1 });
      local.setServers([`127.0.0.1:${aws.emulator.dnsPort}`]);
      await expect(local.resolveSoa('kudos.local')).resolves.toMatchObject({ nsname: 'ns-1536.awsdns-00.co.uk' });
    } finally {
      await aws.stop();
    }
  });
});
