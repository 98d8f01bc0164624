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
import {
  arnTail,
  clusterName,
  ecsDeploymentId,
  type TaskDetail,
  type TaskStateChange,
  taskDefinitionFamily,
  taskDefinitionRevision,
} from './task-event';

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
  revision: 'ECS_TASK_DEFINITION_REVISION',
  deploymentId: 'ECS_DEPLOYMENT_ID',
  taskArn: 'ECS_TASK_ARN',
  launchType: 'ECS_LAUNCH_TYPE',
  version: 'ECS_TASK_VERSION',
  owner: 'REGISTRAR_OWNER',
  registeredAt: 'REGISTRAR_REGISTERED_AT',
  portName: 'ECS_PORT_NAME',
} as const;

/** Tags that steer registration. */
export const TAG = {
  enabled: 'discovery:enabled',
  name: 'discovery:name',
  port: 'discovery:port',
  namedPortPrefix: 'discovery:port:',
  attrPrefix: 'discovery:attr:',
} as const;

/** Statuses that mean the task is leaving: deregister at the first of them. */
export const LEAVING_LAST_STATUSES = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);

/** What the planner needs to know besides the event. */
export interface PlanSettings {
  /** The namespace (id or name) the instance goes to. */
  namespace: string;
  defaultPort: number;
  /** DNS records for services of awsvpc tasks. */
  dnsRecords: 'A' | 'AAAA' | 'A+AAAA';
  ownerId: string;
  /** Cluster name -> namespace, for clusters that do not use `namespace`. */
  clusterNamespaces?: Record<string, string>;
}

/**
 * What ECS says besides the event. `described` undefined means "not looked up" (the CLI's event-only
 * mode); null means ECS no longer knows the task.
 */
