import {
  CreateHttpNamespaceCommand,
  CreatePrivateDnsNamespaceCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterInstanceCommand,
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetInstanceCommand,
  GetInstancesHealthStatusCommand,
  GetNamespaceCommand,
  GetOperationCommand,
  GetServiceCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListOperationsCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  RegisterInstanceCommand,
  TagResourceCommand,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => stopHarness(h));

async function privateNamespace(name = 'kudos.local'): Promise<string> {
  const { OperationId } = await h.cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: name, Vpc: 'vpc-local' }));
  const { Operation } = await h.cloudMap.send(new GetOperationCommand({ OperationId }));
  return Operation?.Targets?.NAMESPACE ?? '';
}

async function aService(namespaceId: string, name = 'api', custom = false): Promise<string> {
  const { Service } = await h.cloudMap.send(
    new CreateServiceCommand({
      Name: name,
      NamespaceId: namespaceId,
      DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 10 }] },
      ...(custom ? { HealthCheckCustomConfig: { FailureThreshold: 1 } } : {}),
    }),
  );
  return Service?.Id ?? '';
}

async function register(serviceId: string, id: string, attributes: Record<string, string>): Promise<string> {
  const { OperationId } = await h.cloudMap.send(
    new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: id, Attributes: attributes }),
  );
  await h.emulator.idle();
  return OperationId ?? '';
}

const ip = (n: number, extra: Record<string, string> = {}) => ({
  AWS_INSTANCE_IPV4: `10.0.0.${n}`,
  AWS_INSTANCE_PORT: '8080',
  ...extra,
});

describe('namespaces', () => {
  it('CreatePrivateDnsNamespace returns an OperationId and the namespace is usable at once (API Reference, CreatePrivateDnsNamespace, GetNamespace)', async () => {
    h.emulator.setTimeScale(0.5); // keeps the operation PENDING for 1 s, long enough to look on a loaded machine
    const { OperationId } = await h.cloudMap.send(
      new CreatePrivateDnsNamespaceCommand({ Name: 'kudos.local', Vpc: 'vpc-1' }),
    );
    const op = await h.cloudMap.send(new GetOperationCommand({ OperationId }));
    expect(op.Operation).toMatchObject({ Type: 'CREATE_NAMESPACE', Status: 'PENDING' });
    const id = op.Operation?.Targets?.NAMESPACE;
    const { Namespace } = await h.cloudMap.send(new GetNamespaceCommand({ Id: id }));
    expect(Namespace).toMatchObject({
      Name: 'kudos.local',
      Type: 'DNS_PRIVATE',
      Properties: { HttpProperties: { HttpName: 'kudos.local' } },
    });
    expect(Namespace?.CreateDate).toBeInstanceOf(Date);
  });

  it('a second namespace of the same name is NamespaceAlreadyExists with its NamespaceId (API Reference, CreateHttpNamespace errors)', async () => {
    const id = await privateNamespace();
    const error = await rejectionOf(h.cloudMap.send(new CreateHttpNamespaceCommand({ Name: 'kudos.local' })));
    expect(error.name).toBe('NamespaceAlreadyExists');
    expect(error.NamespaceId).toBe(id);
  });

  // GetNamespace `Id` and CreateService `NamespaceId`: "The ID or Amazon Resource Name (ARN) of the namespace"
  // (https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html, .../API_CreateService.html).
  it('GetNamespace and CreateService take the namespace ARN as well as its id (API Reference, GetNamespace)', async () => {
    const id = await privateNamespace();
    const arn = `arn:aws:servicediscovery:us-east-1:000000000000:namespace/${id}`;
    const { Namespace } = await h.cloudMap.send(new GetNamespaceCommand({ Id: arn }));
    expect(Namespace).toMatchObject({ Id: id, Arn: arn, Name: 'kudos.local' });
    const { Service } = await h.cloudMap.send(new CreateServiceCommand({ Name: 'api', NamespaceId: arn }));
    expect(Service?.NamespaceId).toBe(id);
  });

  it('hands out namespace and service ids of another length when asked to (the idLength option)', async () => {
    await stopHarness(h);
    h = await startHarness({ cloudMapIdLength: 20 });
    const id = await privateNamespace();
    expect(id).toMatch(/^ns-[a-z0-9]{20}$/);
    expect(await aService(id)).toMatch(/^srv-[a-z0-9]{20}$/);
  });

  it('GetNamespace of an unknown id is NamespaceNotFound (API Reference, GetNamespace)', async () => {
    expect((await rejectionOf(h.cloudMap.send(new GetNamespaceCommand({ Id: 'ns-nope' })))).name).toBe(
      'NamespaceNotFound',
    );
  });

  it('ListNamespaces filters by TYPE and NAME (API Reference, ListNamespaces, NamespaceFilter)', async () => {
    await privateNamespace('a.local');
    await h.cloudMap.send(new CreateHttpNamespaceCommand({ Name: 'b-http' }));
    const http = await h.cloudMap.send(
      new ListNamespacesCommand({ Filters: [{ Name: 'TYPE', Values: ['HTTP'], Condition: 'EQ' }] }),
    );
    expect(http.Namespaces?.map((ns) => ns.Name)).toEqual(['b-http']);
    const named = await h.cloudMap.send(
      new ListNamespacesCommand({ Filters: [{ Name: 'NAME', Values: ['a.local'] }] }),
    );
    expect(named.Namespaces?.map((ns) => ns.Type)).toEqual(['DNS_PRIVATE']);
  });
});

