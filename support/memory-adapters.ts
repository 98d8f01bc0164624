import { ClusterNotFoundError, OperationFailedError, ServiceNotManagedError } from '../lib/errors';
import type {
  CustomHealth,
  DescribedTask,
  InstanceRecord,
  NamespaceInfo,
  Registry,
  ServiceInfo,
  ServiceSpec,
  TaskDefinitionFacts,
  TaskRecord,
  TaskSource,
  VersionStore,
} from '../lib/ports';
import type { TaskDetail } from '../lib/task-event';

/** An in-memory Registry for use-case tests: records every write so tests can count them. */
export class MemoryRegistry implements Registry {
  readonly namespace: NamespaceInfo = {
    id: 'ns-abcdefghijklmnop',
    name: 'kudos.local',
    type: 'DNS_PRIVATE',
    httpName: 'kudos.local',
  };
  readonly services = new Map<
    string,
    { info: ServiceInfo; spec: ServiceSpec; instances: Map<string, InstanceRecord> }
  >();
  readonly health = new Map<string, CustomHealth>();
  readonly writes: string[] = [];
  /** Services another tool created (no managed-by tag): ensureService refuses them. */
  readonly foreign = new Set<string>();
  failNextWrite?: Error;
  /** Writes (register, deregister, setHealth) of these instance ids fail with the error, every time. */
  readonly failingInstances = new Map<string, Error>();
  /** ListInstances of these services fails with the error, every time. */
  readonly failingListings = new Map<string, Error>();
  /** Every ListInstances call, by service name. */
  readonly listed: string[] = [];
  /**
   * When set, a registration written without waiting (`wait: false`) is applied only once this resolves, and its
   * operation is pending until then (Cloud Map's writes are asynchronous): a property test lets its scheduler pick
   * the moment; resolving to `fail` makes the operation FAIL (nothing applied). Unset: every write applies at once.
   */
  operationDelay?: () => Promise<undefined | 'fail'>;
  /** Every operation's state, by id. */
  readonly operations = new Map<string, 'pending' | 'success' | 'failed'>();
  /** The pending operation of each instance (`service/id`): Cloud Map refuses another write to it meanwhile. */
  private readonly pendingOf = new Map<string, string>();

  /**
   * A write to an instance whose operation is pending is refused, as Cloud Map does ("DuplicateRequest: the operation
   * is already in progress", with the operation's id; API Reference, RegisterInstance and DeregisterInstance errors).
   */
  private refuseWhilePending(service: ServiceInfo, id: string): void {
    const pending = this.pendingOf.get(`${service.name}/${id}`);
    if (pending) {
      throw Object.assign(new Error(`an operation on ${id} is already in progress`), {
        name: 'DuplicateRequest',
        DuplicateOperationId: pending,
      });
    }
  }

  async resolveNamespace(ref: string): Promise<NamespaceInfo> {
    if (ref !== this.namespace.name && ref !== this.namespace.id) throw new Error(`namespace ${ref} not found`);
    return this.namespace;
  }

  async findService(_ns: NamespaceInfo, name: string): Promise<ServiceInfo | undefined> {
    return this.services.get(name)?.info;
  }

  async ensureService(ns: NamespaceInfo, spec: ServiceSpec): Promise<ServiceInfo> {
    const existing = this.services.get(spec.name);
    if (existing && this.foreign.has(spec.name)) throw new ServiceNotManagedError(ns.name, spec.name, 'test-owner');
    if (existing) return existing.info;
    const info = { id: `srv-${spec.name}`, name: spec.name, namespaceId: ns.id };
    this.services.set(spec.name, { info, spec, instances: new Map() });
    return info;
  }

  async isManaged(service: ServiceInfo): Promise<boolean> {
    return !this.foreign.has(service.name);
  }

  async getInstance(service: ServiceInfo, id: string): Promise<InstanceRecord | undefined> {
    return this.services.get(service.name)?.instances.get(id);
  }