export interface TaskFacts {
  described?: DescribedTask | null;
  serviceTags?: Record<string, string>;
  taskDefinition?: TaskDefinitionFacts;
  /**
   * The private address of the container instance a bridge or host task runs on (DescribeContainerInstances,
   * then EC2). Undefined: not looked up; null: ECS or EC2 no longer know it.
   */
  containerInstance?: { ipv4?: string; ipv6?: string } | null;
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

/** One Cloud Map instance of a task: a task exposing several named ports has one per port. */
export interface Registration {
  service: string;
  instanceId: string;
  attributes: Record<string, string>;
}

/** A list with at least one item: its first is always there. */
export type NonEmpty<T> = [T, ...T[]];

export interface RegisterPlan {
  action: 'register';
  namespace: string;
  /**
   * Every Cloud Map instance of the task: first the primary (the task's primary port, in the service named
   * for the task), then one per named port.
   */
  registrations: NonEmpty<Registration>;
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
  /** Every Cloud Map service the task is in: first the primary, then one per named port. */
  registrations: NonEmpty<Pick<Registration, 'service' | 'instanceId'>>;
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
/**
 * The task's network mode: the task definition's; from the event alone, awsvpc when it carries an ENI or
 * a task address, otherwise bridge (the EC2 default; host tasks look the same in events).
 */
export function networkMode(detail: TaskDetail, facts: TaskFacts): TaskDefinitionFacts['networkMode'] {
  if (facts.taskDefinition) return facts.taskDefinition.networkMode;
  const ownAddress = detail.containers.some((c) =>
    c.networkInterfaces.some((n) => n.privateIpv4Address || n.ipv6Address),
  );
  return detail.attachments.some((a) => a.type === 'eni') || ownAddress ? 'awsvpc' : 'bridge';
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value.trim())) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

type PortSource = 'tag' | 'task-definition' | 'event' | 'default';

/**
 * The primary container port: tag `discovery:port`, else the first port mapping of the task definition's
 * first essential container that has one, else a port the event itself carries, else the configured default.
 */
export function primaryPort(
  detail: TaskDetail,
  facts: TaskFacts,
  tags: Record<string, string>,
  defaultPort: number,
): { port: number; source: PortSource; warning?: string } {
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
 * The port a client connects to for a container port: itself in awsvpc mode; in host mode too (the
 * container binds the host's port); in bridge mode the host port ECS bound it to (dynamic ports
 * included), read from the event's `networkBindings`.
 */
export function reachablePort(
  detail: TaskDetail,
  mode: TaskDefinitionFacts['networkMode'],
  containerPort: number,
): number | undefined {
  if (mode === 'awsvpc' || mode === 'host') return containerPort;
  return detail.containers
    .flatMap((c) => c.networkBindings)
    .find((b) => b.containerPort === containerPort && b.hostPort)?.hostPort;
}

/** A named port of the task: a `discovery:port:NAME` tag, or a named port mapping of an essential container. */
export interface NamedPort {
  name: string;
  containerPort: number;
}

const PORT_NAME = /^[a-z0-9_][a-z0-9_-]{0,63}$/i;

/**
 * The task's named ports. Tags `discovery:port:NAME=PORT` win; without them, the named port mappings of
 * the essential containers count only when there are two or more (a single named port is the primary
 * port, as Service Connect users name theirs).
 */
export function namedPorts(facts: TaskFacts, tags: Record<string, string>): { ports: NamedPort[]; warnings: string[] } {
  const warnings: string[] = [];
  const tagged: NamedPort[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(TAG.namedPortPrefix)) continue;
    const name = key.slice(TAG.namedPortPrefix.length);
    const port = parsePort(value);
    if (!PORT_NAME.test(name) || port === undefined) {
      warnings.push(`ignored ${key.slice(0, 80)}="${value.slice(0, 20)}": needs a port name and a port`);
      continue;
    }
    tagged.push({ name: name.toLowerCase(), containerPort: port });
  }
  if (tagged.length > 0) return { ports: tagged.sort((a, b) => a.name.localeCompare(b.name)), warnings };
  const mapped = (facts.taskDefinition?.containers ?? [])
    .filter((c) => c.essential)
    .flatMap((c) => c.portMappings)
    .filter(
      (m): m is typeof m & { name: string; containerPort: number } => Boolean(m.name) && m.containerPort !== undefined,
    )
    .filter((m) => PORT_NAME.test(m.name))
    .map((m) => ({ name: m.name.toLowerCase(), containerPort: m.containerPort }));
  return { ports: mapped.length >= 2 ? mapped : [], warnings };
}

/** The task's Cloud Map service names: the primary, then `<name>-<port name>` for each named port. */
function serviceNames(
  name: string,
  ports: NamedPort[],
): { primary: string; named: { service: string; port: NamedPort }[] } {
  return { primary: name, named: ports.map((port) => ({ service: `${name}-${port.name}`, port })) };
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
  const { ports: exposedPorts, warnings: portWarnings } = namedPorts(facts, tags);
  const names = serviceNames(named.name, exposedPorts);
  const namespace = settings.clusterNamespaces?.[clusterName(detail.clusterArn)] ?? settings.namespace;
  // Deregistration ignores the opt-out tag: an instance registered before the tag was added must still go.
  if (leaving) {
    return {
      action: 'deregister',
      namespace,
      registrations: [
        { service: names.primary, instanceId },
        ...names.named.map((n) => ({ service: n.service, instanceId })),
      ],
      version: detail.version,
      ...(notes.length ? { notes } : {}),
    };
  }

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
  const onInstance = mode === 'bridge' || mode === 'host';
  let addresses: { ipv4?: string; ipv6?: string };
  if (onInstance) {
    if (facts.containerInstance === undefined) {
      addresses = {};
      notes.push(
        `${mode} network mode: the address is the container instance's private IP (DescribeContainerInstances, then EC2 DescribeInstances), read at registration`,
      );
    } else if (facts.containerInstance === null || (!facts.containerInstance.ipv4 && !facts.containerInstance.ipv6)) {
      return ignore('address-unavailable', `the container instance of this ${mode} task has no known private IP`);
    } else {
      addresses = facts.containerInstance;
      notes.push(`${mode} network mode: the address is the container instance's`);
    }
  } else {
    addresses = taskAddresses(detail);
    if (!addresses.ipv4 && !addresses.ipv6) {
      return ignore('address-unavailable', `task has no private IP in its event (network mode ${mode})`);
    }
  }
  const primary = primaryPort(detail, facts, tags, settings.defaultPort);
  if (primary.source === 'default') notes.push(`port ${primary.port} is the configured default`);
  const port = reachablePort(detail, mode, primary.port);
  if (port === undefined) {
    return ignore(
      'address-unavailable',
      `no network binding for container port ${primary.port} in this bridge task's event`,
    );
  }
  if (port !== primary.port) notes.push(`host port ${port} is bound to container port ${primary.port}`);
  const ecsService = ecsServiceName(detail);
  const revision = taskDefinitionRevision(detail.taskDefinitionArn);
  const deploymentId = ecsDeploymentId(detail.startedBy);
  const base: Record<string, string> = {
    ...(addresses.ipv4 ? { [ATTR.ipv4]: addresses.ipv4 } : {}),
    ...(addresses.ipv6 ? { [ATTR.ipv6]: addresses.ipv6 } : {}),
    [ATTR.port]: String(port),
    ...(detail.availabilityZone ? { [ATTR.availabilityZone]: detail.availabilityZone } : {}),
    [ATTR.region]: event.region,
    [ATTR.cluster]: clusterName(detail.clusterArn),
    ...(ecsService ? { [ATTR.service]: ecsService } : {}),
    [ATTR.family]: taskDefinitionFamily(detail.taskDefinitionArn),
    ...(revision ? { [ATTR.revision]: revision } : {}),
    ...(deploymentId ? { [ATTR.deploymentId]: deploymentId } : {}),
    [ATTR.taskArn]: detail.taskArn,
    ...(detail.launchType ? { [ATTR.launchType]: detail.launchType } : {}),
    [ATTR.version]: String(detail.version),
    [ATTR.owner]: settings.ownerId,
    // The time of the event (or reconcile run) that registers the instance: a pure plan has no clock of its own.
    [ATTR.registeredAt]: event.time,
  };
  const { attributes, warnings } = withCustomAttributes(base, tags);
  if (primary.warning) warnings.push(primary.warning);
  warnings.push(...portWarnings);
  const registrations: NonEmpty<Registration> = [{ service: names.primary, instanceId, attributes }];
  for (const { service, port: named } of names.named) {
    const reachable = reachablePort(detail, mode, named.containerPort);
    if (!isValidServiceName(service) || reachable === undefined) {
      warnings.push(
        reachable === undefined
          ? `port ${named.name} (${named.containerPort}) has no network binding: not registered`
          : `"${service}" is not a valid Cloud Map service name: port ${named.name} not registered`,
      );
      continue;
    }
    registrations.push({
      service,
      instanceId,
      attributes: { ...attributes, [ATTR.port]: String(reachable), [ATTR.portName]: named.name },
    });
  }
  return {
    action: 'register',
    namespace,
    registrations,
    dnsRecords: onInstance ? 'SRV' : settings.dnsRecords,
    version: detail.version,
    ...(notes.length ? { notes } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}