describe('services', () => {
  it('CreateService accepts A, AAAA, A+AAAA, SRV and CNAME alone, and no other combination (API Reference, DnsRecord Type)', async () => {
    const ns = await privateNamespace();
    const create = (name: string, types: string[], routing = 'MULTIVALUE') =>
      h.cloudMap.send(
        new CreateServiceCommand({
          Name: name,
          NamespaceId: ns,
          DnsConfig: {
            RoutingPolicy: routing as 'MULTIVALUE',
            DnsRecords: types.map((Type) => ({ Type: Type as 'A', TTL: 10 })),
          },
        }),
      );
    for (const [i, types] of [['A'], ['AAAA'], ['A', 'AAAA'], ['SRV']].entries())
      await expect(create(`ok${i}`, types)).resolves.toBeDefined();
    await expect(create('cname', ['CNAME'], 'WEIGHTED')).resolves.toBeDefined();
    for (const [i, types] of [
      ['A', 'SRV'],
      ['CNAME', 'A'],
      ['A', 'A'],
    ].entries()) {
      expect((await rejectionOf(create(`bad${i}`, types))).name).toBe('InvalidInput');
    }
  });

  it('an HTTP namespace refuses DnsConfig (API Reference, CreateService DnsConfig)', async () => {
    const { OperationId } = await h.cloudMap.send(new CreateHttpNamespaceCommand({ Name: 'plain' }));
    const ns = (await h.cloudMap.send(new GetOperationCommand({ OperationId }))).Operation?.Targets?.NAMESPACE ?? '';
    const error = await rejectionOf(
      h.cloudMap.send(
        new CreateServiceCommand({ Name: 'api', NamespaceId: ns, DnsConfig: { DnsRecords: [{ Type: 'A', TTL: 1 }] } }),
      ),
    );
    expect(error.name).toBe('InvalidInput');
    const { Service } = await h.cloudMap.send(new CreateServiceCommand({ Name: 'api', NamespaceId: ns }));
    expect(Service?.Type).toBe('HTTP');
  });

  // CreateService `CreatorRequestId`: "allows failed CreateService requests to be retried without the risk of
  // running the operation twice" (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html).
  it('a repeated CreatorRequestId is the first CreateService retried: its answer, even once that service is deleted (API Reference, CreateService)', async () => {
    const ns = await privateNamespace();
    const first = await h.cloudMap.send(
      new CreateServiceCommand({ Name: 'api', NamespaceId: ns, CreatorRequestId: 'create-api' }),
    );
    await h.cloudMap.send(new DeleteServiceCommand({ Id: first.Service?.Id }));
    const again = await h.cloudMap.send(
      new CreateServiceCommand({ Name: 'api', NamespaceId: ns, CreatorRequestId: 'create-api' }),
    );
    expect(again.Service?.Id).toBe(first.Service?.Id);
    const listed = await h.cloudMap.send(
      new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [ns], Condition: 'EQ' }] }),
    );
    expect(listed.Services).toEqual([]);
    const fresh = await h.cloudMap.send(
      new CreateServiceCommand({ Name: 'api', NamespaceId: ns, CreatorRequestId: 'create-api-2' }),
    );
    expect(fresh.Service?.Id).not.toBe(first.Service?.Id);
  });

  it('a duplicate name is ServiceAlreadyExists carrying ServiceId, unless the CreatorRequestId repeats (API Reference, CreateService)', async () => {
    const ns = await privateNamespace();
    const first = await h.cloudMap.send(
      new CreateServiceCommand({
        Name: 'api',
        NamespaceId: ns,
        CreatorRequestId: 'req-1',
        Tags: [{ Key: 'team', Value: 'kudos' }],
      }),
    );
    const again = await h.cloudMap.send(
      new CreateServiceCommand({ Name: 'api', NamespaceId: ns, CreatorRequestId: 'req-1' }),
    );
    expect(again.Service?.Id).toBe(first.Service?.Id);
    const error = await rejectionOf(
      h.cloudMap.send(new CreateServiceCommand({ Name: 'api', NamespaceId: ns, CreatorRequestId: 'req-2' })),
    );
    expect(error.name).toBe('ServiceAlreadyExists');
    expect(error.ServiceId).toBe(first.Service?.Id);
    const tags = await h.cloudMap.send(new ListTagsForResourceCommand({ ResourceARN: first.Service?.Arn }));
    expect(tags.Tags).toEqual([{ Key: 'team', Value: 'kudos' }]);
  });

  it('CreateService in an unknown namespace is NamespaceNotFound; GetService of an unknown id is ServiceNotFound (API Reference)', async () => {
    expect(
      (await rejectionOf(h.cloudMap.send(new CreateServiceCommand({ Name: 'x', NamespaceId: 'ns-none' })))).name,
    ).toBe('NamespaceNotFound');
    expect((await rejectionOf(h.cloudMap.send(new GetServiceCommand({ Id: 'srv-none' })))).name).toBe(
      'ServiceNotFound',
    );
  });

  it('ListServices filters by NAMESPACE_ID and paginates (API Reference, ListServices)', async () => {
    const ns = await privateNamespace();
    const other = await privateNamespace('other.local');
    for (const name of ['a', 'b', 'c']) await aService(ns, name);
    await aService(other, 'z');
    const filter = [{ Name: 'NAMESPACE_ID' as const, Values: [ns], Condition: 'EQ' as const }];
    const first = await h.cloudMap.send(new ListServicesCommand({ Filters: filter, MaxResults: 2 }));
    expect(first.Services).toHaveLength(2);
    const second = await h.cloudMap.send(
      new ListServicesCommand({ Filters: filter, MaxResults: 2, NextToken: first.NextToken }),
    );
    expect([...(first.Services ?? []), ...(second.Services ?? [])].map((s) => s.Name).sort()).toEqual(['a', 'b', 'c']);
    expect(second.NextToken).toBeUndefined();
  });

  it('DeleteService with instances is ResourceInUse (API Reference, DeleteService)', async () => {
    const srv = await aService(await privateNamespace());
    await register(srv, 'i-1', ip(5));
    expect((await rejectionOf(h.cloudMap.send(new DeleteServiceCommand({ Id: srv })))).name).toBe('ResourceInUse');
    await h.cloudMap.send(new DeregisterInstanceCommand({ ServiceId: srv, InstanceId: 'i-1' }));
    await h.emulator.idle();
    await expect(h.cloudMap.send(new DeleteServiceCommand({ Id: srv }))).resolves.toBeDefined();
  });
});

