import {
  attributeProblem,
  attributesLength,
  isCustomAttribute,
  isValidInstanceId,
  isValidServiceName,
  MAX_ATTRIBUTES_TOTAL_LENGTH,
  MAX_CUSTOM_ATTRIBUTES,
} from './cloud-map/limits';
import type { DescribedTask, DnsRecordSet, TaskDefinitionFacts } from './ports';
import { arnTail, clusterName, type TaskDetail, type TaskStateChange, taskDefinitionFamily } from './task-event';

/** Attribute keys this project writes on every instance. */
export const ATTR = {
  ipv4: 'AWS_INSTANCE_IPV4',
  ipv6: 'AWS_INSTANCE_IPV6',
  port: 'AWS_INSTANCE_PORT',
  availabilityZone: 'AVAILABILITY_ZONE',
  region: 'REGION',
  cluster: 'ECS_CLUSTER_NAME',
  service: 'ECS_SERVICE_NAME',
  family: 'ECS_TASK_DEFINITION_FAMILY',
  taskArn: 'ECS_TASK_ARN',
  launchType: 'ECS_LAUNCH_TYPE',
  version: 'ECS_TASK_VERSION',
  owner: 'REGISTRAR_OWNER',
} as const;

/** Tags that steer registration. */
export const TAG = {
  enabled: 'discovery:enabled',
  name: 'discovery:name',
  port: 'discovery:port',
  attrPrefix: 'discovery:attr:',
} as const;

/** Statuses that mean the task is leaving: deregister at the first of them. */
const LEAVING_LAST_STATUSES = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);

/** What the planner needs to know besides the event. */
export interface PlanSettings {
  /** The namespace (id or name) the instance goes to. */
  namespace: string;
  defaultPort: number;
  /** DNS records for services of awsvpc tasks. */
  dnsRecords: 'A' | 'AAAA' | 'A+AAAA';
  ownerId: string;
}

/**
 * What ECS says besides the event. `described` undefined means "not looked up" (the CLI's event-only
 * mode); null means ECS no longer knows the task.
 */
export interface TaskFacts {
  described?: DescribedTask | null;
  serviceTags?: Record<string, string>;
  taskDefinition?: TaskDefinitionFacts;
}

/** Stable reason codes for ignored events. */
export type IgnoreReason =
  | 'not-a-task-state-change'
  | 'malformed-detail'
  | 'not-running-yet'
  | 'opted-out'
  | 'standalone-task-without-name'
  | 'invalid-service-name'
  | 'invalid-instance-id'
  | 'task-not-found'
  | 'task-no-longer-running'
  | 'stale-event'
  | 'address-unavailable'
  | 'health-pending'
  | 'unhealthy';

export interface RegisterPlan {
  action: 'register';
  namespace: string;
  service: string;
  instanceId: string;
  attributes: Record<string, string>;
  /** DNS records the Cloud Map service gets if it has to be created. */
  dnsRecords: DnsRecordSet;
  /** The event's `detail.version`, for ordering. */
  version: number;
  /** What the plan assumed (event-only mode, defaults used). */
  notes?: string[];
  /** What was dropped to stay within Cloud Map's limits. */
  warnings?: string[];
}

export interface DeregisterPlan {
  action: 'deregister';
  namespace: string;
  service: string;
  instanceId: string;
  version: number;
  notes?: string[];
}

export interface IgnorePlan {
  action: 'ignore';
  reason: IgnoreReason;
  message: string;
}

export type Plan = RegisterPlan | DeregisterPlan | IgnorePlan;

const ignore = (reason: IgnoreReason, message: string): IgnorePlan => ({ action: 'ignore', reason, message });

/** True when ECS says the task is on its way out (or gone). */
export function isLeaving(status: { lastStatus: string; desiredStatus: string }): boolean {
  return status.desiredStatus === 'STOPPED' || LEAVING_LAST_STATUSES.has(status.lastStatus);
}

/** True when the task is running and meant to keep running. */
export function isRunning(status: { lastStatus: string; desiredStatus: string }): boolean {
  return status.lastStatus === 'RUNNING' && status.desiredStatus === 'RUNNING';
}

/** The ECS service name of a task started by a service (`group: "service:NAME"`), else undefined. */
export function ecsServiceName(detail: Pick<TaskDetail, 'group'>): string | undefined {
  return detail.group?.startsWith('service:') ? detail.group.slice('service:'.length) : undefined;
}

/**
 * Decides the Cloud Map service name for a task. A `discovery:name` tag wins; a service's task
 * otherwise takes its ECS service name; a standalone task needs the tag.
 */
