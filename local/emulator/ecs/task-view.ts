import { randomUUID } from '../random';
import type { Task } from './model';

/**
 * The two faces of a task: the DescribeTasks element (timestamps as Dates, serialized as epoch seconds;
 * ENI attachment type `ElasticNetworkInterface`) and the `detail` of an "ECS Task State Change" event
 * (ISO timestamps; attachment type `eni`), as in the Amazon ECS API Reference (Task) and the ECS
 * Developer Guide ("Amazon ECS task state change events").
 */
export function describeTask(task: Task, includeTags: boolean): Record<string, unknown> {
  const body = taskBody(task, 'ElasticNetworkInterface');
  return includeTags ? { ...body, tags: task.tags.map((tag) => ({ ...tag })) } : body;
}

/** The full EventBridge event for the task's current state. */
export function taskStateChangeEvent(task: Task, account: string, region: string): Record<string, unknown> {
  const now = task.updatedAt;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account,
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [task.arn],
    detail: isoDates(taskBody(task, 'eni')),
  };
}

function taskBody(task: Task, attachmentType: string): Record<string, unknown> {
  const fargate = task.launchType === 'FARGATE';
  return {
    attachments: task.eni ? [eniAttachment(task, attachmentType)] : [],
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: task.availabilityZone,
    capacityProviderName: fargate ? 'FARGATE' : undefined,
    clusterArn: task.cluster.arn,
    connectivity: task.connectivityAt ? 'CONNECTED' : undefined,
    connectivityAt: task.connectivityAt,
    containerInstanceArn: task.containerInstance?.arn,
    containers: task.containers.map((container) => ({
      containerArn: container.arn,
      exitCode: container.exitCode,
      lastStatus: container.lastStatus,
      name: container.name,
      reason: container.reason,
      image: container.image,
      imageDigest: container.imageDigest,
      runtimeId: container.runtimeId,
      taskArn: task.arn,
      // The agent reports bindings once the container runs (Amazon ECS API Reference, PortMapping).
      networkBindings: container.runtimeId === undefined ? undefined : container.networkBindings,
      networkInterfaces: task.eni
        ? [
            {
              attachmentId: task.eni.attachmentId,
              privateIpv4Address: task.eni.privateIPv4Address,
              ipv6Address: task.eni.ipv6Address,
            },
          ]
        : [],
      healthStatus: container.healthStatus,
      cpu: container.cpu,
      memory: container.memory,
    })),
    cpu: task.taskDefinition.cpu,
    createdAt: task.createdAt,
    desiredStatus: task.desiredStatus,
    enableExecuteCommand: false,
    ephemeralStorage: fargate ? { sizeInGiB: 20 } : undefined,
    executionStoppedAt: task.executionStoppedAt,
    group: task.group,
    healthStatus: taskHealth(task),
    launchType: task.launchType,
    lastStatus: task.lastStatus,
    memory: task.taskDefinition.memory,
    overrides: {
      containerOverrides: task.containers.map((container) => ({ name: container.name })),
      inferenceAcceleratorOverrides: [],
    },
    platformVersion: fargate ? '1.4.0' : undefined,
    platformFamily: fargate ? 'Linux' : undefined,
    pullStartedAt: task.pullStartedAt,
    pullStoppedAt: task.pullStoppedAt,
    startedAt: task.startedAt,
    startedBy: task.startedBy,
    stopCode: task.stopCode,
    stoppedAt: task.stoppedAt,
    stoppedReason: task.stoppedReason,
    stoppingAt: task.stoppingAt,
    taskArn: task.arn,
    taskDefinitionArn: task.taskDefinition.arn,
    updatedAt: task.updatedAt,
    version: task.version,
  };
}

function eniAttachment(task: Task, type: string): Record<string, unknown> {
  const eni = task.eni;
  if (!eni) return {};
  return {
    id: eni.attachmentId,
    type,
    status: eni.status,
    // Dual-stack ENIs add ipv6Address; IPv6-only ones have no IPv4 address nor IPv4-based DNS name.
    details: [
      { name: 'subnetId', value: eni.subnetId },
      { name: 'networkInterfaceId', value: eni.networkInterfaceId },
      { name: 'macAddress', value: eni.macAddress },
      { name: 'privateDnsName', value: eni.privateDnsName },
      { name: 'privateIPv4Address', value: eni.privateIPv4Address },
      { name: 'ipv6Address', value: eni.ipv6Address },
    ].filter((detail) => detail.value !== undefined),
  };
}

/**
 * Task health follows the essential containers that have a health check: UNHEALTHY if any is, HEALTHY
 * when all are, UNKNOWN otherwise (Amazon ECS API Reference, Task healthStatus).
 */
export function taskHealth(task: Task): 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN' {
  const checked = task.containers.filter((container) => container.essential && container.hasHealthCheck);
  if (checked.length === 0) return 'UNKNOWN';
  if (checked.some((container) => container.healthStatus === 'UNHEALTHY')) return 'UNHEALTHY';
  return checked.every((container) => container.healthStatus === 'HEALTHY') ? 'HEALTHY' : 'UNKNOWN';
}

function isoDates(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
