import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  paginateListServices,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import {
  isAwsError,
  NamespaceNotFoundError,
  RegistrarError,
  ServiceNotFoundError,
  UpstreamError,
  UpstreamThrottledError,
  ValidationError,
} from '../errors';
import { toLookupInstance } from './answers';
import type { HealthFilter, LookupInstance, ServiceSummary } from './types';

/** One DiscoverInstances question; `namespaceName` is the namespace's HttpName. */
export interface DiscoverRequest {
  namespaceName: string;
  serviceName: string;
  health: HealthFilter;
  queryParameters: Record<string, string>;
  optionalParameters: Record<string, string>;
  maxResults: number;
  /** The namespace's owner when it was given by ARN (NamespaceInfo.ownerAccount): sent as OwnerAccount. */
  ownerAccount?: string;
}

/** The reads the lookup API makes of Cloud Map's discovery (data plane) and of its service list. */
export interface Discovery {
  discoverInstances(request: DiscoverRequest): Promise<{ revision: number | undefined; instances: LookupInstance[] }>;
  /**
   * The revision of the service's instance list: it changes on (de)registration, not on health updates.
   * `ownerAccount` as in DiscoverRequest.
   */
  instancesRevision(namespaceName: string, serviceName: string, ownerAccount?: string): Promise<number | undefined>;
  /** Every service of the namespace (by id, or by ARN for one given by ARN), all pages. */
  listServices(namespaceId: string): Promise<ServiceSummary[]>;
}

/**
 * OwnerAccount for a namespace given by ARN: "For instances associated with namespaces that are shared with your
 * account, you must specify an OwnerAccount" (API Reference, DiscoverInstances and DiscoverInstancesRevision);
 * nothing otherwise, so requests about the account's own namespaces are unchanged.
 */
function ownerOf(ownerAccount: string | undefined): { OwnerAccount?: string } {
  return ownerAccount ? { OwnerAccount: ownerAccount } : {};
}

/** Seconds a throttled caller is told to wait: Cloud Map's quotas are per second. */
export const THROTTLE_RETRY_AFTER_SECONDS = 1;

const THROTTLING = ['RequestLimitExceeded', 'ThrottlingException', 'TooManyRequestsException', 'Throttling'];

/**
 * The Cloud Map adapter of `Discovery`. Every SDK error leaves it as one of the named errors, so the
 * HTTP mapping never sees (nor shows) an AWS message.
 */
export class CloudMapDiscovery implements Discovery {
  constructor(private readonly client: ServiceDiscoveryClient) {}

  async discoverInstances(request: DiscoverRequest) {
    const out = await this.call(request.namespaceName, request.serviceName, () =>
      this.client.send(
        new DiscoverInstancesCommand({
          NamespaceName: request.namespaceName,
          ServiceName: request.serviceName,
          HealthStatus: request.health,
          MaxResults: request.maxResults,
          ...ownerOf(request.ownerAccount),
          ...(Object.keys(request.queryParameters).length > 0 ? { QueryParameters: request.queryParameters } : {}),
          ...(Object.keys(request.optionalParameters).length > 0
            ? { OptionalParameters: request.optionalParameters }
            : {}),
        }),
      ),
    );
    return { revision: out.InstancesRevision, instances: (out.Instances ?? []).map(toLookupInstance) };
  }

  async instancesRevision(namespaceName: string, serviceName: string, ownerAccount?: string) {
    const out = await this.call(namespaceName, serviceName, () =>
      this.client.send(
        new DiscoverInstancesRevisionCommand({
          NamespaceName: namespaceName,
          ServiceName: serviceName,
          ...ownerOf(ownerAccount),
        }),
      ),
    );
    return out.InstancesRevision;
  }

  async listServices(namespaceId: string) {
    return this.call(namespaceId, '', async () => {
      const services: ServiceSummary[] = [];
      const pages = paginateListServices(
        { client: this.client },
        { Filters: [{ Name: 'NAMESPACE_ID', Values: [namespaceId], Condition: 'EQ' }] },
      );
      for await (const page of pages) {
        for (const s of page.Services ?? []) services.push({ name: s.Name ?? '', instances: s.InstanceCount ?? 0 });
      }
      return services;
    });
  }

  private async call<T>(namespace: string, service: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toDiscoveryError(error, namespace, service);
    }
  }
}

/** Maps an SDK error to the lookup's named errors. */
export function toDiscoveryError(error: unknown, namespace: string, service: string): Error {
  if (error instanceof RegistrarError) return error;
  if (isAwsError(error, 'ServiceNotFound')) return new ServiceNotFoundError(namespace, service);
  if (isAwsError(error, 'NamespaceNotFound')) return new NamespaceNotFoundError(namespace);
  const throttled =
    isAwsError(error, ...THROTTLING) ||
    (error as { $retryable?: { throttling?: boolean } } | undefined)?.$retryable?.throttling === true ||
    (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode === 429;
  if (throttled) return new UpstreamThrottledError(THROTTLE_RETRY_AFTER_SECONDS, { cause: error });
  // Our validation follows Cloud Map's rules, so this means the rules moved: the caller's input is still at fault.
  if (isAwsError(error, 'InvalidInput')) {
    return new ValidationError('invalid-parameter', 'Cloud Map refused the request parameters', { cause: error });
  }
  return new UpstreamError({ cause: error });
}
