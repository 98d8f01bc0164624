import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  type NetworkMode,
  type PortMapping,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import type { BusEvent, EmulatorOptions } from '../../../local/emulator';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

let h: Harness;
let events: BusEvent[];

async function start(options: EmulatorOptions = {}): Promise<void> {
  events = [];
  h = await startHarness({
    rules: [{ name: 'all-tasks', pattern: { source: ['aws.ecs'] }, target: async (event) => void events.push(event) }],
    ...options,
  });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'web' }));
}
afterEach(() => stopHarness(h));

async function taskDefinition(family: string, networkMode: NetworkMode, portMappings: PortMapping[]): Promise<void> {
  await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode,
      requiresCompatibilities: ['EC2'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'web', image: 'nginx', portMappings }],
    }),
  );
}

async function describeTasks(arns: string[]): Promise<Task[]> {
  if (arns.length === 0) return [];
  return (await h.ecs.send(new DescribeTasksCommand({ cluster: 'web', tasks: arns }))).tasks ?? [];
}

async function running(serviceName?: string): Promise<Task[]> {
  const { taskArns = [] } = await h.ecs.send(new ListTasksCommand({ cluster: 'web', serviceName }));
  return describeTasks(taskArns);
}

const hostPorts = (tasks: Task[]) =>
  tasks.flatMap((task) => task.containers?.flatMap((c) => c.networkBindings?.map((b) => b.hostPort)) ?? []);

describe('container instances', () => {
  it('containerInstancesPerCluster gives every new cluster that many container instances, each on an EC2 instance in an AZ (ECS API Reference, ListContainerInstances, DescribeContainerInstances)', async () => {
    await start({ containerInstancesPerCluster: 2 });
    const { containerInstanceArns = [] } = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'web' }));
    expect(containerInstanceArns).toHaveLength(2);
    const unknown = '0123456789abcdef0123456789abcdef';
    const out = await h.ecs.send(
      new DescribeContainerInstancesCommand({
        cluster: 'web',
        containerInstances: [...containerInstanceArns, unknown],
      }),
    );
    expect(out.failures).toEqual([
      { arn: `arn:aws:ecs:us-east-1:000000000000:container-instance/web/${unknown}`, reason: 'MISSING' },
    ]);
    const zones = new Set<string>();
    for (const instance of out.containerInstances ?? []) {
      expect(instance.containerInstanceArn).toMatch(
        /^arn:aws:ecs:us-east-1:000000000000:container-instance\/web\/[0-9a-f]{32}$/,
      );
      expect(instance).toMatchObject({ status: 'ACTIVE', agentConnected: true, runningTasksCount: 0 });
      expect(instance.ec2InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
      const zone = instance.attributes?.find((a) => a.name === 'ecs.availability-zone')?.value ?? '';
      expect(zone).toMatch(/^us-east-1[a-f]$/);
      zones.add(zone);
    }
    expect(zones.size).toBe(2);
    // Ids work as well as ARNs.
    const byId = containerInstanceArns.map((arn) => arn.split('/').pop() ?? '');
    const again = await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'web', containerInstances: byId }));
    expect(again.containerInstances?.map((i) => i.containerInstanceArn)).toEqual(containerInstanceArns);
  });

  it('RegisterContainerInstance registers the EC2 instance its identity document names, with custom attributes that ListContainerInstances can filter on (ECS API Reference, RegisterContainerInstance, ListContainerInstances filter)', async () => {
    await start();
    const { containerInstance } = await h.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: 'web',
        instanceIdentityDocument: JSON.stringify({
          instanceId: 'i-0aaaabbbbccccdddd',
          privateIp: '10.9.8.7',
          availabilityZone: 'us-east-1c',
          instanceType: 'm5.large',
          region: 'us-east-1',
        }),
        instanceIdentityDocumentSignature: 'unchecked',
        attributes: [{ name: 'stack', value: 'blue' }],
      }),
    );
    expect(containerInstance).toMatchObject({ ec2InstanceId: 'i-0aaaabbbbccccdddd', status: 'ACTIVE' });
    expect(containerInstance?.attributes).toEqual(
      expect.arrayContaining([
        { name: 'ecs.availability-zone', value: 'us-east-1c' },
        { name: 'ecs.instance-type', value: 'm5.large' },
        { name: 'stack', value: 'blue' },
      ]),
    );
    h.emulator.addContainerInstances({ cluster: 'web', count: 1 });
    const list = async (filter: string) =>
      (await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'web', filter }))).containerInstanceArns;
    expect(await list('attribute:stack == blue')).toEqual([containerInstance?.containerInstanceArn]);
    expect(await list('attribute:ecs.availability-zone == us-east-1c and attribute:stack exists')).toHaveLength(1);
    expect(
      (await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'web' }))).containerInstanceArns,
    ).toHaveLength(2);
    // The agent registering the same EC2 instance again gets the same container instance back.
    const again = await h.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: 'web',
        instanceIdentityDocument: JSON.stringify({ instanceId: 'i-0aaaabbbbccccdddd' }),
      }),
    );
    expect(again.containerInstance?.containerInstanceArn).toBe(containerInstance?.containerInstanceArn);
  });

  it('the container-instances knob adds instances over HTTP and lists them with their private IPs', async () => {
    await start();
    const post = await fetch(`${h.emulator.url}/_local/container-instances`, {
      method: 'POST',
      body: JSON.stringify({ cluster: 'web', count: 2, subnets: ['subnet-a', 'subnet-dualstack-b'] }),
    });
    const { added } = (await post.json()) as { added: Record<string, string>[] };
    expect(added).toHaveLength(2);
    expect(added[0]).toMatchObject({ cluster: 'web', subnetId: 'subnet-a', status: 'ACTIVE' });
    expect(added[0]?.privateIpAddress).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(added[0]?.ipv6Address).toBeUndefined();
    expect(added[1]?.ipv6Address).toMatch(/^fd00:ec2:/);
    const listed = (await (await fetch(`${h.emulator.url}/_local/container-instances`)).json()) as {
      containerInstances: unknown[];
    };
    expect(listed.containerInstances).toEqual(added);
    const bad = await fetch(`${h.emulator.url}/_local/container-instances`, {
      method: 'POST',
      body: JSON.stringify({ cluster: 'web', count: 0 }),
    });
    expect(bad.status).toBe(400);
  });
});

