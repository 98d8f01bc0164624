import {
  GetNamespaceCommand,
  ListNamespacesCommand,
  type Namespace,
  type NamespaceSummary,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { isAwsError, NamespaceNotFoundError } from '../errors';
import type { NamespaceInfo } from '../ports';

const NAMESPACE_ID = /^ns-[a-z0-9]{16}$/;

/** True when `ref` is a Cloud Map namespace id rather than a name. */
export function isNamespaceId(ref: string): boolean {
  return NAMESPACE_ID.test(ref);
}

function toInfo(ns: Namespace | NamespaceSummary): NamespaceInfo {
  const type = ns.Type === 'DNS_PRIVATE' || ns.Type === 'DNS_PUBLIC' ? ns.Type : 'HTTP';
  const name = ns.Name ?? '';
  return {
    id: ns.Id ?? '',
    name,
    type,
    httpName: ns.Properties?.HttpProperties?.HttpName ?? name,
  };
}

/**
 * Resolves namespaces by id or by name, caching what it finds for the life of the container
 * (namespaces are long-lived; a miss is not cached, so a namespace created later is found).
 */
export class NamespaceResolver {
  private readonly cache = new Map<string, Promise<NamespaceInfo>>();

  constructor(private readonly client: ServiceDiscoveryClient) {}

  resolve(ref: string): Promise<NamespaceInfo> {
    const key = isNamespaceId(ref) ? ref : ref.toLowerCase();
    let found = this.cache.get(key);
    if (!found) {
      found = this.lookup(ref);
      this.cache.set(key, found);
      found.catch(() => this.cache.delete(key));
    }
    return found;
  }

  private async lookup(ref: string): Promise<NamespaceInfo> {
    if (isNamespaceId(ref)) {
      try {
        const out = await this.client.send(new GetNamespaceCommand({ Id: ref }));
        if (!out.Namespace) throw new NamespaceNotFoundError(ref);
        return toInfo(out.Namespace);
      } catch (error) {
        if (isAwsError(error, 'NamespaceNotFound')) throw new NamespaceNotFoundError(ref);
        throw error;
      }
    }
    const wanted = ref.toLowerCase();
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListNamespacesCommand({
          NextToken: token,
          Filters: [{ Name: 'NAME', Values: [ref], Condition: 'EQ' }],
        }),
      );
      const hit = out.Namespaces?.find(
        (ns) => ns.Name?.toLowerCase() === wanted || ns.Properties?.HttpProperties?.HttpName?.toLowerCase() === wanted,
      );
      if (hit) return toInfo(hit);
      token = out.NextToken;
    } while (token);
    throw new NamespaceNotFoundError(ref);
  }
}
