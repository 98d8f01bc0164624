import { AwsError, invalidInput } from '../aws-error';
import type { Clock } from '../clock';
import { randomAlnum, shuffled } from '../random';
import { type Input, optionalString, paginate, requireString } from '../wire';
import type { HealthStatus, Instance, Namespace, NamespaceType, Operation, OperationType, Service, Tag } from './model';
import {
  checkAttributes,
  checkDnsConfig,
  checkInstanceId,
  checkNamespaceName,
  checkReservedAttributes,
  checkServiceName,
} from './validation';

/** Simulated time an operation stays PENDING (Cloud Map's writes are asynchronous). */
export const OPERATION_DELAY_MS = 2000;

export interface CloudMapOptions {
  clock: Clock;
  region: string;
  accountId: string;
  /** Decides, per operation, whether it ends in FAIL (the faults knob). */
  failOperation: () => boolean;
  /**
   * Characters after `ns-` and `srv-` in the ids it hands out. Default 16, as AWS; the API reference fixes no
   * length (at most 64 in all), and other AWS-compatible endpoints hand out 20.
   */
  idLength?: number;
}

type Handler = (input: Input) => unknown;

/** A namespace another account owns and shares with the emulated one through AWS RAM (the shared-namespaces knob). */
export interface SharedNamespaceRequest {
  /** The owner: 12 digits, not the emulated account. */
  ownerAccount: string;
  name: string;
  /** Default HTTP. */
  type?: NamespaceType;
  /** Services the owner has already created in it (CreatedByAccount is the owner). */
  services?: string[];
}

/** An account id: Cloud Map's OwnerAccount, ResourceOwner and CreatedByAccount are "Fixed length of 12". */
const ACCOUNT_ID = /^\d{12}$/;

const LIST_LIMITS = { defaultSize: 100, maxSize: 100, errorCode: 'InvalidInput' };

/**
 * AWS Cloud Map (Route53AutoNaming_v20170314) in memory. Writes of instances are operations that stay
 * PENDING for a scaled moment and are applied when they succeed, as in AWS; namespaces and services are
 * usable as soon as they are created.
 */
export class CloudMap {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly services = new Map<string, Service>();
  private readonly operations = new Map<string, Operation>();
  private readonly tags = new Map<string, Tag[]>();
  /** CreatorRequestId -> the service its CreateService created (kept after a deletion, as the request was made). */
  private readonly serviceRequests = new Map<string, Service>();
  private readonly idLength: number;

  constructor(private readonly options: CloudMapOptions) {
    this.idLength = options.idLength ?? 16;
    if (!Number.isInteger(this.idLength) || this.idLength < 1 || this.idLength > 60) {
      throw new RangeError('idLength is 1 to 60 (an id is at most 64 characters)');
    }
  }

  /** The operation handlers, by X-Amz-Target operation name. */
  readonly handlers: Record<string, Handler> = {
    CreateHttpNamespace: (input) => this.createNamespace(input, 'HTTP'),
    CreatePrivateDnsNamespace: (input) => this.createNamespace(input, 'DNS_PRIVATE'),
    CreatePublicDnsNamespace: (input) => this.createNamespace(input, 'DNS_PUBLIC'),
    GetNamespace: (input) => ({ Namespace: this.namespaceView(this.namespace(input.Id)) }),
    ListNamespaces: (input) => this.listNamespaces(input),
    DeleteNamespace: (input) => this.deleteNamespace(input),
    CreateService: (input) => this.createService(input),
    GetService: (input) => ({ Service: this.serviceView(this.service(input.Id)) }),
    ListServices: (input) => this.listServices(input),
    DeleteService: (input) => this.deleteService(input),
    RegisterInstance: (input) => this.registerInstance(input),
    DeregisterInstance: (input) => this.deregisterInstance(input),
    GetInstance: (input) => this.getInstance(input),
    ListInstances: (input) => this.listInstances(input),
    DiscoverInstances: (input) => this.discoverInstances(input),
    DiscoverInstancesRevision: (input) => ({ InstancesRevision: this.discoveredService(input).revision }),
    UpdateInstanceCustomHealthStatus: (input) => this.updateHealth(input),
    GetInstancesHealthStatus: (input) => this.getHealth(input),
    GetOperation: (input) => ({
      Operation: this.operationView(this.operation(input.OperationId, readOwnerAccount(input))),
    }),
    ListOperations: (input) => this.listOperations(input),
    TagResource: (input) => this.tagResource(input),
    UntagResource: (input) => this.untagResource(input),
    ListTagsForResource: (input) => ({ Tags: [...(this.tags.get(this.taggable(input.ResourceARN)) ?? [])] }),
  };