  async listServices(): Promise<ServiceInfo[]> {
    return [...this.services.values()].map((s) => s.info);
  }

  async listInstances(service: ServiceInfo): Promise<InstanceRecord[]> {
    this.listed.push(service.name);
    const failure = this.failingListings.get(service.name);
    if (failure) throw failure;
    return [...(this.services.get(service.name)?.instances.values() ?? [])];
  }

  /** Puts an instance in place, as another system (or an earlier run) would have. */
  seed(service: string, id: string, attributes: Record<string, string>): void {
    const info = { id: `srv-${service}`, name: service, namespaceId: this.namespace.id };
    const entry = this.services.get(service) ?? {
      info,
      spec: { name: service, dnsRecords: 'A', ttlSeconds: 10 },
      instances: new Map(),
    };
    entry.instances.set(id, { id, attributes });
    this.services.set(service, entry);
  }

  private takeFailure(id: string): void {
    const poisoned = this.failingInstances.get(id);
    if (poisoned) throw poisoned;
    const failure = this.failNextWrite;
    if (failure) {
      this.failNextWrite = undefined;
      throw failure;
    }
  }

  async register(
    service: ServiceInfo,
    id: string,
    attributes: Record<string, string>,
    options: { wait?: boolean } = {},
  ): Promise<string> {
    this.takeFailure(id);
    this.refuseWhilePending(service, id);
    const operationId = `op-${this.operations.size + 1}`;
    const apply = () => {
      this.writes.push(`register ${service.name}/${id}`);
      this.services.get(service.name)?.instances.set(id, { id, attributes });
      this.operations.set(operationId, 'success');
    };
    if (options.wait === false && this.operationDelay) {
      const key = `${service.name}/${id}`;
      this.operations.set(operationId, 'pending');
      this.pendingOf.set(key, operationId);
      void this.operationDelay().then((end) => {
        this.pendingOf.delete(key);
        if (end === 'fail') this.operations.set(operationId, 'failed');
        else apply();
      });
    } else {
      apply();
    }
    return operationId;
  }

  async operationState(operationId: string): Promise<'pending' | 'success'> {
    const state = this.operations.get(operationId);
    if (!state) throw new Error(`operation ${operationId} not found`);
    if (state === 'failed') throw new OperationFailedError(operationId, 'INTERNAL_FAILURE', 'the test made it fail');
    return state;
  }

  async deregister(service: ServiceInfo, id: string, _options?: { wait?: boolean }): Promise<void> {
    this.takeFailure(id);
    this.refuseWhilePending(service, id);
    this.writes.push(`deregister ${service.name}/${id}`);
    this.services.get(service.name)?.instances.delete(id);
  }

  async getHealth(service: ServiceInfo): Promise<Record<string, string>> {
    const ids = [...(this.services.get(service.name)?.instances.keys() ?? [])];
    return Object.fromEntries(ids.map((id) => [id, this.health.get(`${service.name}/${id}`) ?? 'HEALTHY']));
  }

  async setHealth(service: ServiceInfo, id: string, status: CustomHealth): Promise<void> {
    const poisoned = this.failingInstances.get(id);
    if (poisoned) throw poisoned;
    this.writes.push(`health ${service.name}/${id} ${status}`);
    this.health.set(`${service.name}/${id}`, status);
  }
}

/** An in-memory TaskSource: tasks, service tags and task definitions set by the test; reads counted. */
export class MemoryTaskSource implements TaskSource {
  readonly tasks = new Map<string, DescribedTask>();
  readonly serviceTagMap = new Map<string, Record<string, string>>();
  readonly definitions = new Map<string, TaskDefinitionFacts>();
  /** What ListTasks + DescribeTasks answer, by cluster name; a cluster not here runs nothing. */
  readonly running = new Map<string, { detail: TaskDetail; tags: Record<string, string> }[]>();
  /** Clusters ECS no longer finds (deleted): listing their tasks throws ClusterNotFoundError. */
  readonly deletedClusters = new Set<string>();
  reads = 0;

