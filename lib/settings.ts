/**
 * The settings catalogue: every setting of the registrar, declared once (STYLE §11). Each entry names its
 * environment variable (what the functions read), its deploy parameter (`--param=NAME=VALUE`), its default, type
 * and range, the functions that read it and its meaning. The run-time loaders (lib/config.ts), the deploy-time
 * parameter checks and function environments (serverless/), and the README's Configuration and Parameters tables
 * (scripts/settings-tables.ts) are derived from it; test/unit/settings/ fails when any of them drifts.
 *
 * Plain data without imports: the lookup bundle loads it at cold start, and the deploy code without zod.
 * Not here: LEAVING_OVERRULE_AFTER_MS (lib/registrar.ts), a constant derived from ECS's consistency window that
 * no operator should tune, and the Powertools variables (POWERTOOLS_*), fixed by serverless.yml for the library.
 */

/** The deployed functions, by their serverless.yml names. */
export const FUNCTIONS = ['register', 'deregister', 'reconcile', 'healthSweep', 'lookup', 'createService'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

interface SettingBase {
  /** The environment variable the functions read; absent for a deploy-only setting. */
  env?: string;
  /** The deploy parameter; absent for a setting the functions read but no parameter sets. */
  param?: string;
  /** The functions whose loader reads `env` (empty for a deploy-only setting). */
  readBy: readonly FunctionName[];
  /**
   * An env-only setting (no `param`) that the stack sets all the same, from a value of its own (the createService
   * function's name, the default). Without it and without `param`, no function's environment carries the variable.
   */
  setByStack?: true;
  /** The variable has no default: a missing one fails the cold start naming it. */
  required?: true;
  /** The deploy parameter's default as serverless.yml writes it, when it is not String(default). */
  paramDefault?: string;
  /** What the README shows as the variable's default, when not the value itself (`(all)`, `(none)`). */
  docDefault?: string;
  /** What the README shows as the parameter's default, when not `paramDefault`. */
  paramDocDefault?: string;
  /** One line of meaning: the README's Configuration table (the variable) and Parameters table. */
  meaning: string;
  /** The Parameters table's meaning, when the parameter says more (or other) than the variable. */
  paramMeaning?: string;
  /** The meaning in one function's table, when it differs there (the lookup's NAMESPACE). */
  meaningFor?: Partial<Record<FunctionName, string>>;
}

/** An integer from `min` to `max`. `none`: the parameter also takes `none`, with that meaning. */
export interface IntSetting extends SettingBase {
  type: 'int';
  default?: number;
  min: number;
  max: number;
  none?: string;
}

/** One of `values`, after `normalize` (the DNS record sets are written `A+AAAA`, `a,aaaa`...). */
export interface EnumSetting extends SettingBase {
  type: 'enum';
  default?: string;
  values: readonly string[];
  normalize?: (value: string) => string;
}

/**
 * A string matching `pattern` (any string without one); `patternMessage` replaces zod's message on a mismatch.
 * The deploy code checks these parameters further (a namespace ARN, a cluster mapping that names a cluster twice).
 */
export interface StringSetting extends SettingBase {
  type: 'string';
  default?: string;
  pattern?: RegExp;
  patternMessage?: string;
  minLength?: number;
}

export type Setting = IntSetting | EnumSetting | StringSetting;

/**
 * `cluster=namespace` pairs: a cluster by name or ARN; a namespace by name, id (`ns-` and any valid length) or ARN,
 * that is printable ASCII as Cloud Map names are (`[!-~]`), but for the `,` and `=` that separate the pairs.
 */
const CLUSTER_PAIR = String.raw`\s*[\w:/.-]+\s*=\s*[!-+\--<>-~]+\s*`;

/** The names of the Registrar's functions (writers) and of all of them, for `readBy`. */
const WRITERS = ['register', 'deregister', 'reconcile', 'healthSweep'] as const;
const SCHEDULED = ['reconcile', 'healthSweep'] as const;

/**
 * The register queue's batching window, seconds (a deployment constant, not a setting): its event source gathers
 * up to this long of messages (or QUEUE_BATCH_SIZE) into a batch (serverless/config/functions.ts). The re-checks of
 * tasks not HEALTHY yet and the confirmations come back on that queue; while it is quiet the window is what paces
 * them (HEALTH_POLL_MS counts it), and what lets them share invocations instead of each taking one of the register
 * function's slots. A busy queue fills a batch at once and the window holds nothing: then the re-check's own delay
 * paces it (QUEUE_BATCH_SIZE).
 */
export const REGISTER_BATCH_WINDOW_S = 1;

/**
 * The task-event queues' batch size (a deployment constant): their event sources hand a function up to this many
 * messages at once. A register batch this full did not wait for the window (it closes as soon as this many wait),
 * so the re-checks it sends carry the whole HEALTH_POLL_MS as their delay.
 */
export const QUEUE_BATCH_SIZE = 10;

/** The catalogue, in the order of the README's tables. Keys are the deploy parameter's name when there is one. */
export const SETTINGS = {
  namespace: {
    env: 'NAMESPACE',
    param: 'namespace',
    readBy: FUNCTIONS,
    type: 'string',
    minLength: 1,
    required: true,
    paramDefault: 'kudos.local',
    meaning:
      'Cloud Map namespace, by name (`kudos.local`), by id (`ns-` and letters and digits, up to 64 characters: AWS hands out `ns-` + 16, other AWS-compatible endpoints `ns-` + 20) or by ARN (`arn:aws:servicediscovery:<region>:<account>:namespace/ns-...`). An id that no namespace has is also tried as a name; a miss says how it was looked up',
    meaningFor: { lookup: 'namespace (name, `ns-` id or ARN) of `/services` and `/services/{service}`' },
    paramMeaning:
      'existing namespace id (`ns-` and letters and digits, up to 64 characters), namespace ARN (`arn:aws:servicediscovery:<region>:<account>:namespace/ns-...`) or name; or the name of the namespace to create',
  },
  namespaceType: {
    param: 'namespaceType',
    readBy: [],
    type: 'enum',
    values: ['dns', 'http'],
    default: 'dns',
    meaning: '`dns` (private DNS: A/AAAA/SRV records) or `http`',
  },
  createNamespace: {
    param: 'createNamespace',
    readBy: [],
    type: 'enum',
    values: ['true', 'false'],
    default: 'false',
    meaning: '`true`: the stack creates the namespace',
  },
  namespaceVpcId: {
    param: 'namespaceVpcId',
    readBy: [],
    type: 'string',
    pattern: /^(none|vpc-[0-9a-f]{8,17})$/,
    default: 'none',
    meaning: 'VPC of a private DNS namespace to create',
  },
  namespaceHostedZoneId: {
    param: 'namespaceHostedZoneId',
    readBy: [],
    type: 'string',
    pattern: /^(none|Z[A-Z0-9]{1,32})$/,
    default: 'none',
    meaning: 'hosted zone of an existing DNS namespace (narrows the Route 53 permission to it)',
  },
  taskTableName: {
    env: 'TASK_TABLE',
    param: 'taskTableName',
    readBy: WRITERS,
    type: 'string',
    pattern: /^[a-zA-Z0-9_.-]{3,255}$/,
    patternMessage: 'not a DynamoDB table name',
    required: true,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an osls variable, resolved by serverless.yml
    paramDefault: 'ecs-cloudmap-registrar-${sls:stage}-tasks',
    paramDocDefault: '`ecs-cloudmap-registrar-<stage>-tasks`',
    meaning: 'DynamoDB table of the newest version per task (key `taskArn`, TTL `expiresAt`)',
    paramMeaning: 'the DynamoDB task table (created by the stack)',
  },
  watchedClusters: {
    env: 'WATCHED_CLUSTERS',
    param: 'watchedClusters',
    readBy: SCHEDULED,
    type: 'string',
    default: '',
    paramDefault: 'all',
    docDefault: '(all)',
    meaning: 'comma-separated cluster names or ARNs; empty means every cluster of the account and region',
    paramMeaning:
      'comma-separated cluster names or ARNs, or `all` (the rule pattern and the IAM scope follow; the mapped clusters of `clusterNamespaces` are added)',
  },
  clusterNamespaces: {
    env: 'CLUSTER_NAMESPACES',
    param: 'clusterNamespaces',
    readBy: [...WRITERS, 'createService'],
    type: 'string',
    pattern: new RegExp(`^$|^${CLUSTER_PAIR}(,${CLUSTER_PAIR})*$`),
    patternMessage: 'expected cluster=namespace pairs, comma-separated',
    default: '',
    paramDefault: 'none',
    docDefault: '(none)',
    meaning:
      '`cluster=namespace` pairs, comma-separated: clusters (by name or ARN) whose tasks go to a namespace of their own, the namespace given as in `NAMESPACE` (name, id or ARN)',
    meaningFor: { createService: 'with `NAMESPACE`, the only namespaces it creates services in' },
    paramMeaning:
      "`cluster=namespace` pairs, comma-separated (cluster by name or ARN; namespace by name, `ns-` id or ARN): a mapped cluster's tasks go to its namespace, and the createService function creates services only in `namespace` and these namespaces. Mapped clusters are added to `watchedClusters` (with `all`, the mapping only routes); mapped namespaces are assumed to be of `namespaceType`; the lookup serves those given by name (prefer names: one given by id needs `lookupNamespaces`); `none` = no mapping",
  },
  dnsRecords: {
    env: 'DNS_RECORDS',
    param: 'dnsRecords',
    readBy: WRITERS,
    type: 'enum',
    values: ['A', 'AAAA', 'A+AAAA'],
    normalize: (value: string) => value.toUpperCase().replace(/[,\s]+/g, '+'),
    default: 'A',
    meaning:
      'DNS records of new Cloud Map services for awsvpc tasks: `A`, `AAAA` or `A+AAAA` (bridge and host tasks always get `SRV`)',
  },
  dnsTtl: {
    env: 'DNS_TTL',
    param: 'dnsTtl',
    readBy: WRITERS,
    type: 'int',
    min: 0,
    max: 2_147_483_647,
    default: 10,
    meaning: 'TTL in seconds of those records',
  },
  defaultPort: {
    env: 'DEFAULT_PORT',
    param: 'defaultPort',
    readBy: WRITERS,
    type: 'int',
    min: 1,
    max: 65_535,
    default: 80,
    meaning: 'port registered when neither a tag nor the task definition gives one',
  },
  ownerId: {
    env: 'OWNER_ID',
    param: 'ownerId',
    readBy: [...WRITERS, 'createService'],
    type: 'string',
    pattern: /^[a-zA-Z0-9!-~]{1,1024}$/,
    default: 'ecs-cloudmap-registrar',
    meaning:
      'value of the `REGISTRAR_OWNER` attribute and the `managed-by` tag; change it only to run two independent registrars in one account',
    meaningFor: { createService: 'the `managed-by` tag value of the services it creates' },
  },
  serviceCreatorFunction: {
    env: 'SERVICE_CREATOR_FUNCTION',
    readBy: WRITERS,
    setByStack: true,
    type: 'string',
    pattern:
      /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/,
    patternMessage: 'expected a Lambda function name or ARN',
    docDefault: '(none)',
    meaning:
      "name or ARN of the function that creates missing Cloud Map services (set by the deployment to `ecs-cloudmap-registrar-<stage>-createService`); unset: services are created in-process with the caller's own credentials (tests, `registrar reconcile` from a workstation)",
  },
  registerQueueName: {
    env: 'REGISTER_QUEUE_NAME',
    readBy: ['register'],
    setByStack: true,
    type: 'string',
    pattern: /^[a-zA-Z0-9_-]{1,80}$/,
    patternMessage: 'expected an SQS queue name',
    docDefault: '(none)',
    meaning:
      'the register queue (set by the deployment to `ecs-cloudmap-registrar-<stage>-register`), where a health-checked task that is not HEALTHY yet is re-checked with a delayed message, and a failed event tried again; unset: such a task is left to the health sweep, a failed event to SQS',
  },
  leavingQueueName: {
    env: 'LEAVING_QUEUE_NAME',
    readBy: ['deregister'],
    setByStack: true,
    type: 'string',
    pattern: /^[a-zA-Z0-9_-]{1,80}$/,
    patternMessage: 'expected an SQS queue name',
    docDefault: '(none)',
    meaning:
      'the leaving queue (set by the deployment to `ecs-cloudmap-registrar-<stage>-leaving`), where a failed leaving event is tried again, never behind registration work; unset: a failed event is left to SQS',
  },
  operationTimeoutMs: {
    env: 'OPERATION_TIMEOUT_MS',
    readBy: WRITERS,
    setByStack: true,
    type: 'int',
    min: 1000,
    max: 600_000,
    default: 30_000,
    meaning:
      'longest wait for a Cloud Map operation to reach SUCCESS or FAIL; for the register function, how long a registration is confirmed before its confirmation counts as failed (it is then asked again, 10 s doubling)',
  },
  serviceTagsTtlMs: {
    env: 'SERVICE_TAGS_TTL_MS',
    readBy: WRITERS,
    type: 'int',
    min: 0,
    max: 3_600_000,
    default: 60_000,
    meaning: "how long an ECS service's tags are cached in a warm container",
  },
  healthWaitMs: {
    env: 'HEALTH_WAIT_MS',
    param: 'healthWaitMs',
    readBy: WRITERS,
    type: 'int',
    min: 0,
    max: 3_600_000,
    default: 300_000,
    meaning:
      'how long a health-checked task that is not HEALTHY yet is re-checked through the register queue (delayed messages, no function waits) before the health sweep alone watches it',
  },
  healthPollMs: {
    env: 'HEALTH_POLL_MS',
    param: 'healthPollMs',
    readBy: WRITERS,
    type: 'int',
    min: 1000,
    max: 900_000,
    default: 1_000,
    meaning:
      "how often a task not HEALTHY yet is read again: its re-check message is delayed by this less the register queue's one-second batching window, or by all of it when its batch came full (the window, which closes once 10 messages wait, then held nothing); an SQS delay, whole seconds rounded up",
  },
  reconcileMaxDeletes: {
    env: 'RECONCILE_MAX_DELETES',
    param: 'reconcileMaxDeletes',
    readBy: SCHEDULED,
    type: 'int',
    min: 0,
    max: 100_000,
    default: 50,
    meaning: 'most deregistrations in one reconcile run (the rest wait for the next)',
  },
  // 60000 rather than the 300000 lib/config.ts once accepted: the sweep loops within one scheduled minute, so a
  // longer interval would mean one pass a minute anyway (the deploy check's reason, now the function's too).
  healthSweepIntervalMs: {
    env: 'HEALTH_SWEEP_INTERVAL_MS',
    param: 'healthSweepIntervalMs',
    readBy: SCHEDULED,
    type: 'int',
    min: 1000,
    max: 60_000,
    default: 20_000,
    meaning: 'time between two health sweep passes within one (per-minute) invocation',
  },
  lookupNamespaces: {
    env: 'LOOKUP_NAMESPACES',
    param: 'lookupNamespaces',
    readBy: ['lookup'],
    type: 'string',
    pattern: /^\s*(\*|[\w.-]+(\s*,\s*[\w.-]+)*)?\s*$/,
    patternMessage: 'expected * or namespace names, comma-separated',
    default: '',
    docDefault: '(none: `NAMESPACE` alone)',
    paramDocDefault: 'the namespace (when given by name)',
    meaning:
      "namespace names the lookup serves besides `NAMESPACE`, comma-separated; `*` = any. Set from the `lookupNamespaces` parameter (the same list the lookup role's IAM condition holds); any other namespace is a 404 without a Cloud Map call",
    paramMeaning: 'namespace names the lookup may discover in; `*` = any; required when `namespace` is an id',
  },
  cacheIntervalMs: {
    env: 'CACHE_INTERVAL_MS',
    param: 'cacheIntervalMs',
    readBy: ['lookup'],
    type: 'int',
    min: 0,
    max: 3_600_000,
    default: 1000,
    meaning: 'shortest time between two freshness checks (DiscoverInstancesRevision) of one cached answer',
  },
  cacheMaxEntries: {
    env: 'CACHE_MAX_ENTRIES',
    param: 'cacheMaxEntries',
    readBy: ['lookup'],
    type: 'int',
    min: 1,
    max: 1_000_000,
    default: 1000,
    meaning: 'most answers kept in memory per container; the least recently used go first',
  },
  cacheMaxMb: {
    env: 'CACHE_MAX_MB',
    param: 'cacheMaxMb',
    readBy: ['lookup'],
    type: 'int',
    min: 1,
    max: 10_240,
    default: 48,
    meaning:
      'most memory the cached answers may take per container, in MB (counted as the characters they hold); the least recently used go first',
  },
  healthMaxAgeMs: {
    env: 'HEALTH_MAX_AGE_MS',
    param: 'healthMaxAgeMs',
    readBy: ['lookup'],
    type: 'int',
    min: 0,
    max: 3_600_000,
    default: 5000,
    meaning: 'oldest an answer may be before it is read again in full (the revision ignores health)',
  },
  cacheControlMaxAge: {
    env: 'CACHE_CONTROL_MAX_AGE',
    param: 'cacheControlMaxAge',
    readBy: ['lookup'],
    type: 'int',
    min: 0,
    max: 86_400,
    default: 1,
    meaning: '`Cache-Control: max-age` of 200 and 304 answers, in seconds',
  },
  staleIfErrorMs: {
    env: 'STALE_IF_ERROR_MS',
    param: 'staleIfErrorMs',
    readBy: ['lookup'],
    type: 'int',
    min: 0,
    max: 3_600_000,
    default: 30_000,
    meaning: 'how long a cached answer may still be served while Cloud Map throttles or fails',
  },
  lookupMode: {
    param: 'lookupMode',
    readBy: [],
    type: 'enum',
    values: ['iam', 'private'],
    default: 'iam',
    meaning: '`iam`: HTTP API with SigV4 on every route; `private`: private REST API',
  },
  lookupAuth: {
    param: 'lookupAuth',
    readBy: [],
    type: 'enum',
    values: ['iam', 'none'],
    default: 'iam',
    meaning: '`iam` or `none` (open access: only with `lookupMode=private`)',
  },
  lookupVpcEndpointIds: {
    param: 'lookupVpcEndpointIds',
    readBy: [],
    type: 'string',
    default: 'none',
    meaning: '`vpce-...` ids allowed to call the private API, comma-separated (required in private mode)',
  },
  lookupThrottleRate: {
    param: 'lookupThrottleRate',
    readBy: [],
    type: 'int',
    min: 1,
    max: 10_000,
    default: 100,
    meaning:
      "throttling of the lookup API's stage, steady requests per second: the HTTP API's `$default` route (iam mode) or every method of the private REST API's stage (private mode)",
  },
  lookupThrottleBurst: {
    param: 'lookupThrottleBurst',
    readBy: [],
    type: 'int',
    min: 1,
    max: 5_000,
    default: 200,
    meaning: "throttling of the lookup API's stage, burst (as `lookupThrottleRate`)",
  },
  lookupMaxConcurrency: {
    param: 'lookupMaxConcurrency',
    readBy: [],
    type: 'int',
    min: 1,
    max: 1000,
    none: 'no reservation',
    paramDefault: 'none',
    meaning:
      "reserved concurrency of the lookup function: caps its share of the account's executions and keeps that much for it",
  },
  registerMaxConcurrency: {
    param: 'registerMaxConcurrency',
    readBy: [],
    type: 'int',
    min: 2,
    max: 1000,
    none: 'no reservation',
    default: 5,
    meaning:
      'reserved concurrency of the register function and most concurrent batches its queue hands it (caps the Cloud Map write rate; 2 at least, as an SQS event source wants)',
  },
  deregisterMaxConcurrency: {
    param: 'deregisterMaxConcurrency',
    readBy: [],
    type: 'int',
    min: 2,
    max: 1000,
    none: 'no reservation',
    default: 10,
    meaning:
      'reserved concurrency of the deregister function (leaving tasks, on their own queue) and most concurrent batches its queue hands it',
  },
  reconcileRate: {
    param: 'reconcileRate',
    readBy: [],
    type: 'string',
    pattern: /^(\d+) (minute|hour|day)(s?)$/,
    default: '5 minutes',
    meaning:
      'schedule of the reconcile function, as an EventBridge rate (`1 minute`, `N minutes`, `1 hour`, `N hours`, `1 day`, `N days`)',
  },
  reconcileMaxConcurrency: {
    param: 'reconcileMaxConcurrency',
    readBy: [],
    type: 'enum',
    values: ['1', 'none'],
    default: '1',
    meaning:
      '`1`: one reserved execution, so two reconcile runs never overlap (a run that finds the previous one still going waits, at most one `reconcileRate` interval, then the next scheduled run replaces it); `none`: no reservation, runs may overlap (only for accounts that cannot reserve, see below)',
  },
  logRetentionDays: {
    param: 'logRetentionDays',
    readBy: [],
    type: 'enum',
    // The retention periods CloudWatch Logs accepts.
    values: [
      '1',
      '3',
      '5',
      '7',
      '14',
      '30',
      '60',
      '90',
      '120',
      '150',
      '180',
      '365',
      '400',
      '545',
      '731',
      '1096',
      '1827',
      '2192',
      '2557',
      '2922',
      '3288',
      '3653',
    ],
    default: '30',
    meaning: 'CloudWatch Logs retention, days',
  },
  alarmTopicArn: {
    param: 'alarmTopicArn',
    readBy: [],
    type: 'string',
    pattern: /^(none|arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256})$/,
    default: 'none',
    meaning: 'SNS topic for alarm and OK notifications; `none` = alarms only change state',
  },
  registrationLagAlarmMs: {
    param: 'registrationLagAlarmMs',
    readBy: [],
    type: 'int',
    min: 1000,
    max: 86_400_000,
    default: 60_000,
    meaning: 'p90 registration lag that raises the alarm',
  },
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

/** The catalogue's entries, in order, each with its key. */
export function settingEntries(): [SettingKey, Setting][] {
  return Object.entries(SETTINGS) as [SettingKey, Setting][];
}

/** The settings one function's loader reads, in catalogue order. */
export function settingsReadBy(fn: FunctionName): SettingKey[] {
  return settingEntries()
    .filter(([, s]) => (s.readBy as readonly FunctionName[]).includes(fn))
    .map(([key]) => key);
}

/** A setting whose variable the stack sets: from its deploy parameter, or from a value of the stack's own. */
export type StackSetKey = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { env: string } & ({ param: string } | { setByStack: true })
    ? K
    : never;
}[SettingKey];

/** True for a setting whose variable the stack sets (see {@link StackSetKey}). */
export function isStackSet(key: SettingKey): key is StackSetKey {
  const s: Setting = SETTINGS[key];
  return Boolean(s.env && (s.param || s.setByStack));
}

/** The settings whose variables the stack gives one function: those it reads that a parameter or the stack sets. */
export function stackSetSettingsOf(fn: FunctionName): StackSetKey[] {
  return settingsReadBy(fn).filter(isStackSet);
}

/** The environment variables the stack gives one function (see {@link stackSetSettingsOf}). */
export function environmentVariablesOf(fn: FunctionName): string[] {
  return stackSetSettingsOf(fn).map((key) => SETTINGS[key].env);
}

/** The setting of a deploy parameter; undefined for a name the catalogue does not know. */
export function settingOfParam(param: string): Setting | undefined {
  return settingEntries().find(([, s]) => s.param === param)?.[1];
}

/** A deploy parameter's default as serverless.yml's `params.default` writes it (`none` for an unset reservation). */
export function paramDefaultOf(setting: Setting): string {
  return setting.paramDefault ?? String(setting.default ?? '');
}
