import type { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { isNamespaceArn, isNamespaceId, NamespaceResolver, namespaceRefOf } from '../cloud-map/namespaces';
import type { LookupConfig } from '../config';
import { NamespaceNotFoundError, ServiceNotFoundError, ValidationError } from '../errors';
import type { NamespaceInfo } from '../ports';
import { SETTINGS } from '../settings';
import { AnswerCache, type AnswerCacheOptions, type CacheSource } from './answer-cache';
import { type Answer, instancesAnswer, matchesIfNoneMatch, servicesAnswer } from './answers';
import { CloudMapDiscovery, type Discovery, toDiscoveryError } from './cloud-map-discovery';
import { consoleResponse } from './console/assets';
import { namespacesAnswer } from './console/namespaces-answer';
import { BASE_HEADERS } from './http-errors';
import { serialisedTargetGroups, targetsAnswer } from './prometheus';
import type {
  HttpResponse,
  InstancesQuery,
  LookupHttpRequest,
  LookupInstance,
  ServiceSummary,
  TargetsQuery,
} from './types';
import { parseLookupRoute } from './validation';

/** What the lookup needs from outside; clock and randomness are injectable for tests. */
export interface LookupDependencies {
  discovery: Discovery;
  namespaces: { resolve(ref: string): Promise<NamespaceInfo> };
  now?: () => number;
  random?: () => number;
  /** Replaces the answer cache of instances routes (the benchmark's naive variant passes one that never caches). */
  cache?: AnswerStore<InstancesEntry>;
}

/** What a route built from one service's instances, with the namespace's HttpName its revision checks need. */
export interface DiscoveredEntry<T> {
  value: T;
  httpName: string;
  name: string;
  /** The namespace's owner when it was given by ARN: its revision checks name it too (OwnerAccount). */
  ownerAccount?: string;
}

/** A cached instances answer. */
export type InstancesEntry = DiscoveredEntry<Answer>;

/** A namespace's services: the `/services` answer, and the list `/prometheus/targets` walks. */
interface ServiceList {
  answer: Answer;
  services: readonly ServiceSummary[];
}

/** What the lookup needs of a cache: AnswerCache, or a stand-in that reads through. */
export type AnswerStore<T> = Pick<AnswerCache<T>, 'get'>;

/** The lookup API: answers one parsed request. Throws named errors; `toHttpResponse` maps them. */
export interface LookupApp {
  answer(request: LookupHttpRequest): Promise<HttpResponse>;
}

/** The `/services` list has no revision to check, and a namespace has one list: a few entries suffice. */
const SERVICE_LIST_ENTRIES = 16;

const MB = 1024 * 1024;

/**
 * The largest `/prometheus/targets` body answered: Lambda refuses a response over 6 MB (its invocation payload quota,
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), after the handler, as a bare 5xx. Below
 * it with room for the headers and the event's envelope; a larger answer is refused with a message saying what to do.
 */
const MAX_TARGETS_BODY = 5 * MB;

/** Refuses a targets answer that Lambda could not return, naming the way out (one service at a time). */
function withinResponseLimit(answer: Answer): Answer {
  if (answer.size <= MAX_TARGETS_BODY) return answer;
  throw new ValidationError(
    'answer-too-large',
    `The targets of this query take ${(answer.size / MB).toFixed(1)} MB, more than a lookup can answer (${MAX_TARGETS_BODY / MB} MB): ask for one service at a time (service=NAME), one http_sd_configs entry each`,
  );
}

/** The share of the answers' memory budget (CACHE_MAX_MB) the instances routes get; `/prometheus/targets` the rest. */
const INSTANCES_SHARE = 0.75;

/** Services of a namespace read at once for `/prometheus/targets` without a service (each one cached). */
const TARGETS_CONCURRENCY = 8;

/**
 * Every instances answer is read with Cloud Map's largest MaxResults and cut to the caller's `max` when
 * rendered: DiscoverInstances answers a randomized list, so a random cut of it is what a smaller
 * MaxResults would give, and `max` never splits the cache.
 * https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
 */
const DISCOVER_MAX_RESULTS = 1000;

/**
 * The default health max age (HEALTH_MAX_AGE_MS): 5 s.
 *
 * Why a bound at all: Cloud Map does not change InstancesRevision when an instance's health changes,
 * so a revision check alone would keep an answer filtered by (and showing) an old health for ever. It
 * applies to every answer, `health=all` too, because every answer carries each instance's `health`.
 *
 * Why 5 s: Cloud Map's own health is already late. It applies an UpdateInstanceCustomHealthStatus
 * about 30 s after receiving it, and Route 53 health checks take 30 s per failure threshold step, so
 * 5 s more (6 s with the 1 s Cache-Control) adds little beside that. Shorter would buy little
 * freshness for more DiscoverInstances calls; longer would let a caller keep sending to a task Cloud
 * Map already calls unhealthy for a noticeable share of that 30 s.
 *
 * What it costs: nothing extra at steady load. When an answer reaches the age, the full read replaces
 * that interval's revision check (DiscoverInstances returns the revision too), so a hot key still costs
 * at most one Cloud Map call per CACHE_INTERVAL_MS per container.
 */
export const DEFAULT_HEALTH_MAX_AGE_MS = 5000;

/** The cache policy of instances answers, from the configuration. */
export function instancesCacheOptions(config: LookupConfig, now?: () => number): AnswerCacheOptions {
  return {
    intervalMs: config.cacheIntervalMs,
    maxAgeMs: config.healthMaxAgeMs,
    staleIfErrorMs: config.staleIfErrorMs,
    maxEntries: config.cacheMaxEntries,
    ...(now ? { now } : {}),
  };
}

/**
 * The cache key of an instances answer: what changes Cloud Map's answer, and nothing else. The namespace
 * by id, however the caller named it; the service as given (an HTTP namespace may hold names that differ
 * only in case); never `max` (see DISCOVER_MAX_RESULTS).
 */
function instancesKey(ns: NamespaceInfo, q: InstancesQuery): string {
  const sorted = (r: Record<string, string>) => Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    namespaceKey(ns),
    q.service,
    q.health,
    sorted(q.queryParameters),
    sorted(q.optionalParameters),
  ]);
}

