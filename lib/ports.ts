import type { TaskDetail } from './task-event';

/**
 * The narrow ports between the domain and the outside systems. AWS adapters implement them with an
 * injected SDK client; tests and the local stack plug into the same shapes.
 */

/** A Cloud Map namespace as the domain needs it. */
export interface NamespaceInfo {
  id: string;
  name: string;
  type: 'DNS_PRIVATE' | 'DNS_PUBLIC' | 'HTTP';
  /** The name DiscoverInstances wants (equals `name` unless the namespace says otherwise). */
  httpName: string;
  /**
   * Set for a namespace given by ARN, which may be another account's, shared through AWS RAM: the account that
   * owns it (Cloud Map's ResourceOwner), passed as OwnerAccount to DiscoverInstances, DiscoverInstancesRevision and
   * GetOperation, and part of every cache key. Undefined for a namespace given by id or name (the caller's own).
   */
  ownerAccount?: string;
  /** The namespace's ARN, set with `ownerAccount`: a shared namespace is named by ARN (CreateService, ListServices). */
  arn?: string;
}

/** A Cloud Map service as the domain needs it. */
export interface ServiceInfo {
  id: string;
  name: string;
  namespaceId: string;
  /** The service's ARN (ListTagsForResource needs it); the Cloud Map adapter finds it when absent. */
  arn?: string;
  /**
   * The owner of its namespace when that was given by ARN (NamespaceInfo.ownerAccount): the service is then named
   * by its ARN ("For services created in a shared namespace, specify the service ARN", API Reference).
   */
  ownerAccount?: string;
}

/** One instance as Cloud Map lists it. */
export interface InstanceRecord {
  id: string;
  attributes: Record<string, string>;
}

/** How a new Cloud Map service publishes DNS records. `none` for HTTP namespaces. */
export type DnsRecordSet = 'A' | 'AAAA' | 'A+AAAA' | 'SRV' | 'none';

export interface ServiceSpec {
  name: string;
  dnsRecords: DnsRecordSet;
  ttlSeconds: number;
}

export type CustomHealth = 'HEALTHY' | 'UNHEALTHY';

/** Writes and reads of Cloud Map instances (control plane). */
export interface Registry {
  /** Resolves a namespace given by id (`ns-...`), ARN or name. Throws NamespaceNotFoundError. */
  resolveNamespace(ref: string): Promise<NamespaceInfo>;
  /**
   * Finds the service by name, or creates it (safe when several callers race). Throws
   * ServiceNotManagedError when the name is taken by a service this project did not create.
   */
  ensureService(namespace: NamespaceInfo, spec: ServiceSpec): Promise<ServiceInfo>;
  /** True when the service carries this project's `managed-by=<ownerId>` tag (it created the service). */
  isManaged(service: ServiceInfo): Promise<boolean>;
  /** The service by name, or undefined. */
  findService(namespace: NamespaceInfo, name: string): Promise<ServiceInfo | undefined>;
  /** One instance, or undefined when the service does not have it. */
  getInstance(service: ServiceInfo, instanceId: string): Promise<InstanceRecord | undefined>;
  /** Every service of the namespace, all pages. */
  listServices(namespace: NamespaceInfo): Promise<ServiceInfo[]>;
  /** Every instance of the service, all pages (`until`: the pages up to the first one holding such an instance). */
  listInstances(
    service: ServiceInfo,
    options?: { until?: (instance: InstanceRecord) => boolean },
  ): Promise<InstanceRecord[]>;
  /**
   * Registers (or updates in place) and waits for the operation to succeed (`wait: false`: until Cloud Map has taken
   * the write). Returns the operation's id.
   */
  register(
    service: ServiceInfo,
    instanceId: string,
    attributes: Record<string, string>,
    options?: { wait?: boolean },
  ): Promise<string | undefined>;
  /**
   * Where an operation stands now (one GetOperation): `pending` (SUBMITTED or PENDING) or `success`; throws
   * OperationFailedError when it failed. `ownerAccount`: the namespace's owner, for a shared namespace.
   */
  operationState(operationId: string, ownerAccount?: string): Promise<'pending' | 'success'>;
  /**
   * Deregisters and waits for the operation (`wait: false`: until Cloud Map has taken the write); an instance that
   * is already gone is success.
   */
  deregister(service: ServiceInfo, instanceId: string, options?: { wait?: boolean }): Promise<void>;
  /** The health Cloud Map holds for each instance of the service (GetInstancesHealthStatus). */
  getHealth(service: ServiceInfo): Promise<Record<string, string>>;
  /** Sets the custom health status of an instance. */
  setHealth(service: ServiceInfo, instanceId: string, status: CustomHealth): Promise<void>;
}

