import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { ListInstancesCommand, ListNamespacesCommand, ListServicesCommand } from '@aws-sdk/client-servicediscovery';
import { loadReconcileConfig } from '../../lib/config';
import { reconcile } from '../../lib/reconcile';
import { LEAVING_OVERRULE_AFTER_MS } from '../../lib/registrar';
import { createRegistrarDeps } from '../../lib/registrar-runtime';
import { fargateService, registerApp } from '../../support/ecs-setup';
import { startPipeline } from '../../support/pipeline';

/**
 * A leaving event that ECS contradicts, end to end: the emulator's ECS runs the task, a forged "STOPPED"
 * event goes through the real rule to the real register function (which trusts it and deregisters), and
 * reconcile, reading ECS, repairs the task table (dynalite) and Cloud Map once the mark is old enough.
 * ECS never moves a task from desired STOPPED back to RUNNING, and its reads are eventually consistent
 * ("up to five minutes", https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html):
 * hence the threshold, which this test passes by dating the mark back rather than by waiting.
 */

let pipeline: Awaited<ReturnType<typeof startPipeline>>;
let dynamo: DynamoDBClient;
const CLUSTER = 'forged';

beforeAll(async () => {
  pipeline = await startPipeline();
  dynamo = new DynamoDBClient({
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await registerApp(pipeline.ecs, 'web', { portMappings: [{ containerPort: 80 }] }, CLUSTER);
  await pipeline.ecs.send(
    new CreateServiceCommand(
      fargateService({ cluster: CLUSTER, serviceName: 'web', taskDefinition: 'web', desiredCount: 1 }),
    ),
  );
  await pipeline.emulator.idle();
});
afterAll(async () => {
  dynamo.destroy();
  await pipeline.stop();
});

const deps = () => createRegistrarDeps(loadReconcileConfig());
const run = () => reconcile(deps(), { maxDeletes: 50, clusters: [CLUSTER] });

async function instanceIds(): Promise<string[]> {
  const namespaces = await pipeline.cloudMap.send(new ListNamespacesCommand({}));
  const namespaceId = namespaces.Namespaces?.find((n) => n.Name === 'kudos.local')?.Id ?? '';
  const services = await pipeline.cloudMap.send(
    new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [namespaceId], Condition: 'EQ' }] }),
  );
  const serviceId = services.Services?.find((s) => s.Name === 'web')?.Id;
  if (!serviceId) return [];
  const out = await pipeline.cloudMap.send(new ListInstancesCommand({ ServiceId: serviceId }));
  return (out.Instances ?? []).map((i) => i.Id ?? '').sort();
}

async function theTask() {
  const arns = (await pipeline.ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus: 'RUNNING' }))).taskArns;
  const tasks = (await pipeline.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns ?? [] }))).tasks;
  const [task] = tasks ?? [];
  if (!task?.taskArn) throw new Error('the service runs no task');
  return { ...task, taskArn: task.taskArn };
}

/** The task table's record of the task, as stored. */
async function record(taskArn: string) {
  const out = await dynamo.send(
    new GetItemCommand({ TableName: process.env.TASK_TABLE, Key: { taskArn: { S: taskArn } }, ConsistentRead: true }),
  );
  return out.Item;
}

describe('a leaving event that ECS contradicts', () => {
  it('is repaired by one reconcile run once its mark is older than the threshold, and not before', async () => {
    const task = await theTask();
    const taskId = task.taskArn.split('/').pop() ?? '';
    expect(await instanceIds()).toEqual([taskId]);

    // A leaving event ECS never sent, on the bus as ECS's own would be: the register function trusts it.
    const detail = JSON.parse(JSON.stringify(task));
    pipeline.emulator.publish({
      version: '0',
      id: 'forged-stop',
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      account: task.taskArn.split(':')[4] ?? '',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [task.taskArn],
      detail: { ...detail, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: (task.version ?? 1) + 1 },
    });
    await pipeline.emulator.idle();
    expect(await instanceIds()).toEqual([]);
    expect((await record(task.taskArn))?.state?.S).toBe('leaving');
    expect((await theTask()).lastStatus).toBe('RUNNING');

    // A fresh mark stands: an ECS read this soon might not show a real stop yet.
    await expect(run()).resolves.toMatchObject({ registered: 0 });
    expect(await instanceIds()).toEqual([]);

    // The threshold has passed (the mark is dated back instead of waiting ten minutes).
    await dynamo.send(
      new UpdateItemCommand({
        TableName: process.env.TASK_TABLE,
        Key: { taskArn: { S: task.taskArn } },
        UpdateExpression: 'SET leavingMarkedAt = :at',
        ExpressionAttributeValues: { ':at': { N: String(Date.now() - LEAVING_OVERRULE_AFTER_MS - 1000) } },
      }),
    );
    await expect(run()).resolves.toMatchObject({ registered: 1 });
    expect(await instanceIds()).toEqual([taskId]);
    const repaired = await record(task.taskArn);
    expect(repaired?.state?.S).toBe('running');
    expect(repaired).not.toHaveProperty('cleared');
    expect(repaired).not.toHaveProperty('leavingMarkedAt');

    // The repair does not outlive the task: its real stop still deregisters it.
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', desiredCount: 0 }));
    await pipeline.emulator.idle();
    expect(await instanceIds()).toEqual([]);
  });
});
