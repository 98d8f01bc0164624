import {
  CreateServiceCommand,
  DeregisterInstanceCommand,
  DuplicateRequest,
  GetInstanceCommand,
  GetNamespaceCommand,
  GetOperationCommand,
  InstanceNotFound,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  NamespaceNotFound,
  RegisterInstanceCommand,
  ServiceAlreadyExists,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudMapRegistry, dnsRecordsFor } from '../../../lib/cloud-map/cloud-map-registry';
import { NamespaceNotFoundError, OperationFailedError, OperationTimeoutError } from '../../../lib/errors';
import type { NamespaceInfo } from '../../../lib/ports';

const cloudMap = mockClient(ServiceDiscoveryClient);
const dnsNamespace: NamespaceInfo = {
  id: 'ns-abcdefghijklmnop',
  name: 'kudos.local',
  type: 'DNS_PRIVATE',
  httpName: 'kudos.local',
};
const httpNamespace: NamespaceInfo = { ...dnsNamespace, type: 'HTTP' };
const service = { id: 'srv-1', name: 'api', namespaceId: dnsNamespace.id };

function registry(timeoutMs = 5000) {
  let clock = 0;
  return new CloudMapRegistry(new ServiceDiscoveryClient({ region: 'us-east-1' }), {
    ownerId: 'ecs-cloudmap-registrar',
    operationTimeoutMs: timeoutMs,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  });
}

beforeEach(() => cloudMap.reset());

describe('CloudMapRegistry.resolveNamespace', () => {
  it('gets a namespace by id', async () => {
    cloudMap.on(GetNamespaceCommand).resolves({
      Namespace: {
        Id: 'ns-abcdefghijklmnop',
        Name: 'kudos.local',
        Type: 'DNS_PRIVATE',
        Properties: { HttpProperties: { HttpName: 'kudos.local' } },
      },
    });
    await expect(registry().resolveNamespace('ns-abcdefghijklmnop')).resolves.toEqual(dnsNamespace);
  });

  it('finds a namespace by name and caches it', async () => {
    cloudMap
      .on(ListNamespacesCommand)
      .resolves({ Namespaces: [{ Id: 'ns-abcdefghijklmnop', Name: 'kudos.local', Type: 'HTTP' }] });
    const r = registry();
    await r.resolveNamespace('kudos.local');
    await expect(r.resolveNamespace('KUDOS.local')).resolves.toMatchObject({
      id: 'ns-abcdefghijklmnop',
      type: 'HTTP',
      httpName: 'kudos.local',
    });
    expect(cloudMap.commandCalls(ListNamespacesCommand)).toHaveLength(1);
  });

  it('throws NamespaceNotFoundError for an unknown id or name', async () => {
    cloudMap.on(GetNamespaceCommand).rejects(new NamespaceNotFound({ message: 'no', $metadata: {} }));
    cloudMap.on(ListNamespacesCommand).resolves({ Namespaces: [] });
    await expect(registry().resolveNamespace('ns-0000000000000000')).rejects.toBeInstanceOf(NamespaceNotFoundError);
    await expect(registry().resolveNamespace('nope.local')).rejects.toBeInstanceOf(NamespaceNotFoundError);
  });
});

describe('CloudMapRegistry.ensureService', () => {
  it('uses an existing service found by name, on any page', async () => {
    cloudMap
      .on(ListServicesCommand)
      .resolvesOnce({ Services: [{ Id: 'srv-0', Name: 'web' }], NextToken: 't' })
      .resolvesOnce({ Services: [{ Id: 'srv-1', Name: 'api' }] });
    await expect(
      registry().ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 }),
    ).resolves.toEqual(service);
    expect(cloudMap.commandCalls(CreateServiceCommand)).toHaveLength(0);
  });

  it('creates a missing service with A records, a custom health check and the managed tag', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api' } });
    await registry().ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 });
    const input = cloudMap.commandCalls(CreateServiceCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Name: 'api',
      NamespaceId: dnsNamespace.id,
      DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 10 }] },
      HealthCheckCustomConfig: { FailureThreshold: 1 },
      Tags: [{ Key: 'managed-by', Value: 'ecs-cloudmap-registrar' }],
    });
    expect(input?.CreatorRequestId?.length).toBeLessThanOrEqual(64);
  });

  it('creates no DNS config in an HTTP namespace', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api' } });
    await registry().ensureService(httpNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 });
    expect(cloudMap.commandCalls(CreateServiceCommand)[0]?.args[0].input.DnsConfig).toBeUndefined();
  });

  it('uses the winner when another task created the service first', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap
      .on(CreateServiceCommand)
      .rejects(new ServiceAlreadyExists({ message: 'exists', $metadata: {}, ServiceId: 'srv-raced' }));
    await expect(
      registry().ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 }),
    ).resolves.toMatchObject({ id: 'srv-raced' });
  });

  it('shares one creation between concurrent callers in a container', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api' } });
    const r = registry();
    const spec = { name: 'api', dnsRecords: 'A' as const, ttlSeconds: 10 };
    await Promise.all([r.ensureService(dnsNamespace, spec), r.ensureService(dnsNamespace, spec)]);
    expect(cloudMap.commandCalls(CreateServiceCommand)).toHaveLength(1);
  });

  it.each([
    ['A', ['A']],
    ['AAAA', ['AAAA']],
    ['A+AAAA', ['A', 'AAAA']],
    ['SRV', ['SRV']],
  ] as const)('maps %s to Cloud Map DNS records', (records, types) => {
    expect(dnsRecordsFor(records, 10).map((r) => r.Type)).toEqual(types);
  });
});

