import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { EcsTaskSource } from '../../../lib/ecs/ecs-task-source';

/*
 * ECS API Reference, DescribeServices: `services` takes "a list of services you want to describe. You may
 * specify up to 10 services to describe in a single operation"
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html); DescribeServices
 * and ListServices share the "Service read actions" bucket, 100 tokens refilled 20 a second
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html).
 */
const ecs = mockClient(ECSClient);
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/c';

beforeEach(() => ecs.reset());

function task(i: number, service: string): Task {
  return {
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/c/t${i}`,
    clusterArn: CLUSTER,
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    version: 2,
    group: `service:${service}`,
    launchType: 'FARGATE',
  };
}

describe('EcsTaskSource listing at scale', () => {
  it("reads the tags of the listed tasks' services ten services a call, over every page, and serves serviceTags from them", async () => {
    const services = Array.from({ length: 25 }, (_, i) => `svc-${i}`);
    const tasks = services.flatMap((service, s) => [task(s * 2, service), task(s * 2 + 1, service)]);
    const first = tasks.slice(0, 26);
    const second = tasks.slice(26);
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: first.map((t) => t.taskArn ?? ''), nextToken: 'page-2' })
      .resolvesOnce({ taskArns: second.map((t) => t.taskArn ?? '') });
    ecs.on(DescribeTasksCommand).resolvesOnce({ tasks: first }).resolvesOnce({ tasks: second });
    ecs.on(DescribeServicesCommand).callsFake(async (input: { services: string[] }) => ({
      services: input.services.map((serviceName) => ({ serviceName, tags: [{ key: 'team', value: serviceName }] })),
    }));
    const source = new EcsTaskSource(new ECSClient({}), { serviceTagsTtlMs: 60_000 });

    await source.listRunningTasks('c');
    const tags = await Promise.all(services.map((service) => source.serviceTags(CLUSTER, service)));

    const calls = ecs.commandCalls(DescribeServicesCommand).map((call) => call.args[0].input.services ?? []);
    expect(calls.map((names) => names.length)).toEqual([10, 10, 5]);
    expect(calls.flat().sort()).toEqual([...services].sort());
    expect(tags).toEqual(services.map((service) => ({ team: service })));
  });

  it('asks for a service alone when the batched read failed', async () => {
    const tasks = [task(1, 'web')];
    ecs.on(ListTasksCommand).resolves({ taskArns: [tasks[0]?.taskArn ?? ''] });
    ecs.on(DescribeTasksCommand).resolves({ tasks });
    ecs
      .on(DescribeServicesCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ services: [{ serviceName: 'web', tags: [{ key: 'team', value: 'a' }] }] });
    const source = new EcsTaskSource(new ECSClient({}), { serviceTagsTtlMs: 60_000 });

    await source.listRunningTasks('c');
    // The failed batch is forgotten once it has failed.
    await new Promise((resolve) => setImmediate(resolve));

    await expect(source.serviceTags(CLUSTER, 'web')).resolves.toEqual({ team: 'a' });
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(2);
  });

  it('does not read again the services whose tags are cached', async () => {
    const tasks = [task(1, 'web'), task(2, 'api')];
    ecs.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => t.taskArn ?? '') });
    ecs.on(DescribeTasksCommand).resolves({ tasks });
    ecs.on(DescribeServicesCommand).resolves({ services: [] });
    const source = new EcsTaskSource(new ECSClient({}), { serviceTagsTtlMs: 60_000 });

    await source.listRunningTasks('c');
    await source.listRunningTasks('c');

    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  });
});

/*
 * DescribeTasks takes "a list of up to 100 task IDs or full ARN entries"
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html) and shares the "Cluster read
 * actions" bucket (20 a second sustained) with ListTasks: a batch of task events reads ECS once per cluster.
 */
describe('EcsTaskSource describing the tasks of a batch', () => {
  const OTHER = 'arn:aws:ecs:us-east-1:123456789012:cluster/other';

  it('answers describeTask calls made together with one DescribeTasks per cluster, 100 tasks a call', async () => {
    ecs.on(DescribeTasksCommand).callsFake(async (input: { cluster: string; tasks: string[] }) => ({
      tasks: input.tasks.filter((arn) => !arn.endsWith('/gone')).map((taskArn) => ({ ...task(0, 's'), taskArn })),
    }));
    const source = new EcsTaskSource(new ECSClient({}), { serviceTagsTtlMs: 60_000 });
    const arns = Array.from({ length: 150 }, (_, i) => `arn:aws:ecs:us-east-1:123456789012:task/c/t${i}`);
    const [many, other, gone] = await Promise.all([
      Promise.all(arns.map((arn) => source.describeTask(CLUSTER, arn))),
      source.describeTask(OTHER, 'arn:aws:ecs:us-east-1:123456789012:task/other/x'),
      source.describeTask(CLUSTER, 'arn:aws:ecs:us-east-1:123456789012:task/c/gone'),
    ]);
    expect(many.map((t) => t?.taskArn)).toEqual(arns);
    expect(other?.taskArn).toBe('arn:aws:ecs:us-east-1:123456789012:task/other/x');
    expect(gone).toBeUndefined();
    const calls = ecs
      .commandCalls(DescribeTasksCommand)
      .map((c) => [c.args[0].input.cluster, c.args[0].input.tasks?.length]);
    expect(calls).toEqual([
      [CLUSTER, 100],
      [CLUSTER, 51],
      [OTHER, 1],
    ]);
  });

  it('fails every call of a failed DescribeTasks, and answers undefined for a deleted cluster', async () => {
    ecs
      .on(DescribeTasksCommand, { cluster: CLUSTER })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    ecs
      .on(DescribeTasksCommand, { cluster: OTHER })
      .rejects(Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }));
    const source = new EcsTaskSource(new ECSClient({}), { serviceTagsTtlMs: 60_000 });
    const results = await Promise.allSettled([
      source.describeTask(CLUSTER, 'arn:aws:ecs:us-east-1:123456789012:task/c/a'),
      source.describeTask(CLUSTER, 'arn:aws:ecs:us-east-1:123456789012:task/c/b'),
      source.describeTask(OTHER, 'arn:aws:ecs:us-east-1:123456789012:task/other/x'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(results[2]).toEqual({ status: 'fulfilled', value: undefined });
  });
});