export function discoveryName(
  detail: Pick<TaskDetail, 'group'>,
  tags: Record<string, string>,
): { name: string } | IgnorePlan {
  const tagged = tags[TAG.name]?.trim();
  const name = tagged || ecsServiceName(detail);
  if (!name) {
    return ignore(
      'standalone-task-without-name',
      `standalone task (group ${JSON.stringify(detail.group ?? '')}) is registered only when tagged ${TAG.name}`,
    );
  }
  if (!isValidServiceName(name)) {
    return ignore(
      'invalid-service-name',
      `"${name.slice(0, 80)}" is not a valid Cloud Map service name (one DNS label: letters, digits, - and _, at most 63)`,
    );
  }
  return { name };
}

/**
 * True when an essential container of the task defines a health check: ECS then derives the task's
 * health from it, and the task joins discovery only once ECS reports it HEALTHY.
 */
export function isHealthGated(taskDefinition: TaskDefinitionFacts): boolean {
  return taskDefinition.containers.some((c) => c.essential && c.hasHealthCheck);
}

/** Service tags first, then the task's own tags, which win (a task can override what it inherits). */
export function effectiveTags(facts: TaskFacts): Record<string, string> {
  return { ...(facts.serviceTags ?? {}), ...(facts.described?.tags ?? {}) };
}

function eniDetail(detail: TaskDetail, name: string): string | undefined {
  for (const attachment of detail.attachments) {
    if (attachment.type !== 'eni' && attachment.type !== 'ElasticNetworkInterface') continue;
    const value = attachment.details.find((d) => d.name === name)?.value;
    if (value) return value;
  }
  return undefined;
}

/** The task's private addresses: the ENI attachment first, then the containers' network interfaces. */
export function taskAddresses(detail: TaskDetail): { ipv4?: string; ipv6?: string } {
  const interfaces = detail.containers.flatMap((c) => c.networkInterfaces);
  const ipv4 =
    eniDetail(detail, 'privateIPv4Address') ?? interfaces.find((i) => i.privateIpv4Address)?.privateIpv4Address;
  const ipv6 = eniDetail(detail, 'ipv6Address') ?? interfaces.find((i) => i.ipv6Address)?.ipv6Address;
  return { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) };
}

/** awsvpc unless the task definition says otherwise; an event without an ENI is bridge or host. */
function networkMode(detail: TaskDetail, facts: TaskFacts): TaskDefinitionFacts['networkMode'] {
  if (facts.taskDefinition) return facts.taskDefinition.networkMode;
  return detail.attachments.some((a) => a.type === 'eni') ? 'awsvpc' : 'bridge';
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value.trim())) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * The port: tag `discovery:port`, else the first port mapping of the task definition's first essential
 * container that has one, else a port the event itself carries, else the configured default.
 */
export function taskPort(
  detail: TaskDetail,
  facts: TaskFacts,
  tags: Record<string, string>,
  defaultPort: number,
): { port: number; source: 'tag' | 'task-definition' | 'event' | 'default'; warning?: string } {
  const tagged = tags[TAG.port];
  const fromTag = parsePort(tagged);
  const warning =
    tagged !== undefined && fromTag === undefined ? `ignored ${TAG.port}="${tagged}": not a port` : undefined;
  const withWarning = <T extends object>(value: T) => (warning ? { ...value, warning } : value);
  if (fromTag !== undefined) return { port: fromTag, source: 'tag' };
  const container = facts.taskDefinition?.containers.find(
    (c) => c.essential && c.portMappings.some((m) => m.containerPort !== undefined),
  );
  const mapped = container?.portMappings.find((m) => m.containerPort !== undefined)?.containerPort;
  if (mapped !== undefined) return withWarning({ port: mapped, source: 'task-definition' as const });
  const bound = detail.containers
    .flatMap((c) => c.networkBindings)
    .find((b) => b.containerPort !== undefined)?.containerPort;
  if (bound !== undefined) return withWarning({ port: bound, source: 'event' as const });
  return withWarning({ port: defaultPort, source: 'default' as const });
}

/**
 * Adds custom attributes from `discovery:attr:KEY` tags within Cloud Map's limits. Anything that does
 * not fit is left out with a warning: a bad tag never fails a registration.
 */
export function withCustomAttributes(
  base: Record<string, string>,
  tags: Record<string, string>,
): { attributes: Record<string, string>; warnings: string[] } {
  const attributes = { ...base };
  const warnings: string[] = [];
  let custom = Object.keys(attributes).filter(isCustomAttribute).length;
  const tagged = Object.entries(tags)
    .filter(([key]) => key.startsWith(TAG.attrPrefix))
    .sort(([a], [b]) => a.localeCompare(b));
  for (const [tagKey, value] of tagged) {
    const key = tagKey.slice(TAG.attrPrefix.length);
    const problem =
      key in attributes || key.startsWith('AWS_')
        ? `"${key}" is reserved`
        : (attributeProblem(key, value) ??
          (custom >= MAX_CUSTOM_ATTRIBUTES ? `more than ${MAX_CUSTOM_ATTRIBUTES} custom attributes` : undefined) ??
          (attributesLength(attributes) + key.length + value.length > MAX_ATTRIBUTES_TOTAL_LENGTH
            ? `attributes would exceed ${MAX_ATTRIBUTES_TOTAL_LENGTH} characters`
            : undefined));
    if (problem) {
      warnings.push(`dropped attribute from tag ${tagKey.slice(0, 80)}: ${problem}`);
      continue;
    }
    attributes[key] = value;
    custom += 1;
  }
  return { attributes, warnings };
}

