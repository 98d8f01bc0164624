import { AwsError, invalidParameter } from '../../aws-error';
import type { Input } from '../../wire';
import type { EcsContext } from '../context';
import type { ContainerDefinition, TaskDefinition } from '../model';
import { FAMILY, includesTags, readContainers, readTags } from '../readers';
import { describeTaskDefinition } from '../views';

// RegisterTaskDefinition and DescribeTaskDefinition (Amazon ECS API Reference).

export function registerTaskDefinition(ctx: EcsContext, input: Input): unknown {
  const family = input.family;
  if (typeof family !== 'string' || !FAMILY.test(family)) throw new AwsError('ClientException', 'Family is invalid.');
  const containers = readContainers(input.containerDefinitions);
  const networkMode = (input.networkMode ?? 'bridge') as TaskDefinition['networkMode'];
  if (!['awsvpc', 'bridge', 'host', 'none'].includes(networkMode)) throw invalidParameter('Invalid networkMode.');
  if (networkMode === 'awsvpc' || networkMode === 'host') checkSamePorts(containers, networkMode);
  const requires = Array.isArray(input.requiresCompatibilities) ? input.requiresCompatibilities.map(String) : undefined;
  const cpu = input.cpu === undefined ? undefined : String(input.cpu);
  const memory = input.memory === undefined ? undefined : String(input.memory);
  const fargateReady = networkMode === 'awsvpc' && cpu !== undefined && memory !== undefined;
  if (requires?.includes('FARGATE') && !fargateReady) {
    throw new AwsError('ClientException', 'Fargate requires networkMode awsvpc and task-level cpu and memory.');
  }
  const revision = [...ctx.state.taskDefinitions.values()].filter((td) => td.family === family).length + 1;
  const {
    family: _f,
    containerDefinitions: _c,
    networkMode: _n,
    requiresCompatibilities: _r,
    cpu: _cpu,
    memory: _m,
    tags: _t,
    ...extra
  } = input;
  const definition: TaskDefinition = {
    arn: ctx.state.arn(`task-definition/${family}:${revision}`),
    family,
    revision,
    networkMode,
    containerDefinitions: containers.map((container) => withDefaults(container, networkMode)),
    compatibilities: fargateReady ? ['EC2', 'FARGATE'] : ['EC2'],
    requiresCompatibilities: requires,
    cpu,
    memory,
    status: 'ACTIVE',
    registeredAt: ctx.clock.now(),
    extra,
    tags: readTags(input.tags),
  };
  ctx.state.taskDefinitions.set(definition.arn, definition);
  return { taskDefinition: describeTaskDefinition(definition, ctx.state.accountId), tags: definition.tags };
}

export function describeTaskDefinitionOperation(ctx: EcsContext, input: Input): unknown {
  const definition = ctx.state.taskDefinition(input.taskDefinition);
  const body: Record<string, unknown> = {
    taskDefinition: describeTaskDefinition(definition, ctx.state.accountId),
  };
  if (includesTags(input)) body.tags = definition.tags;
  return body;
}

/** What ECS fills in on registration: essential true, cpu 0, tcp mappings, hostPort = containerPort in awsvpc. */
function withDefaults(container: ContainerDefinition, networkMode: TaskDefinition['networkMode']): ContainerDefinition {
  return {
    ...container,
    cpu: container.cpu ?? 0,
    essential: container.essential ?? true,
    portMappings: (container.portMappings ?? []).map((mapping) => ({
      ...mapping,
      protocol: mapping.protocol ?? 'tcp',
      hostPort:
        networkMode === 'awsvpc' || networkMode === 'host'
          ? mapping.hostPort || mapping.containerPort
          : (mapping.hostPort ?? 0),
    })),
    environment: container.environment ?? [],
    mountPoints: container.mountPoints ?? [],
    volumesFrom: container.volumesFrom ?? [],
  };
}

/** awsvpc and host tasks use the container's own port on the host (Amazon ECS API Reference, PortMapping hostPort). */
function checkSamePorts(containers: ContainerDefinition[], networkMode: 'awsvpc' | 'host'): void {
  for (const container of containers) {
    for (const mapping of container.portMappings ?? []) {
      if (mapping.hostPort && mapping.hostPort !== mapping.containerPort) {
        throw new AwsError(
          'ClientException',
          `When networkMode=${networkMode}, the host ports and container ports in port mappings must match.`,
        );
      }
    }
  }
}
