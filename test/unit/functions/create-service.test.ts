import {
  CreateServiceCommand,
  GetNamespaceCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ServiceAlreadyExists,
  ServiceDiscoveryClient,
  TagResourceCommand,
} from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext } from '../../helpers/function-harness';

/**
 * The createService function: the only role that may create and tag Cloud Map services. CreateService with Tags
 * is authorized as CreateService and TagResource (Service Authorization Reference:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html), so what keeps the tag
 * a boundary is that this code only ever creates new services: it never calls TagResource.
 */

process.env.NAMESPACE = 'kudos.local';
process.env.CLUSTER_NAMESPACES = 'prod-b=ns-bbbbbbbbbbbbbbbb';
process.env.OWNER_ID = 'ecs-cloudmap-registrar';
const cloudMap = mockClient(ServiceDiscoveryClient);

// Imported after the environment is set: the handler reads its configuration at cold start.
const { handler } = require('../../../functions/create-service') as typeof import('../../../functions/create-service');

const context = lambdaContext('createService', 20_000);
const NS = 'ns-abcdefghijklmnop';
const srvArn = (id: string) => `arn:aws:servicediscovery:us-east-1:123456789012:service/${id}`;
const request = { namespaceId: NS, name: 'api', dnsRecords: 'A', ttlSeconds: 10 };

beforeEach(() => {
  cloudMap.reset();
  cloudMap.on(ListNamespacesCommand).resolves({ Namespaces: [{ Id: NS, Name: 'kudos.local', Type: 'DNS_PRIVATE' }] });
  cloudMap
    .on(GetNamespaceCommand, { Id: 'ns-bbbbbbbbbbbbbbbb' })
    .resolves({ Namespace: { Id: 'ns-bbbbbbbbbbbbbbbb', Name: 'b.http', Type: 'HTTP' } });
});

describe('createService handler', () => {
  it('creates the service with the managed-by tag, A records and a custom health check, and answers it', async () => {
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api', Arn: srvArn('srv-9') } });

    await expect(handler(request, context)).resolves.toEqual({
      service: { id: 'srv-9', arn: srvArn('srv-9'), name: 'api', namespaceId: NS },
    });
    expect(cloudMap.commandCalls(CreateServiceCommand)[0]?.args[0].input).toMatchObject({
      Name: 'api',
      NamespaceId: NS,
      DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 10 }] },
      HealthCheckCustomConfig: { FailureThreshold: 1 },
      Tags: [{ Key: 'managed-by', Value: 'ecs-cloudmap-registrar' }],
    });
    expect(cloudMap.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('creates in a namespace of the cluster mapping too (given by id; an HTTP one gets no DNS config)', async () => {
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api' } });

    await expect(handler({ ...request, namespaceId: 'ns-bbbbbbbbbbbbbbbb' }, context)).resolves.toEqual({
      service: { id: 'srv-9', name: 'api', namespaceId: 'ns-bbbbbbbbbbbbbbbb' },
    });
    expect(cloudMap.commandCalls(CreateServiceCommand)[0]?.args[0].input.DnsConfig).toBeUndefined();
  });

  it('answers service-not-managed when the name is taken by a service without our tag, and never tags it', async () => {
    cloudMap
      .on(CreateServiceCommand)
      .rejects(
        new ServiceAlreadyExists({ message: 'exists', $metadata: {}, ServiceId: 'srv-1', ServiceArn: srvArn('srv-1') }),
      );
    cloudMap.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'AmazonECSManaged', Value: 'true' }] });

    await expect(handler(request, context)).resolves.toEqual({
      error: 'service-not-managed',
      message: expect.stringContaining('"api" in namespace "kudos.local" was not created by ecs-cloudmap-registrar'),
    });
    expect(cloudMap.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('answers the existing service when the name is taken by one of ours (a concurrent creation)', async () => {
    cloudMap.on(CreateServiceCommand).rejects(new ServiceAlreadyExists({ message: 'exists', $metadata: {} }));
    cloudMap.on(ListServicesCommand).resolves({ Services: [{ Id: 'srv-1', Name: 'api', Arn: srvArn('srv-1') }] });
    cloudMap
      .on(ListTagsForResourceCommand, { ResourceARN: srvArn('srv-1') })
      .resolves({ Tags: [{ Key: 'managed-by', Value: 'ecs-cloudmap-registrar' }] });

    await expect(handler(request, context)).resolves.toEqual({
      service: { id: 'srv-1', arn: srvArn('srv-1'), name: 'api', namespaceId: NS },
    });
    expect(cloudMap.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('refuses a namespace the registrar is not configured to write to, before any write', async () => {
    cloudMap
      .on(GetNamespaceCommand)
      .resolves({ Namespace: { Id: 'ns-zzzzzzzzzzzzzzzz', Name: 'other', Type: 'HTTP' } });

    await expect(handler({ ...request, namespaceId: 'ns-zzzzzzzzzzzzzzzz' }, context)).resolves.toMatchObject({
      error: 'namespace-not-allowed',
    });
    expect(cloudMap.commandCalls(CreateServiceCommand)).toHaveLength(0);
  });

  it.each([
    ['no object', 'api'],
    ['a name that is not a Cloud Map service name', { ...request, name: 'a b' }],
    ['a namespace that is not an id', { ...request, namespaceId: 'kudos.local' }],
    ['an unknown record set', { ...request, dnsRecords: 'CNAME' }],
    ['a negative TTL', { ...request, ttlSeconds: -1 }],
    ['a missing field', { namespaceId: NS, name: 'api' }],
  ])('answers invalid-request for %s, without calling AWS or throwing', async (_what, input) => {
    await expect(handler(input, context)).resolves.toMatchObject({
      error: 'invalid-request',
      message: expect.stringContaining('invalid createService request'),
    });
    expect(cloudMap.calls()).toHaveLength(0);
  });

  it('throws an AWS failure, so that the caller retries', async () => {
    cloudMap
      .on(CreateServiceCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(handler(request, context)).rejects.toThrow('Rate exceeded');
  });
});