describe('instances', () => {
  it('RegisterInstance is an operation: PENDING, then SUCCESS, then the instance is listed (API Reference, RegisterInstance, GetOperation)', async () => {
    const srv = await aService(await privateNamespace());
    h.emulator.setTimeScale(0.05);
    const { OperationId } = await h.cloudMap.send(
      new RegisterInstanceCommand({ ServiceId: srv, InstanceId: 'task-1', Attributes: ip(4) }),
    );
    expect((await h.cloudMap.send(new GetOperationCommand({ OperationId }))).Operation).toMatchObject({
      Status: 'PENDING',
      Type: 'REGISTER_INSTANCE',
      Targets: { INSTANCE: 'task-1', SERVICE: srv },
    });
    await h.emulator.idle();
    expect((await h.cloudMap.send(new GetOperationCommand({ OperationId }))).Operation?.Status).toBe('SUCCESS');
    const { Instances } = await h.cloudMap.send(new ListInstancesCommand({ ServiceId: srv }));
    expect(Instances).toEqual([{ Id: 'task-1', Attributes: ip(4) }]);
    const { Operations } = await h.cloudMap.send(
      new ListOperationsCommand({ Filters: [{ Name: 'SERVICE_ID', Values: [srv] }] }),
    );
    expect(Operations).toEqual([{ Id: OperationId, Status: 'SUCCESS' }]);
  });

  it('re-registering an InstanceId updates it in place and moves the revision (API Reference, RegisterInstance; DiscoverInstances InstancesRevision)', async () => {
    const srv = await aService(await privateNamespace());
    await register(srv, 'task-1', ip(4));
    const before = await h.cloudMap.send(
      new DiscoverInstancesRevisionCommand({ NamespaceName: 'kudos.local', ServiceName: 'api' }),
    );
    await register(srv, 'task-1', ip(4, { color: 'blue' }));
    const { Instance } = await h.cloudMap.send(new GetInstanceCommand({ ServiceId: srv, InstanceId: 'task-1' }));
    expect(Instance?.Attributes?.color).toBe('blue');
    expect((await h.cloudMap.send(new ListInstancesCommand({ ServiceId: srv }))).Instances).toHaveLength(1);
    const after = await h.cloudMap.send(
      new DiscoverInstancesRevisionCommand({ NamespaceName: 'kudos.local', ServiceName: 'api' }),
    );
    expect(after.InstancesRevision).toBeGreaterThan(before.InstancesRevision ?? 0);
  });

  it('refuses bad instance ids and attributes with InvalidInput (API Reference, RegisterInstance InstanceId and Attributes limits)', async () => {
    const srv = await aService(await privateNamespace());
    const attempt = (id: string, attributes: Record<string, string>) =>
      rejectionOf(
        h.cloudMap.send(new RegisterInstanceCommand({ ServiceId: srv, InstanceId: id, Attributes: attributes })),
      );
    const many = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, 'v']));
    const huge = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]));
    const cases: [string, Record<string, string>][] = [
      ['has space', ip(4)],
      ['x'.repeat(65), ip(4)],
      ['ok', { AWS_INSTANCE_PORT: '80' }], // an A record needs AWS_INSTANCE_IPV4
      ['ok', ip(4, { 'bad key': 'v' })],
      ['ok', ip(4, { k: 'v'.repeat(1025) })],
      ['ok', ip(4, { k: ' leading space' })],
      ['ok', { ...ip(4), ...many }],
      ['ok', { ...ip(4), ...huge }],
      ['ok', { AWS_INSTANCE_IPV4: '10.0.0.300' }],
    ];
    for (const [id, attributes] of cases) expect((await attempt(id, attributes)).name).toBe('InvalidInput');
  });

  it('a write while the previous one for the same instance is in flight is DuplicateRequest (API Reference, RegisterInstance errors)', async () => {
    const srv = await aService(await privateNamespace());
    h.emulator.setTimeScale(0.05); // keeps the operation in flight for 100 ms
    const first = await h.cloudMap.send(
      new RegisterInstanceCommand({ ServiceId: srv, InstanceId: 't', Attributes: ip(4), CreatorRequestId: 'r1' }),
    );
    const retried = await h.cloudMap.send(
      new RegisterInstanceCommand({ ServiceId: srv, InstanceId: 't', Attributes: ip(4), CreatorRequestId: 'r1' }),
    );
    expect(retried.OperationId).toBe(first.OperationId);
    const error = await rejectionOf(
      h.cloudMap.send(new RegisterInstanceCommand({ ServiceId: srv, InstanceId: 't', Attributes: ip(5) })),
    );
    expect(error.name).toBe('DuplicateRequest');
    expect(error.DuplicateOperationId).toBe(first.OperationId);
  });

  // RegisterInstance `CreatorRequestId`: "allows failed RegisterInstance requests to be retried without the risk of
  // executing the operation twice. You must use a unique CreatorRequestId string every time you submit a
  // RegisterInstance request" (https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html).
  it('a repeated CreatorRequestId is the first RegisterInstance retried: its operation back and nothing done, even after a deregistration (API Reference, RegisterInstance)', async () => {
    const srv = await aService(await privateNamespace());
    const first = await h.cloudMap.send(
      new RegisterInstanceCommand({ ServiceId: srv, InstanceId: 't', Attributes: ip(4), CreatorRequestId: 'r1' }),
    );
    await h.emulator.idle();
    await h.cloudMap.send(new DeregisterInstanceCommand({ ServiceId: srv, InstanceId: 't' }));
    await h.emulator.idle();
    const again = await h.cloudMap.send(
      new RegisterInstanceCommand({ ServiceId: srv, InstanceId: 't', Attributes: ip(4), CreatorRequestId: 'r1' }),
    );
    await h.emulator.idle();
    expect(again.OperationId).toBe(first.OperationId);
    expect((await h.cloudMap.send(new ListInstancesCommand({ ServiceId: srv }))).Instances).toEqual([]);
    // Another instance under a used id is not registered either ("unique ... every time").
    await h.cloudMap.send(
      new RegisterInstanceCommand({ ServiceId: srv, InstanceId: 'u', Attributes: ip(5), CreatorRequestId: 'r1' }),
    );
    await h.emulator.idle();
    expect((await h.cloudMap.send(new ListInstancesCommand({ ServiceId: srv }))).Instances).toEqual([]);
    await h.cloudMap.send(
      new RegisterInstanceCommand({ ServiceId: srv, InstanceId: 't', Attributes: ip(4), CreatorRequestId: 'r2' }),
    );
    await h.emulator.idle();
    expect((await h.cloudMap.send(new ListInstancesCommand({ ServiceId: srv }))).Instances).toEqual([
      { Id: 't', Attributes: ip(4) },
    ]);
  });

  it('DeregisterInstance of an absent instance is InstanceNotFound (API Reference, DeregisterInstance)', async () => {
    const srv = await aService(await privateNamespace());
    expect(
      (await rejectionOf(h.cloudMap.send(new DeregisterInstanceCommand({ ServiceId: srv, InstanceId: 'gone' })))).name,
    ).toBe('InstanceNotFound');
  });

  it('ListInstances paginates (API Reference, ListInstances MaxResults/NextToken)', async () => {
    const srv = await aService(await privateNamespace());
    for (let i = 0; i < 5; i++)
      await h.cloudMap.send(
        new RegisterInstanceCommand({ ServiceId: srv, InstanceId: `t${i}`, Attributes: ip(10 + i) }),
      );
    await h.emulator.idle();
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await h.cloudMap.send(new ListInstancesCommand({ ServiceId: srv, MaxResults: 2, NextToken: token }));
      ids.push(...(page.Instances ?? []).map((i) => i.Id ?? ''));
      token = page.NextToken;
    } while (token);
    expect(ids.sort()).toEqual(['t0', 't1', 't2', 't3', 't4']);
  });
});

