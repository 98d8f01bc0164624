import { arnPrefix, type CfnString, sub } from './cfn';
import { DeployParamError } from './checks';
import { isNamespaceRef } from './namespaces';
import type { DeploySettings } from './params';

const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/([A-Za-z0-9_-]{1,255})$/;
/** A namespace name of the cluster mapping: what CLUSTER_NAMESPACES accepts (lib/config.ts) as well as Cloud Map. */
const MAPPED_NAMESPACE_NAME = /^[A-Za-z0-9_.-]{1,1024}$/;

/** An ECS cluster as a parameter gives it (`ref`: name or ARN), with its name and ARN. */
export interface Cluster {
  ref: string;
  name: string;
  arn: CfnString;
}

/** A pair of the clusterNamespaces parameter: the tasks of `cluster` go to `namespace` (a name, id or ARN). */
export interface MappedNamespace {
  cluster: Cluster;
  namespace: string;
  namespaceIsId: boolean;
}

/** An ECS cluster by name or ARN, with its name and ARN; undefined when it is neither. */
export function clusterOf(ref: string): Cluster | undefined {
  const arn = CLUSTER_ARN.exec(ref);
  if (arn) return { ref, name: arn[1] as string, arn: ref };
  if (CLUSTER_NAME.test(ref)) return { ref, name: ref, arn: sub(`${arnPrefix('ecs')}:cluster/${ref}`) };
  return undefined;
}

/**
 * The clusterNamespaces parameter: `cluster=namespace` pairs, comma-separated (lib/config.ts
 * parseClusterNamespaces reads them from CLUSTER_NAMESPACES); clusters by name or ARN, namespaces by name or id.
 */
export function readClusterNamespaces(value: string): MappedNamespace[] {
  const name = 'clusterNamespaces';
  if (value === '' || value === 'none') return [];
  const mapped: MappedNamespace[] = [];
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const parts = pair.split('=').map((p) => p.trim());
    const [clusterRef = '', namespace = ''] = parts;
    const cluster = clusterOf(clusterRef);
    const namespaceIsId = isNamespaceRef(namespace);
    if (parts.length !== 2 || !cluster || !(namespaceIsId || MAPPED_NAMESPACE_NAME.test(namespace))) {
      throw new DeployParamError(
        name,
        `"${pair}" is not a cluster=namespace pair (an ECS cluster name or ARN, "=", a namespace name, id ns-... or ARN)`,
      );
    }
    const earlier = mapped.find((m) => m.cluster.name === cluster.name);
    if (earlier) {
      throw new DeployParamError(
        name,
        `cluster "${cluster.name}" is mapped twice (${earlier.namespace}, ${namespace})`,
      );
    }
    mapped.push({ cluster, namespace, namespaceIsId });
  }
  if (!mapped.length) {
    throw new DeployParamError(name, `"${value}" holds no cluster=namespace pair (none = no mapping)`);
  }
  return mapped;
}

/** CLUSTER_NAMESPACES: the mapping's pairs as lib/config.ts reads them (no spaces, no empty pairs). */
export function clusterNamespacesVariable(s: DeploySettings): string {
  return s.mappedNamespaces.map((m) => `${m.cluster.ref}=${m.namespace}`).join(',');
}

/** WATCHED_CLUSTERS: the watched clusters (with the mapped ones) as given; empty = every cluster. */
export function watchedClustersVariable(s: DeploySettings): string {
  return s.clusters.map((c) => c.ref).join(',');
}