  /** Read-only: every namespace with its services and their instances, as they are now (the local DNS server). */
  namespaceTree(): { namespace: Readonly<Namespace>; services: readonly Readonly<Service>[] }[] {
    return [...this.namespaces.values()].map((namespace) => ({
      namespace,
      services: [...this.services.values()].filter((service) => service.NamespaceId === namespace.Id),
    }));
  }

  /**
   * A namespace of `ownerAccount` shared with the emulated account (AWS RAM is not emulated: the share is
   * accepted). The consumer sees it in ListNamespaces with that ResourceOwner, reaches it by ARN only, and
   * discovers in it with that OwnerAccount (see namespace(), discoveredService()).
   */
  shareNamespace(request: SharedNamespaceRequest): { Id: string; Arn: string; Name: string; ResourceOwner: string } {
    const owner = String(request.ownerAccount);
    if (!ACCOUNT_ID.test(owner)) throw new RangeError('ownerAccount is an account id of 12 digits');
    if (owner === this.options.accountId) throw new RangeError('ownerAccount is another account than the emulated one');
    const name = checkNamespaceName(request.name);
    const type = request.type ?? 'HTTP';
    if (!['HTTP', 'DNS_PRIVATE', 'DNS_PUBLIC'].includes(type))
      throw new RangeError('type is HTTP, DNS_PRIVATE or DNS_PUBLIC');
    const taken = [...this.namespaces.values()].some(
      (ns) => ns.OwnerAccount === owner && ns.Name.toLowerCase() === name.toLowerCase(),
    );
    if (taken) throw new RangeError(`account ${owner} already shares a namespace named ${name}`);
    const id = `ns-${randomAlnum(this.idLength)}`;
    const ns: Namespace = {
      Id: id,
      Arn: this.arnIn(owner, `namespace/${id}`),
      OwnerAccount: owner,
      Name: name,
      Type: type,
      CreateDate: this.options.clock.now(),
      HttpName: name,
      HostedZoneId: type === 'HTTP' ? undefined : `Z${randomAlnum(20).toUpperCase()}`,
      SoaTtl: type === 'HTTP' ? undefined : 15,
      Vpc: type === 'DNS_PRIVATE' ? 'vpc-shared' : undefined,
      OperationId: '',
    };
    this.namespaces.set(id, ns);
    for (const serviceName of request.services ?? []) {
      const service = this.buildService({}, checkServiceName(serviceName), ns, undefined, owner);
      this.services.set(service.Id, service);
    }
    return { Id: id, Arn: ns.Arn, Name: name, ResourceOwner: owner };
  }

  /** The namespaces shared with the emulated account by others (the shared-namespaces knob's GET). */
  sharedNamespaces(): { Id: string; Arn: string; Name: string; ResourceOwner: string }[] {
    return [...this.namespaces.values()]
      .filter((ns) => ns.OwnerAccount !== this.options.accountId)
      .map((ns) => ({ Id: ns.Id, Arn: ns.Arn, Name: ns.Name, ResourceOwner: ns.OwnerAccount }));
  }

  // ---- namespaces ----

  private createNamespace(input: Input, type: NamespaceType): { OperationId: string } {
    const name = checkNamespaceName(input.Name);
    const creatorRequestId = optionalString(input, 'CreatorRequestId', 'InvalidInput');
    // Names are unique per account: a namespace shared from another account may bear the same name.
    const existing = [...this.namespaces.values()].find(
      (ns) => ns.OwnerAccount === this.options.accountId && ns.Name.toLowerCase() === name.toLowerCase(),
    );
    if (existing) {
      // A retried request (same CreatorRequestId) gets its original operation back.
      if (creatorRequestId && existing.CreatorRequestId === creatorRequestId)
        return { OperationId: existing.OperationId };
      throw new AwsError('NamespaceAlreadyExists', `Namespace ${name} already exists.`, 400, {
        CreatorRequestId: existing.CreatorRequestId,
        NamespaceId: existing.Id,
      });
    }
    const vpc = optionalString(input, 'Vpc', 'InvalidInput');
    if (type === 'DNS_PRIVATE' && !vpc) throw invalidInput('Vpc is required for a private DNS namespace.');
    const id = `ns-${randomAlnum(this.idLength)}`;
    const operationId = this.startOperation('CREATE_NAMESPACE', { NAMESPACE: id }, () => undefined, creatorRequestId);
    const soa = (input.Properties as { DnsProperties?: { SOA?: { TTL?: number } } } | undefined)?.DnsProperties?.SOA;
    this.namespaces.set(id, {
      Id: id,
      Arn: this.arn(`namespace/${id}`),
      OwnerAccount: this.options.accountId,
      Name: name,
      Type: type,
      Description: optionalString(input, 'Description', 'InvalidInput'),
      CreatorRequestId: creatorRequestId,
      CreateDate: this.options.clock.now(),
      HttpName: name,
      HostedZoneId: type === 'HTTP' ? undefined : `Z${randomAlnum(20).toUpperCase()}`,
      SoaTtl: type === 'HTTP' ? undefined : (soa?.TTL ?? 15),
      Vpc: vpc,
      OperationId: operationId,
    });
    this.setTags(this.arn(`namespace/${id}`), input.Tags);
    return { OperationId: operationId };
  }