/**
 * The decision: given an ECS task event and what ECS says of the task, what Cloud Map should hold.
 * Pure: no I/O, the same answer for the same input.
 */
export function planTaskEvent(event: TaskStateChange, facts: TaskFacts, settings: PlanSettings): Plan {
  const { detail } = event;
  const leaving = isLeaving(detail);
  if (!leaving && !isRunning(detail)) {
    return ignore(
      'not-running-yet',
      `task is ${detail.lastStatus} (desired ${detail.desiredStatus}): registered only once RUNNING`,
    );
  }
  const tags = effectiveTags(facts);
  const named = discoveryName(detail, tags);
  if ('action' in named) return named;
  const instanceId = arnTail(detail.taskArn);
  if (!isValidInstanceId(instanceId)) {
    return ignore('invalid-instance-id', `task id "${instanceId.slice(0, 80)}" is not a valid Cloud Map instance id`);
  }
  const notes: string[] = [];
  if (facts.described === undefined) {
    notes.push('planned from the event alone: no tags, task definition or current task status were read from ECS');
  }
  const target = { namespace: settings.namespace, service: named.name, instanceId, version: detail.version };
  // Deregistration ignores the opt-out tag: an instance registered before the tag was added must still go.
  if (leaving) return { action: 'deregister', ...target, ...(notes.length ? { notes } : {}) };

  if (tags[TAG.enabled]?.trim().toLowerCase() === 'false') {
    return ignore('opted-out', `task is tagged ${TAG.enabled}=false`);
  }
  if (facts.described === null) return ignore('task-not-found', 'ECS no longer knows this task');
  if (facts.described) {
    const now = facts.described;
    if (now.version !== undefined && now.version > detail.version && !isRunning(now)) {
      return ignore(
        'stale-event',
        `event version ${detail.version} is older than ECS's ${now.version} (${now.lastStatus})`,
      );
    }
    if (!isRunning(now)) {
      return ignore('task-no-longer-running', `ECS says the task is ${now.lastStatus} (desired ${now.desiredStatus})`);
    }
  }
  if (facts.taskDefinition && isHealthGated(facts.taskDefinition)) {
    const health = facts.described?.healthStatus ?? detail.healthStatus ?? 'UNKNOWN';
    if (health === 'UNHEALTHY') return ignore('unhealthy', 'ECS reports the task UNHEALTHY');
    if (health !== 'HEALTHY') {
      return ignore('health-pending', `the task has a container health check and is ${health}: it joins once HEALTHY`);
    }
  }
  const mode = networkMode(detail, facts);
  const addresses = taskAddresses(detail);
  if (!addresses.ipv4 && !addresses.ipv6) {
    return ignore(
      'address-unavailable',
      `task has no private IP in its event (network mode ${mode}); bridge and host tasks need their container instance's address`,
    );
  }
  const port = taskPort(detail, facts, tags, settings.defaultPort);
  if (port.source === 'default') notes.push(`port ${port.port} is the configured default`);
  const ecsService = ecsServiceName(detail);
  const base: Record<string, string> = {
    ...(addresses.ipv4 ? { [ATTR.ipv4]: addresses.ipv4 } : {}),
    ...(addresses.ipv6 ? { [ATTR.ipv6]: addresses.ipv6 } : {}),
    [ATTR.port]: String(port.port),
    ...(detail.availabilityZone ? { [ATTR.availabilityZone]: detail.availabilityZone } : {}),
    [ATTR.region]: event.region,
    [ATTR.cluster]: clusterName(detail.clusterArn),
    ...(ecsService ? { [ATTR.service]: ecsService } : {}),
    [ATTR.family]: taskDefinitionFamily(detail.taskDefinitionArn),
    [ATTR.taskArn]: detail.taskArn,
    ...(detail.launchType ? { [ATTR.launchType]: detail.launchType } : {}),
    [ATTR.version]: String(detail.version),
    [ATTR.owner]: settings.ownerId,
  };
  const { attributes, warnings } = withCustomAttributes(base, tags);
  if (port.warning) warnings.push(port.warning);
  return {
    action: 'register',
    ...target,
    attributes,
    dnsRecords: mode === 'awsvpc' ? settings.dnsRecords : 'SRV',
    ...(notes.length ? { notes } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}
