import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery';
import { fargateTaskDefinition } from '../../local/task-definitions';
import { fargateService } from '../../support/ecs-setup';
import { pipelineForTests } from '../helpers/pipeline-hooks';

const pipeline = pipelineForTests(undefined, { containerInstancesPerCluster: 2 });

async function discover(service: string): Promise<Record<string, string>[]> {
  const out = await pipeline.cloudMap.send(
    new DiscoverInstancesCommand({ NamespaceName: 'kudos.local', ServiceName: service }),
  );
  return (out.Instances ?? []).map((i) => ({ id: i.InstanceId ?? '', ...(i.Attributes ?? {}) }));
}

describe('every kind of task on the local emulator', () => {
  it('registers bridge-mode tasks at their container instance address and dynamic host port', async () => {
    const { ecs, emulator } = pipeline;
    await ecs.send(new CreateClusterCommand({ clusterName: 'ec2' }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'legacy',
        networkMode: 'bridge',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [
          {
            name: 'web',
            image: 'nginx',
            memory: 128,
            essential: true,
            portMappings: [{ containerPort: 80, hostPort: 0 }],
          },
        ],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'ec2',
        serviceName: 'legacy',
        taskDefinition: 'legacy',
        desiredCount: 3,
        launchType: 'EC2',
      }),
    );
    await emulator.idle();
    const arns = (await ecs.send(new ListTasksCommand({ cluster: 'ec2', serviceName: 'legacy' }))).taskArns ?? [];
    const tasks = (await ecs.send(new DescribeTasksCommand({ cluster: 'ec2', tasks: arns }))).tasks ?? [];
    const instances = new Map(emulator.containerInstances().map((c) => [c.containerInstanceArn, c.privateIpAddress]));
    const want = tasks
      .map((t) => {
        const binding = t.containers?.[0]?.networkBindings?.find((b) => b.containerPort === 80);
        return `${t.taskArn?.split('/').pop()}@${instances.get(t.containerInstanceArn ?? '')}:${binding?.hostPort}`;
      })
      .sort();
    const got = (await discover('legacy')).map((i) => `${i.id}@${i.AWS_INSTANCE_IPV4}:${i.AWS_INSTANCE_PORT}`).sort();
    expect(got).toHaveLength(3);
    expect(got).toEqual(want);
    expect(got.every((g) => Number(g.split(':').pop()) >= 32768)).toBe(true);

    await ecs.send(new UpdateServiceCommand({ cluster: 'ec2', service: 'legacy', desiredCount: 0 }));
    await emulator.idle();
    await expect(discover('legacy')).resolves.toEqual([]);
  });

  it('registers a dual-stack task with its IPv6 address beside the IPv4', async () => {
    const { ecs, emulator } = pipeline;
    await ecs.send(new CreateClusterCommand({ clusterName: 'dual' }));
    await ecs.send(
      new RegisterTaskDefinitionCommand(
        fargateTaskDefinition('dual', [
          { name: 'app', image: 'nginx', essential: true, portMappings: [{ containerPort: 8080 }] },
        ]),
      ),
    );
    await ecs.send(
      new RunTaskCommand({
        cluster: 'dual',
        taskDefinition: 'dual',
        launchType: 'FARGATE',
        tags: [{ key: 'discovery:name', value: 'dual' }],
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-dualstack-a'] } },
      }),
    );
    await emulator.idle();
    const [instance] = await discover('dual');
    expect(instance?.AWS_INSTANCE_IPV4).toMatch(/^127\.\d+\./);
    expect(instance?.AWS_INSTANCE_IPV6).toMatch(/^fd00:/);
  });

  it('registers each named port in a service of its own and removes them all on stop', async () => {
    const { ecs, emulator } = pipeline;
    await ecs.send(new CreateClusterCommand({ clusterName: 'ports' }));
    await ecs.send(
      new RegisterTaskDefinitionCommand(
        fargateTaskDefinition('gateway', [
          {
            name: 'gateway',
            image: 'envoy',
            essential: true,
            portMappings: [
              { containerPort: 8080, name: 'http' },
              { containerPort: 9901, name: 'admin' },
            ],
          },
        ]),
      ),
    );
    await ecs.send(
      new CreateServiceCommand(
        fargateService({ cluster: 'ports', serviceName: 'gateway', taskDefinition: 'gateway', desiredCount: 1 }),
      ),
    );
    await emulator.idle();
    expect((await discover('gateway')).map((i) => i.AWS_INSTANCE_PORT)).toEqual(['8080']);
    expect((await discover('gateway-http')).map((i) => i.AWS_INSTANCE_PORT)).toEqual(['8080']);
    expect((await discover('gateway-admin')).map((i) => [i.AWS_INSTANCE_PORT, i.ECS_PORT_NAME])).toEqual([
      ['9901', 'admin'],
    ]);
    await ecs.send(new UpdateServiceCommand({ cluster: 'ports', service: 'gateway', desiredCount: 0 }));
    await emulator.idle();
    for (const name of ['gateway', 'gateway-http', 'gateway-admin']) await expect(discover(name)).resolves.toEqual([]);
  });
});