  /**
   * A namespace by id or ARN (GetNamespace `Id`, CreateService `NamespaceId`: "The ID or ... (ARN)"). A namespace
   * shared from another account by its ARN only: "For namespaces shared with your AWS account, specify the
   * namespace ARN" (API Reference, GetNamespace, CreateService). What an id of a shared namespace answers is not
   * documented: NamespaceNotFound, as for an id this account does not have.
   */
  private namespace(id: unknown): Namespace {
    const byId = typeof id === 'string' ? this.namespaces.get(id) : undefined;
    const found =
      byId?.OwnerAccount === this.options.accountId ? byId : [...this.namespaces.values()].find((ns) => ns.Arn === id);
    if (!found) throw new AwsError('NamespaceNotFound', `Namespace not found: ${String(id)}`);
    return found;
  }

  /** SELF or OTHER_ACCOUNTS, the RESOURCE_OWNER filter's values (API Reference, NamespaceFilter, ServiceFilter). */
  private ownerKind(account: string): 'SELF' | 'OTHER_ACCOUNTS' {
    return account === this.options.accountId ? 'SELF' : 'OTHER_ACCOUNTS';
  }

  private namespaceView(ns: Namespace): Record<string, unknown> {
    const serviceCount = [...this.services.values()].filter((service) => service.NamespaceId === ns.Id).length;
    const dns = ns.Type === 'HTTP' ? {} : { HostedZoneId: ns.HostedZoneId, SOA: { TTL: ns.SoaTtl } };
    return {
      Id: ns.Id,
      Arn: ns.Arn,
      ResourceOwner: ns.OwnerAccount,
      Name: ns.Name,
      Type: ns.Type,
      Description: ns.Description,
      ServiceCount: serviceCount,
      Properties: { DnsProperties: dns, HttpProperties: { HttpName: ns.HttpName } },
      CreateDate: ns.CreateDate,
      CreatorRequestId: ns.CreatorRequestId,
    };
  }

  private listNamespaces(input: Input): unknown {
    const filters = readFilters(input.Filters);
    const all = [...this.namespaces.values()].filter((ns) =>
      filters.every((filter) => {
        if (filter.Name === 'TYPE') return matchesFilter(filter, ns.Type);
        if (filter.Name === 'NAME') return matchesFilter(filter, ns.Name);
        if (filter.Name === 'HTTP_NAME') return matchesFilter(filter, ns.HttpName);
        if (filter.Name === 'RESOURCE_OWNER') return matchesFilter(filter, this.ownerKind(ns.OwnerAccount));
        throw invalidInput(`Unsupported namespace filter: ${filter.Name}`);
      }),
    );
    const { page, nextToken } = paginate(all, input.NextToken, input.MaxResults, LIST_LIMITS);
    const Namespaces = page.map((ns) => {
      const { CreatorRequestId: _omit, ...summary } = this.namespaceView(ns);
      return summary;
    });
    return { Namespaces, NextToken: nextToken };
  }

  private deleteNamespace(input: Input): { OperationId: string } {
    const ns = this.namespace(input.Id);
    // The developer guide names no way for a consumer to delete the owner's namespace: refused, the safe side.
    if (ns.OwnerAccount !== this.options.accountId) {
      throw new AwsError('AccessDeniedException', `Namespace ${ns.Arn} is shared with this account, not owned.`, 403);
    }
    if ([...this.services.values()].some((service) => service.NamespaceId === ns.Id)) {
      throw new AwsError('ResourceInUse', `Namespace ${ns.Id} still has services.`);
    }
    this.namespaces.delete(ns.Id);
    this.tags.delete(ns.Arn);
    return { OperationId: this.startOperation('DELETE_NAMESPACE', { NAMESPACE: ns.Id }, () => undefined) };
  }

  // ---- services ----

  private createService(input: Input): { Service: Record<string, unknown> } {
    const name = checkServiceName(input.Name);
    const dnsInput = input.DnsConfig as { NamespaceId?: unknown } | undefined;
    const ns = this.namespace(input.NamespaceId ?? dnsInput?.NamespaceId);
    const creatorRequestId = optionalString(input, 'CreatorRequestId', 'InvalidInput');
    // A repeated CreatorRequestId is the first request retried: its answer, and nothing done (API Reference,
    // CreateService CreatorRequestId), even when that service has been deleted since.
    const requested = creatorRequestId ? this.serviceRequests.get(creatorRequestId) : undefined;
    if (requested) return { Service: this.serviceView(requested) };
    const existing = this.findService(ns.Id, name);
    if (existing) {
      throw new AwsError('ServiceAlreadyExists', `Service ${name} already exists.`, 400, {
        CreatorRequestId: existing.CreatorRequestId,
        ServiceId: existing.Id,
        ServiceArn: existing.Arn,
      });
    }
    const service = this.buildService(input, name, ns, creatorRequestId);
    this.services.set(service.Id, service);
    if (creatorRequestId) this.serviceRequests.set(creatorRequestId, service);
    this.setTags(service.Arn, input.Tags);
    return { Service: this.serviceView(service) };
  }

