import { AwsError, invalidParameter } from '../../aws-error';
import { randomDigits } from '../../random';
import type { Input } from '../../wire';
import type { EcsContext } from '../context';
import type { EcsService } from '../model';
import { checkNetwork, includesTags, NAME, readCount, readLaunchType, readPropagate, readTags } from '../readers';
import type { EcsState } from '../state';
import { describeService } from '../views';

// CreateService, UpdateService, DeleteService, DescribeServices; the service scheduler does the rest.

export function createService(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const name = input.serviceName;
  if (typeof name !== 'string' || !NAME.test(name)) throw invalidParameter('serviceName is invalid.');
  const existing = ctx.state.services.get(`${cluster.name}/${name}`);
  if (existing && existing.status !== 'INACTIVE') {
    if (existing.status === 'DRAINING') throw invalidParameter('Unable to Start a service that is still Draining.');
    if (input.clientToken && existing.clientToken === input.clientToken)
      return { service: serviceView(ctx.state, existing, false) };
    throw invalidParameter('Creation of service was not idempotent.');
  }
  const definition = ctx.state.taskDefinition(input.taskDefinition);
  const launchType = readLaunchType(input.launchType);
  const network = checkNetwork(definition, launchType, input.networkConfiguration);
  const desiredCount = readCount(input.desiredCount ?? 0, 'desiredCount');
  const now = ctx.clock.now();
  const {
    cluster: _c,
    serviceName: _s,
    taskDefinition: _t,
    desiredCount: _d,
    launchType: _l,
    networkConfiguration: _n,
    tags: _tags,
    propagateTags: _p,
    enableECSManagedTags: _e,
    clientToken: _ct,
    ...extra
  } = input;
  const service: EcsService = {
    arn: ctx.state.arn(`service/${cluster.name}/${name}`),
    name,
    cluster,
    desiredCount,
    launchType,
    networkConfiguration: network,
    propagateTags: readPropagate(input.propagateTags),
    enableECSManagedTags: input.enableECSManagedTags === true,
    tags: readTags(input.tags),
    status: 'ACTIVE',
    createdAt: now,
    deployments: [
      {
        id: `ecs-svc/${randomDigits(19)}`,
        status: 'PRIMARY',
        taskDefinition: definition,
        createdAt: now,
        updatedAt: now,
      },
    ],
    clientToken: typeof input.clientToken === 'string' ? input.clientToken : undefined,
    events: [],
    extra,
  };
  ctx.state.services.set(`${cluster.name}/${name}`, service);
  ctx.scheduler.reconcile(service);
  return { service: serviceView(ctx.state, service, false) };
}

export function updateService(ctx: EcsContext, input: Input): unknown {
  const service = ctx.state.service(input.cluster, input.service);
  if (service.status !== 'ACTIVE') throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
  if (input.desiredCount !== undefined) service.desiredCount = readCount(input.desiredCount, 'desiredCount');
  if (input.networkConfiguration !== undefined) {
    const primary = service.deployments[0]?.taskDefinition;
    if (primary) service.networkConfiguration = checkNetwork(primary, service.launchType, input.networkConfiguration);
  }
  if (input.taskDefinition !== undefined || input.forceNewDeployment === true) {
    const current = service.deployments[0]?.taskDefinition;
    const definition = input.taskDefinition !== undefined ? ctx.state.taskDefinition(input.taskDefinition) : current;
    if (definition && (definition !== current || input.forceNewDeployment === true))
      ctx.scheduler.deploy(service, definition);
  }
  ctx.scheduler.reconcile(service);
  return { service: serviceView(ctx.state, service, false) };
}

export function deleteService(ctx: EcsContext, input: Input): unknown {
  const service = ctx.state.service(input.cluster, input.service);
  if (service.status !== 'ACTIVE') throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
  if (service.desiredCount > 0 && input.force !== true) {
    throw invalidParameter('The service cannot be stopped while it is scaled above 0.');
  }
  service.desiredCount = 0;
  service.status = 'DRAINING';
  ctx.scheduler.reconcile(service);
  return { service: serviceView(ctx.state, service, false) };
}

export function describeServices(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const refs = Array.isArray(input.services) ? input.services.map(String) : [];
  if (refs.length === 0 || refs.length > 10) throw invalidParameter('services must name 1 to 10 services.');
  const services: unknown[] = [];
  const failures: unknown[] = [];
  for (const ref of refs) {
    const found = ctx.state.services.get(`${cluster.name}/${ref.split('/').pop()}`);
    if (found) services.push(serviceView(ctx.state, found, includesTags(input)));
    else
      failures.push({
        arn: ref.startsWith('arn:') ? ref : ctx.state.arn(`service/${cluster.name}/${ref}`),
        reason: 'MISSING',
      });
  }
  return { services, failures };
}

function serviceView(state: EcsState, service: EcsService, includeTags: boolean): Record<string, unknown> {
  return describeService(service, state.liveTasksOf(service), includeTags);
}
