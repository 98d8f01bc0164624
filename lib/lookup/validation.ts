import * as z from 'zod/mini';
import { ATTRIBUTE_KEY } from '../cloud-map/limits';
import { RouteNotFoundError, ValidationError } from '../errors';
import type { HealthFilter, InstancesQuery, LookupHttpRequest, LookupRoute, TargetsQuery } from './types';

/**
 * Cloud Map's own rules (API reference of DiscoverInstances and CreateService), applied before any
 * upstream call so that a bad request costs nothing and reaches nothing.
 */

/** CreateService / DiscoverInstances ServiceName: DNS-style labels, 127 characters at most. */
const SERVICE_NAME =
  /^(?=.{1,127}$)([a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$/;

/** Cloud Map's namespace Name and HttpName: 1 to 1024 printable ASCII characters. */
export const CLOUD_MAP_NAMESPACE_NAME = /^[!-~]{1,1024}$/;

/**
 * The project's narrower namespace rule: dot-separated labels of letters, digits, `-` and `_`.
 * Cloud Map alone would let `/`, `%`, `..` and quotes through; every DNS namespace and namespace id
 * already fits this, and an HTTP namespace outside it is still reachable by its id.
 */
const NAMESPACE_LABELS = /^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*$/;

/**
 * QueryParameters / OptionalParameters value: printable ASCII, inner spaces and tabs allowed, 1024 at most. (Keys
 * follow the attribute key rule of lib/cloud-map/limits.ts; a filter value is not an attribute value: tabs pass.)
 */
const ATTRIBUTE_VALUE = /^([!-~][ \t!-~]*)?[!-~]?$/;

/** An instance carries at most 30 attributes, so more filters than that can never all match. */
const MAX_FILTERS = 30;

// zod/mini rather than zod classic: the same core and checks at a tenth of the import cost. Only success is
// read here (each caller words its own message), so zod/mini's missing locale changes nothing. Each schema is
// lazy: built at the first request that needs it, not while the function's bundle loads.
const serviceName = z.lazy(() => z.string().check(z.regex(SERVICE_NAME)));
const namespaceName = z.lazy(() => z.string().check(z.regex(CLOUD_MAP_NAMESPACE_NAME), z.regex(NAMESPACE_LABELS)));
const attributeKey = z.lazy(() => z.string().check(z.regex(ATTRIBUTE_KEY)));
const attributeValue = z.lazy(() => z.string().check(z.maxLength(1024), z.regex(ATTRIBUTE_VALUE)));
const health = z.lazy(() =>
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((value: string) => value.toUpperCase()),
    ),
    z.enum(['HEALTHY', 'UNHEALTHY', 'ALL', 'HEALTHY_OR_ELSE_ALL']),
  ),
);
const max = z.lazy(() =>
  z.pipe(
    z.pipe(z.string().check(z.regex(/^[0-9]{1,4}$/)), z.transform(Number)),
    z.number().check(z.int(), z.gte(1), z.lte(1000)),
  ),
);

/**
 * Caller input quoted in a message: cut short, JSON-escaped, and anything outside printable ASCII
 * written as \uXXXX, so it cannot grow the answer or smuggle control or bidi characters into it.
 */