  private buildService(
    input: Input,
    name: string,
    ns: Namespace,
    creatorRequestId?: string,
    createdBy = this.options.accountId,
  ): Service {
    const routeCheck = input.HealthCheckConfig as Service['HealthCheckConfig'];
    const customCheck = input.HealthCheckCustomConfig as Service['HealthCheckCustomConfig'];
    if (routeCheck && customCheck)
      throw invalidInput('Specify HealthCheckConfig or HealthCheckCustomConfig, not both.');
    if (routeCheck && ns.Type !== 'DNS_PUBLIC') throw invalidInput('HealthCheckConfig needs a public DNS namespace.');
    if (input.Type !== undefined && input.Type !== 'HTTP') throw invalidInput('The only valid service Type is HTTP.');
    if (ns.Type === 'HTTP' && input.DnsConfig) throw invalidInput('DnsConfig is not allowed in an HTTP namespace.');
    if (input.Type === 'HTTP' && input.DnsConfig) throw invalidInput('A service of Type HTTP has no DnsConfig.');
    const dnsConfig = input.DnsConfig ? checkDnsConfig(input.DnsConfig, Boolean(routeCheck)) : undefined;
    const id = `srv-${randomAlnum(this.idLength)}`;
    return {
      Id: id,
      // A service belongs to the namespace's owner (ResourceOwner), whoever created it (CreatedByAccount): its ARN
      // carries the owner's account. The API reference does not spell the ARN out; it follows ResourceOwner.
      Arn: this.arnIn(ns.OwnerAccount, `service/${id}`),
      Name: name,
      NamespaceId: ns.Id,
      OwnerAccount: ns.OwnerAccount,
      CreatedByAccount: createdBy,
      Description: optionalString(input, 'Description', 'InvalidInput'),
      CreatorRequestId: creatorRequestId,
      CreateDate: this.options.clock.now(),
      Type: dnsConfig ? 'DNS_HTTP' : 'HTTP',
      DnsConfig: dnsConfig ? { ...dnsConfig, NamespaceId: ns.Id } : undefined,
      HealthCheckConfig: routeCheck,
      HealthCheckCustomConfig: customCheck ? { FailureThreshold: customCheck.FailureThreshold ?? 1 } : undefined,
      instances: new Map(),
      inFlight: new Map(),
      requests: new Map(),
      revision: 0,
    };
  }

  private findService(namespaceId: string, name: string): Service | undefined {
    const wanted = name.toLowerCase();
    return [...this.services.values()].find((s) => s.NamespaceId === namespaceId && s.Name.toLowerCase() === wanted);
  }

  /**
   * A service by id or ARN. One in a namespace shared from another account by its ARN only: "For services created
   * in a shared namespace, specify the service ARN" (API Reference, RegisterInstance, GetInstance, ListInstances,
   * ...); its id alone is answered as a service this account does not have.
   */
  private service(id: unknown): Service {
    const byId = typeof id === 'string' ? this.services.get(id) : undefined;
    const found =
      byId?.OwnerAccount === this.options.accountId
        ? byId
        : [...this.services.values()].find((service) => service.Arn === id);
    if (!found) throw new AwsError('ServiceNotFound', `Service not found: ${String(id)}`);
    return found;
  }

  private serviceView(service: Service): Record<string, unknown> {
    return {
      Id: service.Id,
      Arn: service.Arn,
      ResourceOwner: service.OwnerAccount,
      CreatedByAccount: service.CreatedByAccount,
      Name: service.Name,
      NamespaceId: service.NamespaceId,
      Description: service.Description,
      InstanceCount: service.instances.size,
      DnsConfig: service.DnsConfig,
      Type: service.Type,
      HealthCheckConfig: service.HealthCheckConfig,
      HealthCheckCustomConfig: service.HealthCheckCustomConfig,
      CreateDate: service.CreateDate,
      CreatorRequestId: service.CreatorRequestId,
    };
  }

