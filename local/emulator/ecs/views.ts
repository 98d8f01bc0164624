import { type Protocol, RESERVED_PORTS, staticHostPorts } from './host-ports';
import type { ContainerInstance, EcsService, Task, TaskDefinition } from './model';

/** The agent version every emulated container instance reports. */
const AGENT_VERSION = '1.89.0';

/** DescribeTaskDefinition's `taskDefinition` (Amazon ECS API Reference, TaskDefinition). */
export function describeTaskDefinition(definition: TaskDefinition, accountId: string): Record<string, unknown> {
  return {
    ...definition.extra,
    taskDefinitionArn: definition.arn,
    containerDefinitions: definition.containerDefinitions,
    family: definition.family,
    networkMode: definition.networkMode,
    revision: definition.revision,
    volumes: definition.extra.volumes ?? [],
    status: definition.status,
    requiresAttributes: [],
    placementConstraints: [],
    compatibilities: definition.compatibilities,
    requiresCompatibilities: definition.requiresCompatibilities,
    cpu: definition.cpu,
    memory: definition.memory,
    registeredAt: definition.registeredAt,
    registeredBy: `arn:aws:iam::${accountId}:root`,
  };
}

/** DescribeServices' element (Amazon ECS API Reference, Service); counts come from the live tasks. */
export function describeService(service: EcsService, liveTasks: Task[], includeTags: boolean): Record<string, unknown> {
  const primary = service.deployments[0];
  const running = liveTasks.filter((task) => task.lastStatus === 'RUNNING');
  const pending = liveTasks.filter((task) => task.lastStatus !== 'RUNNING');
  return {
    ...service.extra,
    serviceArn: service.arn,
    serviceName: service.name,
    clusterArn: service.cluster.arn,
    loadBalancers: service.extra.loadBalancers ?? [],
    serviceRegistries: service.extra.serviceRegistries ?? [],
    status: service.status,
    desiredCount: service.desiredCount,
    runningCount: running.length,
    pendingCount: pending.length,
    launchType: service.launchType,
    platformVersion: service.launchType === 'FARGATE' ? 'LATEST' : undefined,
    taskDefinition: primary?.taskDefinition.arn,
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: false, rollback: false },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    deployments: service.deployments.map((deployment) => {
      const tasks = liveTasks.filter((task) => task.startedBy === deployment.id);
      return {
        id: deployment.id,
        status: deployment.status,
        taskDefinition: deployment.taskDefinition.arn,
        desiredCount: deployment.status === 'PRIMARY' ? service.desiredCount : tasks.length,
        pendingCount: tasks.filter((task) => task.lastStatus !== 'RUNNING').length,
        runningCount: tasks.filter((task) => task.lastStatus === 'RUNNING').length,
        failedTasks: 0,
        createdAt: deployment.createdAt,
        updatedAt: deployment.updatedAt,
        launchType: service.launchType,
        networkConfiguration: service.networkConfiguration,
        rolloutState: tasks.every((task) => task.lastStatus === 'RUNNING') ? 'COMPLETED' : 'IN_PROGRESS',
      };
    }),
    events: service.events,
    createdAt: service.createdAt,
    placementConstraints: [],
    placementStrategy: [],
    networkConfiguration: service.networkConfiguration,
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    enableECSManagedTags: service.enableECSManagedTags,
    propagateTags: service.propagateTags,
    enableExecuteCommand: false,
    tags: includeTags ? service.tags : undefined,
  };
}

/**
 * DescribeContainerInstances' element (Amazon ECS API Reference, ContainerInstance). Remaining CPU and
 * memory are what the live tasks leave; the emulator reports them but places on ports alone.
 */
export function describeContainerInstance(
  instance: ContainerInstance,
  tasks: Task[],
  includeTags: boolean,
): Record<string, unknown> {
  const live = tasks.filter((task) => task.containerInstance === instance && task.lastStatus !== 'STOPPED');
  const cpu = live.reduce((sum, task) => sum + Number(task.taskDefinition.cpu ?? 0), 0);
  const memory = live.reduce((sum, task) => sum + Number(task.taskDefinition.memory ?? 0), 0);
  const reserved = (protocol: Protocol) =>
    [...live.flatMap((task) => staticHostPorts(task.taskDefinition))]
      .filter((binding) => binding.protocol === protocol)
      .map((binding) => String(binding.port));
  const resources = (remaining: boolean) => [
    integer('CPU', remaining ? Math.max(0, instance.cpu - cpu) : instance.cpu),
    integer('MEMORY', remaining ? Math.max(0, instance.memory - memory) : instance.memory),
    stringSet('PORTS', [...RESERVED_PORTS.map(String), ...(remaining ? reserved('tcp') : [])]),
    stringSet('PORTS_UDP', remaining ? reserved('udp') : []),
  ];
  return {
    containerInstanceArn: instance.arn,
    ec2InstanceId: instance.ec2InstanceId,
    version: instance.version,
    versionInfo: { agentVersion: AGENT_VERSION, agentHash: 'emulated', dockerVersion: 'DockerVersion: 25.0.8' },
    remainingResources: resources(true),
    registeredResources: resources(false),
    status: instance.status,
    agentConnected: instance.agentConnected,
    runningTasksCount: live.filter((task) => task.lastStatus === 'RUNNING').length,
    pendingTasksCount: live.filter((task) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(task.lastStatus))
      .length,
    attributes: instance.attributes,
    registeredAt: instance.registeredAt,
    attachments: [],
    tags: includeTags ? instance.tags : undefined,
  };
}

function integer(name: string, value: number): Record<string, unknown> {
  return { name, type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: value };
}

function stringSet(name: string, values: string[]): Record<string, unknown> {
  return { name, type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: values };
}
