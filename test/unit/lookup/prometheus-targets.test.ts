import type { HttpInstanceSummary } from '@aws-sdk/client-servicediscovery';
import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  ServiceNotFound,
} from '@aws-sdk/client-servicediscovery';
import { attributeLabel, serviceTargetGroups, targetOf } from '../../../lib/lookup/prometheus';
import { lookupHandler } from './handler-under-test';
import { testConfig, v2Event } from './helpers';
import { meta, sd } from './mocked-cloud-map';

/**
 * `GET /prometheus/targets`: Prometheus HTTP service discovery. The format and the endpoint's duties follow
 * https://prometheus.io/docs/prometheus/latest/http_sd/ (a JSON list of {targets, labels}, 200 with
 * `Content-Type: application/json`, `[]` when there is no target); label names follow
 * https://prometheus.io/docs/concepts/data_model/ (`[a-zA-Z_][a-zA-Z0-9_]*`).
 */

const NAMESPACE = {
  Id: 'ns-abcdefghijklmnop',
  Name: 'kudos.local',
  Type: 'DNS_PRIVATE' as const,
  Properties: { HttpProperties: { HttpName: 'kudos.local' } },
};

const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/kudos/0a1b2c3d4e5f40718293a4b5c6d7e8f9';

const API: HttpInstanceSummary[] = [
  {
    InstanceId: 'task-b',
    HealthStatus: 'UNHEALTHY',
    Attributes: { AWS_INSTANCE_IPV4: '127.10.0.5', AWS_INSTANCE_PORT: '8080', ECS_TASK_ARN: `${TASK}-b` },
  },
  {
    InstanceId: 'task-a',
    HealthStatus: 'HEALTHY',
    Attributes: {
      AWS_INSTANCE_IPV4: '127.10.0.4',
      AWS_INSTANCE_PORT: '8080',
      AVAILABILITY_ZONE: 'us-east-1a',
      ECS_CLUSTER_NAME: 'kudos',
      ECS_SERVICE_NAME: 'api',
      ECS_TASK_ARN: TASK,
      ECS_TASK_DEFINITION_FAMILY: 'api',
      ECS_TASK_DEFINITION_REVISION: '7',
      ECS_DEPLOYMENT_ID: 'ecs-svc/1234567890123456789',
      ECS_LAUNCH_TYPE: 'FARGATE',
      REGION: 'us-east-1',
      'team.name': 'payments',
    },
  },
];

const WEB: HttpInstanceSummary[] = [
  { InstanceId: 'task-w', HealthStatus: 'HEALTHY', Attributes: { AWS_INSTANCE_IPV6: 'fd00:ec2:0:1::4' } },
];

const handler = () => lookupHandler(testConfig());
const body = (response: { body: string }) => JSON.parse(response.body) as { targets: string[]; labels: object }[];

beforeEach(() => {
  sd.reset();
  sd.on(ListNamespacesCommand).resolves({ Namespaces: [NAMESPACE] });
  sd.on(ListServicesCommand).resolves({
    Services: [
      { Name: 'api', InstanceCount: 2 },
      { Name: 'web', InstanceCount: 1 },
    ],
  });
  sd.on(DiscoverInstancesCommand, { ServiceName: 'api' }).resolves({ InstancesRevision: 3, Instances: API });
  sd.on(DiscoverInstancesCommand, { ServiceName: 'web' }).resolves({ InstancesRevision: 1, Instances: WEB });
  sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 3 });
});

