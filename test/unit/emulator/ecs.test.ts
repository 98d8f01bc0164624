import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  type Task,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { BusEvent } from '../../../local/emulator';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

let h: Harness;
let events: BusEvent[];
const network = { awsvpcConfiguration: { subnets: ['subnet-local'], assignPublicIp: 'DISABLED' as const } };

beforeEach(async () => {
  events = [];
  h = await startHarness({
    rules: [{ name: 'all-tasks', pattern: { source: ['aws.ecs'] }, target: async (event) => void events.push(event) }],
  });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'kudos' }));
});
afterEach(() => stopHarness(h));

async function taskDefinition(family = 'api', healthCheck = false): Promise<string> {
  const { taskDefinition } = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      tags: [{ key: 'from', value: 'taskdef' }],
      containerDefinitions: [
        {
          name: 'app',
          image: 'nginx',
          essential: true,
          portMappings: [{ containerPort: 8080 }],
          ...(healthCheck ? { healthCheck: { command: ['CMD-SHELL', 'true'] } } : {}),
        },
      ],
    }),
  );
  return taskDefinition?.taskDefinitionArn ?? '';
}

async function service(desiredCount: number, extra: object = {}): Promise<void> {
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'kudos',
      serviceName: 'api',
      taskDefinition: 'api',
      desiredCount,
      launchType: 'FARGATE',
      networkConfiguration: network,
      ...extra,
    }),
  );
}

async function tasks(desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING'): Promise<Task[]> {
  const { taskArns = [] } = await h.ecs.send(
    new ListTasksCommand({ cluster: 'kudos', serviceName: 'api', desiredStatus }),
  );
  if (taskArns.length === 0) return [];
  return (
    (await h.ecs.send(new DescribeTasksCommand({ cluster: 'kudos', tasks: taskArns, include: ['TAGS'] }))).tasks ?? []
  );
}

const statusesOf = (taskArn: string) =>
  events
    .filter((event) => event.detail.taskArn === taskArn)
    .map((event) => `${event.detail.lastStatus}/${event.detail.desiredStatus}`);

