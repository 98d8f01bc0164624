import type { EcsService, Task, TaskDefinition } from './model';

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
