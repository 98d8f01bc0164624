import { randomUUID } from 'node:crypto';
import {
  CreateServiceCommand,
  type DnsRecord,
  ListTagsForResourceCommand,
  paginateListServices,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { isAwsError, ServiceNotFoundError, ServiceNotManagedError } from '../errors';
import type { DnsRecordSet, NamespaceInfo, ServiceInfo, ServiceSpec } from '../ports';
import { namespaceRefOf } from './namespaces';

/** Tag put on every Cloud Map service this project creates (IAM conditions key on it too). */
export const MANAGED_TAG_KEY = 'managed-by';

/**
 * Creates the Cloud Map services of the registrar, each with the `managed-by=<ownerId>` tag: the one port through
 * which a service comes to exist. Answers the service of that name that the registrar owns (created now, or by a
 * concurrent creator of ours); throws ServiceNotManagedError when the name is taken by a service it does not own.
 * Never tags an existing service. Adapters: in-process (DirectServiceCreator) or the createService function
 * (LambdaServiceCreator), which keeps CreateService and TagResource out of the roles that write instances.
 */
export interface ServiceCreator {
  create(namespace: NamespaceInfo, spec: ServiceSpec): Promise<ServiceInfo>;
}

/** The DNS records Cloud Map creates for each instance of a service with this record set. */
export function dnsRecordsFor(records: DnsRecordSet, ttlSeconds: number): DnsRecord[] {
  switch (records) {
    case 'A':
      return [{ Type: 'A', TTL: ttlSeconds }];
    case 'AAAA':
      return [{ Type: 'AAAA', TTL: ttlSeconds }];
    case 'A+AAAA':
      return [
        { Type: 'A', TTL: ttlSeconds },
        { Type: 'AAAA', TTL: ttlSeconds },
      ];
    case 'SRV':
      return [{ Type: 'SRV', TTL: ttlSeconds }];
    case 'none':
      return [];
  }
}

/**
 * A CreatorRequestId for one logical request. Cloud Map treats a repeated id as a retry of the request that first
 * used it ("allows failed ... requests to be retried without the risk of executing the operation twice", API
 * Reference, RegisterInstance and CreateService): it answers with that request's result and does nothing. So the id
 * is new for every request the registrar means (a registration after a deregistration, a replay, a reconcile, a
 * service created again after it was deleted) and the same only for retries of that one request: the SDK's
 * (which resend the serialized request) and the adapter's own DuplicateRequest loop (which keeps the id it drew).
 */
export function newRequestId(): string {
  return randomUUID();
}

/** A namespace as the service listings need it: its id, and the ARN and owner of one given by ARN. */
export type NamespaceRef = Pick<NamespaceInfo, 'id' | 'arn' | 'ownerAccount'>;

/**
 * Every service of a namespace, all pages. One given by ARN (maybe shared from another account) is filtered by
 * that ARN: "Specify the namespace ARN for namespaces that are shared with your AWS account" (API Reference,
 * ServiceFilter NAMESPACE_ID); its services carry the owner, so that they are named by ARN in turn.
 */
export async function listServicesIn(client: ServiceDiscoveryClient, namespace: NamespaceRef): Promise<ServiceInfo[]> {
  const services: ServiceInfo[] = [];
  const namespaceId = namespace.id;
  const owner = namespace.ownerAccount ? { ownerAccount: namespace.ownerAccount } : {};
  const pages = paginateListServices(
    { client },
    { MaxResults: 100, Filters: [{ Name: 'NAMESPACE_ID', Values: [namespaceRefOf(namespace)], Condition: 'EQ' }] },
  );
  for await (const page of pages) {
    for (const s of page.Services ?? []) {
      if (s.Id && s.Name) {
        services.push({ id: s.Id, name: s.Name, namespaceId, ...(s.Arn ? { arn: s.Arn } : {}), ...owner });
      }
    }
  }
  return services;
}

/** True when the service carries `managed-by=<ownerId>` (ListTagsForResource; the ARN is found when absent). */
export async function hasManagedTag(
  client: ServiceDiscoveryClient,
  service: ServiceInfo,
  ownerId: string,
): Promise<boolean> {
  const arn = service.arn ?? (await serviceArn(client, service));
  const out = await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
  return (out.Tags ?? []).some((tag) => tag.Key === MANAGED_TAG_KEY && tag.Value === ownerId);
}

/** The ARN of a service known only by id, from its namespace's listing. */
async function serviceArn(client: ServiceDiscoveryClient, service: ServiceInfo): Promise<string> {
  // A service of a namespace given by ARN always comes with its ARN (listed or created): only own ones get here.
  const arn = (await listServicesIn(client, { id: service.namespaceId })).find((s) => s.id === service.id)?.arn;
  if (!arn) throw new ServiceNotFoundError(service.namespaceId, service.name);
  return arn;
}

/**
 * Creates the service with the managed-by tag (CreateService with Tags: never TagResource, never on an existing
 * service). When the name is taken (ServiceAlreadyExists: another task of ours, or another tool, won a race), the
 * existing service is answered only if it carries our tag; otherwise ServiceNotManagedError.
 */
export async function createManagedService(
  client: ServiceDiscoveryClient,
  ownerId: string,
  namespace: NamespaceInfo,
  spec: ServiceSpec,
): Promise<ServiceInfo> {
  const records = namespace.type === 'HTTP' ? [] : dnsRecordsFor(spec.dnsRecords, spec.ttlSeconds);
  try {
    const out = await client.send(
      new CreateServiceCommand({
        Name: spec.name,
        NamespaceId: namespaceRefOf(namespace),
        // New for each creation: with an id derived from the name, creating the service again after it was
        // deleted would be answered with the deleted one. Concurrent creators meet in ServiceAlreadyExists.
        CreatorRequestId: newRequestId(),
        Description: `ECS tasks registered by ${ownerId}`,
        ...(records.length ? { DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: records } } : {}),
        // A custom health check lets the registrar mark instances unhealthy later.
        HealthCheckCustomConfig: { FailureThreshold: 1 },
        Tags: [{ Key: MANAGED_TAG_KEY, Value: ownerId }],
      }),
    );
    return {
      id: out.Service?.Id ?? '',
      name: out.Service?.Name ?? spec.name,
      namespaceId: namespace.id,
      ...(out.Service?.Arn ? { arn: out.Service.Arn } : {}),
      ...(namespace.ownerAccount ? { ownerAccount: namespace.ownerAccount } : {}),
    };
  } catch (error) {
    if (!isAwsError(error, 'ServiceAlreadyExists')) throw error;
    const winner = await raceWinner(client, namespace, spec.name, error);
    if (!winner) throw error;
    if (!(await hasManagedTag(client, winner, ownerId))) {
      throw new ServiceNotManagedError(namespace.name, spec.name, ownerId);
    }
    return winner;
  }
}

