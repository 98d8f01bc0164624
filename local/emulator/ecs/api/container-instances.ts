import { invalidParameter } from '../../aws-error';
import type { Ec2Instance } from '../../ec2/ec2';
import { randomHex } from '../../random';
import { type Input, paginate } from '../../wire';
import type { EcsContext } from '../context';
import { DYNAMIC_PORT_RANGE, REGISTERED_CPU, REGISTERED_MEMORY } from '../host-ports';
import type { Cluster, ContainerInstance, EcsTag } from '../model';
import {
  dedupeTags,
  includesTags,
  LIST_LIMITS,
  readAttributes,
  readIdentityDocument,
  readInstanceFilter,
  readTags,
} from '../readers';
import { describeContainerInstance } from '../views';

// RegisterContainerInstance, DescribeContainerInstances, ListContainerInstances, and the container-instances knob.

/** Subnets container instances are spread over when the caller names none (one per AZ). */
export const DEFAULT_INSTANCE_SUBNETS: readonly string[] = ['subnet-ec2-1', 'subnet-ec2-2', 'subnet-ec2-3'];

/**
 * The container-instances knob: launches `count` EC2 instances spread over `subnets` and registers
 * each in the cluster as its ECS agent would; services waiting for capacity are placed at once.
 */
export function addContainerInstances(
  ctx: EcsContext,
  clusterRef: string | undefined,
  count: number,
  subnets: readonly string[] = DEFAULT_INSTANCE_SUBNETS,
): ContainerInstance[] {
  const cluster = ctx.state.cluster(clusterRef);
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new RangeError('count is 1..100');
  if (subnets.length === 0) throw new RangeError('subnets must name at least one subnet');
  const added: ContainerInstance[] = [];
  for (let i = 0; i < count; i++) {
    const offset = ctx.state.instancesOf(cluster).length;
    const subnet = subnets[offset % subnets.length] ?? 'subnet-local';
    added.push(enroll(ctx, cluster, ctx.ec2.launch({ subnet }), [], []));
  }
  ctx.scheduler.placePendingServices(cluster);
  return added;
}

/**
 * RegisterContainerInstance, as the ECS agent calls it on boot (Amazon ECS API Reference): the
 * instance identity document names the EC2 instance (adopted into the emulated EC2 if unknown, with
 * its privateIp and availabilityZone); without one the emulator launches a fresh instance. An EC2
 * instance already registered in the cluster, or a known containerInstanceArn, answers the same
 * container instance with its attributes updated.
 */
export function registerContainerInstance(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const custom = readAttributes(input.attributes);
  const tags = readTags(input.tags);
  const document = readIdentityDocument(input.instanceIdentityDocument);
  const existing =
    typeof input.containerInstanceArn === 'string'
      ? ctx.state.findContainerInstance(cluster, input.containerInstanceArn)
      : ctx.state.instancesOf(cluster).find((instance) => instance.ec2InstanceId === document.instanceId);
  if (typeof input.containerInstanceArn === 'string' && !existing) {
    throw invalidParameter('The referenced container instance was not found.');
  }
  if (existing) {
    const names = new Set(custom.map((attribute) => attribute.name));
    existing.attributes = [...existing.attributes.filter((attribute) => !names.has(attribute.name)), ...custom];
    existing.tags = dedupeTags([...existing.tags, ...tags]);
    existing.agentConnected = true;
    existing.version += 1;
    return { containerInstance: describeContainerInstance(existing, [...ctx.state.tasks.values()], true) };
  }
  const subnet = DEFAULT_INSTANCE_SUBNETS[ctx.state.instancesOf(cluster).length % DEFAULT_INSTANCE_SUBNETS.length];
  const ec2 = ctx.ec2.launch({ subnet: subnet ?? 'subnet-local', ...document });
  const instance = enroll(ctx, cluster, ec2, custom, tags);
  ctx.scheduler.placePendingServices(cluster);
  return { containerInstance: describeContainerInstance(instance, [...ctx.state.tasks.values()], true) };
}

export function describeContainerInstances(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const refs = Array.isArray(input.containerInstances) ? input.containerInstances.map(String) : [];
  if (refs.length === 0 || refs.length > 100) {
    throw invalidParameter('containerInstances must name 1 to 100 container instances.');
  }
  const containerInstances: unknown[] = [];
  const failures: unknown[] = [];
  const tasks = [...ctx.state.tasks.values()];
  for (const ref of refs) {
    const instance = ctx.state.findContainerInstance(cluster, ref);
    if (instance) containerInstances.push(describeContainerInstance(instance, tasks, includesTags(input)));
    else
      failures.push({
        arn: ref.startsWith('arn:') ? ref : ctx.state.arn(`container-instance/${cluster.name}/${ref}`),
        reason: 'MISSING',
      });
  }
  return { containerInstances, failures };
}

/**
 * ListContainerInstances: every state but INACTIVE unless `status` says otherwise; `filter` takes the
 * cluster query language's attribute clauses (`attribute:NAME == VALUE`, `attribute:NAME exists`,
 * joined by `and`), the only ones the emulator evaluates.
 */
export function listContainerInstances(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const status = input.status === undefined ? undefined : String(input.status);
  if (
    status !== undefined &&
    !['ACTIVE', 'DRAINING', 'REGISTERING', 'DEREGISTERING', 'REGISTRATION_FAILED'].includes(status)
  ) {
    throw invalidParameter('Invalid status.');
  }
  const matches = readInstanceFilter(input.filter);
  const arns = [...ctx.state.containerInstances.values()]
    .filter((instance) => instance.cluster === cluster)
    .filter((instance) => (status === undefined ? instance.status !== 'INACTIVE' : instance.status === status))
    .filter(matches)
    .map((instance) => instance.arn);
  const { page, nextToken } = paginate(arns, input.nextToken, input.maxResults, LIST_LIMITS);
  return { containerInstanceArns: page, nextToken };
}

/** Registers an EC2 instance in the cluster, with the attributes its agent reports. */
function enroll(
  ctx: EcsContext,
  cluster: Cluster,
  ec2: Ec2Instance,
  custom: { name: string; value?: string }[],
  tags: EcsTag[],
): ContainerInstance {
  const id = randomHex(32);
  const builtIn = [
    { name: 'ecs.availability-zone', value: ec2.availabilityZone },
    { name: 'ecs.instance-type', value: ec2.instanceType },
    { name: 'ecs.ami-id', value: ec2.imageId },
    { name: 'ecs.os-type', value: 'linux' },
    { name: 'ecs.os-family', value: 'LINUX' },
    { name: 'ecs.cpu-architecture', value: 'x86_64' },
    { name: 'ecs.subnet-id', value: ec2.subnetId },
    { name: 'ecs.capability.task-eni' },
    { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.44' },
  ];
  const customNames = new Set(custom.map((attribute) => attribute.name));
  const instance: ContainerInstance = {
    arn: ctx.state.arn(`container-instance/${cluster.name}/${id}`),
    id,
    cluster,
    ec2InstanceId: ec2.instanceId,
    availabilityZone: ec2.availabilityZone,
    status: 'ACTIVE',
    agentConnected: true,
    registeredAt: ctx.clock.now(),
    version: 1,
    attributes: [...builtIn.filter((attribute) => !customNames.has(attribute.name)), ...custom],
    tags,
    cpu: REGISTERED_CPU,
    memory: REGISTERED_MEMORY,
    usedPorts: { tcp: new Set(), udp: new Set() },
    lastDynamicPort: DYNAMIC_PORT_RANGE.last,
  };
  ctx.state.containerInstances.set(instance.arn, instance);
  return instance;
}
