/**
 * The shapes the lookup API passes between its parts: the request as both API Gateway payloads give
 * it, the validated route, the instances as callers see them and the HTTP answer.
 */

/** The request, reduced to what lookups read; built from a v2 (HTTP API) or v1 (REST API) event. */
export interface LookupHttpRequest {
  method: string;
  /** The path without any stage prefix, still percent-encoded as the caller sent it. */
  path: string;
  /** Query parameters in order, each repetition kept so that a repeated name can be refused. */
  query: [name: string, value: string][];
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
}

/** DiscoverInstances' health filter, in Cloud Map's spelling. */
export type HealthFilter = 'HEALTHY' | 'UNHEALTHY' | 'ALL' | 'HEALTHY_OR_ELSE_ALL';

/** What one instances route asks, validated against Cloud Map's rules. */
export interface InstancesQuery {
  /** The namespace as the caller named it (id or name). */
  namespace: string;
  service: string;
  health: HealthFilter;
  /** `attr.KEY=VALUE`: instances must match all of them (QueryParameters). */
  queryParameters: Record<string, string>;
  /** `prefer.KEY=VALUE`: matched when some instance can (OptionalParameters). */
  optionalParameters: Record<string, string>;
  /** MaxResults, 1 to 1000. */
  max: number;
}

/** What `/prometheus/targets` asks: the instances query of one service, or of every service without one. */
export type TargetsQuery = Omit<InstancesQuery, 'service'> & { service?: string };

/** A validated request: one of the API's routes with its parameters. */
export type LookupRoute =
  | { kind: 'instances'; query: InstancesQuery }
  | { kind: 'services'; namespace: string }
  | { kind: 'targets'; query: TargetsQuery }
  | { kind: 'namespaces' }
  /** The discovery console: its page (no file) or one of its assets, by file name. */
  | { kind: 'console'; file?: string };

/** Cloud Map's health of one instance. */
export type InstanceHealth = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

/** One instance as the lookup API answers it. */
export interface LookupInstance {
  id: string;
  ipv4?: string;
  /** Left out when the task has no IPv6 address. */
  ipv6?: string;
  /** Left out when the instance has no AWS_INSTANCE_PORT (or one that is not a number). */
  port?: number;
  health: InstanceHealth;
  /** Every attribute, AWS_INSTANCE_* included. */
  attributes: Record<string, string>;
}

/** A service of a namespace, as `GET /services` lists it. */
export interface ServiceSummary {
  name: string;
  /** Cloud Map's InstanceCount: may lag pending registrations. */
  instances: number;
}

/** An answer both API Gateway payload versions accept. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
