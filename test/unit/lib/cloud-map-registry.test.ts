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
  ListTagsForResourceCommand,
  NamespaceNotFound,
  RegisterInstanceCommand,
  ServiceAlreadyExists,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudMapRegistry, dnsRecordsFor } from '../../../lib/cloud-map/cloud-map-registry';
import { isNamespaceArn, isNamespaceId } from '../../../lib/cloud-map/namespaces';
import {
  NamespaceNotFoundError,
  OperationFailedError,
  OperationTimeoutError,
  ServiceNotManagedError,
} from '../../../lib/errors';
import type { NamespaceInfo } from '../../../lib/ports';

const cloudMap = mockClient(ServiceDiscoveryClient);
const dnsNamespace: NamespaceInfo = {
  id: 'ns-abcdefghijklmnop',
  name: 'kudos.local',
  type: 'DNS_PRIVATE',
  httpName: 'kudos.local',
};
const httpNamespace: NamespaceInfo = { ...dnsNamespace, type: 'HTTP' };
const srvArn = (id: string) => `arn:aws:servicediscovery:us-east-1:123456789012:service/${id}`;
const service = { id: 'srv-1', name: 'api', namespaceId: dnsNamespace.id, arn: srvArn('srv-1') };
const managedTags = { Tags: [{ Key: 'managed-by', Value: 'ecs-cloudmap-registrar' }] };

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

  // AWS Cloud Map API Reference, NamespaceSummary `Id`: no pattern, "Maximum length of 64"
  // (https://docs.aws.amazon.com/cloud-map/latest/api/API_NamespaceSummary.html); moto hands out ns- + 20.
  it.each([
    ['ns-abcdefghijklmnop', true],
    ['ns-abcdefghij0123456789', true],
    [`ns-${'a'.repeat(61)}`, true],
    [`ns-${'a'.repeat(62)}`, false],
    ['ns-', false],
    ['kudos.local', false],
    ['ns-Upper', false],
  ])('recognises %s as a namespace id: %s', (ref, expected) => {
    expect(isNamespaceId(ref)).toBe(expected);
  });

  it.each([
    ['arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abcdefghij0123456789', true],
    ['arn:aws-cn:servicediscovery:cn-north-1:123456789012:namespace/ns-abcdefghijklmnop', true],
    ['arn:aws:servicediscovery:us-east-1:123456789012:service/srv-abcdefghijklmnop', false],
    ['arn:aws:ecs:us-east-1:123456789012:namespace/ns-abcdefghijklmnop', false],
  ])('recognises %s as a namespace ARN: %s', (ref, expected) => {
    expect(isNamespaceArn(ref)).toBe(expected);
  });

  it('gets a namespace by an id of 20 characters, as other AWS-compatible endpoints hand out', async () => {
    const id = 'ns-abcdefghij0123456789';
    cloudMap.on(GetNamespaceCommand, { Id: id }).resolves({ Namespace: { Id: id, Name: 'kudos.local', Type: 'HTTP' } });
    await expect(registry().resolveNamespace(id)).resolves.toMatchObject({ id, name: 'kudos.local' });
    expect(cloudMap.commandCalls(ListNamespacesCommand)).toHaveLength(0);
  });

  // GetNamespace `Id`: "The ID or Amazon Resource Name (ARN) of the namespace" (shared namespaces need the ARN),
  // https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html
  it('gets a namespace by its ARN with GetNamespace', async () => {
    const arn = 'arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abcdefghijklmnop';
    cloudMap
      .on(GetNamespaceCommand, { Id: arn })
      .resolves({ Namespace: { Id: 'ns-abcdefghijklmnop', Arn: arn, Name: 'kudos.local', Type: 'DNS_PRIVATE' } });
    await expect(registry().resolveNamespace(arn)).resolves.toMatchObject({ id: 'ns-abcdefghijklmnop' });
    expect(cloudMap.commandCalls(ListNamespacesCommand)).toHaveLength(0);
  });

  it('finds an HTTP namespace whose name looks like an id by its name when no namespace has that id', async () => {
    cloudMap.on(GetNamespaceCommand).rejects(new NamespaceNotFound({ message: 'no', $metadata: {} }));
    cloudMap.on(ListNamespacesCommand).resolves({ Namespaces: [{ Id: 'ns-abcdefghijklmnop', Name: 'ns-team' }] });
    await expect(registry().resolveNamespace('ns-team')).resolves.toMatchObject({ id: 'ns-abcdefghijklmnop' });
  });

  it.each([
    ['ns-abcdefghij0123456789', /"ns-abcdefghij0123456789".*as a namespace id.*and as a name/],
    [
      'arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abcdefghijklmnop',
      /as a namespace ARN \(GetNamespace\)/,
    ],
    ['kudos.lcoal', /"kudos.lcoal".*as a namespace name \(ListNamespaces\)/],
  ])('says how %s was looked up when nothing is found', async (ref, message) => {
    cloudMap.on(GetNamespaceCommand).rejects(new NamespaceNotFound({ message: 'no', $metadata: {} }));
    cloudMap.on(ListNamespacesCommand).resolves({ Namespaces: [] });
    const error = await registry()
      .resolveNamespace(ref)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NamespaceNotFoundError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('CloudMapRegistry.ensureService', () => {
  it('uses an existing service found by name, on any page, once its managed-by tag is seen', async () => {
    cloudMap
      .on(ListServicesCommand)
      .resolvesOnce({ Services: [{ Id: 'srv-0', Name: 'web', Arn: srvArn('srv-0') }], NextToken: 't' })
      .resolvesOnce({ Services: [{ Id: 'srv-1', Name: 'api', Arn: srvArn('srv-1') }] });
    cloudMap.on(ListTagsForResourceCommand, { ResourceARN: srvArn('srv-1') }).resolves(managedTags);
    await expect(
      registry().ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 }),
    ).resolves.toEqual(service);
    expect(cloudMap.commandCalls(CreateServiceCommand)).toHaveLength(0);
  });

  // Another tool's service: ECS service registries and Service Connect create services without our tag.
  it('refuses a service of that name that another tool created, before any write', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [{ Id: 'srv-1', Name: 'api', Arn: srvArn('srv-1') }] });
    cloudMap.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'AmazonECSManaged', Value: 'true' }] });
    const error = await registry()
      .ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceNotManagedError);
    expect(error).toMatchObject({ code: 'service-not-managed', service: 'api', namespace: 'kudos.local' });
    expect(cloudMap.commandCalls(CreateServiceCommand)).toHaveLength(0);
    expect(cloudMap.commandCalls(RegisterInstanceCommand)).toHaveLength(0);
  });

  it("refuses a service tagged managed-by for another owner (another registrar's)", async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [{ Id: 'srv-1', Name: 'api', Arn: srvArn('srv-1') }] });
    cloudMap.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'managed-by', Value: 'someone-else' }] });
    await expect(
      registry().ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 }),
    ).rejects.toBeInstanceOf(ServiceNotManagedError);
  });

  it('asks for the tags of a service once per container, whatever the answer', async () => {
    cloudMap.on(ListServicesCommand).resolves({
      Services: [
        { Id: 'srv-1', Name: 'api', Arn: srvArn('srv-1') },
        { Id: 'srv-2', Name: 'web', Arn: srvArn('srv-2') },
      ],
    });
    cloudMap.on(ListTagsForResourceCommand, { ResourceARN: srvArn('srv-1') }).resolves(managedTags);
    cloudMap.on(ListTagsForResourceCommand, { ResourceARN: srvArn('srv-2') }).resolves({ Tags: [] });
    const r = registry();
    for (let i = 0; i < 3; i++) {
      await r.ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 });
      await expect(
        r.ensureService(dnsNamespace, { name: 'web', dnsRecords: 'A', ttlSeconds: 10 }),
      ).rejects.toBeInstanceOf(ServiceNotManagedError);
    }
    await expect(r.isManaged({ id: 'srv-1', name: 'api', namespaceId: dnsNamespace.id })).resolves.toBe(true);
    expect(cloudMap.commandCalls(ListTagsForResourceCommand)).toHaveLength(2);
    expect(cloudMap.commandCalls(ListServicesCommand)).toHaveLength(1);
  });

  it("looks for the name again a minute after refusing another tool's service, and creates its own once that is gone", async () => {
    let clock = 0;
    const r = new CloudMapRegistry(new ServiceDiscoveryClient({ region: 'us-east-1' }), {
      ownerId: 'ecs-cloudmap-registrar',
      operationTimeoutMs: 5000,
      now: () => clock,
    });
    cloudMap
      .on(ListServicesCommand)
      .resolvesOnce({ Services: [{ Id: 'srv-1', Name: 'api', Arn: srvArn('srv-1') }] })
      .resolves({ Services: [] });
    cloudMap.on(ListTagsForResourceCommand).resolves({ Tags: [] });
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api', Arn: srvArn('srv-9') } });
    const spec = { name: 'api', dnsRecords: 'A' as const, ttlSeconds: 10 };
    await expect(r.ensureService(dnsNamespace, spec)).rejects.toBeInstanceOf(ServiceNotManagedError);
    clock += 30_000;
    // Meanwhile an operator removed the other tool's service; within the minute the answer is remembered.
    await expect(r.ensureService(dnsNamespace, spec)).rejects.toBeInstanceOf(ServiceNotManagedError);
    expect(cloudMap.commandCalls(ListServicesCommand)).toHaveLength(1);
    clock += 31_000;
    await expect(r.ensureService(dnsNamespace, spec)).resolves.toMatchObject({ id: 'srv-9' });
    expect(cloudMap.commandCalls(ListTagsForResourceCommand)).toHaveLength(1);
  });

  it('asks again after a failed tag read (a throttled answer is not remembered)', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    cloudMap.on(ListTagsForResourceCommand).rejectsOnce(throttled).resolves(managedTags);
    const r = registry();
    await expect(r.isManaged(service)).rejects.toThrow('Rate exceeded');
    await expect(r.isManaged(service)).resolves.toBe(true);
  });

  it('finds the ARN of a service it was given without one, to read its tags', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [{ Id: 'srv-1', Name: 'api', Arn: srvArn('srv-1') }] });
    cloudMap.on(ListTagsForResourceCommand, { ResourceARN: srvArn('srv-1') }).resolves(managedTags);
    await expect(registry().isManaged({ id: 'srv-1', name: 'api', namespaceId: dnsNamespace.id })).resolves.toBe(true);
  });

  it('counts a service it has just created as managed without asking', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api', Arn: srvArn('srv-9') } });
    const r = registry();
    const created = await r.ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 });
    expect(created).toEqual({ id: 'srv-9', name: 'api', namespaceId: dnsNamespace.id, arn: srvArn('srv-9') });
    await expect(r.isManaged(created)).resolves.toBe(true);
    expect(cloudMap.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
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

  it('uses the winner when another task of ours created the service first', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap.on(CreateServiceCommand).rejects(
      new ServiceAlreadyExists({
        message: 'exists',
        $metadata: {},
        ServiceId: 'srv-raced',
        ServiceArn: srvArn('srv-raced'),
      }),
    );
    cloudMap.on(ListTagsForResourceCommand, { ResourceARN: srvArn('srv-raced') }).resolves(managedTags);
    await expect(
      registry().ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 }),
    ).resolves.toMatchObject({ id: 'srv-raced' });
  });

  it('refuses the winner of a creation race that another tool created', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap.on(CreateServiceCommand).rejects(
      new ServiceAlreadyExists({
        message: 'exists',
        $metadata: {},
        ServiceId: 'srv-raced',
        ServiceArn: srvArn('srv-raced'),
      }),
    );
    cloudMap.on(ListTagsForResourceCommand).resolves({ Tags: [] });
    await expect(
      registry().ensureService(dnsNamespace, { name: 'api', dnsRecords: 'A', ttlSeconds: 10 }),
    ).rejects.toBeInstanceOf(ServiceNotManagedError);
  });

  // CreateService `CreatorRequestId`: "allows failed CreateService requests to be retried without the risk of
  // running the operation twice" (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html): a
  // repeated id is a retry of the first request. A service deleted and created again under the same name is a
  // new request and must not carry the first one's id.
  it('gives each creation of a service a CreatorRequestId of its own, also for the same name', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api', Arn: srvArn('srv-9') } });
    const spec = { name: 'api', dnsRecords: 'A' as const, ttlSeconds: 10 };
    await registry().ensureService(dnsNamespace, spec);
    await registry().ensureService(dnsNamespace, spec);
    const ids = cloudMap.commandCalls(CreateServiceCommand).map((call) => call.args[0].input.CreatorRequestId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
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

  it('retries a DuplicateRequest until the other write is done, with the same CreatorRequestId', async () => {
    cloudMap
      .on(RegisterInstanceCommand)
      .rejectsOnce(new DuplicateRequest({ message: 'in flight', $metadata: {} }))
      .resolves({ OperationId: 'op-2' });
    cloudMap.on(GetOperationCommand).resolves({ Operation: { Id: 'op-2', Status: 'SUCCESS' } });
    await registry().register(service, 'task1', {});
    const ids = cloudMap.commandCalls(RegisterInstanceCommand).map((call) => call.args[0].input.CreatorRequestId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBeTruthy();
    expect(ids[1]).toBe(ids[0]);
  });

  // RegisterInstance `CreatorRequestId`: "allows failed RegisterInstance requests to be retried without the risk
  // of executing the operation twice" (https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html):
  // a repeated id is answered with the first request's operation and does nothing. A later registration with the
  // same attributes (after a deregistration, a replay, a reconcile) is a new request and needs a new id.
  it('gives a later registration with the same attributes a CreatorRequestId of its own', async () => {
    cloudMap.on(RegisterInstanceCommand).resolves({ OperationId: 'op-1' });
    cloudMap.on(GetOperationCommand).resolves({ Operation: { Id: 'op-1', Status: 'SUCCESS' } });
    const r = registry();
    await r.register(service, 'task1', { AWS_INSTANCE_IPV4: '10.0.0.1' });
    await r.register(service, 'task1', { AWS_INSTANCE_IPV4: '10.0.0.1' });
    const ids = cloudMap.commandCalls(RegisterInstanceCommand).map((call) => call.args[0].input.CreatorRequestId);
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) expect(id?.length).toBeLessThanOrEqual(64);
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

/*
 * ListInstances pages with MaxResults and NextToken
 * (https://docs.aws.amazon.com/cloud-map/latest/api/API_ListInstances.html): looking for one instance, the registry
 * reads small pages only until one holds it.
 */
describe('listInstances looking for one instance (until)', () => {
  const service = { id: 'srv-1', name: 'api', namespaceId: 'ns-1' };
  const instance = (id: string, attributes: Record<string, string> = {}) => ({ Id: id, Attributes: attributes });

  it('reads pages of 10 until one holds a matching instance, not the rest', async () => {
    cloudMap
      .on(ListInstancesCommand)
      .resolvesOnce({ Instances: [instance('a'), instance('b')], NextToken: 'p2' })
      .resolvesOnce({ Instances: [instance('c', { ECS_SERVICE_NAME: 'api' })], NextToken: 'p3' })
      .resolvesOnce({ Instances: [instance('d')] });
    const found = await registry().listInstances(service, {
      until: (i) => i.attributes.ECS_SERVICE_NAME !== undefined,
    });
    expect(found.map((i) => i.id)).toEqual(['a', 'b', 'c']);
    const calls = cloudMap.commandCalls(ListInstancesCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input.MaxResults).toBe(10);
  });

  it('reads every page of 100 without it', async () => {
    cloudMap
      .on(ListInstancesCommand)
      .resolvesOnce({ Instances: [instance('a')], NextToken: 'p2' })
      .resolvesOnce({ Instances: [instance('b')] });
    const found = await registry().listInstances(service);
    expect(found.map((i) => i.id)).toEqual(['a', 'b']);
    expect(cloudMap.commandCalls(ListInstancesCommand)[0]?.args[0].input.MaxResults).toBe(100);
  });
});