describe('GET /prometheus/targets', () => {
  it("answers one target group per instance of a service, with Cloud Map's and ECS's labels", async () => {
    const response = await handler()(v2Event('/prometheus/targets', 'service=api'));

    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(body(response)).toEqual([
      {
        targets: ['127.10.0.4:8080'],
        labels: {
          __meta_cloudmap_namespace: 'kudos.local',
          __meta_cloudmap_service: 'api',
          __meta_cloudmap_instance_id: 'task-a',
          __meta_cloudmap_health: 'HEALTHY',
          __meta_ecs_cluster: 'kudos',
          __meta_ecs_service: 'api',
          __meta_ecs_task_arn: TASK,
          __meta_ecs_task_definition_family: 'api',
          __meta_ecs_task_definition_revision: '7',
          __meta_ecs_deployment_id: 'ecs-svc/1234567890123456789',
          __meta_ecs_launch_type: 'FARGATE',
          __meta_ecs_availability_zone: 'us-east-1a',
          __meta_cloudmap_attribute_REGION: 'us-east-1',
          __meta_cloudmap_attribute_team_name: 'payments',
        },
      },
      {
        targets: ['127.10.0.5:8080'],
        labels: {
          __meta_cloudmap_namespace: 'kudos.local',
          __meta_cloudmap_service: 'api',
          __meta_cloudmap_instance_id: 'task-b',
          __meta_cloudmap_health: 'UNHEALTHY',
          __meta_ecs_task_arn: `${TASK}-b`,
        },
      },
    ]);
  });

  it('answers every service of the namespace without a service, asking Cloud Map with the health given', async () => {
    const response = await handler()(v2Event('/prometheus/targets', 'health=healthy'));

    expect(response.statusCode).toBe(200);
    expect(body(response).map((group) => group.targets[0])).toEqual([
      '127.10.0.4:8080',
      '127.10.0.5:8080',
      '[fd00:ec2:0:1::4]',
    ]);
    expect(sd.commandCalls(DiscoverInstancesCommand).map((call) => call.args[0].input.HealthStatus)).toEqual([
      'HEALTHY',
      'HEALTHY',
    ]);
  });

  it('answers [] with 200 for a service without instances, as Prometheus requires', async () => {
    sd.on(DiscoverInstancesCommand, { ServiceName: 'api' }).resolves({ InstancesRevision: 4, Instances: [] });
    const response = await handler()(v2Event('/prometheus/targets', 'service=api'));
    expect([response.statusCode, response.body]).toEqual([200, '[]']);
  });

  it('leaves out a service deleted between the listing and its discovery', async () => {
    sd.on(DiscoverInstancesCommand, { ServiceName: 'web' }).rejects(new ServiceNotFound({ message: 'gone', ...meta }));
    const response = await handler()(v2Event('/prometheus/targets'));
    expect(body(response).map((group) => group.targets[0])).toEqual(['127.10.0.4:8080', '127.10.0.5:8080']);
  });

  it('answers 404 for a named service Cloud Map does not know', async () => {
    sd.on(DiscoverInstancesCommand, { ServiceName: 'api' }).rejects(new ServiceNotFound({ message: 'gone', ...meta }));
    const response = await handler()(v2Event('/prometheus/targets', 'service=api'));
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'service-not-found' });
  });

  it.each([
    ['service=a%20b', 400, 'invalid-name'],
    ['namespace=..', 400, 'invalid-name'],
    ['health=sometimes', 400, 'invalid-parameter'],
    ['service=api&service=web', 400, 'repeated-parameter'],
    ['job=api', 400, 'unknown-parameter'],
    ['namespace=other.local', 404, 'namespace-not-found'],
  ])('validates %s as the other routes do: %i %s', async (query, status, error) => {
    const response = await handler()(v2Event('/prometheus/targets', query));
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toMatchObject({ error, message: expect.any(String) });
    if (status === 400) expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(0);
  });

  it('names the allowed parameters of this route when refusing one', async () => {
    const response = await handler()(v2Event('/prometheus/targets', 'job=api'));
    expect(JSON.parse(response.body).message).toMatch(/allowed: namespace, service, health/);
  });

  it('serves repeated polls from memory under one ETag', async () => {
    const lookup = handler();
    const first = await lookup(v2Event('/prometheus/targets', 'service=api'));
    const again = await lookup(v2Event('/prometheus/targets', 'service=api'));
    expect(again.body).toBe(first.body);
    expect(again.headers?.etag).toBe(first.headers?.etag);
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(1);
  });
});

describe('the http_sd mapping', () => {
  it('turns any attribute key into a valid Prometheus label name', () => {
    for (const key of ['team.name', 'a:b/c', '__proto__', 'ÄB', '1st']) {
      expect(attributeLabel(key)).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    }
  });

  it('keeps an attribute named __proto__ as a label', () => {
    const [group] = serviceTargetGroups('kudos.local', 'api', [
      { id: 'i', ipv4: '127.0.0.2', port: 80, health: 'HEALTHY', attributes: JSON.parse('{"__proto__":"x"}') },
    ]);
    expect(Object.keys(group?.labels ?? {})).toContain('__meta_cloudmap_attribute___proto__');
  });

  it('prefers the IPv4 address, brackets an IPv6 one, and leaves out an instance with neither', () => {
    expect(targetOf({ id: 'a', ipv4: '127.0.0.2', ipv6: 'fd00::1', port: 80, health: 'HEALTHY', attributes: {} })).toBe(
      '127.0.0.2:80',
    );
    expect(targetOf({ id: 'b', ipv6: 'fd00::1', port: 80, health: 'HEALTHY', attributes: {} })).toBe('[fd00::1]:80');
    expect(serviceTargetGroups('n', 's', [{ id: 'c', health: 'HEALTHY', attributes: {} }])).toEqual([]);
  });
});

describe('an answer Lambda could not return', () => {
  it('is refused with 400 answer-too-large, naming service= as the way out, instead of failing after the handler', async () => {
    // Lambda's response quota is 6 MB: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    const big = Array.from({ length: 1000 }, (_, i) => ({
      InstanceId: `task-${i}`,
      HealthStatus: 'HEALTHY' as const,
      Attributes: { AWS_INSTANCE_IPV4: '127.10.0.5', AWS_INSTANCE_PORT: '8080', notes: 'x'.repeat(5400) },
    }));
    sd.on(DiscoverInstancesCommand, { ServiceName: 'api' }).resolves({ InstancesRevision: 9, Instances: big });

    const response = await handler()(v2Event('/prometheus/targets', 'service=api'));

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'answer-too-large',
      message: expect.stringContaining('service=NAME'),
    });
  });
});