/** A container definition, reduced to what registration needs. */
export interface ContainerDefinitionFacts {
  name: string;
  essential: boolean;
  portMappings: { containerPort?: number; hostPort?: number; name?: string; protocol?: string }[];
  hasHealthCheck: boolean;
}

export interface TaskDefinitionFacts {
  arn: string;
  family: string;
  networkMode: 'awsvpc' | 'bridge' | 'host' | 'none';
  containers: ContainerDefinitionFacts[];
}

/** What ECS says of a task now (DescribeTasks with TAGS). */
export interface DescribedTask {
  taskArn: string;
  lastStatus: string;
  desiredStatus: string;
  /** ECS's own version counter for the task, as in the event's `detail.version`. */
  version?: number;
  healthStatus?: string;
  tags: Record<string, string>;
}

/** Reads of ECS. */
export interface TaskSource {
  /** Every cluster ARN of the account and region. */
  listClusters(): Promise<string[]>;
  /**
   * Every task of the cluster whose desired status is RUNNING, described with its tags, as task state
   * change details (the event's detail has the shape of DescribeTasks' task). Throws
   * ClusterNotFoundError when ECS does not find the cluster (deleted, or in another account or region).
   */
  listRunningTasks(cluster: string): Promise<{ detail: TaskDetail; tags: Record<string, string> }[]>;
  /** The task, or undefined when ECS does not know it (nor its cluster: a deleted cluster runs no task). */
  describeTask(cluster: string, taskArn: string): Promise<DescribedTask | undefined>;
  /** Tags on the ECS service itself (DescribeServices include TAGS); {} when the service is gone. */
  serviceTags(cluster: string, serviceName: string): Promise<Record<string, string>>;
  /** The task definition; cached per container. */
  taskDefinition(arn: string): Promise<TaskDefinitionFacts>;
  /** The private address of a container instance (bridge and host tasks); undefined when unknown. */
  containerInstanceAddress(
    cluster: string,
    containerInstanceArn: string,
  ): Promise<{ ipv4?: string; ipv6?: string } | undefined>;
}

/** The queue of delayed re-checks (the register queue): sends each message after its delay. */
export interface RecheckQueue {
  /** Sends the messages; `failed` lists the indexes of those not sent. Throws only when the queue is not found. */
  send(messages: { body: string; delaySeconds: number }[]): Promise<{ failed: number[] }>;
}

/** What the registrar last recorded of a task: the newest version applied and where it registered it. */
export interface TaskRecord {
  taskArn: string;
  version: number;
  state: 'running' | 'leaving';
  /** The namespace and Cloud Map services the task was registered in (empty until registered). */
  namespace?: string;
  services: string[];
  /** A leaving task whose instances are known to be gone: later leaving events have nothing to do. */
  cleared?: boolean;
  /**
   * When the task was last recorded leaving (ms epoch, the store's clock): every leaving event or check
   * of ECS sets it anew. Absent on running records and on leaving records written before it existed.
   */
  leavingMarkedAt?: number;
}

/**
 * The newest known version of each task, written with conditions so that concurrent handlers agree on
 * the order (AWS's pattern for ordering ECS events). A leaving state always wins over a running one:
 * a task never runs again once it starts to stop. The one way back is overruleLeaving, for a mark that
 * ECS contradicts (a leaving event ECS never sent).
 */
export interface VersionStore {
  /**
   * Records that `version` of the task is running and will be registered in `services`. Refused
   * (`claimed: false`, with what is recorded) when the task is recorded as leaving or at a newer version.
   */
  claimRunning(
    taskArn: string,
    version: number,
    target: { namespace: string; services: string[] },
  ): Promise<{ claimed: boolean; record?: TaskRecord }>;
  /**
   * Records that the task is leaving, and when (`leavingMarkedAt`, refreshed even when the record is
   * already leaving at a newer version); returns the record as it was before (its services), if any.
   */
  markLeaving(taskArn: string, version: number): Promise<TaskRecord | undefined>;
  /**
   * Turns a leaving record back to running at `target.version` in `target.services`, as claimRunning
   * would: reconcile's repair of a leaving mark that ECS contradicts. Only while the record is still
   * leaving at `expected.version` and its mark was set no later than `expected.markedBefore` (ms epoch);
   * false, changing nothing, otherwise.
   */
  overruleLeaving(
    taskArn: string,
    expected: { version: number; markedBefore: number },
    target: { version: number; namespace: string; services: string[] },
  ): Promise<boolean>;
  /** The current record, read consistently. */
  get(taskArn: string): Promise<TaskRecord | undefined>;
  /**
   * Records whether a leaving task's instances are gone (true, after its deregistration) or may exist
   * again (false, before a registration that raced the leaving event is undone).
   */
  setCleared(taskArn: string, cleared: boolean): Promise<void>;
}