/** The service that took the name first: from the error when it says, else from the namespace's listing. */
async function raceWinner(
  client: ServiceDiscoveryClient,
  namespace: NamespaceInfo,
  name: string,
  error: unknown,
): Promise<ServiceInfo | undefined> {
  const { ServiceId: id, ServiceArn: arn } = error as { ServiceId?: string; ServiceArn?: string };
  // A shared namespace's service is named by ARN: without the ARN in the error, it is found in the listing.
  if (id && (arn || !namespace.ownerAccount)) {
    const owner = namespace.ownerAccount ? { ownerAccount: namespace.ownerAccount } : {};
    return { id, name, namespaceId: namespace.id, ...(arn ? { arn } : {}), ...owner };
  }
  const wanted = name.toLowerCase();
  return (await listServicesIn(client, namespace)).find((s) => s.name.toLowerCase() === wanted);
}

/** The in-process adapter: CreateService with the caller's own credentials (tests, the emulator, the CLI). */
export class DirectServiceCreator implements ServiceCreator {
  constructor(
    private readonly client: ServiceDiscoveryClient,
    private readonly ownerId: string,
  ) {}

  create(namespace: NamespaceInfo, spec: ServiceSpec): Promise<ServiceInfo> {
    return createManagedService(this.client, this.ownerId, namespace, spec);
  }
}
