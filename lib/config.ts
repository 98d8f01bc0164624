import * as z from 'zod/mini';
import { ConfigError } from './errors';
import type { DnsRecordSet } from './ports';
import { type FunctionName, SETTINGS, type Setting, type SettingKey, settingsReadBy } from './settings';

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

/** The schema of a catalogued variable's value: its type and range (an enum normalized first). */
function valueSchema(setting: Setting): z.ZodMiniType {
  switch (setting.type) {
    case 'int':
      return int(setting.min, setting.max);
    case 'enum':
      // The default applies before the normalization, as the deploy check normalizes the parameter.
      return z.pipe(
        z.pipe(
          setting.default === undefined ? z.string() : z._default(z.string(), setting.default),
          z.transform(setting.normalize ?? ((v: string) => v)),
        ),
        z.enum(setting.values as readonly string[] as [string, ...string[]]),
      );
    case 'string': {
      let schema = z.string();
      if (setting.minLength !== undefined) schema = schema.check(z.minLength(setting.minLength));
      if (setting.pattern) schema = schema.check(z.regex(setting.pattern, setting.patternMessage));
      return schema;
    }
  }
}

/** The schema of one catalogued variable: its value's, with its default, or optional, or required. */
function schemaOf(setting: Setting): z.ZodMiniType {
  const schema = valueSchema(setting);
  if (setting.default !== undefined && setting.type !== 'enum') return z._default(schema, setting.default);
  return setting.default === undefined && !setting.required ? z.optional(schema) : schema;
}

type Catalogue = typeof SETTINGS;
/** The settings the functions read from their environment. */
export type EnvKey = { [K in SettingKey]: Catalogue[K] extends { env: string } ? K : never }[SettingKey];
type ValueOf<S> = S extends { type: 'int' }
  ? number
  : S extends { type: 'enum'; values: readonly (infer V)[] }
    ? V
    : string;
type Values<K extends EnvKey> = {
  [P in K]: Catalogue[P] extends { required: true } | { default: unknown }
    ? ValueOf<Catalogue[P]>
    : ValueOf<Catalogue[P]> | undefined;
};

/** `acceptedValue`'s answer when only the schema can decide: the value is missing or wrong. */
const UNDECIDED = Symbol('undecided');

/**
 * The value `schemaOf(setting)` gives `raw` when that is sure to pass it, computed without building the schema; else
 * UNDECIDED. A function's cold start reads a valid environment, and building and running zod schemas for its ten or
 * so variables took 4.7-6 ms of its import, more than the rest of its own cold start (issue 13). So zod decides only
 * when something is missing or wrong, and words the error. Each rule below is the schema's, checked by
 * test/unit/lib/config-fast-path.test.ts against the schema on the same inputs.
 */
function acceptedValue(setting: Setting, raw: string | undefined): unknown {
  // The schema applies a default before an enum's normalization and check, and any other default as it is.
  if (raw === undefined && (setting.type !== 'enum' || setting.default === undefined)) {
    if (setting.default !== undefined) return setting.default;
    return setting.required ? UNDECIDED : undefined;
  }
  switch (setting.type) {
    case 'int': {
      // z.coerce.number() is Number(raw); then finite, a safe integer (z.int()) and within the range.
      const value = Number(raw);
      return Number.isSafeInteger(value) && value >= setting.min && value <= setting.max ? value : UNDECIDED;
    }
    case 'enum': {
      const value = (setting.normalize ?? ((v: string) => v))((raw ?? setting.default) as string);
      return setting.values.includes(value) ? value : UNDECIDED;
    }
    case 'string': {
      if (raw === undefined) return UNDECIDED;
      // zod counts code points, never more than UTF-16 units and at least half of them: twice the floor is sure.
      if (setting.minLength !== undefined && raw.length < setting.minLength * 2) return UNDECIDED;
      if (setting.pattern) {
        // As z.regex() does: a global or sticky pattern would otherwise resume where its last test ended.
        setting.pattern.lastIndex = 0;
        if (!setting.pattern.test(raw)) return UNDECIDED;
      }
      return raw;
    }
  }
}

/**
 * Validates the catalogued `keys` of `env` with their zod schemas (built here, so a function builds only those it
 * reads); a ConfigError names each variable that is missing or wrong.
 */
export function validateVariables<K extends EnvKey>(keys: readonly K[], env: Env): Values<K> {
  const envOf = (key: K) => (SETTINGS[key] as Setting).env as string;
  const values = parseEnv(Object.fromEntries(keys.map((key) => [envOf(key), schemaOf(SETTINGS[key])])), env);
  return Object.fromEntries(keys.map((key) => [key, values[envOf(key)]])) as Values<K>;
}

/**
 * Reads the catalogued `keys` from `env`: the values `validateVariables` gives, without building its schemas when every
 * value is sure to pass them; otherwise `validateVariables` itself (a ConfigError naming each wrong variable).
 */
export function readVariables<K extends EnvKey>(keys: readonly K[], env: Env): Values<K> {
  const values: Record<string, unknown> = {};
  for (const key of keys) {
    const setting: Setting = SETTINGS[key];
    const raw = env[setting.env as string];
    const value = acceptedValue(setting, raw === '' ? undefined : raw);
    if (value === UNDECIDED) return validateVariables(keys, env);
    values[key] = value;
  }
  return values as Values<K>;
}

/** The settings one function reads, per the catalogue's `readBy`. */
const readBy = (fn: FunctionName) => settingsReadBy(fn) as EnvKey[];

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
  /**
   * The function's own queue, where it puts re-checks (a task not HEALTHY yet, a failed event): the register queue
   * for the register function, the leaving queue for the deregister function. Absent (reconcile, the sweep, the CLI):
   * a task not HEALTHY yet is left to the sweep.
   */
  recheckQueueName?: string;
}

