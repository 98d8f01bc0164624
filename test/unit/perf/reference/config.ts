// Reference for the equivalence tests: lib/config.ts as it was on zod classic (and the Powertools parser), verbatim
// but for import paths. Not used by the functions.
import { z } from 'zod';
import { ConfigError } from '../../../../lib/errors';
import type { DnsRecordSet } from '../../../../lib/ports';

type Env = Record<string, string | undefined>;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Parses `schema` from `env`, throwing a ConfigError that names every key that is missing or wrong. */
export function parseEnv<T extends z.ZodRawShape>(shape: T, env: Env): z.infer<z.ZodObject<T>> {
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

const planShape = {
  /** The Cloud Map namespace, by id (ns-...) or by name. */
  NAMESPACE: z.string().min(1),
  /** DNS records for services of awsvpc tasks; bridge and host tasks always get SRV. */
  DNS_RECORDS: z
    .string()
    .default('A')
    .transform((v) => v.toUpperCase().replace(/[,\s]+/g, '+'))
    .pipe(z.enum(DNS_RECORDS)),
  DNS_TTL: int(0, 2_147_483_647).default(10),
  DEFAULT_PORT: int(1, 65535).default(80),
  /** The owner attribute's value; change it only to run two independent registrars in one account. */
  OWNER_ID: z
    .string()
    .regex(/^[a-zA-Z0-9!-~]{1,1024}$/)
    .default('ecs-cloudmap-registrar'),
};

const registrarShape = {
  ...planShape,
  /** Longest wait for a Cloud Map operation to reach SUCCESS or FAIL. */
  OPERATION_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  /** How long the ECS service tags are cached in a warm container. */
  SERVICE_TAGS_TTL_MS: int(0, 3_600_000).default(60_000),
  /** How long a RUNNING event waits in the function for a health-checked task to turn HEALTHY. */
  HEALTH_WAIT_MS: int(0, 600_000).default(12_000),
  /** How often it asks ECS (DescribeTasks) meanwhile. */
  HEALTH_POLL_MS: int(200, 60_000).default(2_000),
  /** The DynamoDB table that orders events per task (key `taskArn`). */
  TASK_TABLE: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'not a DynamoDB table name'),
};

/** What planning needs: the part of the register function's configuration `registrar plan` reads too. */
export interface PlanConfig {
  namespace: string;
  dnsRecords: Exclude<DnsRecordSet, 'SRV' | 'none'>;
  dnsTtl: number;
  defaultPort: number;
  ownerId: string;
}

export interface RegistrarConfig extends PlanConfig {
  operationTimeoutMs: number;
  serviceTagsTtlMs: number;
  healthWaitMs: number;
  healthPollMs: number;
  taskTable: string;
}

/** Reads and validates the planning variables (NAMESPACE, DNS_RECORDS, DNS_TTL, DEFAULT_PORT, OWNER_ID). */
export function loadPlanConfig(env: Env = process.env): PlanConfig {
  const v = parseEnv(planShape, env);
  return {
    namespace: v.NAMESPACE,
    dnsRecords: v.DNS_RECORDS,
    dnsTtl: v.DNS_TTL,
    defaultPort: v.DEFAULT_PORT,
    ownerId: v.OWNER_ID,
  };
}

/** Reads and validates the register function's environment. */
export function loadRegistrarConfig(env: Env = process.env): RegistrarConfig {
  const v = parseEnv(registrarShape, env);
  return {
    ...loadPlanConfig(env),
    operationTimeoutMs: v.OPERATION_TIMEOUT_MS,
    serviceTagsTtlMs: v.SERVICE_TAGS_TTL_MS,
    healthWaitMs: v.HEALTH_WAIT_MS,
    healthPollMs: v.HEALTH_POLL_MS,
    taskTable: v.TASK_TABLE,
  };
}

const reconcileShape = {
  ...registrarShape,
  /** Clusters to reconcile (names or ARNs, comma-separated); empty means every cluster. */
  WATCHED_CLUSTERS: z.string().default(''),
  /** Most deregistrations in one scheduled run; the rest wait for the next run. */
  RECONCILE_MAX_DELETES: int(0, 100_000).default(50),
  /** Time between two passes of the health sweep within one scheduled invocation. */
  HEALTH_SWEEP_INTERVAL_MS: int(1000, 300_000).default(20_000),
};

export interface ReconcileConfig extends RegistrarConfig {
  clusters?: string[];
  maxDeletes: number;
  healthSweepIntervalMs: number;
}

/** Reads and validates the reconcile function's environment (the register function's, plus its own). */
export function loadReconcileConfig(env: Env = process.env): ReconcileConfig {
  const v = parseEnv(reconcileShape, env);
  const clusters = v.WATCHED_CLUSTERS.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  return {
    ...loadRegistrarConfig(env),
    ...(clusters.length ? { clusters } : {}),
    maxDeletes: v.RECONCILE_MAX_DELETES,
    healthSweepIntervalMs: v.HEALTH_SWEEP_INTERVAL_MS,
  };
}

const lookupShape = {
  /** The namespace of `/services` and `/services/{service}`, by id (ns-...) or by name. */
  NAMESPACE: z.string().min(1),
  /** Shortest time between two freshness checks (DiscoverInstancesRevision) of one cached answer. */
  CACHE_INTERVAL_MS: int(0, 3_600_000).default(1000),
  /** Most answers kept in memory; the least recently used goes first. */
  CACHE_MAX_ENTRIES: int(1, 1_000_000).default(1000),
  /** Oldest an answer may be before it is read again in full: its health is not covered by the revision. */
  HEALTH_MAX_AGE_MS: int(0, 3_600_000).default(5000),
  /** `Cache-Control: max-age` of successful answers, in seconds. */
  CACHE_CONTROL_MAX_AGE: int(0, 86_400).default(1),
  /** How long a cached answer may still be served while Cloud Map throttles or fails. */
  STALE_IF_ERROR_MS: int(0, 3_600_000).default(30_000),
};

export interface LookupConfig {
  namespace: string;
  cacheIntervalMs: number;
  cacheMaxEntries: number;
  healthMaxAgeMs: number;
  cacheControlMaxAgeSeconds: number;
  staleIfErrorMs: number;
}

/** Reads and validates the lookup function's environment. */
export function loadLookupConfig(env: Env = process.env): LookupConfig {
  const v = parseEnv(lookupShape, env);
  return {
    namespace: v.NAMESPACE,
    cacheIntervalMs: v.CACHE_INTERVAL_MS,
    cacheMaxEntries: v.CACHE_MAX_ENTRIES,
    healthMaxAgeMs: v.HEALTH_MAX_AGE_MS,
    cacheControlMaxAgeSeconds: v.CACHE_CONTROL_MAX_AGE,
    staleIfErrorMs: v.STALE_IF_ERROR_MS,
  };
}