  private listServices(input: Input): unknown {
    const filters = readFilters(input.Filters);
    const all = [...this.services.values()].filter((service) =>
      filters.every((filter) => {
        // NAMESPACE_ID: "Specify one namespace ID or ARN. Specify the namespace ARN for namespaces that are shared
        // with your AWS account" (API Reference, ServiceFilter): a shared namespace's id matches nothing.
        if (filter.Name === 'NAMESPACE_ID')
          return this.namespaceRefs(service).some((ref) => matchesFilter(filter, ref));
        if (filter.Name === 'RESOURCE_OWNER') return matchesFilter(filter, this.ownerKind(service.OwnerAccount));
        throw invalidInput(`Unsupported service filter: ${filter.Name}`);
      }),
    );
    const { page, nextToken } = paginate(all, input.NextToken, input.MaxResults, LIST_LIMITS);
    const Services = page.map((service) => {
      const { CreatorRequestId: _omit, NamespaceId: _ns, ...summary } = this.serviceView(service);
      return summary;
    });
    return { Services, NextToken: nextToken };
  }

  /** The references of a service's namespace that this account may use: the ARN, and the id when it owns it. */
  private namespaceRefs(service: Service): string[] {
    const ns = this.namespaces.get(service.NamespaceId);
    if (!ns) return [service.NamespaceId];
    return ns.OwnerAccount === this.options.accountId ? [ns.Id, ns.Arn] : [ns.Arn];
  }

  private deleteService(input: Input): Record<string, never> {
    const service = this.service(input.Id);
    if (service.instances.size > 0 || service.inFlight.size > 0) {
      throw new AwsError('ResourceInUse', `Service ${service.Id} still has registered instances.`);
    }
    this.services.delete(service.Id);
    this.tags.delete(service.Arn);
    return {};
  }

  // ---- instances ----

  private registerInstance(input: Input): { OperationId: string } {
    const service = this.service(input.ServiceId);
    const id = checkInstanceId(input.InstanceId);
    const attributes = checkAttributes(input.Attributes);
    checkReservedAttributes(attributes, {
      dnsRecords: service.DnsConfig?.DnsRecords.map((record) => record.Type) ?? [],
      routeHealthCheck: Boolean(service.HealthCheckConfig),
      customHealth: Boolean(service.HealthCheckCustomConfig),
    });
    const creatorRequestId = optionalString(input, 'CreatorRequestId', 'InvalidInput');
    // A repeated CreatorRequestId is the first request retried: its operation back, and nothing done, whatever
    // happened since (API Reference, RegisterInstance CreatorRequestId: "use a unique CreatorRequestId string
    // every time you submit a RegisterInstance request").
    const retried = creatorRequestId ? service.requests.get(creatorRequestId) : undefined;
    if (retried) return { OperationId: retried };
    this.inFlightFor(service, id);
    const targets = { SERVICE: service.Id, INSTANCE: id };
    const operationId = this.startOperation(
      'REGISTER_INSTANCE',
      targets,
      () => this.applyRegister(service, id, attributes, creatorRequestId),
      creatorRequestId,
      service.OwnerAccount,
    );
    service.inFlight.set(id, operationId);
    if (creatorRequestId) service.requests.set(creatorRequestId, operationId);
    return { OperationId: operationId };
  }

  /**
   * A write for an instance whose previous write is still in flight is refused with DuplicateRequest
   * (AWS Cloud Map API Reference, RegisterInstance/DeregisterInstance errors). The same request retried
   * with its CreatorRequestId never gets here: it gets its original operation back.
   */
  private inFlightFor(service: Service, instanceId: string): void {
    const pending = service.inFlight.get(instanceId);
    if (!pending) return;
    throw new AwsError('DuplicateRequest', `Operation ${pending} on instance ${instanceId} is in progress.`, 400, {
      DuplicateOperationId: pending,
    });
  }

  private applyRegister(service: Service, id: string, attributes: Record<string, string>, creatorRequestId?: string) {
    service.inFlight.delete(id);
    if (!this.services.has(service.Id)) return 'Service was deleted.';
    const previous = service.instances.get(id);
    service.instances.set(id, {
      Id: id,
      CreatedByAccount: this.options.accountId,
      CreatorRequestId: creatorRequestId,
      Attributes: attributes,
      // AWS_INIT_HEALTH_STATUS only sets the first status; an update in place keeps the current one.
      health: previous?.health ?? initialHealth(service, attributes),
    });
    service.revision += 1;
    return undefined;
  }

  private deregisterInstance(input: Input): { OperationId: string } {
    const service = this.service(input.ServiceId);
    const id = requireString(input, 'InstanceId', 'InvalidInput');
    this.inFlightFor(service, id);
    if (!service.instances.has(id)) throw new AwsError('InstanceNotFound', `Instance not found: ${id}`);
    const operationId = this.startOperation(
      'DEREGISTER_INSTANCE',
      { SERVICE: service.Id, INSTANCE: id },
      () => {
        service.inFlight.delete(id);
        if (service.instances.delete(id)) service.revision += 1;
        return undefined;
      },
      undefined,
      service.OwnerAccount,
    );
    service.inFlight.set(id, operationId);
    return { OperationId: operationId };
  }