/** The settings of planning (`registrar plan`, not a function of its own), in the order their errors are named. */
const PLAN_SETTINGS = ['namespace', 'dnsRecords', 'dnsTtl', 'defaultPort', 'ownerId', 'clusterNamespaces'] as const;
type PlanValues = Values<(typeof PLAN_SETTINGS)[number]>;
type RegistrarValues = PlanValues &
  Values<'operationTimeoutMs' | 'serviceTagsTtlMs' | 'healthWaitMs' | 'healthPollMs' | 'taskTableName'> &
  Values<'serviceCreatorFunction'> &
  Partial<Values<'registerQueueName' | 'leavingQueueName'>>;

function planConfigOf(v: PlanValues): PlanConfig {
  const clusterNamespaces = parseClusterNamespaces(v.clusterNamespaces);
  return {
    namespace: v.namespace,
    dnsRecords: v.dnsRecords,
    dnsTtl: v.dnsTtl,
    defaultPort: v.defaultPort,
    ownerId: v.ownerId,
    ...(Object.keys(clusterNamespaces).length ? { clusterNamespaces } : {}),
  };
}

function registrarConfigOf(v: RegistrarValues): RegistrarConfig {
  return {
    ...planConfigOf(v),
    operationTimeoutMs: v.operationTimeoutMs,
    serviceTagsTtlMs: v.serviceTagsTtlMs,
    healthWaitMs: v.healthWaitMs,
    healthPollMs: v.healthPollMs,
    taskTable: v.taskTableName,
    ...(v.serviceCreatorFunction ? { serviceCreatorFunction: v.serviceCreatorFunction } : {}),
    ...(v.registerQueueName || v.leavingQueueName
      ? { recheckQueueName: (v.registerQueueName || v.leavingQueueName) as string }
      : {}),
  };
}

/** Reads and validates the planning variables (NAMESPACE, DNS_RECORDS, DNS_TTL, DEFAULT_PORT, OWNER_ID). */
export function loadPlanConfig(env: Env = process.env): PlanConfig {
  return planConfigOf(readVariables(PLAN_SETTINGS, env));
}

/** Reads and validates the register function's environment. */
export function loadRegistrarConfig(env: Env = process.env): RegistrarConfig {
  return registrarConfigOf(readVariables(readBy('register'), env) as RegistrarValues);
}

/** Reads and validates the deregister function's environment (the register function's, with its own queue). */
export function loadDeregisterConfig(env: Env = process.env): RegistrarConfig {
  return registrarConfigOf(readVariables(readBy('deregister'), env) as RegistrarValues);
}

export interface ServiceCreatorConfig {
  ownerId: string;
  /** NAMESPACE and those of CLUSTER_NAMESPACES (name, id or ARN): the only namespaces it creates services in. */
  namespaces: string[];
}

/** Reads and validates the createService function's environment. */
export function loadServiceCreatorConfig(env: Env = process.env): ServiceCreatorConfig {
  const v = readVariables(readBy('createService'), env) as Values<'namespace' | 'ownerId' | 'clusterNamespaces'>;
  const mapped = Object.values(parseClusterNamespaces(v.clusterNamespaces));
  return { ownerId: v.ownerId, namespaces: [...new Set([v.namespace, ...mapped])] };
}

export interface ReconcileConfig extends RegistrarConfig {
  clusters?: string[];
  maxDeletes: number;
  healthSweepIntervalMs: number;
}

/** Reads and validates the reconcile function's environment (the register function's, plus its own). */
export function loadReconcileConfig(env: Env = process.env): ReconcileConfig {
  const v = readVariables(readBy('reconcile'), env) as RegistrarValues &
    Values<'watchedClusters' | 'reconcileMaxDeletes' | 'healthSweepIntervalMs'>;
  const clusters = v.watchedClusters
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  return {
    ...registrarConfigOf(v),
    ...(clusters.length ? { clusters } : {}),
    maxDeletes: v.reconcileMaxDeletes,
    healthSweepIntervalMs: v.healthSweepIntervalMs,
  };
}

export interface LookupConfig {
  namespace: string;
  cacheIntervalMs: number;
  cacheMaxEntries: number;
  /** CACHE_MAX_MB: the cached answers' memory budget (absent in a hand-built config: the catalogue's default). */
  cacheMaxMb?: number;
  healthMaxAgeMs: number;
  cacheControlMaxAgeSeconds: number;
  staleIfErrorMs: number;
  /** Namespaces served besides `namespace`: names, or `*` for any. Absent: `namespace` alone. */
  lookupNamespaces?: '*' | string[];
}

/** Reads and validates the lookup function's environment. */
export function loadLookupConfig(env: Env = process.env): LookupConfig {
  const v = readVariables(readBy('lookup'), env) as Values<
    | 'namespace'
    | 'lookupNamespaces'
    | 'cacheIntervalMs'
    | 'cacheMaxEntries'
    | 'cacheMaxMb'
    | 'healthMaxAgeMs'
    | 'cacheControlMaxAge'
    | 'staleIfErrorMs'
  >;
  return {
    namespace: v.namespace,
    cacheIntervalMs: v.cacheIntervalMs,
    cacheMaxEntries: v.cacheMaxEntries,
    cacheMaxMb: v.cacheMaxMb,
    healthMaxAgeMs: v.healthMaxAgeMs,
    cacheControlMaxAgeSeconds: v.cacheControlMaxAge,
    staleIfErrorMs: v.staleIfErrorMs,
    lookupNamespaces:
      v.lookupNamespaces.trim() === '*'
        ? '*'
        : v.lookupNamespaces
            .split(',')
            .map((n) => n.trim())
            .filter(Boolean),
  };
}