function quote(value: string): string {
  const cut = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  return JSON.stringify(cut).replace(/[^ -~]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Validates a service name against Cloud Map's rule. */
export function parseServiceName(value: string): string {
  if (!serviceName.safeParse(value).success) {
    throw new ValidationError(
      'invalid-name',
      `Service name ${quote(value)} is not a Cloud Map service name (DNS labels of letters, digits, - and _; 127 characters at most)`,
    );
  }
  return value;
}

/** Validates a namespace name or id (see NAMESPACE_LABELS for why it is narrower than Cloud Map's). */
export function parseNamespaceName(value: string): string {
  if (!namespaceName.safeParse(value).success) {
    throw new ValidationError(
      'invalid-name',
      `Namespace ${quote(value)} is not a namespace name or id (dot-separated labels of letters, digits, - and _)`,
    );
  }
  return value;
}

const ALLOWED = 'allowed: health, max, attr.KEY, prefer.KEY';
const ALLOWED_TARGETS = 'allowed: namespace, service, health, max, attr.KEY, prefer.KEY';

/** Validates the query of an instances route: `health`, `max`, `attr.KEY`, `prefer.KEY`, each at most once. */
export function parseInstancesParameters(
  query: LookupHttpRequest['query'],
  allowed = ALLOWED,
): Omit<InstancesQuery, 'namespace' | 'service'> {
  const seen = new Set<string>();
  const out: Omit<InstancesQuery, 'namespace' | 'service'> = {
    health: 'HEALTHY_OR_ELSE_ALL',
    queryParameters: {},
    optionalParameters: {},
    max: 1000,
  };
  for (const [name, value] of query) {
    if (seen.has(name)) throw new ValidationError('repeated-parameter', `Query parameter ${quote(name)} is repeated`);
    seen.add(name);
    if (name === 'health') {
      const parsed = health.safeParse(value);
      if (!parsed.success) {
        throw new ValidationError(
          'invalid-parameter',
          'Query parameter "health" must be healthy, unhealthy, all or healthy_or_else_all',
        );
      }
      out.health = parsed.data as HealthFilter;
    } else if (name === 'max') {
      const parsed = max.safeParse(value);
      if (!parsed.success) {
        throw new ValidationError('invalid-parameter', 'Query parameter "max" must be a whole number from 1 to 1000');
      }
      out.max = parsed.data;
    } else if (name.startsWith('attr.')) {
      addFilter(out.queryParameters, name, name.slice('attr.'.length), value);
    } else if (name.startsWith('prefer.')) {
      addFilter(out.optionalParameters, name, name.slice('prefer.'.length), value);
    } else {
      throw new ValidationError('unknown-parameter', `Unknown query parameter ${quote(name)}; ${allowed}`);
    }
  }
  return out;
}

function addFilter(filters: Record<string, string>, name: string, key: string, value: string): void {
  if (!attributeKey.safeParse(key).success) {
    throw new ValidationError(
      'invalid-parameter',
      `Query parameter ${quote(name)}: the attribute key must be 1 to 255 printable ASCII characters`,
    );
  }
  if (!attributeValue.safeParse(value).success) {
    throw new ValidationError(
      'invalid-parameter',
      `Query parameter ${quote(name)}: the value must be at most 1024 printable ASCII characters (inner spaces allowed)`,
    );
  }
  if (Object.keys(filters).length >= MAX_FILTERS) {
    throw new ValidationError('invalid-parameter', `At most ${MAX_FILTERS} attr. and ${MAX_FILTERS} prefer. filters`);
  }
  // Not `filters[key] = value`: for the key `__proto__` (a valid Cloud Map attribute key) that assignment
  // would set the object's prototype, and the filter would silently vanish.
  Object.defineProperty(filters, key, { value, enumerable: true, writable: true, configurable: true });
}

function refuseQuery(query: LookupHttpRequest['query']): void {
  const first = query[0];
  if (first) throw new ValidationError('unknown-parameter', `Unknown query parameter ${quote(first[0])}; none allowed`);
}

function decodeSegments(path: string): string[] {
  try {
    return path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw new ValidationError('invalid-name', 'The path holds a malformed percent-encoding');
  }
}

/**
 * Matches the request to a route and validates every name and parameter in it.
 * Throws RouteNotFoundError (404) or ValidationError (400); never calls anything.
 */
export function parseLookupRoute(request: LookupHttpRequest, defaultNamespace: string): LookupRoute {
  if (request.method !== 'GET') throw new RouteNotFoundError();
  const segments = decodeSegments(request.path);
  const [first, second, third, fourth, ...rest] = segments;
  if (rest.length > 0) throw new RouteNotFoundError();

  if (first === 'services' && second === undefined) {
    refuseQuery(request.query);
    return { kind: 'services', namespace: defaultNamespace };
  }
  if (first === 'services' && second !== undefined && third === undefined) {
    return instances(defaultNamespace, parseServiceName(second), request);
  }
  if (first === 'namespaces' && second !== undefined && third === 'services' && fourth !== undefined) {
    return instances(parseNamespaceName(second), parseServiceName(fourth), request);
  }
  if (first === 'namespaces' && second === undefined) {
    refuseQuery(request.query);
    return { kind: 'namespaces' };
  }
  if (first === 'namespaces' && second !== undefined && third === 'services' && fourth === undefined) {
    refuseQuery(request.query);
    return { kind: 'services', namespace: parseNamespaceName(second) };
  }
  if (first === 'console' && third === undefined) return consoleRoute(second, request.query);
  if (first === 'prometheus' && second === 'targets' && third === undefined) {
    return { kind: 'targets', query: parseTargetsQuery(request.query, defaultNamespace) };
  }
  if (first === 'resolve' && second !== undefined && third === undefined) {
    const dot = second.indexOf('.');
    if (dot <= 0 || dot === second.length - 1) {
      throw new ValidationError('invalid-name', `Name ${quote(second)} is not of the form service.namespace`);
    }
    return instances(parseNamespaceName(second.slice(dot + 1)), parseServiceName(second.slice(0, dot)), request);
  }
  throw new RouteNotFoundError();
}

/** A console asset's file name (lib/lookup/console/assets.ts names them `console.<hash>.js` and `.css`). */
const CONSOLE_FILE = /^[a-z0-9]+(\.[a-z0-9]+){1,2}$/;

/**
 * `/console`, the page, takes one parameter its script reads: `refresh`, the seconds between polls (1 to 60);
 * `/console/FILE`, an asset, takes none. A file name of another shape is no route.
 */
function consoleRoute(file: string | undefined, query: LookupHttpRequest['query']): LookupRoute {
  if (file !== undefined) {
    if (!CONSOLE_FILE.test(file)) throw new RouteNotFoundError();
    refuseQuery(query);
    return { kind: 'console', file };
  }
  let refresh: string | undefined;
  for (const [name, value] of query) {
    if (name !== 'refresh') {
      throw new ValidationError('unknown-parameter', `Unknown query parameter ${quote(name)}; allowed: refresh`);
    }
    if (refresh !== undefined) throw new ValidationError('repeated-parameter', 'Query parameter "refresh" is repeated');
    refresh = value;
  }
  if (refresh !== undefined && !(/^[0-9]{1,2}$/.test(refresh) && Number(refresh) >= 1 && Number(refresh) <= 60)) {
    throw new ValidationError(
      'invalid-parameter',
      'Query parameter "refresh" must be a whole number of seconds from 1 to 60',
    );
  }
  return { kind: 'console' };
}

function instances(namespace: string, service: string, request: LookupHttpRequest): LookupRoute {
  return { kind: 'instances', query: { namespace, service, ...parseInstancesParameters(request.query) } };
}

/**
 * The query of `/prometheus/targets`: `namespace` (default: the lookup's) and `service` (default: every service
 * of the namespace) beside the instances parameters, each at most once and validated as on the other routes.
 */
function parseTargetsQuery(query: LookupHttpRequest['query'], defaultNamespace: string): TargetsQuery {
  let namespace: string | undefined;
  let service: string | undefined;
  const rest: LookupHttpRequest['query'] = [];
  for (const [name, value] of query) {
    if (name !== 'namespace' && name !== 'service') {
      rest.push([name, value]);
    } else if ((name === 'namespace' ? namespace : service) !== undefined) {
      throw new ValidationError('repeated-parameter', `Query parameter ${quote(name)} is repeated`);
    } else if (name === 'namespace') {
      namespace = parseNamespaceName(value);
    } else {
      service = parseServiceName(value);
    }
  }
  return {
    namespace: namespace ?? defaultNamespace,
    ...(service === undefined ? {} : { service }),
    ...parseInstancesParameters(rest, ALLOWED_TARGETS),
  };
}
