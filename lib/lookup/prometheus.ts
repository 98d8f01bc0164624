import { type Answer, weakEtag } from './answers';
import type { LookupInstance } from './types';

/**
 * Prometheus HTTP service discovery (`http_sd_configs`): the instances of a namespace's services as target
 * groups, in the format of https://prometheus.io/docs/prometheus/latest/http_sd/ ("HTTP_SD format": a JSON list
 * of `{ "targets": ["<host>", ...], "labels": { ... } }`; an empty list `[]` when there is no target).
 *
 * One group per instance: a group's labels apply to every target in it, and most of what a scrape config wants
 * to relabel on (the instance id, the task ARN, the availability zone, the health) differs from one task to the
 * next, as in Prometheus's own Consul and EC2 discoveries, which give each target its own `__meta_*` labels.
 * The groups of one service are listed together, sorted by instance id.
 */

/** One target group of the http_sd format. */
export interface TargetGroup {
  targets: [string];
  labels: Record<string, string>;
}

/** The attributes the registrar writes that have a label of their own (`__meta_ecs_*`). */
const ECS_LABELS: Record<string, string> = {
  ECS_CLUSTER_NAME: '__meta_ecs_cluster',
  ECS_SERVICE_NAME: '__meta_ecs_service',
  ECS_TASK_ARN: '__meta_ecs_task_arn',
  ECS_TASK_DEFINITION_FAMILY: '__meta_ecs_task_definition_family',
  ECS_TASK_DEFINITION_REVISION: '__meta_ecs_task_definition_revision',
  ECS_DEPLOYMENT_ID: '__meta_ecs_deployment_id',
  ECS_LAUNCH_TYPE: '__meta_ecs_launch_type',
  AVAILABILITY_ZONE: '__meta_ecs_availability_zone',
};

/** Attributes already given as the target or as a label above. */
const IN_TARGET = new Set(['AWS_INSTANCE_IPV4', 'AWS_INSTANCE_IPV6', 'AWS_INSTANCE_PORT']);

/**
 * A label name from an attribute key: Prometheus label names are `[a-zA-Z_][a-zA-Z0-9_]*`
 * (https://prometheus.io/docs/concepts/data_model/); any other character becomes `_`, as Prometheus's own
 * discoveries sanitize names. Two keys that differ only there share a label: the first (by key) is kept.
 */
export function attributeLabel(key: string): string {
  return `__meta_cloudmap_attribute_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** `ip:port` (IPv6 in brackets), the IPv4 address first; without a port, the address alone. */
export function targetOf(instance: LookupInstance): string | undefined {
  const host = instance.ipv4 ?? (instance.ipv6 ? `[${instance.ipv6}]` : undefined);
  if (host === undefined) return undefined;
  return instance.port === undefined ? host : `${host}:${instance.port}`;
}

/** The target group of one instance; undefined for an instance without an address (nothing to scrape). */
export function targetGroupOf(namespace: string, service: string, instance: LookupInstance): TargetGroup | undefined {
  const target = targetOf(instance);
  if (target === undefined) return undefined;
  const labels: Record<string, string> = {};
  const attributes = Object.entries(instance.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of attributes) {
    if (IN_TARGET.has(key)) continue;
    const name = Object.hasOwn(ECS_LABELS, key) ? (ECS_LABELS[key] as string) : attributeLabel(key);
    // defineProperty: an attribute key may be `__proto__` (see lib/lookup/validation.ts addFilter).
    if (!Object.hasOwn(labels, name)) {
      Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  Object.assign(labels, {
    __meta_cloudmap_namespace: namespace,
    __meta_cloudmap_service: service,
    __meta_cloudmap_instance_id: instance.id,
    __meta_cloudmap_health: instance.health,
  });
  return { targets: [target], labels };
}

/** The target groups of one service's instances, sorted by instance id. */
export function serviceTargetGroups(
  namespace: string,
  service: string,
  instances: readonly LookupInstance[],
): TargetGroup[] {
  return [...instances]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .flatMap((instance) => targetGroupOf(namespace, service, instance) ?? []);
}

/**
 * The target groups of one service, each serialised once (as an instances answer's instances are): what the lookup
 * caches, weighs by its characters, and joins into an answer.
 */
export function serialisedTargetGroups(
  namespace: string,
  service: string,
  instances: readonly LookupInstance[],
): string[] {
  return serviceTargetGroups(namespace, service, instances).map((group) => JSON.stringify(group));
}

/** The answer of `/prometheus/targets`: the serialised groups of every service asked, in the order given. */
export function targetsAnswer(groups: readonly (readonly string[])[]): Answer {
  const body = `[${groups.flat().join(',')}]`;
  return { etag: weakEtag(body), render: () => body, size: body.length };
}