describe('discovery and health', () => {
  it('DiscoverInstances finds the namespace by HttpName and filters by QueryParameters and OptionalParameters (API Reference, DiscoverInstances)', async () => {
    const srv = await aService(await privateNamespace());
    await register(srv, 'blue-a', ip(4, { color: 'blue', zone: 'a' }));
    await register(srv, 'blue-b', ip(5, { color: 'blue', zone: 'b' }));
    await register(srv, 'green-a', ip(6, { color: 'green', zone: 'a' }));
    const discover = (input: object) =>
      h.cloudMap.send(new DiscoverInstancesCommand({ NamespaceName: 'kudos.local', ServiceName: 'api', ...input }));
    const ids = async (input: object) => ((await discover(input)).Instances ?? []).map((i) => i.InstanceId).sort();
    expect(await ids({ QueryParameters: { color: 'blue' } })).toEqual(['blue-a', 'blue-b']);
    expect(await ids({ QueryParameters: { color: 'blue' }, OptionalParameters: { zone: 'b' } })).toEqual(['blue-b']);
    // No instance matches the optional filter too, so it is ignored.
    expect(await ids({ QueryParameters: { color: 'green' }, OptionalParameters: { zone: 'b' } })).toEqual(['green-a']);
    expect(await ids({ MaxResults: 2 })).toHaveLength(2);
    const answer = await discover({});
    expect(answer.Instances?.[0]).toMatchObject({
      NamespaceName: 'kudos.local',
      ServiceName: 'api',
      HealthStatus: 'UNKNOWN',
    });
    expect(answer.InstancesRevision).toBe(3);
  });

  it('DiscoverInstances of an unknown namespace or service is NamespaceNotFound / ServiceNotFound (API Reference, DiscoverInstances errors)', async () => {
    await aService(await privateNamespace());
    const nsError = await rejectionOf(
      h.cloudMap.send(new DiscoverInstancesCommand({ NamespaceName: 'nope', ServiceName: 'api' })),
    );
    expect(nsError.name).toBe('NamespaceNotFound');
    const srvError = await rejectionOf(
      h.cloudMap.send(new DiscoverInstancesCommand({ NamespaceName: 'kudos.local', ServiceName: 'nope' })),
    );
    expect(srvError.name).toBe('ServiceNotFound');
  });

  it('custom health starts HEALTHY, HealthStatus filters HEALTHY/UNHEALTHY/ALL/HEALTHY_OR_ELSE_ALL, and the revision does not move (API Reference, UpdateInstanceCustomHealthStatus, DiscoverInstances HealthStatus)', async () => {
    const srv = await aService(await privateNamespace(), 'api', true);
    await register(srv, 'a', ip(4));
    await register(srv, 'b', ip(5));
    const discover = async (HealthStatus: 'HEALTHY' | 'UNHEALTHY' | 'ALL' | 'HEALTHY_OR_ELSE_ALL') => {
      const out = await h.cloudMap.send(
        new DiscoverInstancesCommand({ NamespaceName: 'kudos.local', ServiceName: 'api', HealthStatus }),
      );
      return { ids: (out.Instances ?? []).map((i) => i.InstanceId).sort(), revision: out.InstancesRevision };
    };
    const start = await discover('HEALTHY');
    expect(start.ids).toEqual(['a', 'b']);
    await h.cloudMap.send(
      new UpdateInstanceCustomHealthStatusCommand({ ServiceId: srv, InstanceId: 'a', Status: 'UNHEALTHY' }),
    );
    expect((await discover('HEALTHY')).ids).toEqual(['b']);
    expect((await discover('UNHEALTHY')).ids).toEqual(['a']);
    expect((await discover('ALL')).ids).toEqual(['a', 'b']);
    expect((await discover('HEALTHY')).revision).toBe(start.revision);
    await h.cloudMap.send(
      new UpdateInstanceCustomHealthStatusCommand({ ServiceId: srv, InstanceId: 'b', Status: 'UNHEALTHY' }),
    );
    expect((await discover('HEALTHY')).ids).toEqual([]);
    expect((await discover('HEALTHY_OR_ELSE_ALL')).ids).toEqual(['a', 'b']);
    const { Status } = await h.cloudMap.send(new GetInstancesHealthStatusCommand({ ServiceId: srv }));
    expect(Status).toEqual({ a: 'UNHEALTHY', b: 'UNHEALTHY' });
  });

  it('UpdateInstanceCustomHealthStatus on a service without custom health is CustomHealthNotFound (API Reference)', async () => {
    const srv = await aService(await privateNamespace());
    await register(srv, 'a', ip(4));
    const error = await rejectionOf(
      h.cloudMap.send(
        new UpdateInstanceCustomHealthStatusCommand({ ServiceId: srv, InstanceId: 'a', Status: 'HEALTHY' }),
      ),
    );
    expect(error.name).toBe('CustomHealthNotFound');
  });

  it('TagResource adds tags that ListTagsForResource returns; unknown ARNs are ResourceNotFoundException (API Reference, TagResource)', async () => {
    const ns = await privateNamespace();
    const { Namespace } = await h.cloudMap.send(new GetNamespaceCommand({ Id: ns }));
    await h.cloudMap.send(
      new TagResourceCommand({ ResourceARN: Namespace?.Arn, Tags: [{ Key: 'env', Value: 'local' }] }),
    );
    expect((await h.cloudMap.send(new ListTagsForResourceCommand({ ResourceARN: Namespace?.Arn }))).Tags).toEqual([
      { Key: 'env', Value: 'local' },
    ]);
    const error = await rejectionOf(
      h.cloudMap.send(
        new ListTagsForResourceCommand({ ResourceARN: 'arn:aws:servicediscovery:us-east-1:0:service/srv-x' }),
      ),
    );
    expect(error.name).toBe('ResourceNotFoundException');
  });
});
