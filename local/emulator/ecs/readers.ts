import { AwsError, invalidParameter } from '../aws-error';
import type { Input } from '../wire';
import type {
  AwsVpcNetwork,
  ContainerDefinition,
  ContainerInstance,
  EcsService,
  EcsTag,
  Task,
  TaskDefinition,
} from './model';

/**
 * The wire readers: each checks one member of an ECS request as the API does and answers the error ECS
 * answers for a bad one, so the operations see typed values only.
 */

export type LaunchType = Task['launchType'];

/** The List* operations' page sizes (Amazon ECS API Reference, maxResults). */
export const LIST_LIMITS = { defaultSize: 100, maxSize: 100, errorCode: 'InvalidParameterException' };
/** Cluster, service and container names. */
export const NAME = /^[a-zA-Z0-9_-]{1,255}$/;
export const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/;

export function includesTags(input: Input): boolean {
  return Array.isArray(input.include) && input.include.includes('TAGS');
}

export function readTags(raw: unknown): EcsTag[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParameter('tags must be a list.');
  return raw.map((item) => {
    const tag = item as Partial<EcsTag>;
    if (typeof tag.key !== 'string' || tag.key.length < 1 || tag.key.length > 128)
      throw invalidParameter('Tag key is invalid.');
    if (tag.value !== undefined && (typeof tag.value !== 'string' || tag.value.length > 256)) {
      throw invalidParameter('Tag value is invalid.');
    }
    return { key: tag.key, value: tag.value ?? '' };
  });
}

export function dedupeTags(tags: EcsTag[]): EcsTag[] {
  return [...new Map(tags.map((tag) => [tag.key, tag.value])).entries()].map(([key, value]) => ({ key, value }));
}

export function readLaunchType(raw: unknown): LaunchType {
  // Without a launch type or capacity provider, ECS uses EC2 (Amazon ECS API Reference, RunTask launchType).
  const value = raw ?? 'EC2';
  if (value !== 'FARGATE' && value !== 'EC2' && value !== 'EXTERNAL') throw invalidParameter('Invalid launchType.');
  return value;
}

export function readPropagate(raw: unknown): EcsService['propagateTags'] {
  const value = raw ?? 'NONE';
  if (value !== 'SERVICE' && value !== 'TASK_DEFINITION' && value !== 'NONE')
    throw invalidParameter('Invalid propagateTags.');
  return value;
}

export function readCount(raw: unknown, name: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0)
    throw invalidParameter(`${name} must be a non-negative integer.`);
  return raw;
}

export function readContainers(raw: unknown): ContainerDefinition[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new AwsError('ClientException', 'Container definitions are required.');
  const containers = raw.map((item) => {
    const container = item as Partial<ContainerDefinition>;
    if (typeof container.name !== 'string' || !NAME.test(container.name))
      throw new AwsError('ClientException', 'Container name is invalid.');
    if (typeof container.image !== 'string' || container.image === '')
      throw new AwsError('ClientException', 'Container image is required.');
    return container as ContainerDefinition;
  });
  if (!containers.some((container) => container.essential !== false)) {
    throw new AwsError('ClientException', 'Task definition must have at least one essential container.');
  }
  return containers;
}

export function readAttributes(raw: unknown): { name: string; value?: string }[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParameter('attributes must be a list.');
  return raw.map((item) => {
    const attribute = item as { name?: unknown; value?: unknown };
    if (typeof attribute.name !== 'string' || attribute.name === '')
      throw invalidParameter('Attribute name is invalid.');
    return typeof attribute.value === 'string'
      ? { name: attribute.name, value: attribute.value }
      : { name: attribute.name };
  });
}

/** The fields of an EC2 instance identity document the emulator uses (the agent sends it as a JSON string). */
export function readIdentityDocument(raw: unknown): {
  instanceId?: string;
  privateIp?: string;
  availabilityZone?: string;
  instanceType?: string;
} {
  if (raw === undefined || raw === null || raw === '') return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(String(raw)) as Record<string, unknown>;
  } catch {
    throw new AwsError('ClientException', 'instanceIdentityDocument is not a valid identity document.');
  }
  const text = (key: string) => (typeof parsed[key] === 'string' ? (parsed[key] as string) : undefined);
  const instanceId = text('instanceId');
  if (instanceId !== undefined && !/^i-[0-9a-f]{8,17}$/.test(instanceId)) {
    throw new AwsError('ClientException', 'instanceIdentityDocument names an invalid instanceId.');
  }
  return {
    instanceId,
    privateIp: text('privateIp'),
    availabilityZone: text('availabilityZone'),
    instanceType: text('instanceType'),
  };
}

/** ListContainerInstances' `filter`, limited to attribute clauses joined by `and`. */
export function readInstanceFilter(raw: unknown): (instance: ContainerInstance) => boolean {
  if (raw === undefined || raw === null || raw === '') return () => true;
  const clauses = String(raw)
    .split(/\s+and\s+/i)
    .map((clause) => {
      const equals = /^attribute:(\S+)\s*==\s*(\S+)$/.exec(clause.trim());
      if (equals) return { name: equals[1] ?? '', value: equals[2] };
      const exists = /^attribute:(\S+)\s+exists$/.exec(clause.trim());
      if (exists) return { name: exists[1] ?? '', value: undefined };
      throw invalidParameter(`The emulator does not evaluate this filter expression: ${clause}`);
    });
  return (instance) =>
    clauses.every((clause) =>
      instance.attributes.some(
        (attribute) =>
          attribute.name === clause.name && (clause.value === undefined || attribute.value === clause.value),
      ),
    );
}

/** The awsvpc network a RunTask or CreateService gives: required for an awsvpc definition, refused for any other. */
export function checkNetwork(
  definition: TaskDefinition,
  launchType: LaunchType,
  raw: unknown,
): AwsVpcNetwork | undefined {
  if (launchType === 'FARGATE' && !definition.compatibilities.includes('FARGATE')) {
    throw invalidParameter('Task definition does not support launch_type FARGATE.');
  }
  if (definition.networkMode !== 'awsvpc') {
    if (raw !== undefined) {
      throw invalidParameter('Network Configuration is not valid for the given networkMode of this task definition.');
    }
    return undefined;
  }
  const subnets = (raw as AwsVpcNetwork | undefined)?.awsvpcConfiguration?.subnets;
  if (!Array.isArray(subnets) || subnets.length === 0) {
    throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  return raw as AwsVpcNetwork;
}
