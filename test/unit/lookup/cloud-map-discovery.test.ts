import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  InvalidInput,
  ListServicesCommand,
  NamespaceNotFound,
  RequestLimitExceeded,
  ServiceDiscoveryClient,
  ServiceDiscoveryServiceException,
  ServiceNotFound,
} from '@aws-sdk/client-servicediscovery';
import {
  NamespaceNotFoundError,
  ServiceNotFoundError,
  UpstreamError,
  UpstreamThrottledError,
  ValidationError,
} from '../../../lib/errors';
import { CloudMapDiscovery } from '../../../lib/lookup/cloud-map-discovery';
import { meta, sd } from './mocked-cloud-map';

beforeEach(() => sd.reset());

const request = {
  namespaceName: 'kudos.local',
  serviceName: 'api',
  health: 'HEALTHY_OR_ELSE_ALL' as const,
  queryParameters: {},
  optionalParameters: {},
  maxResults: 1000,
};

describe('CloudMapDiscovery', () => {
  it('asks DiscoverInstances for the namespace HttpName, the health filter and up to max instances', async () => {
    sd.on(DiscoverInstancesCommand).resolves({
      InstancesRevision: 4,
      Instances: [
        {
          InstanceId: 't1',
          HealthStatus: 'HEALTHY',
          Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '80' },
        },
      ],
    });
    const discovery = new CloudMapDiscovery(new ServiceDiscoveryClient({}));

    const out = await discovery.discoverInstances({
      ...request,
      namespaceName: 'kudos.local-abc',
      queryParameters: { version: 'v1' },
      optionalParameters: { az: 'a' },
      maxResults: 10,
    });

    expect(sd.commandCalls(DiscoverInstancesCommand)[0]?.args[0].input).toEqual({
      NamespaceName: 'kudos.local-abc',
      ServiceName: 'api',
      HealthStatus: 'HEALTHY_OR_ELSE_ALL',
      MaxResults: 10,
      QueryParameters: { version: 'v1' },
      OptionalParameters: { az: 'a' },
    });
    expect(out).toEqual({
      revision: 4,
      instances: [
        {
          id: 't1',
          ipv4: '10.0.0.1',
          port: 80,
          health: 'HEALTHY',
          attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '80' },
        },
      ],
    });
  });

  it('sends no empty filter maps', async () => {
    sd.on(DiscoverInstancesCommand).resolves({ InstancesRevision: 1, Instances: [] });
    await new CloudMapDiscovery(new ServiceDiscoveryClient({})).discoverInstances(request);
    const input = sd.commandCalls(DiscoverInstancesCommand)[0]?.args[0].input;
    expect(input).not.toHaveProperty('QueryParameters');
    expect(input).not.toHaveProperty('OptionalParameters');
  });

  it('reads the revision with DiscoverInstancesRevision', async () => {
    sd.on(DiscoverInstancesRevisionCommand, { NamespaceName: 'kudos.local', ServiceName: 'api' }).resolves({
      InstancesRevision: 9,
    });
    await expect(
      new CloudMapDiscovery(new ServiceDiscoveryClient({})).instancesRevision('kudos.local', 'api'),
    ).resolves.toBe(9);
  });

  it('lists every page of the namespace services with their instance counts', async () => {
    sd.on(ListServicesCommand)
      .resolvesOnce({ Services: [{ Name: 'api', InstanceCount: 3 }], NextToken: 'p2' })
      .resolvesOnce({ Services: [{ Name: 'web' }] });

    const services = await new CloudMapDiscovery(new ServiceDiscoveryClient({})).listServices('ns-1234567890abcdef');

    expect(services).toEqual([
      { name: 'api', instances: 3 },
      { name: 'web', instances: 0 },
    ]);
    expect(sd.commandCalls(ListServicesCommand)[1]?.args[0].input).toMatchObject({
      NextToken: 'p2',
      Filters: [{ Name: 'NAMESPACE_ID', Values: ['ns-1234567890abcdef'], Condition: 'EQ' }],
    });
  });

  it.each([
    ['ServiceNotFound', new ServiceNotFound({ message: 'no such service', ...meta }), ServiceNotFoundError],
    ['NamespaceNotFound', new NamespaceNotFound({ message: 'no such namespace', ...meta }), NamespaceNotFoundError],
    ['RequestLimitExceeded', new RequestLimitExceeded({ message: 'slow down', ...meta }), UpstreamThrottledError],
    ['InvalidInput', new InvalidInput({ message: 'bad', ...meta }), ValidationError],
    [
      'an unknown service exception',
      new ServiceDiscoveryServiceException({ name: 'InternalFailure', $fault: 'server', message: 'boom', ...meta }),
      UpstreamError,
    ],
    ['a network error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), UpstreamError],
  ])('turns %s into %p', async (_name, error, expected) => {
    sd.on(DiscoverInstancesCommand).rejects(error);
    const discovery = new CloudMapDiscovery(new ServiceDiscoveryClient({ maxAttempts: 1 }));
    await expect(discovery.discoverInstances(request)).rejects.toBeInstanceOf(expected);
  });

  it('treats any error the SDK marks as throttling as throttling, with a Retry-After', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'SlowDown', $retryable: { throttling: true } });
    sd.on(DiscoverInstancesRevisionCommand).rejects(throttled);
    const error = await new CloudMapDiscovery(new ServiceDiscoveryClient({ maxAttempts: 1 }))
      .instancesRevision('kudos.local', 'api')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamThrottledError);
    expect((error as UpstreamThrottledError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as UpstreamThrottledError).cause).toBe(throttled);
  });

  it('keeps the AWS message out of the upstream error message', async () => {
    sd.on(DiscoverInstancesCommand).rejects(new Error('arn:aws:iam::123456789012:role/secret is not authorized'));
    const error = await new CloudMapDiscovery(new ServiceDiscoveryClient({ maxAttempts: 1 }))
      .discoverInstances(request)
      .then(() => undefined)
      .catch((e: Error) => e);
    expect(error?.message).not.toMatch(/arn:|authorized/);
  });
});