describe('EC2 launch type', () => {
  it('bridge mode: a mapping without hostPort (or 0) gets the next free dynamic host port from 32768-60999, unique on its container instance (ECS Developer Guide, task networking: bridge mode dynamic host ports; ECS API Reference, PortMapping hostPort)', async () => {
    await start({ containerInstancesPerCluster: 1 });
    await taskDefinition('web', 'bridge', [
      { containerPort: 80 },
      { containerPort: 9090, hostPort: 0, name: 'metrics' },
    ]);
    const run = await h.ecs.send(
      new RunTaskCommand({ cluster: 'web', taskDefinition: 'web', launchType: 'EC2', count: 3 }),
    );
    expect(run.failures).toEqual([]);
    const [first] = run.tasks ?? [];
    expect(first?.containerInstanceArn).toMatch(/:container-instance\/web\/[0-9a-f]{32}$/);
    expect(first?.attachments).toEqual([]);
    // Bindings are reported once the containers run, not while the task is provisioning.
    expect(first?.containers?.[0]?.networkBindings).toBeUndefined();
    await h.emulator.idle();
    const tasks = await describeTasks((run.tasks ?? []).map((task) => task.taskArn ?? ''));
    const ports = hostPorts(tasks);
    expect(ports).toHaveLength(6);
    expect(new Set(ports).size).toBe(6);
    expect([...ports].sort()).toEqual([32768, 32769, 32770, 32771, 32772, 32773]);
    const bindings = tasks[0]?.containers?.[0]?.networkBindings ?? [];
    expect(bindings).toEqual([
      { bindIP: '0.0.0.0', containerPort: 80, hostPort: expect.any(Number), protocol: 'tcp' },
      { bindIP: '0.0.0.0', containerPort: 9090, hostPort: expect.any(Number), protocol: 'tcp' },
    ]);
    expect(tasks[0]).toMatchObject({
      launchType: 'EC2',
      lastStatus: 'RUNNING',
      containerInstanceArn: first?.containerInstanceArn,
    });
  });

  it('task events carry containerInstanceArn throughout and networkBindings once containers are RUNNING, shaped like the written fixture ec2-bridge-running-service.json (ECS Developer Guide, task state change events)', async () => {
    await start({ containerInstancesPerCluster: 1 });
    await taskDefinition('web', 'bridge', [{ containerPort: 80 }]);
    await h.ecs.send(
      new CreateServiceCommand({ cluster: 'web', serviceName: 'web', taskDefinition: 'web', desiredCount: 1 }),
    );
    await h.emulator.idle();
    const byStatus: Record<string, Record<string, unknown>> = Object.fromEntries(
      events.map((event) => [String(event.detail.lastStatus), event.detail]),
    );
    expect(Object.keys(byStatus)).toEqual(['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING']);
    for (const detail of Object.values(byStatus)) expect(detail.containerInstanceArn).toMatch(/container-instance/);
    const containersOf = (status: string) => byStatus[status]?.containers as Record<string, unknown>[];
    expect(containersOf('PROVISIONING')?.[0]).not.toHaveProperty('networkBindings');
    expect(containersOf('PENDING')?.[0]).not.toHaveProperty('networkBindings');
    expect(containersOf('RUNNING')?.[0]?.networkBindings).toEqual([
      { bindIP: '0.0.0.0', containerPort: 80, hostPort: 32768, protocol: 'tcp' },
    ]);
    const fixture = require('../../fixtures/written/ec2-bridge-running-service.json');
    for (const key of Object.keys(fixture.detail)) expect(byStatus.RUNNING).toHaveProperty(key);
    expect(byStatus.RUNNING?.attachments).toEqual([]);
  });

  it('host mode binds hostPort = containerPort; a task whose port is taken everywhere fails with RESOURCE:PORTS (ECS Developer Guide, task networking: host mode; API failure reasons)', async () => {
    await start({ containerInstancesPerCluster: 2 });
    await taskDefinition('web', 'host', [{ containerPort: 8080, name: 'http' }]);
    const run = await h.ecs.send(new RunTaskCommand({ cluster: 'web', taskDefinition: 'web', count: 3 }));
    expect(run.tasks).toHaveLength(2);
    expect(new Set(run.tasks?.map((task) => task.containerInstanceArn)).size).toBe(2);
    expect(run.failures).toHaveLength(2);
    expect(run.failures?.[0]?.reason).toBe('RESOURCE:PORTS');
    await h.emulator.idle();
    const tasks = await describeTasks((run.tasks ?? []).map((task) => task.taskArn ?? ''));
    for (const task of tasks) {
      expect(task.containers?.[0]?.networkBindings).toEqual([
        { bindIP: '0.0.0.0', containerPort: 8080, hostPort: 8080, protocol: 'tcp' },
      ]);
    }
    const { containerInstances = [] } = await h.ecs.send(
      new DescribeContainerInstancesCommand({
        cluster: 'web',
        containerInstances: (run.tasks ?? []).map((task) => task.containerInstanceArn ?? ''),
      }),
    );
    for (const instance of containerInstances) {
      expect(instance.runningTasksCount).toBe(1);
      const ports = instance.remainingResources?.find((r) => r.name === 'PORTS')?.stringSetValue;
      expect(ports).toEqual(expect.arrayContaining(['22', '8080']));
      expect(instance.remainingResources?.find((r) => r.name === 'CPU')?.integerValue).toBe(2048 - 256);
    }
  });

  it('a host-mode service task’s RUNNING event is shaped like the written fixture ec2-host-running-service.json (ECS Developer Guide, task state change events)', async () => {
    await start({ containerInstancesPerCluster: 1 });
    await taskDefinition('webserver', 'host', [{ containerPort: 80 }]);
    await h.ecs.send(
      new CreateServiceCommand({
        cluster: 'web',
        serviceName: 'webserver',
        taskDefinition: 'webserver',
        desiredCount: 1,
      }),
    );
    await h.emulator.idle();
    const running = events.find((event) => event.detail.lastStatus === 'RUNNING')?.detail ?? {};
    const fixture = require('../../fixtures/written/ec2-host-running-service.json');
    for (const key of Object.keys(fixture.detail)) {
      // The fixture's task came from an Auto Scaling group capacity provider; the emulator places by launch type.
      if (key !== 'capacityProviderName') expect(running).toHaveProperty(key);
    }
    expect(running).toMatchObject({ attachments: [], group: 'service:webserver', launchType: 'EC2' });
    const [container] = running.containers as Record<string, unknown>[];
    expect(container).toMatchObject({
      networkInterfaces: [],
      networkBindings: [{ bindIP: '0.0.0.0', containerPort: 80, hostPort: 80, protocol: 'tcp' }],
    });
  });

  it('RunTask with launchType EC2 in a cluster without container instances is InvalidParameterException (ECS API Reference, RunTask)', async () => {
    await start();
    await taskDefinition('web', 'bridge', [{ containerPort: 80 }]);
    const error = await rejectionOf(h.ecs.send(new RunTaskCommand({ cluster: 'web', taskDefinition: 'web' })));
    expect(error.name).toBe('InvalidParameterException');
    expect(error.message).toBe('No Container Instances were found in your cluster.');
  });

  it('a service waits for capacity, logging why, and is placed as container instances register; a stopped task frees its host port (ECS Developer Guide, service scheduler and service event messages)', async () => {
    await start();
    await taskDefinition('web', 'host', [{ containerPort: 8080 }]);
    await h.ecs.send(
      new CreateServiceCommand({ cluster: 'web', serviceName: 'web', taskDefinition: 'web', desiredCount: 2 }),
    );
    const service = async () =>
      (await h.ecs.send(new DescribeServicesCommand({ cluster: 'web', services: ['web'] }))).services?.[0];
    expect((await service())?.events?.[0]?.message).toMatch(
      /^\(service web\) was unable to place a task because no container instance met all of its requirements\. Reason: No Container Instances were found in your cluster\.$/,
    );
    h.emulator.addContainerInstances({ cluster: 'web', count: 1 });
    await h.emulator.idle();
    expect(await running('web')).toHaveLength(1);
    expect((await service())?.events?.[0]?.message).toMatch(/is already using a port required by your task\.$/);
    h.emulator.addContainerInstances({ cluster: 'web', count: 1 });
    await h.emulator.idle();
    const placed = await running('web');
    expect(placed).toHaveLength(2);
    expect((await service())?.runningCount).toBe(2);
    const victim = placed[0];
    await h.ecs.send(new StopTaskCommand({ cluster: 'web', task: victim?.taskArn }));
    await h.emulator.idle();
    const after = await running('web');
    expect(after).toHaveLength(2);
    const replacement = after.find((task) => task.taskArn !== placed[1]?.taskArn);
    expect(replacement?.taskArn).not.toBe(victim?.taskArn);
    expect(replacement?.containerInstanceArn).toBe(victim?.containerInstanceArn);
    expect(replacement?.containers?.[0]?.networkBindings?.[0]?.hostPort).toBe(8080);
  });

  it('an awsvpc task on EC2 gets a container instance in its subnet’s AZ and an ENI, but no networkBindings (ECS Developer Guide, task networking: awsvpc; fixture 12)', async () => {
    await start();
    const [instance] = h.emulator.addContainerInstances({ cluster: 'web', count: 1, subnets: ['subnet-private-a'] });
    await taskDefinition('web', 'awsvpc', [{ containerPort: 8080 }]);
    const run = await h.ecs.send(
      new RunTaskCommand({
        cluster: 'web',
        taskDefinition: 'web',
        launchType: 'EC2',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-private-a'] } },
      }),
    );
    await h.emulator.idle();
    const [task] = await describeTasks([run.tasks?.[0]?.taskArn ?? '']);
    expect(task?.containerInstanceArn).toBe(instance?.containerInstanceArn);
    expect(task?.availabilityZone).toBe(instance?.availabilityZone);
    expect(task?.attachments?.[0]?.type).toBe('ElasticNetworkInterface');
    expect(task?.containers?.[0]?.networkBindings).toBeUndefined();
    expect(task?.containers?.[0]?.networkInterfaces?.[0]?.privateIpv4Address).not.toBe(instance?.privateIpAddress);
  });
});
