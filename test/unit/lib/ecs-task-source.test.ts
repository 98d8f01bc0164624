import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { EcsTaskSource } from '../../../lib/ecs/ecs-task-source';
import { ClusterNotFoundError } from '../../../lib/errors';

const ecs = mockClient(ECSClient);
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/c/abc';

beforeEach(() => ecs.reset());

describe('EcsTaskSource', () => {
  it('describes a task with its tags, status and version', async () => {
    ecs.on(DescribeTasksCommand, { cluster: 'c', tasks: [TASK], include: ['TAGS'] }).resolves({
      tasks: [
        {
          taskArn: TASK,
          lastStatus: 'RUNNING',
          desiredStatus: 'RUNNING',
          version: 4,
          tags: [{ key: 'discovery:name', value: 'api' }, { key: 'bare' }],
        },
      ],
    });
    await expect(new EcsTaskSource(new ECSClient({})).describeTask('c', TASK)).resolves.toEqual({
      taskArn: TASK,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      version: 4,
      tags: { 'discovery:name': 'api', bare: '' },
    });
  });

  it('answers undefined for a task ECS no longer knows', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: TASK, reason: 'MISSING' }] });
    await expect(new EcsTaskSource(new ECSClient({})).describeTask('c', TASK)).resolves.toBeUndefined();
  });

  // ECS API Reference, DescribeTasks, Errors: ClusterNotFoundException "The specified cluster wasn't found"
  // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html). A deleted cluster runs
  // no task: its tasks are as unknown as a MISSING one, so an event of it never loops through retries and the DLQ.
  it('answers undefined for a task whose cluster ECS does not find (a deleted cluster)', async () => {
    ecs
      .on(DescribeTasksCommand)
      .rejects(Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }));
    await expect(new EcsTaskSource(new ECSClient({})).describeTask('gone', TASK)).resolves.toBeUndefined();
  });

  it('caches a task definition for the life of the container', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: 'td:1',
        family: 'web',
        containerDefinitions: [
          {
            name: 'app',
            portMappings: [{ containerPort: 80, hostPort: 0, name: 'http' }],
            healthCheck: { command: ['CMD', 'true'] },
          },
        ],
      },
    });
    const source = new EcsTaskSource(new ECSClient({}));
    const first = await source.taskDefinition('td:1');
    await source.taskDefinition('td:1');
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
    expect(first).toEqual({
      arn: 'td:1',
      family: 'web',
      networkMode: 'bridge',
      containers: [
        {
          name: 'app',
          essential: true,
          hasHealthCheck: true,
          portMappings: [{ containerPort: 80, hostPort: 0, name: 'http' }],
        },
      ],
    });
  });

  it('caches service tags for the configured time, then reads them again', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'web', tags: [{ key: 'discovery:enabled', value: 'false' }] }] });
    let now = 0;
    const source = new EcsTaskSource(new ECSClient({}), { serviceTagsTtlMs: 1000, now: () => now });
    await expect(source.serviceTags('c', 'web')).resolves.toEqual({ 'discovery:enabled': 'false' });
    now = 999;
    await source.serviceTags('c', 'web');
    now = 1000;
    await source.serviceTags('c', 'web');
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(2);
  });

  // ECS API Reference, ListTasks, Errors: ClusterNotFoundException "The specified cluster wasn't found"
  // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html); a deleted cluster is
  // INACTIVE (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html).
  it('lists the tasks of a cluster ECS does not find as a ClusterNotFoundError naming it', async () => {
    ecs
      .on(ListTasksCommand)
      .rejects(Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }));
    const error = await new EcsTaskSource(new ECSClient({})).listRunningTasks('gone').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterNotFoundError);
    expect(error).toMatchObject({ code: 'cluster-not-found', cluster: 'gone' });
  });

  it('lets other listing failures through unchanged', async () => {
    ecs.on(ListTasksCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(new EcsTaskSource(new ECSClient({})).listRunningTasks('c')).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });
});