describe('CloudMapRegistry writes', () => {
  it('registers and follows the operation to SUCCESS', async () => {
    cloudMap.on(RegisterInstanceCommand).resolves({ OperationId: 'op-1' });
    cloudMap
      .on(GetOperationCommand)
      .resolvesOnce({ Operation: { Id: 'op-1', Status: 'SUBMITTED' } })
      .resolvesOnce({ Operation: { Id: 'op-1', Status: 'PENDING' } })
      .resolves({ Operation: { Id: 'op-1', Status: 'SUCCESS' } });
    await registry().register(service, 'task1', { AWS_INSTANCE_IPV4: '10.0.0.1' });
    expect(cloudMap.commandCalls(GetOperationCommand)).toHaveLength(3);
    expect(cloudMap.commandCalls(RegisterInstanceCommand)[0]?.args[0].input).toMatchObject({
      ServiceId: 'srv-1',
      InstanceId: 'task1',
      Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1' },
    });
  });

  it('throws when the operation ends in FAIL', async () => {
    cloudMap.on(RegisterInstanceCommand).resolves({ OperationId: 'op-1' });
    cloudMap
      .on(GetOperationCommand)
      .resolves({ Operation: { Id: 'op-1', Status: 'FAIL', ErrorCode: 'INTERNAL_FAILURE', ErrorMessage: 'boom' } });
    await expect(registry().register(service, 'task1', {})).rejects.toBeInstanceOf(OperationFailedError);
  });

  it('gives up waiting after the bounded wait', async () => {
    cloudMap.on(RegisterInstanceCommand).resolves({ OperationId: 'op-1' });
    cloudMap.on(GetOperationCommand).resolves({ Operation: { Id: 'op-1', Status: 'PENDING' } });
    await expect(registry(3000).register(service, 'task1', {})).rejects.toBeInstanceOf(OperationTimeoutError);
  });

  it('retries a DuplicateRequest until the other write is done', async () => {
    cloudMap
      .on(RegisterInstanceCommand)
      .rejectsOnce(new DuplicateRequest({ message: 'in flight', $metadata: {} }))
      .resolves({ OperationId: 'op-2' });
    cloudMap.on(GetOperationCommand).resolves({ Operation: { Id: 'op-2', Status: 'SUCCESS' } });
    await registry().register(service, 'task1', {});
    expect(cloudMap.commandCalls(RegisterInstanceCommand)).toHaveLength(2);
  });

  it('rethrows throttling so that Lambda retries', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    cloudMap.on(RegisterInstanceCommand).rejects(throttled);
    await expect(registry().register(service, 'task1', {})).rejects.toThrow('Rate exceeded');
  });

  it('treats deregistering an instance that is already gone as success', async () => {
    cloudMap.on(DeregisterInstanceCommand).rejects(new InstanceNotFound({ message: 'gone', $metadata: {} }));
    await expect(registry().deregister(service, 'task1')).resolves.toBeUndefined();
    expect(cloudMap.commandCalls(GetOperationCommand)).toHaveLength(0);
  });

  it('deregisters and waits for the operation', async () => {
    cloudMap.on(DeregisterInstanceCommand).resolves({ OperationId: 'op-3' });
    cloudMap.on(GetOperationCommand).resolves({ Operation: { Id: 'op-3', Status: 'SUCCESS' } });
    await registry().deregister(service, 'task1');
    expect(cloudMap.commandCalls(GetOperationCommand)).toHaveLength(1);
  });
});

describe('CloudMapRegistry reads', () => {
  it('lists every instance across pages', async () => {
    cloudMap
      .on(ListInstancesCommand)
      .resolvesOnce({ Instances: [{ Id: 'a', Attributes: { k: '1' } }], NextToken: 'n' })
      .resolvesOnce({ Instances: [{ Id: 'b' }] });
    await expect(registry().listInstances(service)).resolves.toEqual([
      { id: 'a', attributes: { k: '1' } },
      { id: 'b', attributes: {} },
    ]);
  });

  it('answers undefined for an instance Cloud Map does not have', async () => {
    cloudMap.on(GetInstanceCommand).rejects(new InstanceNotFound({ message: 'no', $metadata: {} }));
    await expect(registry().getInstance(service, 'x')).resolves.toBeUndefined();
  });
});