  async listClusters(): Promise<string[]> {
    return [...this.running.keys()];
  }

  async listRunningTasks(cluster: string): Promise<{ detail: TaskDetail; tags: Record<string, string> }[]> {
    const name = cluster.slice(cluster.lastIndexOf('/') + 1);
    if (this.deletedClusters.has(name)) throw new ClusterNotFoundError(cluster);
    return this.running.get(name) ?? [];
  }

  async describeTask(cluster: string, taskArn: string): Promise<DescribedTask | undefined> {
    this.reads += 1;
    if (this.deletedClusters.has(cluster.slice(cluster.lastIndexOf('/') + 1))) return undefined;
    return this.tasks.get(taskArn);
  }

  async serviceTags(_cluster: string, serviceName: string): Promise<Record<string, string>> {
    return this.serviceTagMap.get(serviceName) ?? {};
  }

  readonly containerInstances = new Map<string, { ipv4?: string; ipv6?: string }>();

  async containerInstanceAddress(_cluster: string, arn: string): Promise<{ ipv4?: string; ipv6?: string } | undefined> {
    return this.containerInstances.get(arn);
  }

  async taskDefinition(arn: string): Promise<TaskDefinitionFacts> {
    const found = this.definitions.get(arn);
    if (!found) throw new Error(`no task definition ${arn}`);
    return found;
  }
}

/**
 * An in-memory VersionStore with the same conditions as the DynamoDB adapter (the version-store contract
 * test runs one suite against both), for fast use-case and property tests.
 */
export class MemoryVersionStore implements VersionStore {
  readonly records = new Map<string, TaskRecord>();

  /** `now` stamps leaving marks, as the DynamoDB adapter's clock does. */
  constructor(private readonly now: () => number = Date.now) {}

  async claimRunning(taskArn: string, version: number, target: { namespace: string; services: string[] }) {
    const current = this.records.get(taskArn);
    if (current && (current.state !== 'running' || current.version > version)) {
      return { claimed: false, record: { ...current } };
    }
    const record: TaskRecord = {
      taskArn,
      version,
      state: 'running',
      namespace: target.namespace,
      services: [...target.services],
    };
    this.records.set(taskArn, record);
    return { claimed: true, record: { ...record } };
  }

  async markLeaving(taskArn: string, version: number): Promise<TaskRecord | undefined> {
    const current = this.records.get(taskArn);
    const leavingMarkedAt = this.now();
    if (current && current.state === 'leaving' && current.version >= version) {
      this.records.set(taskArn, { ...current, leavingMarkedAt });
      return { ...current };
    }
    this.records.set(taskArn, {
      taskArn,
      version,
      state: 'leaving',
      services: current?.services ?? [],
      ...(current?.namespace ? { namespace: current.namespace } : {}),
      ...(current?.cleared !== undefined ? { cleared: current.cleared } : {}),
      leavingMarkedAt,
    });
    return current ? { ...current } : undefined;
  }

  async overruleLeaving(
    taskArn: string,
    expected: { version: number; markedBefore: number },
    target: { version: number; namespace: string; services: string[] },
  ): Promise<boolean> {
    const current = this.records.get(taskArn);
    if (current?.state !== 'leaving' || current.version !== expected.version) return false;
    if (current.leavingMarkedAt === undefined || current.leavingMarkedAt > expected.markedBefore) return false;
    this.records.set(taskArn, {
      taskArn,
      version: target.version,
      state: 'running',
      namespace: target.namespace,
      services: [...target.services],
    });
    return true;
  }

  async get(taskArn: string): Promise<TaskRecord | undefined> {
    const current = this.records.get(taskArn);
    return current ? { ...current } : undefined;
  }

  async setCleared(taskArn: string, cleared: boolean): Promise<void> {
    const current = this.records.get(taskArn);
    if (current?.state === 'leaving') this.records.set(taskArn, { ...current, cleared });
  }
}