  private instance(service: Service, id: unknown): Instance {
    const found = typeof id === 'string' ? service.instances.get(id) : undefined;
    if (!found) throw new AwsError('InstanceNotFound', `Instance not found: ${String(id)}`);
    return found;
  }

  private getInstance(input: Input): unknown {
    const service = this.service(input.ServiceId);
    const instance = this.instance(service, input.InstanceId);
    return {
      ResourceOwner: service.OwnerAccount,
      Instance: {
        Id: instance.Id,
        CreatorRequestId: instance.CreatorRequestId,
        Attributes: instance.Attributes,
        CreatedByAccount: instance.CreatedByAccount,
      },
    };
  }

  private listInstances(input: Input): unknown {
    const service = this.service(input.ServiceId);
    const all = [...service.instances.values()];
    const { page, nextToken } = paginate(all, input.NextToken, input.MaxResults, LIST_LIMITS);
    return {
      Instances: page.map((i) => ({ Id: i.Id, Attributes: i.Attributes })),
      NextToken: nextToken,
      ResourceOwner: service.OwnerAccount,
    };
  }

  /**
   * DiscoverInstances finds the namespace by its HttpName and the service by name, among the namespaces of
   * OwnerAccount (default: the caller's own): "For instances associated with namespaces that are shared with your
   * account, you must specify an OwnerAccount" (API Reference, DiscoverInstances, DiscoverInstancesRevision).
   * Without it, or with the wrong account, a shared namespace is NamespaceNotFound, as AWS answers
   * (open-telemetry/opentelemetry-collector-contrib#47895).
   */
  private discoveredService(input: Input): Service {
    const namespaceName = requireString(input, 'NamespaceName', 'InvalidInput');
    const serviceName = requireString(input, 'ServiceName', 'InvalidInput');
    const owner = readOwnerAccount(input) ?? this.options.accountId;
    const ns = [...this.namespaces.values()].find(
      (n) => n.OwnerAccount === owner && n.HttpName.toLowerCase() === namespaceName.toLowerCase(),
    );
    if (!ns) throw new AwsError('NamespaceNotFound', `Namespace not found: ${namespaceName}`);
    const service = this.findService(ns.Id, serviceName);
    if (!service) throw new AwsError('ServiceNotFound', `Service not found: ${serviceName}`);
    return service;
  }

  private discoverInstances(input: Input): unknown {
    const service = this.discoveredService(input);
    const max = input.MaxResults === undefined ? 100 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw invalidInput('MaxResults must be between 1 and 1000.');
    const query = readParameters(input.QueryParameters, 'QueryParameters');
    const optional = readParameters(input.OptionalParameters, 'OptionalParameters');
    const queried = [...service.instances.values()].filter((instance) => hasAll(instance, query));
    const preferred = queried.filter((instance) => hasAll(instance, optional));
    // OptionalParameters narrow the answer only when some instance matches them too.
    const candidates = preferred.length > 0 ? preferred : queried;
    const healthy = this.filterByHealth(service, candidates, input.HealthStatus);
    const chosen = shuffled(healthy).slice(0, max);
    return {
      Instances: chosen.map((instance) => ({
        InstanceId: instance.Id,
        NamespaceName: input.NamespaceName,
        ServiceName: service.Name,
        HealthStatus: hasHealthCheck(service) ? instance.health : 'UNKNOWN',
        Attributes: instance.Attributes,
      })),
      InstancesRevision: service.revision,
    };
  }

  /** HealthStatus is ignored for services without a health check; HEALTHY is the default. */
  private filterByHealth(service: Service, instances: Instance[], requested: unknown): Instance[] {
    const wanted = requested ?? 'HEALTHY';
    if (!['HEALTHY', 'UNHEALTHY', 'ALL', 'HEALTHY_OR_ELSE_ALL'].includes(String(wanted))) {
      throw invalidInput(`Invalid HealthStatus: ${String(wanted)}`);
    }
    if (!hasHealthCheck(service) || wanted === 'ALL') return instances;
    if (wanted === 'UNHEALTHY') return instances.filter((instance) => instance.health === 'UNHEALTHY');
    const healthy = instances.filter((instance) => instance.health === 'HEALTHY');
    return wanted === 'HEALTHY_OR_ELSE_ALL' && healthy.length === 0 ? instances : healthy;
  }

  private updateHealth(input: Input): Record<string, never> {
    const service = this.service(input.ServiceId);
    if (!service.HealthCheckCustomConfig) {
      throw new AwsError('CustomHealthNotFound', `Service ${service.Id} has no custom health check configuration.`);
    }
    const instance = this.instance(service, input.InstanceId);
    if (input.Status !== 'HEALTHY' && input.Status !== 'UNHEALTHY')
      throw invalidInput('Status is HEALTHY or UNHEALTHY.');
    instance.health = input.Status;
    return {};
  }

