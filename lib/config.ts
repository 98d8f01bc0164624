import * as z from 'zod/mini';
import { ConfigError } from './errors';
import type { DnsRecordSet } from './ports';

// zod/mini loads no locale of its own (every message would read "Invalid input"): English, as zod classic.
z.config(z.locales.en());

type Env = Record<string, string | undefined>;

// zod/mini rather than zod classic: the same core, checks and messages, at a tenth of the import cost.
const int = (min: number, max: number) => z.coerce.number().check(z.int(), z.gte(min), z.lte(max));

/** Parses `schema` from `env`, throwing a ConfigError that names every key that is missing or wrong. */
export function parseEnv<T extends z.core.$ZodLooseShape>(shape: T, env: Env): z.infer<z.ZodMiniObject<T>> {
  const present = Object.fromEntries(Object.keys(shape).map((key) => [key, env[key] === '' ? undefined : env[key]]));
  const result = z.object(shape).safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      return env[key] === undefined || env[key] === '' ? `${key} is required` : `${key}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

const DNS_RECORDS = ['A', 'AAAA', 'A+AAAA'] as const;
/**
 * `cluster=namespace` pairs: a cluster by name or ARN; a namespace by name, id (`ns-` and any valid length) or ARN,
 * that is printable ASCII as Cloud Map names are (`[!-~]`), but for the `,` and `=` that separate the pairs.
 */
const CLUSTER_PAIR = String.raw`\s*[\w:/.-]+\s*=\s*[!-+\--<>-~]+\s*`;
const CLUSTER_NAMESPACES = new RegExp(`^$|^${CLUSTER_PAIR}(,${CLUSTER_PAIR})*$`);

// Each shape is built when its loader runs (once, at cold start), so a function builds only the schemas it reads.
const planShape = () => ({
  /** The Cloud Map namespace, by id (ns-...), ARN or name. */
  NAMESPACE: z.string().check(z.minLength(1)),
  /** DNS records for services of awsvpc tasks; bridge and host tasks always get SRV. */
  DNS_RECORDS: z.pipe(
    z.pipe(
      z._default(z.string(), 'A'),
      z.transform((v: string) => v.toUpperCase().replace(/[,\s]+/g, '+')),
    ),
    z.enum(DNS_RECORDS),
  ),
  DNS_TTL: z._default(int(0, 2_147_483_647), 10),
  DEFAULT_PORT: z._default(int(1, 65535), 80),
  /** The owner attribute's value; change it only to run two independent registrars in one account. */
  OWNER_ID: z._default(z.string().check(z.regex(/^[a-zA-Z0-9!-~]{1,1024}$/)), 'ecs-cloudmap-registrar'),
  /** `cluster=namespace` pairs, comma-separated: clusters whose tasks go to a namespace of their own. */
  CLUSTER_NAMESPACES: z._default(
    z.string().check(z.regex(CLUSTER_NAMESPACES, 'expected cluster=namespace pairs, comma-separated')),
    '',
  ),
});

/** `cluster=namespace` pairs, as CLUSTER_NAMESPACES and the clusterNamespaces parameter write them. */
export function parseClusterNamespaces(value: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [cluster = '', namespace = ''] = pair.split('=').map((p) => p.trim());
    // A cluster given by ARN is keyed by its name, as events and attributes name it.
    map[cluster.slice(cluster.lastIndexOf('/') + 1)] = namespace;
  }
  return map;
}

/** A Lambda function name, or its ARN (optionally with a version or alias), as Invoke's FunctionName takes it. */
const LAMBDA_FUNCTION =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;

const registrarShape = () => ({
  ...planShape(),
  /** Longest wait for a Cloud Map operation to reach SUCCESS or FAIL. */
  OPERATION_TIMEOUT_MS: z._default(int(1000, 600_000), 30_000),
  /** How long the ECS service tags are cached in a warm container. */
  SERVICE_TAGS_TTL_MS: z._default(int(0, 3_600_000), 60_000),
  /** How long a RUNNING event waits in the function for a health-checked task to turn HEALTHY. */
  HEALTH_WAIT_MS: z._default(int(0, 600_000), 12_000),
  /** How often it asks ECS (DescribeTasks) meanwhile. */
  HEALTH_POLL_MS: z._default(int(200, 60_000), 2_000),
  /** The DynamoDB table that orders events per task (key `taskArn`). */
  TASK_TABLE: z.string().check(z.regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'not a DynamoDB table name')),
  /** The createService function (name or ARN) that creates missing services; unset: created in-process. */
  SERVICE_CREATOR_FUNCTION: z.optional(
    z.string().check(z.regex(LAMBDA_FUNCTION, 'expected a Lambda function name or ARN')),
  ),
});

/** What planning needs: the part of the register function's configuration `registrar plan` reads too. */
export interface PlanConfig {
  namespace: string;
  dnsRecords: Exclude<DnsRecordSet, 'SRV' | 'none'>;
  dnsTtl: number;
  defaultPort: number;
  ownerId: string;
  /** Cluster name -> namespace, for clusters that do not use `namespace`. */
  clusterNamespaces?: Record<string, string>;
}

export interface RegistrarConfig extends PlanConfig {
  operationTimeoutMs: number;
  serviceTagsTtlMs: number;
  healthWaitMs: number;
  healthPollMs: number;
  taskTable: string;
  /** The createService function the writers invoke to create a service; absent: they create it themselves. */
  serviceCreatorFunction?: string;
}

type PlanValues = z.infer<z.ZodMiniObject<ReturnType<typeof planShape>>>;
type RegistrarValues = z.infer<z.ZodMiniObject<ReturnType<typeof registrarShape>>>;

function planConfigOf(v: PlanValues): PlanConfig {
  const clusterNamespaces = parseClusterNamespaces(v.CLUSTER_NAMESPACES);
  return {
    namespace: v.NAMESPACE,
    dnsRecords: v.DNS_RECORDS,
    dnsTtl: v.DNS_TTL,
    defaultPort: v.DEFAULT_PORT,
    ownerId: v.OWNER_ID,
    ...(Object.keys(clusterNamespaces).length ? { clusterNamespaces } : {}),
  };
}

function registrarConfigOf(v: RegistrarValues): RegistrarConfig {
  return {
    ...planConfigOf(v),
    operationTimeoutMs: v.OPERATION_TIMEOUT_MS,
    serviceTagsTtlMs: v.SERVICE_TAGS_TTL_MS,
    healthWaitMs: v.HEALTH_WAIT_MS,
    healthPollMs: v.HEALTH_POLL_MS,
    taskTable: v.TASK_TABLE,
    ...(v.SERVICE_CREATOR_FUNCTION ? { serviceCreatorFunction: v.SERVICE_CREATOR_FUNCTION } : {}),
  };
}

/** Reads and validates the planning variables (NAMESPACE, DNS_RECORDS, DNS_TTL, DEFAULT_PORT, OWNER_ID). */
export function loadPlanConfig(env: Env = process.env): PlanConfig {
  return planConfigOf(parseEnv(planShape(), env));
}

/** Reads and validates the register function's environment. */
export function loadRegistrarConfig(env: Env = process.env): RegistrarConfig {
  return registrarConfigOf(parseEnv(registrarShape(), env));
}

/** What the createService function reads: the namespaces it may create in, and the managed-by value. */
const serviceCreatorShape = () => {
  const { NAMESPACE, OWNER_ID, CLUSTER_NAMESPACES } = planShape();
  return { NAMESPACE, OWNER_ID, CLUSTER_NAMESPACES };
};

export interface ServiceCreatorConfig {
  ownerId: string;
  /** NAMESPACE and those of CLUSTER_NAMESPACES (name, id or ARN): the only namespaces it creates services in. */
  namespaces: string[];
}

/** Reads and validates the createService function's environment. */
export function loadServiceCreatorConfig(env: Env = process.env): ServiceCreatorConfig {
  const v = parseEnv(serviceCreatorShape(), env);
  const mapped = Object.values(parseClusterNamespaces(v.CLUSTER_NAMESPACES));
  return { ownerId: v.OWNER_ID, namespaces: [...new Set([v.NAMESPACE, ...mapped])] };
}

const reconcileShape = () => ({
  ...registrarShape(),
  /** Clusters to reconcile (names or ARNs, comma-separated); empty means every cluster. */
  WATCHED_CLUSTERS: z._default(z.string(), ''),
  /** Most deregistrations in one scheduled run; the rest wait for the next run. */
  RECONCILE_MAX_DELETES: z._default(int(0, 100_000), 50),
  /** Time between two passes of the health sweep within one scheduled invocation. */
  HEALTH_SWEEP_INTERVAL_MS: z._default(int(1000, 300_000), 20_000),
});

export interface ReconcileConfig extends RegistrarConfig {
  clusters?: string[];
  maxDeletes: number;
  healthSweepIntervalMs: number;
}

/** Reads and validates the reconcile function's environment (the register function's, plus its own). */
export function loadReconcileConfig(env: Env = process.env): ReconcileConfig {
  const v = parseEnv(reconcileShape(), env);
  const clusters = v.WATCHED_CLUSTERS.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  return {
    ...registrarConfigOf(v),
    ...(clusters.length ? { clusters } : {}),
    maxDeletes: v.RECONCILE_MAX_DELETES,
    healthSweepIntervalMs: v.HEALTH_SWEEP_INTERVAL_MS,
  };
}

const LOOKUP_NAMESPACES = /^\s*(\*|[\w.-]+(\s*,\s*[\w.-]+)*)?\s*$/;

const lookupShape = () => ({
  /** The namespace of `/services` and `/services/{service}`, by id (ns-...), ARN or name. */
  NAMESPACE: z.string().check(z.minLength(1)),
  /** Shortest time between two freshness checks (DiscoverInstancesRevision) of one cached answer. */
  CACHE_INTERVAL_MS: z._default(int(0, 3_600_000), 1000),
  /** Most answers kept in memory; the least recently used goes first. */
  CACHE_MAX_ENTRIES: z._default(int(1, 1_000_000), 1000),
  /** Oldest an answer may be before it is read again in full: its health is not covered by the revision. */
  HEALTH_MAX_AGE_MS: z._default(int(0, 3_600_000), 5000),
  /** `Cache-Control: max-age` of successful answers, in seconds. */
  CACHE_CONTROL_MAX_AGE: z._default(int(0, 86_400), 1),
  /** How long a cached answer may still be served while Cloud Map throttles or fails. */
  STALE_IF_ERROR_MS: z._default(int(0, 3_600_000), 30_000),
  /** Namespace names the lookup may discover in besides NAMESPACE, comma-separated; `*` = any (deploy: lookupNamespaces). */
  LOOKUP_NAMESPACES: z._default(
    z.string().check(z.regex(LOOKUP_NAMESPACES, 'expected * or namespace names, comma-separated')),
    '',
  ),
});

export interface LookupConfig {
  namespace: string;
  cacheIntervalMs: number;
  cacheMaxEntries: number;
  healthMaxAgeMs: number;
  cacheControlMaxAgeSeconds: number;
  staleIfErrorMs: number;
  /** Namespaces served besides `namespace`: names, or `*` for any. Absent: `namespace` alone. */
  lookupNamespaces?: '*' | string[];
}

/** Reads and validates the lookup function's environment. */
export function loadLookupConfig(env: Env = process.env): LookupConfig {
  const v = parseEnv(lookupShape(), env);
  return {
    namespace: v.NAMESPACE,
    cacheIntervalMs: v.CACHE_INTERVAL_MS,
    cacheMaxEntries: v.CACHE_MAX_ENTRIES,
    healthMaxAgeMs: v.HEALTH_MAX_AGE_MS,
    cacheControlMaxAgeSeconds: v.CACHE_CONTROL_MAX_AGE,
    staleIfErrorMs: v.STALE_IF_ERROR_MS,
    lookupNamespaces:
      v.LOOKUP_NAMESPACES.trim() === '*'
        ? '*'
        : v.LOOKUP_NAMESPACES.split(',')
            .map((n) => n.trim())
            .filter(Boolean),
  };
}
