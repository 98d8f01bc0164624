import {
  GetNamespaceCommand,
  type Namespace,
  type NamespaceSummary,
  paginateListNamespaces,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { isAwsError, NamespaceNotFoundError } from '../errors';
import type { NamespaceInfo } from '../ports';

/**
 * A namespace id: `ns-` and lowercase letters and digits, up to 64 characters in all. The API reference gives
 * the id no pattern and no fixed length (NamespaceSummary `Id`: "Maximum length of 64"); AWS hands out 16
 * characters after `ns-`, other AWS-compatible endpoints 20.
 */
export const NAMESPACE_ID = /^ns-[a-z0-9]{1,61}$/;

/** A namespace ARN, which GetNamespace also takes as its `Id` (a namespace shared with the account needs it). */
export const NAMESPACE_ARN = /^arn:aws[a-z-]*:servicediscovery:[a-z0-9-]+:\d{12}:namespace\/ns-[a-z0-9]{1,61}$/;

/** True when `ref` is a Cloud Map namespace id rather than a name. */
export function isNamespaceId(ref: string): boolean {
  return NAMESPACE_ID.test(ref);
}

/** True when `ref` is a Cloud Map namespace ARN (no namespace name starts with `arn:`). */
export function isNamespaceArn(ref: string): boolean {
  return NAMESPACE_ARN.test(ref);
}

/** The account of an ARN (its fifth field). */
export function accountOfArn(arn: string): string {
  return arn.split(':')[4] ?? '';
}

/**
 * How Cloud Map wants the namespace named in CreateService `NamespaceId` and the ListServices NAMESPACE_ID filter:
 * its ARN when it was given by ARN (a namespace shared with the account: "specify the namespace ARN", API
 * Reference, CreateService and ServiceFilter), its id otherwise.
 */
export function namespaceRefOf(ns: Pick<NamespaceInfo, 'id' | 'arn' | 'ownerAccount'>): string {
  return ns.ownerAccount && ns.arn ? ns.arn : ns.id;
}

/**
 * The namespace as the domain needs it. `arnRef`: the ARN it was given by, which may be another account's
 * (shared through AWS RAM): the owner is then Cloud Map's ResourceOwner ("If this isn't your account ID, it's the
 * ID of the account that shared the namespace with your account", API Reference, Namespace), or the ARN's account
 * when the answer lacks it. A namespace given by id or name is the caller's own and carries no owner, as before.
 */
function toInfo(ns: Namespace | NamespaceSummary, arnRef?: string): NamespaceInfo {
  const type = ns.Type === 'DNS_PRIVATE' || ns.Type === 'DNS_PUBLIC' ? ns.Type : 'HTTP';
  const name = ns.Name ?? '';
  return {
    id: ns.Id ?? '',
    name,
    type,
    httpName: ns.Properties?.HttpProperties?.HttpName ?? name,
    ...(arnRef ? { arn: ns.Arn ?? arnRef, ownerAccount: ns.ResourceOwner ?? accountOfArn(arnRef) } : {}),
  };
}

/**
 * Resolves namespaces by id, ARN or name, caching what it finds for the life of the container
 * (namespaces are long-lived; a miss is not cached, so a namespace created later is found).
 */
export class NamespaceResolver {
  private readonly cache = new Map<string, Promise<NamespaceInfo>>();

  constructor(private readonly client: ServiceDiscoveryClient) {}

  resolve(ref: string): Promise<NamespaceInfo> {
    const key = isNamespaceId(ref) || isNamespaceArn(ref) ? ref : ref.toLowerCase();
    let found = this.cache.get(key);
    if (!found) {
      found = this.lookup(ref);
      this.cache.set(key, found);
      found.catch(() => this.cache.delete(key));
    }
    return found;
  }

  private async lookup(ref: string): Promise<NamespaceInfo> {
    if (isNamespaceArn(ref)) {
      const found = await this.get(ref, true);
      if (found) return found;
      throw new NamespaceNotFoundError(ref, 'looked up as a namespace ARN (GetNamespace)');
    }
    if (isNamespaceId(ref)) {
      // An HTTP namespace's name may look like an id (`ns-team`): a miss by id is tried by name too.
      const found = (await this.get(ref)) ?? (await this.byName(ref));
      if (found) return found;
      throw new NamespaceNotFoundError(
        ref,
        'looked up as a namespace id (GetNamespace) and as a name (ListNamespaces)',
      );
    }
    const found = await this.byName(ref);
    if (found) return found;
    throw new NamespaceNotFoundError(
      ref,
      'looked up as a namespace name (ListNamespaces); an id is ns- and letters and digits, ' +
        'an ARN arn:aws:servicediscovery:<region>:<account>:namespace/ns-...',
    );
  }

  /** GetNamespace by id or ARN; undefined when there is no such namespace. */
  private async get(idOrArn: string, byArn = false): Promise<NamespaceInfo | undefined> {
    try {
      const out = await this.client.send(new GetNamespaceCommand({ Id: idOrArn }));
      return out.Namespace ? toInfo(out.Namespace, byArn ? idOrArn : undefined) : undefined;
    } catch (error) {
      // InvalidInput: an endpoint that refuses the shape of the id has no namespace of that id either.
      if (isAwsError(error, 'NamespaceNotFound', 'InvalidInput')) return undefined;
      throw error;
    }
  }

  /** The namespace whose name (or HTTP name) is `name`, case-insensitively; undefined when none is. */
  private async byName(name: string): Promise<NamespaceInfo | undefined> {
    const wanted = name.toLowerCase();
    const pages = paginateListNamespaces(
      { client: this.client },
      { Filters: [{ Name: 'NAME', Values: [name], Condition: 'EQ' }] },
    );
    // The first page that holds it ends the listing: no further page is asked for.
    for await (const page of pages) {
      const hit = page.Namespaces?.find(
        (ns) => ns.Name?.toLowerCase() === wanted || ns.Properties?.HttpProperties?.HttpName?.toLowerCase() === wanted,
      );
      if (hit) return toInfo(hit);
    }
    return undefined;
  }
}
