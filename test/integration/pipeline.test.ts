import {
  CreateServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery';
import { createHandler } from '../../functions/lookup';
import { createCloudMapLookupApp } from '../../lib/lookup/lookup-app';
import { fargateService } from '../../support/ecs-setup';
import { KUDOS_CLUSTER, pipelineForTests, withKudosApi } from '../helpers/pipeline-hooks';
import { lambdaContext, testConfig, v2Event } from '../unit/lookup/helpers';

const cluster = KUDOS_CLUSTER;
const pipeline = pipelineForTests(withKudosApi);

/** What ECS runs now: `taskId@ip`, sorted. */
async function runningTasks(service: string): Promise<string[]> {
  const { ecs } = pipeline;
  const arns =
    (await ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' }))).taskArns ?? [];
  if (arns.length === 0) return [];
  const tasks = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks ?? [];
  return tasks
    .filter((t) => t.lastStatus === 'RUNNING')
    .map((t) => {
      const ip = t.attachments?.flatMap((a) => a.details ?? []).find((d) => d.name === 'privateIPv4Address')?.value;
      return `${t.taskArn?.split('/').pop()}@${ip}`;
    })
    .sort();
}

/** What the lookup API answers: `taskId@ip`, sorted, with the port of each. */
async function discovered(service: string): Promise<{ status: number; members: string[]; ports: number[] }> {
  const handler = createHandler(
    createCloudMapLookupApp(testConfig({ namespace: 'kudos.local', cacheIntervalMs: 0 }), pipeline.cloudMap),
  );
  const response = await handler(v2Event(`/services/${service}`, ''), lambdaContext);
  if (response.statusCode !== 200) return { status: response.statusCode, members: [], ports: [] };
  const body = JSON.parse(String(response.body)) as { instances: { id: string; ipv4: string; port: number }[] };
  return {
    status: 200,
    members: body.instances.map((i) => `${i.id}@${i.ipv4}`).sort(),
    ports: body.instances.map((i) => i.port),
  };
}

async function scale(service: string, desiredCount: number): Promise<void> {
  await pipeline.ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount }));
  await pipeline.emulator.idle();
}

describe('the registration pipeline on the local emulator', () => {
  it('shows exactly the running tasks of a service scaled 0 -> 3 -> 1 -> 0', async () => {
    await pipeline.ecs.send(
      new CreateServiceCommand(fargateService({ cluster, serviceName: 'api', taskDefinition: 'api', desiredCount: 0 })),
    );
    await pipeline.emulator.idle();

    await scale('api', 3);
    const three = await runningTasks('api');
    expect(three).toHaveLength(3);
    await expect(discovered('api')).resolves.toEqual({ status: 200, members: three, ports: [8080, 8080, 8080] });

    await scale('api', 1);
    const one = await runningTasks('api');
    expect(one).toHaveLength(1);
    await expect(discovered('api')).resolves.toMatchObject({ members: one });

    await scale('api', 0);
    await expect(discovered('api')).resolves.toMatchObject({ status: 200, members: [] });
  });

  it('registers a standalone task tagged discovery:name and deregisters it when stopped', async () => {
    const { ecs, emulator, cloudMap } = pipeline;
    const run = await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: 'api',
        launchType: 'FARGATE',
        tags: [
          { key: 'discovery:name', value: 'batch' },
          { key: 'discovery:port', value: '9000' },
          { key: 'discovery:attr:team', value: 'kudos' },
        ],
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
      }),
    );
    await emulator.idle();
    const taskArn = run.tasks?.[0]?.taskArn ?? '';
    const found = await cloudMap.send(
      new DiscoverInstancesCommand({ NamespaceName: 'kudos.local', ServiceName: 'batch' }),
    );
    expect(found.Instances?.map((i) => [i.InstanceId, i.Attributes?.AWS_INSTANCE_PORT, i.Attributes?.team])).toEqual([
      [taskArn.split('/').pop(), '9000', 'kudos'],
    ]);
    await ecs.send(new StopTaskCommand({ cluster, task: taskArn }));
    await emulator.idle();
    const after = await cloudMap.send(
      new DiscoverInstancesCommand({ NamespaceName: 'kudos.local', ServiceName: 'batch' }),
    );
    expect(after.Instances).toEqual([]);
  });

  it('leaves an untagged standalone task out of discovery', async () => {
    const { ecs, emulator, outcomes } = pipeline;
    outcomes.length = 0;
    await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: 'api',
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
      }),
    );
    await emulator.idle();
    expect(outcomes).toContainEqual(
      expect.objectContaining({ result: 'skipped', reason: 'standalone-task-without-name' }),
    );
  });
});