  private getHealth(input: Input): unknown {
    const service = this.service(input.ServiceId);
    const requested = input.Instances;
    if (requested !== undefined && (!Array.isArray(requested) || requested.length < 1 || requested.length > 100)) {
      throw invalidInput('Instances holds 1 to 100 instance ids.');
    }
    const instances = requested ? requested.map((id) => this.instance(service, id)) : [...service.instances.values()];
    const { page, nextToken } = paginate(instances, input.NextToken, input.MaxResults, LIST_LIMITS);
    const status: Record<string, HealthStatus> = {};
    for (const instance of page) status[instance.Id] = hasHealthCheck(service) ? instance.health : 'UNKNOWN';
    return { Status: status, NextToken: nextToken };
  }

  // ---- operations ----

  private startOperation(
    type: OperationType,
    targets: Operation['Targets'],
    apply: () => string | undefined,
    creatorRequestId?: string,
    ownerAccount = this.options.accountId,
  ): string {
    const now = this.options.clock.now();
    const id = `${randomAlnum(32)}-${randomAlnum(8)}`;
    const operation: Operation = {
      Id: id,
      OwnerAccount: ownerAccount,
      Type: type,
      Status: 'PENDING',
      CreateDate: now,
      UpdateDate: now,
      Targets: targets,
    };
    if (creatorRequestId) operation.CreatorRequestId = creatorRequestId;
    this.operations.set(id, operation);
    this.options.clock.after(OPERATION_DELAY_MS, () => this.finishOperation(operation, targets, apply));
    return id;
  }

  private finishOperation(operation: Operation, targets: Operation['Targets'], apply: () => string | undefined): void {
    const service = targets.SERVICE ? this.services.get(targets.SERVICE) : undefined;
    const error = this.options.failOperation() ? 'Injected failure (faults knob).' : undefined;
    if (error) {
      if (service && targets.INSTANCE) service.inFlight.delete(targets.INSTANCE);
    }
    const failure = error ?? apply();
    operation.UpdateDate = this.options.clock.now();
    operation.Status = failure ? 'FAIL' : 'SUCCESS';
    if (failure) {
      operation.ErrorCode = 'INTERNAL_FAILURE';
      operation.ErrorMessage = failure;
    }
  }

  /**
   * An operation, among those of OwnerAccount's namespaces (default: the caller's own): "For operations associated
   * with namespaces that are shared with your account, you must specify an OwnerAccount" (API Reference,
   * GetOperation). Without it, an operation in a shared namespace is answered as one this account does not have.
   */
  private operation(id: unknown, ownerAccount?: string): Operation {
    const found = typeof id === 'string' ? this.operations.get(id) : undefined;
    if (!found || found.OwnerAccount !== (ownerAccount ?? this.options.accountId)) {
      throw new AwsError('OperationNotFound', `Operation not found: ${String(id)}`);
    }
    return found;
  }

  private operationView(operation: Operation): Record<string, unknown> {
    const { CreatorRequestId: _omit, ...view } = operation;
    return view;
  }

  private listOperations(input: Input): unknown {
    const filters = readFilters(input.Filters);
    const all = [...this.operations.values()].filter((operation) =>
      filters.every((filter) => matchesOperationFilter(filter, operation)),
    );
    const { page, nextToken } = paginate(all, input.NextToken, input.MaxResults, LIST_LIMITS);
    return {
      Operations: page.map((operation) => ({ Id: operation.Id, Status: operation.Status })),
      NextToken: nextToken,
    };
  }

  // ---- tags ----

  private taggable(arn: unknown): string {
    const known =
      [...this.namespaces.values()].some((ns) => ns.Arn === arn) ||
      [...this.services.values()].some((service) => service.Arn === arn);
    if (typeof arn !== 'string' || !known)
      throw new AwsError('ResourceNotFoundException', `Resource not found: ${String(arn)}`);
    return arn;
  }

  private tagResource(input: Input): Record<string, never> {
    this.setTags(this.taggable(input.ResourceARN), input.Tags);
    return {};
  }

  private untagResource(input: Input): Record<string, never> {
    const arn = this.taggable(input.ResourceARN);
    const keys = Array.isArray(input.TagKeys) ? input.TagKeys : [];
    this.tags.set(
      arn,
      (this.tags.get(arn) ?? []).filter((tag) => !keys.includes(tag.Key)),
    );
    return {};
  }

  private setTags(arn: string, raw: unknown): void {
    if (raw === undefined) return;
    if (!Array.isArray(raw)) throw invalidInput('Tags must be a list.');
    const merged = new Map((this.tags.get(arn) ?? []).map((tag) => [tag.Key, tag.Value]));
    for (const tag of raw as Tag[]) {
      if (typeof tag?.Key !== 'string' || tag.Key.length < 1 || tag.Key.length > 128)
        throw invalidInput('Tag Key is 1-128 characters.');
      if (typeof tag.Value !== 'string' || tag.Value.length > 256) throw invalidInput('Tag Value is 0-256 characters.');
      merged.set(tag.Key, tag.Value);
    }
    if (merged.size > 50)
      throw new AwsError('TooManyTagsException', 'A resource can have at most 50 tags.', 400, { ResourceName: arn });
    this.tags.set(
      arn,
      [...merged].map(([Key, Value]) => ({ Key, Value })),
    );
  }