/** Where a missing service is remembered: no health or filter can make it exist. */
function serviceKey(ns: NamespaceInfo, service: string): string {
  return JSON.stringify([namespaceKey(ns), service]);
}

/**
 * A namespace in a cache key: its id, with its owner when it was given by ARN (maybe another account's, shared
 * through AWS RAM), so that two accounts' namespaces never share an answer. The own namespaces' keys are as before.
 */
function namespaceKey(ns: NamespaceInfo): string | [string, string] {
  return ns.ownerAccount ? [ns.ownerAccount, ns.id] : ns.id;
}

/** Where a namespace's service list is kept (namespaceKey). */
function serviceListKey(ns: NamespaceInfo): string {
  return JSON.stringify(namespaceKey(ns));
}

/** Builds the lookup from its configuration and dependencies; once per container. */
export function createLookupApp(config: LookupConfig, deps: LookupDependencies): LookupApp {
  const { discovery } = deps;
  const random = deps.random ?? Math.random;
  // Answers of many instances weigh much more than others: the budget bounds their memory, not only their count.
  // One budget for both caches of answers built from instances: the instances routes take three quarters of it
  // (and keep up to CACHE_MAX_ENTRIES answers), /prometheus/targets a quarter (and a quarter as many answers).
  const budget = (config.cacheMaxMb ?? SETTINGS.cacheMaxMb.default) * MB;
  const byWeight = { maxWeight: budget * INSTANCES_SHARE };
  const instances =
    deps.cache ??
    new AnswerCache<InstancesEntry>({
      ...instancesCacheOptions(config, deps.now),
      ...byWeight,
      weigh: (entry) => entry.value.size,
    });
  const targets = new AnswerCache<DiscoveredEntry<string[]>>({
    ...instancesCacheOptions(config, deps.now),
    maxEntries: Math.max(1, Math.floor(config.cacheMaxEntries * (1 - INSTANCES_SHARE))),
    maxWeight: budget * (1 - INSTANCES_SHARE),
    weigh: (entry) => entry.value.reduce((sum, group) => sum + group.length, 0),
  });
  const serviceLists = new AnswerCache<ServiceList>({
    ...instancesCacheOptions(config, deps.now),
    maxEntries: SERVICE_LIST_ENTRIES,
  });
  // Found namespaces are rechecked from the resolver's memory; a missing one is asked again after an interval.
  const namespaces = new AnswerCache<NamespaceInfo>(instancesCacheOptions(config, deps.now));
  const cacheControl = `max-age=${config.cacheControlMaxAgeSeconds}`;
  const anyNamespace = config.lookupNamespaces === '*';
  const allowedRefs = [config.namespace, ...(anyNamespace ? [] : (config.lookupNamespaces ?? []))];
  const allowedNames = new Set(allowedRefs.map((ref) => ref.toLowerCase()));

  /** Resolves a namespace reference; found and missing ones are remembered (the latter for one interval). */
  function resolve(ref: string): Promise<NamespaceInfo> {
    return namespaces.get(ref.toLowerCase(), {
      load: async () => {
        try {
          return { value: await deps.namespaces.resolve(ref), revision: undefined };
        } catch (error) {
          throw toDiscoveryError(error, ref, '');
        }
      },
    });
  }

  /**
   * The namespace a request names, if the lookup serves it: NAMESPACE, or one of lookupNamespaces (the
   * names the lookup role may discover in), or any with `*`. Any other name is answered as missing
   * without a call; an id only when it is that of a served namespace, known from resolving those.
   */
  async function servedNamespace(ref: string): Promise<NamespaceInfo> {
    // A name of a namespace served by ARN (maybe shared from another account) is that namespace, with its owner.
    const byArn = isNamespaceArn(ref) ? {} : await servedByArn(ref);
    if (byArn.ns) return byArn.ns;
    if (anyNamespace || allowedNames.has(ref.toLowerCase())) return resolve(ref);
    if (isNamespaceId(ref)) {
      for (const allowed of allowedRefs) {
        const ns = await resolve(allowed).catch((error: unknown) => {
          if (error instanceof NamespaceNotFoundError) return undefined;
          throw error;
        });
        if (ns?.id === ref) return ns;
      }
    }
    // A namespace given by ARN that could not be read may be the one asked for: its failure, not a 404.
    if (byArn.failure) throw byArn.failure;
    // Whether it exists is not said: the answer is the same for a namespace the lookup may not read.
    throw new NamespaceNotFoundError(ref, 'not among the namespaces this lookup serves');
  }

  /**
   * The namespace given by ARN (NAMESPACE or lookupNamespaces) whose name or HttpName is `name`, if any. One that
   * cannot be read now (a share revoked, a throttled GetNamespace) does not stop the others from answering: its
   * failure is kept, and thrown only if no other namespace matches.
   */
  async function servedByArn(name: string): Promise<{ ns?: NamespaceInfo; failure?: unknown }> {
    const wanted = name.toLowerCase();
    let failure: unknown;
    for (const allowed of allowedRefs.filter(isNamespaceArn)) {
      const ns = await resolve(allowed).catch((error: unknown) => {
        if (!(error instanceof NamespaceNotFoundError)) failure ??= error;
        return undefined;
      });
      if (ns && (ns.name.toLowerCase() === wanted || ns.httpName.toLowerCase() === wanted)) return { ns };
    }
    return { failure };
  }

  /** Cloud Map's answer names the HttpName; the caller knows the namespace by the name they gave. */
  async function naming<T>(namespace: string, service: string, call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      throw error instanceof ServiceNotFoundError ? new ServiceNotFoundError(namespace, service) : error;
    }
  }

  /** Reads one service's instances as `q` asks, and builds the cached value of a route from them. */
  function discovered<T>(
    ns: NamespaceInfo,
    q: InstancesQuery,
    build: (revision: number | undefined, instances: LookupInstance[]) => T,
  ): CacheSource<DiscoveredEntry<T>> {
    return {
      missKey: serviceKey(ns, q.service),
      load: async () => {
        const request = {
          namespaceName: ns.httpName,
          serviceName: q.service,
          health: q.health,
          queryParameters: q.queryParameters,
          optionalParameters: q.optionalParameters,
          maxResults: DISCOVER_MAX_RESULTS,
          ...(ns.ownerAccount ? { ownerAccount: ns.ownerAccount } : {}),
        };
        const found = await naming(ns.name, q.service, discovery.discoverInstances(request));
        const value = build(found.revision, found.instances);
        const owner = ns.ownerAccount ? { ownerAccount: ns.ownerAccount } : {};
        return { value: { value, httpName: ns.httpName, name: ns.name, ...owner }, revision: found.revision };
      },
      revision: (current) =>
        naming(
          current.name,
          q.service,
          current.ownerAccount
            ? discovery.instancesRevision(current.httpName, q.service, current.ownerAccount)
            : discovery.instancesRevision(current.httpName, q.service),
        ),
    };
  }

  function instancesSource(ns: NamespaceInfo, q: InstancesQuery): CacheSource<InstancesEntry> {
    return discovered(ns, q, (revision, found) => instancesAnswer(ns.name, q.service, revision, found));
  }

  /** The target groups of one service (cut to `max` instances, as an instances route would answer). */
  function serviceTargets(ns: NamespaceInfo, q: InstancesQuery): Promise<string[]> {
    const source = discovered(ns, q, (_revision, found) => serialisedTargetGroups(ns.name, q.service, found));
    return targets.get(instancesKey(ns, q), source).then((entry) => entry.value.slice(0, q.max));
  }

  /** A listed service deleted since the listing has no targets; any other failure fails the answer. */
  function listedServiceTargets(ns: NamespaceInfo, q: InstancesQuery): Promise<string[]> {
    return serviceTargets(ns, q).catch((error: unknown) => {
      if (error instanceof ServiceNotFoundError) return [];
      throw error;
    });
  }

  /** `/prometheus/targets`: one service, or every service of the namespace (a few at a time). */
  async function targetsOf(ns: NamespaceInfo, q: TargetsQuery): Promise<Answer> {
    if (q.service !== undefined) {
      return withinResponseLimit(targetsAnswer([await serviceTargets(ns, { ...q, service: q.service })]));
    }
    const { services } = await serviceLists.get(serviceListKey(ns), serviceListSource(ns));
    const groups: string[][] = [];
    for (let i = 0; i < services.length; i += TARGETS_CONCURRENCY) {
      const batch = services.slice(i, i + TARGETS_CONCURRENCY);
      groups.push(...(await Promise.all(batch.map(({ name }) => listedServiceTargets(ns, { ...q, service: name })))));
    }
    return withinResponseLimit(targetsAnswer(groups));
  }

  function serviceListSource(ns: NamespaceInfo): CacheSource<ServiceList> {
    return {
      load: async () => {
        const services = await discovery.listServices(namespaceRefOf(ns));
        return { value: { answer: servicesAnswer(ns.name, services), services }, revision: undefined };
      },
    };
  }

  return {
    async answer(request) {
      const route = parseLookupRoute(request, config.namespace);
      if (route.kind === 'console') return consoleResponse(route.file, request.headers['if-none-match']);
      let answer: Answer;
      let max: number | undefined;
      if (route.kind === 'namespaces') {
        answer = namespacesAnswer(config);
      } else if (route.kind === 'services') {
        const ns = await servedNamespace(route.namespace);
        answer = (await serviceLists.get(serviceListKey(ns), serviceListSource(ns))).answer;
      } else if (route.kind === 'targets') {
        answer = await targetsOf(await servedNamespace(route.query.namespace), route.query);
      } else {
        const ns = await servedNamespace(route.query.namespace);
        answer = (await instances.get(instancesKey(ns, route.query), instancesSource(ns, route.query))).value;
        max = route.query.max;
      }
      const headers = { ...BASE_HEADERS, 'cache-control': cacheControl, etag: answer.etag };
      if (matchesIfNoneMatch(request.headers['if-none-match'], answer.etag)) {
        return { statusCode: 304, headers, body: '' };
      }
      return { statusCode: 200, headers, body: answer.render(random, max) };
    },
  };
}

/** The production wiring: the Cloud Map adapter and the shared namespace resolver over one SDK client. */
export function createCloudMapLookupApp(
  config: LookupConfig,
  client: ServiceDiscoveryClient,
  deps: Partial<LookupDependencies> = {},
): LookupApp {
  return createLookupApp(config, {
    discovery: new CloudMapDiscovery(client),
    namespaces: new NamespaceResolver(client),
    ...deps,
  });
}
