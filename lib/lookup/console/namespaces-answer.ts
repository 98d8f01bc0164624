import { isNamespaceArn } from '../../cloud-map/namespaces';
import type { LookupConfig } from '../../config';
import { type Answer, weakEtag } from '../answers';

/** One namespace the lookup serves, as `GET /namespaces` lists it. */
export interface ServedNamespace {
  /**
   * How the routes take it (`/namespaces/{name}/services`): the name as configured, or the `ns-` id of one
   * configured by id or by ARN (an ARN is no path segment; its namespace's id is served as the ARN is).
   */
  name: string;
  /** True for `NAMESPACE`, the one `/services` and `/services/{service}` read. */
  default: boolean;
}

/** A configured namespace reference as a path segment: an ARN's last part is the namespace's id. */
function routeName(ref: string): string {
  return isNamespaceArn(ref) ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
}

/**
 * The answer of `GET /namespaces`: `{ "namespaces": [{ "name", "default" }] }`, the namespaces the lookup serves
 * from its configuration alone (no Cloud Map call): `NAMESPACE` first, then `lookupNamespaces` as listed, each
 * once whatever its letter case. With `lookupNamespaces=*` any namespace is served, but only `NAMESPACE` is
 * listed: the lookup knows no other by name.
 */
export function namespacesAnswer(config: Pick<LookupConfig, 'namespace' | 'lookupNamespaces'>): Answer {
  const refs = [config.namespace, ...(config.lookupNamespaces === '*' ? [] : (config.lookupNamespaces ?? []))];
  const seen = new Set<string>();
  const namespaces: ServedNamespace[] = [];
  for (const ref of refs) {
    const name = routeName(ref);
    if (seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    namespaces.push({ name, default: namespaces.length === 0 });
  }
  const body = JSON.stringify({ namespaces });
  return { etag: weakEtag(body), render: () => body, size: body.length };
}