describe('clusters and task definitions', () => {
  it('CreateCluster is idempotent and ListClusters lists ARNs (ECS API Reference, CreateCluster, ListClusters)', async () => {
    const { cluster } = await h.ecs.send(new CreateClusterCommand({ clusterName: 'kudos' }));
    expect(cluster).toMatchObject({
      clusterName: 'kudos',
      status: 'ACTIVE',
      clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/kudos',
    });
    expect((await h.ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([cluster?.clusterArn]);
  });

  it('RegisterTaskDefinition numbers revisions; DescribeTaskDefinition resolves family, family:rev and includes TAGS (ECS API Reference)', async () => {
    await taskDefinition();
    const second = await taskDefinition();
    expect(second).toMatch(/task-definition\/api:2$/);
    const latest = await h.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api', include: ['TAGS'] }));
    expect(latest.taskDefinition).toMatchObject({
      revision: 2,
      networkMode: 'awsvpc',
      compatibilities: ['EC2', 'FARGATE'],
    });
    expect(latest.taskDefinition?.containerDefinitions?.[0]?.portMappings).toEqual([
      { containerPort: 8080, hostPort: 8080, protocol: 'tcp' },
    ]);
    expect(latest.tags).toEqual([{ key: 'from', value: 'taskdef' }]);
    const first = await h.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api:1' }));
    expect(first.taskDefinition?.revision).toBe(1);
    expect((await rejectionOf(h.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope' })))).name).toBe(
      'ClientException',
    );
  });

  it('unknown clusters are ClusterNotFoundException (ECS API Reference, common errors)', async () => {
    expect((await rejectionOf(h.ecs.send(new ListTasksCommand({ cluster: 'nope' })))).name).toBe(
      'ClusterNotFoundException',
    );
  });

  // ECS API Reference, DeleteCluster (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html):
  // the cluster turns INACTIVE and may stay discoverable (DescribeClusters); a cluster with services
  // (ClusterContainsServicesException), active tasks (ClusterContainsTasksException) or registered
  // container instances (ClusterContainsContainerInstancesException) cannot be deleted.
  it('DeleteCluster refuses a cluster with services or active tasks, then leaves it INACTIVE and not found (API Reference, DeleteCluster)', async () => {
    await taskDefinition();
    await service(1);
    await h.emulator.idle();
    const refusal = (await rejectionOf(h.ecs.send(new DeleteClusterCommand({ cluster: 'kudos' })))).name;
    expect(refusal).toBe('ClusterContainsServicesException');

    await h.ecs.send(new UpdateServiceCommand({ cluster: 'kudos', service: 'api', desiredCount: 0 }));
    await h.ecs.send(new DeleteServiceCommand({ cluster: 'kudos', service: 'api' }));
    const { tasks: [standalone] = [] } = await h.ecs.send(
      new RunTaskCommand({
        cluster: 'kudos',
        taskDefinition: 'api',
        launchType: 'FARGATE',
        networkConfiguration: network,
      }),
    );
    await h.emulator.idle();
    expect((await rejectionOf(h.ecs.send(new DeleteClusterCommand({ cluster: 'kudos' })))).name).toBe(
      'ClusterContainsTasksException',
    );

    await h.ecs.send(new StopTaskCommand({ cluster: 'kudos', task: standalone?.taskArn }));
    await h.emulator.idle();
    const { cluster } = await h.ecs.send(new DeleteClusterCommand({ cluster: 'kudos' }));
    expect(cluster).toMatchObject({ clusterName: 'kudos', status: 'INACTIVE' });
    const described = await h.ecs.send(new DescribeClustersCommand({ clusters: ['kudos'] }));
    expect(described.clusters?.[0]).toMatchObject({ clusterName: 'kudos', status: 'INACTIVE' });
    expect((await h.ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
    for (const call of [
      new ListTasksCommand({ cluster: 'kudos', desiredStatus: 'RUNNING' }),
      new DescribeTasksCommand({ cluster: 'kudos', tasks: [standalone?.taskArn ?? ''] }),
      new DeleteClusterCommand({ cluster: 'kudos' }),
    ]) {
      expect((await rejectionOf(h.ecs.send(call as never))).name).toBe('ClusterNotFoundException');
    }

    // The name can be used again: a new, ACTIVE cluster.
    await h.ecs.send(new CreateClusterCommand({ clusterName: 'kudos' }));
    expect((await h.ecs.send(new ListTasksCommand({ cluster: 'kudos' }))).taskArns).toEqual([]);
  });

  it('DeleteCluster refuses a cluster with registered container instances (API Reference, DeleteCluster)', async () => {
    h.emulator.addContainerInstances({ cluster: 'kudos', count: 1 });
    expect((await rejectionOf(h.ecs.send(new DeleteClusterCommand({ cluster: 'kudos' })))).name).toBe(
      'ClusterContainsContainerInstancesException',
    );
  });
});

describe('tasks', () => {
  it('an awsvpc task walks PROVISIONING -> PENDING -> ACTIVATING -> RUNNING with an ENI and a private IPv4 (ECS Developer Guide, task lifecycle; API Reference, Task)', async () => {
    await taskDefinition();
    const run = await h.ecs.send(
      new RunTaskCommand({
        cluster: 'kudos',
        taskDefinition: 'api',
        launchType: 'FARGATE',
        networkConfiguration: network,
        tags: [{ key: 'k', value: 'v' }],
      }),
    );
    const arn = run.tasks?.[0]?.taskArn ?? '';
    expect(run.tasks?.[0]).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      group: 'family:api',
      version: 1,
    });
    await h.emulator.idle();
    const [task] =
      (await h.ecs.send(new DescribeTasksCommand({ cluster: 'kudos', tasks: [arn], include: ['TAGS'] }))).tasks ?? [];
    expect(task).toMatchObject({
      lastStatus: 'RUNNING',
      version: 4,
      tags: [{ key: 'k', value: 'v' }],
      launchType: 'FARGATE',
    });
    const attachment = task?.attachments?.[0];
    expect(attachment).toMatchObject({ type: 'ElasticNetworkInterface', status: 'ATTACHED' });
    const details = Object.fromEntries((attachment?.details ?? []).map((d) => [d.name, d.value]));
    expect(Object.keys(details).sort()).toEqual([
      'macAddress',
      'networkInterfaceId',
      'privateDnsName',
      'privateIPv4Address',
      'subnetId',
    ]);
    expect(details.privateIPv4Address).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(task?.containers?.[0]?.networkInterfaces?.[0]?.privateIpv4Address).toBe(details.privateIPv4Address);
    expect(task?.createdAt).toBeInstanceOf(Date);
    expect(statusesOf(arn)).toEqual([
      'PROVISIONING/RUNNING',
      'PENDING/RUNNING',
      'ACTIVATING/RUNNING',
      'RUNNING/RUNNING',
    ]);
  });

  it('StopTask flips desiredStatus first, then DEACTIVATING -> STOPPING -> DEPROVISIONING -> STOPPED, with stopCode UserInitiated (API Reference, StopTask)', async () => {
    await taskDefinition();
    const run = await h.ecs.send(
      new RunTaskCommand({
        cluster: 'kudos',
        taskDefinition: 'api',
        launchType: 'FARGATE',
        networkConfiguration: network,
      }),
    );
    const arn = run.tasks?.[0]?.taskArn ?? '';
    await h.emulator.idle();
    await h.ecs.send(new StopTaskCommand({ cluster: 'kudos', task: arn, reason: 'done' }));
    await h.emulator.idle();
    expect(statusesOf(arn).slice(4)).toEqual([
      'RUNNING/STOPPED',
      'DEACTIVATING/STOPPED',
      'STOPPING/STOPPED',
      'DEPROVISIONING/STOPPED',
      'STOPPED/STOPPED',
    ]);
    const versions = events.filter((e) => e.detail.taskArn === arn).map((e) => e.detail.version);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [task] = (await h.ecs.send(new DescribeTasksCommand({ cluster: 'kudos', tasks: [arn] }))).tasks ?? [];
    expect(task).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'done', version: 9 });
    expect(task?.attachments?.[0]?.status).toBe('DELETED');
  });

  it('task events are shaped like the real ones in test/fixtures/ecs-events (ECS Developer Guide, task state change events)', async () => {
    await taskDefinition();
    await h.ecs.send(
      new RunTaskCommand({
        cluster: 'kudos',
        taskDefinition: 'api',
        launchType: 'FARGATE',
        networkConfiguration: network,
      }),
    );
    await h.emulator.idle();
    const running = events.find((event) => event.detail.lastStatus === 'RUNNING');
    const fixture = require('../../fixtures/ecs-events/01-fargate-awsvpc-running-standalone-docs.json');
    expect(Object.keys(running ?? {}).sort()).toEqual(Object.keys(fixture).sort());
    for (const key of Object.keys(fixture.detail)) expect(running?.detail).toHaveProperty(key);
    expect(running?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(running?.detail.createdAt).toMatch(/\.\d{3}Z$/);
    expect(running?.detail.attachments).toEqual([expect.objectContaining({ type: 'eni' })]);
  });

  it('containers with a health check report UNKNOWN, then HEALTHY, or UNHEALTHY via the health knob, in DescribeTasks only (API Reference, Container healthStatus)', async () => {
    await taskDefinition('api', true);
    const run = await h.ecs.send(
      new RunTaskCommand({
        cluster: 'kudos',
        taskDefinition: 'api',
        launchType: 'FARGATE',
        networkConfiguration: network,
      }),
    );
    const arn = run.tasks?.[0]?.taskArn ?? '';
    expect(run.tasks?.[0]?.containers?.[0]?.healthStatus).toBe('UNKNOWN');
    await h.emulator.idle();
    const describe = async () =>
      (await h.ecs.send(new DescribeTasksCommand({ cluster: 'kudos', tasks: [arn] }))).tasks?.[0];
    expect((await describe())?.healthStatus).toBe('HEALTHY');
    h.emulator.setTaskHealth({ cluster: 'kudos', taskArn: arn }, 'UNHEALTHY');
    const task = await describe();
    expect(task?.healthStatus).toBe('UNHEALTHY');
    expect(task?.containers?.[0]?.healthStatus).toBe('UNHEALTHY');
    // A health change sends no task state change event and keeps the version (issue 6: events carry no
    // health; the registrar polls DescribeTasks for it).
    const last = events.at(-1)?.detail as { lastStatus?: string; version?: number } | undefined;
    expect(last).toMatchObject({ lastStatus: 'RUNNING', version: task?.version });
    expect(events.filter((e) => (e.detail as { lastStatus?: string }).lastStatus === 'RUNNING')).toHaveLength(1);
  });

  it('awsvpc without networkConfiguration, or FARGATE with a bridge task definition, is InvalidParameterException (API Reference, RunTask)', async () => {
    await taskDefinition();
    const error = await rejectionOf(
      h.ecs.send(new RunTaskCommand({ cluster: 'kudos', taskDefinition: 'api', launchType: 'FARGATE' })),
    );
    expect(error.name).toBe('InvalidParameterException');
    await h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'bridge',
        containerDefinitions: [{ name: 'app', image: 'nginx', memory: 128 }],
      }),
    );
    const fargate = await rejectionOf(
      h.ecs.send(new RunTaskCommand({ cluster: 'kudos', taskDefinition: 'bridge', launchType: 'FARGATE' })),
    );
    expect(fargate.name).toBe('InvalidParameterException');
  });

  it('DescribeTasks reports unknown tasks as failures MISSING (API Reference, DescribeTasks)', async () => {
    const out = await h.ecs.send(
      new DescribeTasksCommand({ cluster: 'kudos', tasks: ['0123456789abcdef0123456789abcdef'] }),
    );
    expect(out.tasks).toEqual([]);
    expect(out.failures?.[0]?.reason).toBe('MISSING');
  });
});