  private arn(resource: string): string {
    return this.arnIn(this.options.accountId, resource);
  }

  private arnIn(account: string, resource: string): string {
    return `arn:aws:servicediscovery:${this.options.region}:${account}:${resource}`;
  }
}

interface Filter {
  Name: string;
  Values: string[];
  Condition: string;
}

function readFilters(raw: unknown): Filter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidInput('Filters must be a list.');
  return raw.map((item) => {
    const filter = item as Partial<Filter>;
    if (typeof filter.Name !== 'string' || !Array.isArray(filter.Values) || filter.Values.length === 0) {
      throw invalidInput('Each filter needs a Name and Values.');
    }
    const values = filter.Values.map(String);
    // RESOURCE_OWNER takes SELF or OTHER_ACCOUNTS (API Reference, NamespaceFilter and ServiceFilter `Values`).
    if (filter.Name === 'RESOURCE_OWNER' && values.some((value) => value !== 'SELF' && value !== 'OTHER_ACCOUNTS')) {
      throw invalidInput('RESOURCE_OWNER takes SELF or OTHER_ACCOUNTS.');
    }
    return { Name: filter.Name, Values: values, Condition: filter.Condition ?? 'EQ' };
  });
}

function matchesFilter(filter: Filter, value: string): boolean {
  switch (filter.Condition) {
    case 'EQ':
      if (filter.Values.length !== 1) throw invalidInput('EQ takes exactly one value.');
      return filter.Values[0] === value;
    case 'IN':
      return filter.Values.includes(value);
    case 'BEGINS_WITH':
      return filter.Values.some((prefix) => value.startsWith(prefix));
    default:
      throw invalidInput(`Unsupported filter condition ${filter.Condition} for ${filter.Name}.`);
  }
}

/** OwnerAccount, when given: "Fixed length of 12" (API Reference, DiscoverInstances, GetOperation). */
function readOwnerAccount(input: Input): string | undefined {
  const owner = optionalString(input, 'OwnerAccount', 'InvalidInput');
  if (owner !== undefined && !ACCOUNT_ID.test(owner)) throw invalidInput('OwnerAccount is an account id of 12 digits.');
  return owner;
}

function matchesOperationFilter(filter: Filter, operation: Operation): boolean {
  switch (filter.Name) {
    case 'NAMESPACE_ID':
      return matchesFilter(filter, operation.Targets.NAMESPACE ?? '');
    case 'SERVICE_ID':
      return matchesFilter(filter, operation.Targets.SERVICE ?? '');
    case 'STATUS':
      return matchesFilter(filter, operation.Status);
    case 'TYPE':
      return matchesFilter(filter, operation.Type);
    case 'UPDATE_DATE': {
      // BETWEEN takes two epoch-second values (AWS Cloud Map API Reference, OperationFilter).
      const [from, to] = filter.Values.map(Number);
      const at = operation.UpdateDate.getTime() / 1000;
      if (filter.Condition !== 'BETWEEN' || from === undefined || to === undefined) {
        throw invalidInput('UPDATE_DATE takes BETWEEN with two timestamps.');
      }
      return at >= from && at <= to;
    }
    default:
      throw invalidInput(`Unsupported operation filter: ${filter.Name}`);
  }
}

function readParameters(raw: unknown, name: string): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidInput(`${name} must be a map.`);
  for (const [key, value] of Object.entries(raw)) {
    if (key.length > 255 || typeof value !== 'string' || value.length > 1024)
      throw invalidInput(`${name} has an invalid entry.`);
  }
  return raw as Record<string, string>;
}

function hasAll(instance: Instance, parameters: Record<string, string>): boolean {
  return Object.entries(parameters).every(([key, value]) => instance.Attributes[key] === value);
}

function hasHealthCheck(service: Service): boolean {
  return Boolean(service.HealthCheckCustomConfig || service.HealthCheckConfig);
}

/** New instances with custom health start HEALTHY unless AWS_INIT_HEALTH_STATUS says otherwise. */
function initialHealth(service: Service, attributes: Record<string, string>): HealthStatus {
  if (service.HealthCheckCustomConfig)
    return attributes.AWS_INIT_HEALTH_STATUS === 'UNHEALTHY' ? 'UNHEALTHY' : 'HEALTHY';
  // Route 53 health checks are not run locally: their instances count as healthy.
  return service.HealthCheckConfig ? 'HEALTHY' : 'UNKNOWN';
}
