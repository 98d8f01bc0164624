import {
  DeregisterInstanceCommand,
  GetInstanceCommand,
  GetOperationCommand,
  paginateGetInstancesHealthStatus,
  paginateListInstances,
  RegisterInstanceCommand,
  type ServiceDiscoveryClient,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery';
import { isAwsError, OperationFailedError, OperationTimeoutError, ServiceNotManagedError } from '../errors';
import type { CustomHealth, InstanceRecord, NamespaceInfo, Registry, ServiceInfo, ServiceSpec } from '../ports';
import { sleep } from '../sleep';
import { NamespaceResolver, namespaceRefOf } from './namespaces';
import {
  DirectServiceCreator,
  hasManagedTag,
  listServicesIn,
  newRequestId,
  type ServiceCreator,
} from './service-creator';

export { dnsRecordsFor, MANAGED_TAG_KEY } from './service-creator';

/**
 * How Cloud Map wants the service named in ServiceId: its ARN when its namespace was given by ARN ("For services
 * created in a shared namespace, specify the service ARN", API Reference, RegisterInstance, DeregisterInstance,
 * GetInstance, ListInstances, GetInstancesHealthStatus, UpdateInstanceCustomHealthStatus), its id otherwise.
 */
export function serviceRefOf(service: ServiceInfo): string {
  return service.ownerAccount && service.arn ? service.arn : service.id;
}

export interface CloudMapRegistryOptions {
  /** The value of the managed-by tag on created services. */
  ownerId: string;
  /** Longest wait for an operation to reach SUCCESS or FAIL. */
  operationTimeoutMs: number;
  /** Waits between polls and retries; injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /**
   * Creates missing services: in-process by default; the createService function in Lambda, so that the roles
   * that write instances never hold CreateService or TagResource (lib/registrar-runtime.ts chooses).
   */
  creator?: ServiceCreator;
}

/**
 * How long a name held by another tool's service is taken as still held: then it is listed again (one ListServices
 * a minute at most, however many events name it), so a container notices that an operator removed that service.
 */
const FOREIGN_RELIST_MS = 60_000;

/**
 * The Cloud Map adapter of the Registry port. Writes are followed to the end of their asynchronous
 * operation; a write that races another on the same instance (DuplicateRequest) is retried within the
 * same bounded wait. AWS failures are thrown as they come so the caller's retry policy applies.
 * A service is written to only when it carries this project's managed-by tag.
 */
export class CloudMapRegistry implements Registry {
  private readonly namespaces: NamespaceResolver;
  private readonly services = new Map<string, Promise<ServiceInfo>>();
  /**
   * Service id -> whether the service carries our managed-by tag, for the container's life: a service we
   * created keeps its tag (only our creation sets it), and another tool's service stays another tool's (its id
   * is never reused; a new service of that name after it is deleted has a new id and is asked about anew).
   */
  private readonly managed = new Map<string, Promise<boolean>>();
  /** Service key -> when the name was first refused as another tool's: its listing is renewed after a minute. */
  private readonly refused = new Map<string, number>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly creator: ServiceCreator;

  constructor(
    private readonly client: ServiceDiscoveryClient,
    private readonly options: CloudMapRegistryOptions,
  ) {
    this.namespaces = new NamespaceResolver(client);
    this.sleep = options.sleep ?? sleep;
    this.now = options.now ?? Date.now;
    this.creator = options.creator ?? new DirectServiceCreator(client, options.ownerId);
  }

  resolveNamespace(ref: string): Promise<NamespaceInfo> {
    return this.namespaces.resolve(ref);
  }

  async findService(namespace: NamespaceInfo, name: string): Promise<ServiceInfo | undefined> {
    const cached = this.services.get(`${namespaceRefOf(namespace)}/${name.toLowerCase()}`);
    if (cached) return cached;
    // Listing the namespace's services also remembers every one of them for later lookups.
    return (await this.listServices(namespace)).find((s) => s.name.toLowerCase() === name.toLowerCase());
  }

  async ensureService(namespace: NamespaceInfo, spec: ServiceSpec): Promise<ServiceInfo> {
    const key = `${namespaceRefOf(namespace)}/${spec.name.toLowerCase()}`;
    const refusedAt = this.refused.get(key);
    if (refusedAt !== undefined && this.now() - refusedAt >= FOREIGN_RELIST_MS) {
      // The operator may have removed the other tool's service since: look for the name again.
      this.refused.delete(key);
      this.services.delete(key);
    }
    let found = this.services.get(key);
    if (!found) {
      found = this.findService(namespace, spec.name).then(
        (existing) => existing ?? this.createService(namespace, spec),
      );
      this.services.set(key, found);
      found.catch(() => this.services.delete(key));
    }
    try {
      const service = await found;
      // Checked before the caller writes anything: another tool's service is never written to.
      if (!(await this.isManaged(service))) {
        throw new ServiceNotManagedError(namespace.name, service.name, this.options.ownerId);
      }
      return service;
    } catch (error) {
      // Found here, or the winner of a creation race the creator refused: the name stays refused for a minute.
      if (error instanceof ServiceNotManagedError && !this.refused.has(key)) this.refused.set(key, this.now());
      throw error;
    }
  }

  isManaged(service: ServiceInfo): Promise<boolean> {
    // By ARN for a service of a namespace given by ARN: the owner is part of the key.
    const key = serviceRefOf(service);
    let answer = this.managed.get(key);
    if (!answer) {
      answer = hasManagedTag(this.client, service, this.options.ownerId);
      this.managed.set(key, answer);
      // A failed read (throttled, denied) is asked again next time.
      answer.catch(() => this.managed.delete(key));
    }
    return answer;
  }

  private remember(namespace: NamespaceInfo, info: ServiceInfo): void {
    this.services.set(`${namespaceRefOf(namespace)}/${info.name.toLowerCase()}`, Promise.resolve(info));
  }

  private async createService(namespace: NamespaceInfo, spec: ServiceSpec): Promise<ServiceInfo> {
    const answered = await this.creator.create(namespace, spec);
    // The createService function answers by id and ARN; the namespace's owner, when it has one, is known here.
    const created = namespace.ownerAccount ? { ...answered, ownerAccount: namespace.ownerAccount } : answered;
    // Created with our tag (now, or by a concurrent creator of ours): managed, without asking.
    this.managed.set(serviceRefOf(created), Promise.resolve(true));
    return created;
  }

  async listServices(namespace: NamespaceInfo): Promise<ServiceInfo[]> {
    const services = await listServicesIn(this.client, namespace);
    for (const info of services) this.remember(namespace, info);
    return services;
  }

  async listInstances(
    service: ServiceInfo,
    options: { until?: (instance: InstanceRecord) => boolean } = {},
  ): Promise<InstanceRecord[]> {
    const instances: InstanceRecord[] = [];
    for await (const page of paginateListInstances(
      { client: this.client },
      // Looking for one instance (`until`): pages of 10, not the 100 of a full listing.
      { ServiceId: serviceRefOf(service), MaxResults: options.until ? 10 : 100 },
    )) {
      for (const instance of page.Instances ?? []) {
        if (instance.Id) instances.push({ id: instance.Id, attributes: instance.Attributes ?? {} });
      }
      if (options.until && instances.some(options.until)) break;
    }
    return instances;
  }

  /** One instance, or undefined when Cloud Map does not have it. */
  async getInstance(service: ServiceInfo, instanceId: string): Promise<InstanceRecord | undefined> {
    try {
      const out = await this.client.send(
        new GetInstanceCommand({ ServiceId: serviceRefOf(service), InstanceId: instanceId }),
      );
      return out.Instance?.Id ? { id: out.Instance.Id, attributes: out.Instance.Attributes ?? {} } : undefined;
    } catch (error) {
      if (isAwsError(error, 'InstanceNotFound')) return undefined;
      throw error;
    }
  }

  async register(
    service: ServiceInfo,
    instanceId: string,
    attributes: Record<string, string>,
    options: { wait?: boolean } = {},
  ): Promise<string | undefined> {
    // Drawn once: the DuplicateRequest retries below are the same request.
    const creatorRequestId = newRequestId();
    const operationId = await this.retryingDuplicates(async () => {
      const out = await this.client.send(
        new RegisterInstanceCommand({
          ServiceId: serviceRefOf(service),
          InstanceId: instanceId,
          CreatorRequestId: creatorRequestId,
          Attributes: attributes,
        }),
      );
      return out.OperationId;
    });
    if (options.wait !== false) await this.waitForOperation(operationId, service.ownerAccount);
    return operationId;
  }

  async operationState(operationId: string, ownerAccount?: string): Promise<'pending' | 'success'> {
    const out = await this.client.send(
      new GetOperationCommand({ OperationId: operationId, ...(ownerAccount ? { OwnerAccount: ownerAccount } : {}) }),
    );
    const status = out.Operation?.Status;
    if (status === 'FAIL') {
      throw new OperationFailedError(operationId, out.Operation?.ErrorCode, out.Operation?.ErrorMessage);
    }
    return status === 'SUCCESS' ? 'success' : 'pending';
  }

  async deregister(service: ServiceInfo, instanceId: string, options: { wait?: boolean } = {}): Promise<void> {
    const deadline = this.now() + this.options.operationTimeoutMs;
    for (;;) {
      let operationId: string | undefined;
      try {
        const out = await this.client.send(
          new DeregisterInstanceCommand({ ServiceId: serviceRefOf(service), InstanceId: instanceId }),
        );
        operationId = out.OperationId;
      } catch (error) {
        // Already gone (or never there): the desired state holds.
        if (isAwsError(error, 'InstanceNotFound', 'ServiceNotFound')) return;
        if (!isAwsError(error, 'DuplicateRequest') || this.now() > deadline) throw error;
        // Another write to this instance is in flight (often another leaving event of the same task):
        // wait for it rather than sending again, then see whether there is anything left to remove.
        const inFlight = (error as { DuplicateOperationId?: string }).DuplicateOperationId;
        if (inFlight) await this.waitForOperation(inFlight, service.ownerAccount).catch(() => undefined);
        else await this.sleep(200);
        if (!(await this.getInstance(service, instanceId))) return;
        continue;
      }
      if (options.wait !== false) await this.waitForOperation(operationId, service.ownerAccount);
      return;
    }
  }

  async getHealth(service: ServiceInfo): Promise<Record<string, string>> {
    const health: Record<string, string> = {};
    const pages = paginateGetInstancesHealthStatus(
      { client: this.client },
      { ServiceId: serviceRefOf(service), MaxResults: 100 },
    );
    for await (const page of pages) Object.assign(health, page.Status ?? {});
    return health;
  }

  async setHealth(service: ServiceInfo, instanceId: string, status: CustomHealth): Promise<void> {
    await this.client.send(
      new UpdateInstanceCustomHealthStatusCommand({
        ServiceId: serviceRefOf(service),
        InstanceId: instanceId,
        Status: status,
      }),
    );
  }

  /** Runs a write, retrying while Cloud Map reports another write to the same instance in flight. */
  private async retryingDuplicates(write: () => Promise<string | undefined>): Promise<string | undefined> {
    const deadline = this.now() + this.options.operationTimeoutMs;
    let delay = 200;
    for (;;) {
      try {
        return await write();
      } catch (error) {
        if (!isAwsError(error, 'DuplicateRequest') || this.now() + delay > deadline) throw error;
        await this.sleep(delay);
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  /**
   * Polls GetOperation until SUCCESS (returns), FAIL (throws) or the bounded wait runs out (throws). An operation in
   * a namespace given by ARN is asked for with its owner: "For operations associated with namespaces that are shared
   * with your account, you must specify an OwnerAccount" (API Reference, GetOperation).
   */
  async waitForOperation(operationId: string | undefined, ownerAccount?: string): Promise<void> {
    if (!operationId) return;
    const started = this.now();
    let delay = 100;
    for (;;) {
      if ((await this.operationState(operationId, ownerAccount)) === 'success') return;
      const waited = this.now() - started;
      if (waited + delay > this.options.operationTimeoutMs) throw new OperationTimeoutError(operationId, waited);
      await this.sleep(delay);
      delay = Math.min(delay * 2, 1000);
    }
  }
}