describe('services', () => {
  it('the scheduler keeps desiredCount tasks with group service:NAME and startedBy ecs-svc/..., scaling 0 -> 3 -> 1 -> 0 (Developer Guide, service scheduler; API Reference, UpdateService)', async () => {
    await taskDefinition();
    await service(0);
    expect(await tasks()).toEqual([]);
    await h.ecs.send(new UpdateServiceCommand({ cluster: 'kudos', service: 'api', desiredCount: 3 }));
    await h.emulator.idle();
    const three = await tasks();
    expect(three).toHaveLength(3);
    for (const task of three) {
      expect(task).toMatchObject({ lastStatus: 'RUNNING', group: 'service:api' });
      expect(task.startedBy).toMatch(/^ecs-svc\/\d{19}$/);
    }
    expect(new Set(three.map((t) => t.containers?.[0]?.networkInterfaces?.[0]?.privateIpv4Address)).size).toBe(3);
    await h.ecs.send(new UpdateServiceCommand({ cluster: 'kudos', service: 'api', desiredCount: 1 }));
    await h.emulator.idle();
    expect(await tasks()).toHaveLength(1);
    const stopped = await tasks('STOPPED');
    expect(stopped).toHaveLength(2);
    expect(stopped[0]).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
    expect(stopped[0]?.stoppedReason).toMatch(/^Scaling activity initiated by \(deployment ecs-svc\//);
    await h.ecs.send(new UpdateServiceCommand({ cluster: 'kudos', service: 'api', desiredCount: 0 }));
    await h.emulator.idle();
    expect(await tasks()).toEqual([]);
    const [described] =
      (await h.ecs.send(new DescribeServicesCommand({ cluster: 'kudos', services: ['api'] }))).services ?? [];
    expect(described).toMatchObject({ desiredCount: 0, runningCount: 0, status: 'ACTIVE' });
  });

  it('propagateTags SERVICE copies the service tags to its tasks; DescribeServices include TAGS (API Reference, CreateService propagateTags)', async () => {
    await taskDefinition();
    await service(1, {
      propagateTags: 'SERVICE',
      tags: [{ key: 'registrar', value: 'on' }],
      enableECSManagedTags: true,
    });
    await h.emulator.idle();
    const [task] = await tasks();
    expect(task?.tags).toEqual(
      expect.arrayContaining([
        { key: 'registrar', value: 'on' },
        { key: 'aws:ecs:serviceName', value: 'api' },
      ]),
    );
    const [described] =
      (await h.ecs.send(new DescribeServicesCommand({ cluster: 'kudos', services: ['api'], include: ['TAGS'] })))
        .services ?? [];
    expect(described?.tags).toEqual([{ key: 'registrar', value: 'on' }]);
  });

  it('a stopped service task is replaced (Developer Guide, service scheduler)', async () => {
    await taskDefinition();
    await service(1);
    await h.emulator.idle();
    const [first] = await tasks();
    await h.ecs.send(new StopTaskCommand({ cluster: 'kudos', task: first?.taskArn }));
    await h.emulator.idle();
    const [replacement] = await tasks();
    expect(replacement?.taskArn).not.toBe(first?.taskArn);
    expect(replacement?.lastStatus).toBe('RUNNING');
  });

  it('a service task whose essential container turns UNHEALTHY is stopped and replaced (Developer Guide, container health checks)', async () => {
    await taskDefinition('api', true);
    await service(1);
    await h.emulator.idle();
    const [sick] = await tasks();
    const response = await fetch(`${h.emulator.url}/_local/health`, {
      method: 'POST',
      body: JSON.stringify({ cluster: 'kudos', service: 'api', status: 'UNHEALTHY' }),
    });
    expect(await response.json()).toEqual({ status: 'UNHEALTHY', tasks: [sick?.taskArn] });
    await h.emulator.idle();
    const [replacement] = await tasks();
    expect(replacement?.taskArn).not.toBe(sick?.taskArn);
    expect(replacement?.healthStatus).toBe('HEALTHY');
    const [stopped] = await tasks('STOPPED');
    expect(stopped?.stoppedReason).toBe('Task failed container health checks');
  });

  it('a new task definition rolls the service: new tasks run before old ones stop (API Reference, UpdateService taskDefinition)', async () => {
    await taskDefinition();
    await service(2);
    await h.emulator.idle();
    const v2 = await taskDefinition();
    await h.ecs.send(new UpdateServiceCommand({ cluster: 'kudos', service: 'api', taskDefinition: v2 }));
    await h.emulator.idle();
    const running = await tasks();
    expect(running.map((t) => t.taskDefinitionArn)).toEqual([v2, v2]);
    expect(await tasks('STOPPED')).toHaveLength(2);
  });

  it('DeleteService refuses a scaled-up service unless forced, then drains it (API Reference, DeleteService)', async () => {
    await taskDefinition();
    await service(2);
    await h.emulator.idle();
    const refused = await rejectionOf(h.ecs.send(new DeleteServiceCommand({ cluster: 'kudos', service: 'api' })));
    expect(refused.name).toBe('InvalidParameterException');
    const { service: deleted } = await h.ecs.send(
      new DeleteServiceCommand({ cluster: 'kudos', service: 'api', force: true }),
    );
    expect(deleted?.status).toBe('DRAINING');
    await h.emulator.idle();
    const [after] =
      (await h.ecs.send(new DescribeServicesCommand({ cluster: 'kudos', services: ['api'] }))).services ?? [];
    expect(after?.status).toBe('INACTIVE');
    expect(
      (await rejectionOf(h.ecs.send(new UpdateServiceCommand({ cluster: 'kudos', service: 'api', desiredCount: 1 }))))
        .name,
    ).toBe('ServiceNotActiveException');
    expect(
      (await rejectionOf(h.ecs.send(new UpdateServiceCommand({ cluster: 'kudos', service: 'nope', desiredCount: 1 }))))
        .name,
    ).toBe('ServiceNotFoundException');
  });

  it('ListTasks filters by desiredStatus and paginates (API Reference, ListTasks)', async () => {
    await taskDefinition();
    await service(3);
    const first = await h.ecs.send(new ListTasksCommand({ cluster: 'kudos', serviceName: 'api', maxResults: 2 }));
    expect(first.taskArns).toHaveLength(2);
    const rest = await h.ecs.send(
      new ListTasksCommand({ cluster: 'kudos', serviceName: 'api', maxResults: 2, nextToken: first.nextToken }),
    );
    expect(rest.taskArns).toHaveLength(1);
    expect((await h.ecs.send(new ListTasksCommand({ cluster: 'kudos', desiredStatus: 'STOPPED' }))).taskArns).toEqual(
      [],
    );
    await h.emulator.idle();
  });

  it('TagResource and ListTagsForResource work on tasks (API Reference, TagResource)', async () => {
    await taskDefinition();
    await service(1);
    const [task] = await tasks();
    await h.ecs.send(new TagResourceCommand({ resourceArn: task?.taskArn, tags: [{ key: 'a', value: 'b' }] }));
    expect((await h.ecs.send(new ListTagsForResourceCommand({ resourceArn: task?.taskArn }))).tags).toEqual([
      { key: 'a', value: 'b' },
    ]);
    await h.emulator.idle();
  });
});
