/**
 * Deploy-time configuration of ecs-cloudmap-registrar.
 *
 * serverless.yml reads the parts that depend on its parameters from here (`${file(./serverless/deploy-config.js):NAME}`):
 * the parameters are read once, validated (a wrong value fails `osls package` naming the parameter, before
 * CloudFormation sees it), and turned into the EventBridge pattern, the lookup routes of the chosen mode, the
 * per-function IAM roles and the resources that exist only in some modes. Static resources live in resources/*.yml.
 */

const PROJECT = 'ecs-cloudmap-registrar';
/** The tag key CloudMapRegistry puts on every service it creates (lib/cloud-map/cloud-map-registry.ts). */
const MANAGED_TAG_KEY = 'managed-by';
/** The lookup routes (issue 4); the handler reads both HTTP API (v2) and REST (v1) payloads. */
const LOOKUP_ROUTES = [
  '/services',
  '/services/{service}',
  '/namespaces/{namespace}/services/{service}',
  '/resolve/{name}',
];
/** lastStatus values after which a task is leaving (lib/plan.ts LEAVING_LAST_STATUSES). */
const LEAVING_LAST_STATUSES = ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'];

/** A namespace id or ARN, as lib/cloud-map/namespaces.ts reads them (NAMESPACE_ID, NAMESPACE_ARN). */
const NAMESPACE_ID = /^ns-[a-z0-9]{1,61}$/;
const NAMESPACE_ARN = /^arn:aws[a-z-]*:servicediscovery:[a-z0-9-]+:\d{12}:namespace\/ns-[a-z0-9]{1,61}$/;
const NAMESPACE_NAME = /^[!-~]{1,1024}$/;
/** A namespace name of the cluster mapping: what CLUSTER_NAMESPACES accepts (lib/config.ts) as well as Cloud Map. */
const MAPPED_NAMESPACE_NAME = /^[A-Za-z0-9_.-]{1,1024}$/;
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/([A-Za-z0-9_-]{1,255})$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,32}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const OWNER_ID = /^[a-zA-Z0-9!-~]{1,1024}$/;
/** An EventBridge rate: `1 minute`, `5 minutes`, `1 hour`, `2 days` (singular for 1 only, as EventBridge insists). */
const RATE = /^(\d+) (minute|hour|day)(s?)$/;

/** The register function's wait for a Cloud Map operation (OPERATION_TIMEOUT_MS, lib/config.ts default). */
const OPERATION_TIMEOUT_MS = 30_000;
/** Time the register function needs beside its two waits (ECS reads, the version store, Cloud Map calls). */
const REGISTER_TIMEOUT_MARGIN_S = 15;

/** A wrong parameter: the message names it and says what is accepted. */
class DeployParamError extends Error {
  constructor(name, message) {
    super(`param "${name}": ${message}`);
    this.name = 'DeployParamError';
  }
}

const sub = (text) => ({ 'Fn::Sub': text });
const arnPrefix = (service) => `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}`;

/** True when a namespace is given by reference (id or ARN) rather than by name. */
const isNamespaceRef = (value) => NAMESPACE_ID.test(value) || NAMESPACE_ARN.test(value);

/** The id of a namespace given by id or ARN (two spellings of one namespace compare equal). */
const namespaceIdOf = (ref) => ref.slice(ref.lastIndexOf('/') + 1);

/** The ARN of a namespace given by id (in this account and region) or by ARN (as given). */
const namespaceRefArn = (ref) =>
  NAMESPACE_ARN.test(ref) ? ref : sub(`${arnPrefix('servicediscovery')}:namespace/${ref}`);

function oneOf(name, value, allowed) {
  if (!allowed.includes(value)) throw new DeployParamError(name, `"${value}" is not one of ${allowed.join(', ')}`);
  return value;
}

function integer(name, value, min, max) {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new DeployParamError(name, `"${value}" is not an integer from ${min} to ${max}`);
  }
  return Number(value);
}

/** A comma-separated list; `none`/`all`/empty mean no entries. */
function list(value) {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item && item !== 'none' && item !== 'all');
}

/** An EventBridge schedule rate (`5 minutes`); the result is the schedule expression `rate(5 minutes)`. */
function rate(name, value) {
  const match = RATE.exec(value);
  const count = match ? Number(match[1]) : 0;
  if (!match || count < 1 || (count === 1) === (match[3] === 's')) {
    throw new DeployParamError(
      name,
      `"${value}" is not a rate such as "1 minute", "5 minutes", "1 hour" or "2 days" (singular for 1 only)`,
    );
  }
  return `rate(${value})`;
}

/** The seconds of a rate that rate() accepted (`5 minutes` = 300). */
function rateSeconds(value) {
  const [, count, unit] = RATE.exec(value) ?? [];
  return Number(count) * { minute: 60, hour: 3600, day: 86_400 }[unit];
}

function matching(name, values, pattern, what) {
  for (const value of values) if (!pattern.test(value)) throw new DeployParamError(name, `"${value}" is not ${what}`);
  return values;
}

/** An ECS cluster by name or ARN, with its name and ARN; undefined when it is neither. */
function clusterOf(ref) {
  const arn = CLUSTER_ARN.exec(ref);
  if (arn) return { ref, name: arn[1], arn: ref };
  if (CLUSTER_NAME.test(ref)) return { ref, name: ref, arn: sub(`${arnPrefix('ecs')}:cluster/${ref}`) };
  return undefined;
}

/** Names once each, compared as Cloud Map compares them (case-insensitively); the first spelling is kept. */
function uniqueNames(names) {
  const seen = new Set();
  return names.filter((name) => {
    const key = name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The clusterNamespaces parameter: `cluster=namespace` pairs, comma-separated (lib/config.ts
 * parseClusterNamespaces reads them from CLUSTER_NAMESPACES); clusters by name or ARN, namespaces by name or id.
 */
function readClusterNamespaces(value) {
  const name = 'clusterNamespaces';
  if (value === '' || value === 'none') return [];
  const mapped = [];
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

/** Reads and checks every parameter; the result is plain data, everything else is derived from it. */
async function readSettings(resolveVariable) {
  const param = async (name) => {
    const value = await resolveVariable(`param:${name}`);
    return value == null ? '' : String(value).trim();
  };
  const stage = String(await resolveVariable('sls:stage'));

  const namespace = await param('namespace');
  const namespaceIsId = isNamespaceRef(namespace);
  // No namespace name starts with arn: (lib/cloud-map/namespaces.ts): an ARN that is not a namespace's is a mistake.
  if (!namespaceIsId && (!NAMESPACE_NAME.test(namespace) || namespace.startsWith('arn:'))) {
    throw new DeployParamError(
      'namespace',
      'give an existing namespace id (ns-...), its ARN (arn:aws:servicediscovery:...:namespace/ns-...) or a namespace name',
    );
  }
  const namespaceType = oneOf('namespaceType', await param('namespaceType'), ['dns', 'http']);
  const createNamespace = oneOf('createNamespace', await param('createNamespace'), ['true', 'false']) === 'true';
  const namespaceVpcId = (await param('namespaceVpcId')).replace(/^none$/, '');
  if (createNamespace) {
    if (namespaceIsId) throw new DeployParamError('namespace', 'a namespace to create needs a name, not an id');
    if (namespaceType === 'dns' && !VPC_ID.test(namespaceVpcId)) {
      throw new DeployParamError(
        'namespaceVpcId',
        'a private DNS namespace to create needs the id of its VPC (vpc-...)',
      );
    }
  }
  if (namespaceVpcId && !VPC_ID.test(namespaceVpcId)) {
    throw new DeployParamError('namespaceVpcId', `"${namespaceVpcId}" is not a VPC id`);
  }
  const hostedZoneId = (await param('namespaceHostedZoneId')).replace(/^none$/, '');
  if (hostedZoneId && (!HOSTED_ZONE_ID.test(hostedZoneId) || createNamespace || namespaceType !== 'dns')) {
    throw new DeployParamError(
      'namespaceHostedZoneId',
      'give the Route 53 hosted zone id (Z...) of an existing DNS namespace, or leave it unset',
    );
  }

  const watchedClusters = list(await param('watchedClusters')).map((cluster) => {
    const parsed = clusterOf(cluster);
    if (!parsed) {
      throw new DeployParamError('watchedClusters', `"${cluster}" is neither an ECS cluster name nor a cluster ARN`);
    }
    return parsed;
  });
  const clusterNamespaces = readClusterNamespaces(await param('clusterNamespaces'));
  // The mapped clusters are watched too; with every cluster watched (no list), the mapping only routes.
  const clusters = watchedClusters.length
    ? [
        ...watchedClusters,
        ...clusterNamespaces.map((m) => m.cluster).filter((c) => !watchedClusters.some((w) => w.name === c.name)),
      ]
    : [];
  const sameName = (a, b) => a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
  // A pair naming the main namespace routes nowhere new: its cluster's tasks go there anyway.
  const mappedNamespaces = clusterNamespaces.filter((m) => {
    if (m.namespaceIsId && namespaceIsId) return namespaceIdOf(m.namespace) !== namespaceIdOf(namespace);
    return m.namespaceIsId || namespaceIsId || !sameName(m.namespace, namespace);
  });

  const dnsRecords = (await param('dnsRecords')).toUpperCase().replace(/[,\s]+/g, '+');
  oneOf('dnsRecords', dnsRecords, ['A', 'AAAA', 'A+AAAA']);
  const dnsTtl = integer('dnsTtl', await param('dnsTtl'), 0, 2_147_483_647);
  const defaultPort = integer('defaultPort', await param('defaultPort'), 1, 65_535);
  const ownerId = await param('ownerId');
  if (!OWNER_ID.test(ownerId)) throw new DeployParamError('ownerId', 'use 1 to 1024 printable ASCII characters');

  const lookupMode = oneOf('lookupMode', await param('lookupMode'), ['iam', 'private']);
  const lookupAuth = oneOf('lookupAuth', await param('lookupAuth'), ['iam', 'none']);
  if (lookupAuth === 'none' && lookupMode !== 'private') {
    throw new DeployParamError('lookupAuth', 'open access (none) is allowed only with lookupMode=private');
  }
  const vpcEndpointIds = matching(
    'lookupVpcEndpointIds',
    list(await param('lookupVpcEndpointIds')),
    VPC_ENDPOINT_ID,
    'a VPC endpoint id (vpce-...)',
  );
  if (lookupMode === 'private' && vpcEndpointIds.length === 0) {
    throw new DeployParamError(
      'lookupVpcEndpointIds',
      'a private API needs the execute-api VPC endpoint id(s) allowed to call it',
    );
  }
  const lookupNamespacesParam = await param('lookupNamespaces');
  let lookupNamespaces;
  if (lookupNamespacesParam === '*') {
    lookupNamespaces = '*';
  } else if (list(lookupNamespacesParam).length > 0) {
    lookupNamespaces = matching('lookupNamespaces', list(lookupNamespacesParam), NAMESPACE_NAME, 'a namespace name');
  } else if (!namespaceIsId) {
    // The namespaces of the cluster mapping are served too (/namespaces/{namespace}/..., /resolve/{name}).
    lookupNamespaces = uniqueNames([
      namespace,
      ...mappedNamespaces.filter((m) => !m.namespaceIsId).map((m) => m.namespace),
    ]);
  } else {
    throw new DeployParamError(
      'lookupNamespaces',
      'the namespace is given by id, so name the namespace(s) the lookup may read (DiscoverInstances takes names), or *',
    );
  }

  const maxConcurrencyParam = await param('registerMaxConcurrency');
  const registerMaxConcurrency =
    maxConcurrencyParam === 'none' ? undefined : integer('registerMaxConcurrency', maxConcurrencyParam, 1, 1000);
  const lookupConcurrencyParam = await param('lookupMaxConcurrency');
  const lookupMaxConcurrency =
    lookupConcurrencyParam === 'none' ? undefined : integer('lookupMaxConcurrency', lookupConcurrencyParam, 1, 1000);
  // 1 makes reconcile runs exclusive; none (for accounts that cannot reserve any) lets them overlap.
  const reconcileMaxConcurrency =
    oneOf('reconcileMaxConcurrency', await param('reconcileMaxConcurrency'), ['1', 'none']) === '1' ? 1 : undefined;
  const alarmTopicArn = (await param('alarmTopicArn')).replace(/^none$/, '');
  if (alarmTopicArn && !SNS_TOPIC_ARN.test(alarmTopicArn)) {
    throw new DeployParamError('alarmTopicArn', `"${alarmTopicArn}" is not an SNS topic ARN`);
  }

  return {
    stage,
    namespace,
    namespaceIsId,
    namespaceType,
    createNamespace,
    namespaceVpcId,
    hostedZoneId,
    clusters,
    mappedNamespaces,
    dnsRecords,
    dnsTtl,
    defaultPort,
    ownerId,
    lookupMode,
    lookupAuth,
    vpcEndpointIds,
    lookupNamespaces,
    throttleRate: integer('lookupThrottleRate', await param('lookupThrottleRate'), 1, 10_000),
    throttleBurst: integer('lookupThrottleBurst', await param('lookupThrottleBurst'), 1, 5_000),
    // The ranges are those lib/config.ts accepts, so a value that packages also starts.
    cacheIntervalMs: integer('cacheIntervalMs', await param('cacheIntervalMs'), 0, 3_600_000),
    cacheMaxEntries: integer('cacheMaxEntries', await param('cacheMaxEntries'), 1, 1_000_000),
    healthMaxAgeMs: integer('healthMaxAgeMs', await param('healthMaxAgeMs'), 0, 3_600_000),
    cacheControlMaxAge: integer('cacheControlMaxAge', await param('cacheControlMaxAge'), 0, 86_400),
    staleIfErrorMs: integer('staleIfErrorMs', await param('staleIfErrorMs'), 0, 3_600_000),
    healthWaitMs: integer('healthWaitMs', await param('healthWaitMs'), 0, 600_000),
    healthPollMs: integer('healthPollMs', await param('healthPollMs'), 200, 60_000),
    reconcileSchedule: rate('reconcileRate', await param('reconcileRate')),
    reconcileIntervalS: rateSeconds(await param('reconcileRate')),
    reconcileMaxDeletes: integer('reconcileMaxDeletes', await param('reconcileMaxDeletes'), 0, 100_000),
    // The sweep loops within one scheduled minute: a longer interval would mean one pass a minute anyway.
    healthSweepIntervalMs: integer('healthSweepIntervalMs', await param('healthSweepIntervalMs'), 1000, 60_000),
    registerMaxConcurrency,
    lookupMaxConcurrency,
    reconcileMaxConcurrency,
    logRetentionInDays: oneOf('logRetentionDays', await param('logRetentionDays'), [
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
    ]),
    alarmTopicArn,
    registrationLagAlarmMs: integer('registrationLagAlarmMs', await param('registrationLagAlarmMs'), 1000, 86_400_000),
  };
}

let settingsPromise;

/** The validated settings, read once per osls run (a failed read is not kept: osls retries unresolved variables). */
function settingsOf({ resolveVariable }) {
  if (!settingsPromise) {
    settingsPromise = readSettings(resolveVariable);
    settingsPromise.catch(() => {
      settingsPromise = undefined;
    });
  }
  return settingsPromise;
}

const functionName = (s, fn) => `${PROJECT}-${s.stage}-${fn}`;

/** What the functions get as NAMESPACE: the created namespace's id, or the parameter as given. */
function namespaceRef(s) {
  return s.createNamespace ? { Ref: 'CloudMapNamespace' } : s.namespace;
}

/** The namespace's ARN when the stack knows its id; otherwise every namespace of the account and region. */
function namespaceArn(s) {
  if (s.createNamespace) return { 'Fn::GetAtt': ['CloudMapNamespace', 'Arn'] };
  return s.namespaceIsId ? namespaceRefArn(s.namespace) : sub(`${arnPrefix('servicediscovery')}:namespace/*`);
}

/** The namespace's name when the stack knows it (for conditions on record names). */
function namespaceName(s) {
  return s.namespaceIsId ? undefined : s.namespace.toLowerCase().replace(/\.$/, '');
}

/**
 * Every namespace the registrar writes to: the main one and those of the cluster mapping, each with its ARN
 * (undefined when given by name: IAM knows namespaces by id only) and its name (undefined when given by id).
 */
function writtenNamespaces(s) {
  const all = [
    {
      byName: !s.createNamespace && !s.namespaceIsId,
      arn: s.createNamespace || s.namespaceIsId ? namespaceArn(s) : undefined,
      name: namespaceName(s),
    },
    ...s.mappedNamespaces.map((m) => ({
      byName: !m.namespaceIsId,
      arn: m.namespaceIsId ? namespaceRefArn(m.namespace) : undefined,
      name: m.namespaceIsId ? undefined : m.namespace.toLowerCase().replace(/\.$/, ''),
    })),
  ];
  // Several clusters may share a namespace: each namespace once.
  const key = (n) => JSON.stringify(n.arn ?? n.name);
  return all.filter((n, index) => all.findIndex((other) => key(other) === key(n)) === index);
}

/** CLUSTER_NAMESPACES: the mapping's pairs as lib/config.ts reads them (no spaces, no empty pairs). */
function clusterNamespacesVariable(s) {
  return s.mappedNamespaces.map((m) => `${m.cluster.ref}=${m.namespace}`).join(',');
}

/**
 * The rule's pattern: only task state changes the register function acts on (lib/plan.ts isRunning / isLeaving),
 * and only from the watched clusters, so nothing else ever invokes it.
 */
function rulePattern(s) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      ...(s.clusters.length ? { clusterArn: s.clusters.map((c) => c.arn) } : {}),
      $or: [
        { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] },
        { lastStatus: LEAVING_LAST_STATUSES },
        { desiredStatus: ['STOPPED'] },
      ],
    },
  };
}

/** The lookup routes: HTTP API with IAM on every route, or a private REST API (IAM or open). */
function lookupEvents(s) {
  if (s.lookupMode === 'iam') {
    return LOOKUP_ROUTES.map((path) => ({ httpApi: { method: 'GET', path, authorizer: { type: 'aws_iam' } } }));
  }
  return LOOKUP_ROUTES.map((path) => ({
    http: { method: 'get', path, ...(s.lookupAuth === 'iam' ? { authorizer: 'aws_iam' } : {}) },
  }));
}

/**
 * The private REST API's resource policy: only requests through the given VPC endpoints; with IAM auth, only
 * principals of this account (another account's principal is refused even when its own policy allows it).
 */
function apiGateway(s) {
  if (s.lookupMode !== 'private') return {};
  const allow = { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/*'] };
  if (s.lookupAuth === 'iam') {
    // osls accepts only literal principals here, so the account is checked with a condition.
    allow.Condition = { StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } };
  }
  return {
    resourcePolicy: [
      allow,
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 'execute-api:Invoke',
        Resource: ['execute-api:/*'],
        Condition: { StringNotEquals: { 'aws:SourceVpce': s.vpcEndpointIds } },
      },
    ],
  };
}

const logStatement = (s, fn) => ({
  Sid: 'WriteOwnLogs',
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: [sub(`${arnPrefix('logs')}:log-group:/aws/lambda/${functionName(s, fn)}:*`)],
});

/**
 * Statements that resolve the namespaces written to (the main one and the mapping's): those given by id with
 * GetNamespace on them, those given by name with ListNamespaces (lib/cloud-map/namespaces.ts).
 */
function namespaceResolution(s) {
  const namespaces = writtenNamespaces(s);
  const byId = namespaces.filter((n) => n.arn).map((n) => n.arn);
  return [
    ...(byId.length
      ? [{ Sid: 'ReadNamespace', Effect: 'Allow', Action: ['servicediscovery:GetNamespace'], Resource: byId }]
      : []),
    ...(namespaces.some((n) => n.byName)
      ? [
          // ListNamespaces has no resource type and no condition key: it can only be granted on "*".
          { Sid: 'FindNamespaceByName', Effect: 'Allow', Action: ['servicediscovery:ListNamespaces'], Resource: '*' },
        ]
      : []),
  ];
}

/**
 * The namespaces CreateService may create in: each one by ARN when every namespace is known by id; otherwise
 * every namespace (CreateService has servicediscovery:NamespaceArn but no namespace-name condition key).
 */
function createServiceNamespaceArns(s) {
  const namespaces = writtenNamespaces(s);
  if (namespaces.some((n) => n.byName)) return [sub(`${arnPrefix('servicediscovery')}:namespace/*`)];
  return namespaces.map((n) => n.arn);
}

/** The watched clusters' condition on ECS reads (none when every cluster is watched). */
function clusterCondition(s) {
  return s.clusters.length ? { Condition: { ArnEquals: { 'ecs:cluster': s.clusters.map((c) => c.arn) } } } : {};
}

/**
 * What the registrar reads of a task: the task, its service's tags, its task definition, and for bridge and host
 * tasks the address of its container instance (ECS, then EC2).
 */
function ecsReadStatements(s) {
  const ecsResources = (kind) =>
    s.clusters.length
      ? s.clusters.map((c) => sub(`${arnPrefix('ecs')}:${kind}/${c.name}/*`))
      : [sub(`${arnPrefix('ecs')}:${kind}/*`)];
  return [
    {
      Sid: 'DescribeTasksOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeTasks'],
      Resource: ecsResources('task'),
      ...clusterCondition(s),
    },
    {
      Sid: 'ReadServiceTagsOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices'],
      Resource: ecsResources('service'),
      ...clusterCondition(s),
    },
    {
      // DescribeTaskDefinition has no resource type and no condition key.
      Sid: 'ReadTaskDefinitions',
      Effect: 'Allow',
      Action: ['ecs:DescribeTaskDefinition'],
      Resource: '*',
    },
    {
      // Bridge and host tasks are registered at their container instance's address (lib/ecs/ecs-task-source.ts).
      Sid: 'DescribeContainerInstancesOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeContainerInstances'],
      Resource: ecsResources('container-instance'),
      ...clusterCondition(s),
    },
    {
      // DescribeInstances has no resource type and no condition key of its own: limited to the stack's region.
      Sid: 'ReadContainerInstanceAddresses',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } },
    },
  ];
}

/** What the scheduled functions add to list running tasks (lib/running-tasks.ts, EcsTaskSource). */
function ecsListStatements(s) {
  return [
    // With watched clusters the functions list only those; ListClusters is needed only to find them all.
    ...(s.clusters.length
      ? []
      : [
          {
            // ListClusters has no resource type and no condition key.
            Sid: 'ListClusters',
            Effect: 'Allow',
            Action: ['ecs:ListClusters'],
            Resource: '*',
          },
        ]),
    {
      // ListTasks is authorized on container instances (Fargate tasks have none): "*" and the ecs:cluster key.
      Sid: 'ListTasksOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:ListTasks'],
      Resource: '*',
      ...clusterCondition(s),
    },
  ];
}

/** The request tag every created service carries, and no other: CreateService and TagResource are allowed only with it. */
function managedRequestTag(s) {
  return {
    StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: s.ownerId },
    'ForAllValues:StringEquals': { 'aws:TagKeys': [MANAGED_TAG_KEY] },
  };
}

/** Every Cloud Map resource, in any account and region: what an explicit Deny covers (a shared namespace too). */
const ANY_CLOUD_MAP_RESOURCE = sub(`arn:\${AWS::Partition}:servicediscovery:*:*:*`);

/**
 * The Cloud Map (and Route 53) permissions of a function that registers and deregisters tasks: find the
 * namespace and services, read instances, write instances of managed services only, and have a missing service
 * created by the service creator function. `health` adds the custom health reads and writes of the scheduled
 * functions (lib/health-sweep.ts fixHealth).
 *
 * The ownership tag is no boundary against a role that may add it: Cloud Map authorizes CreateService with Tags
 * as TagResource too and has no condition key that tells a create from a later tag. So no writer may create or
 * tag a service (explicitly denied): only the creator's role may, and its code only ever creates new services.
 */
function cloudMapStatements(s, { health }) {
  const serviceArns = sub(`${arnPrefix('servicediscovery')}:service/*`);
  const statements = [
    ...namespaceResolution(s),
    {
      // ListServices and GetOperation have no resource type and no condition key.
      Sid: 'FindServicesAndFollowOperations',
      Effect: 'Allow',
      Action: ['servicediscovery:ListServices', 'servicediscovery:GetOperation'],
      Resource: '*',
    },
    {
      // A missing service is created by the createService function (lib/cloud-map/lambda-service-creator.ts).
      Sid: 'InvokeServiceCreator',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: [{ 'Fn::GetAtt': ['CreateServiceLambdaFunction', 'Arn'] }],
    },
    {
      // Reads are not limited to managed services: the registrar must see who holds a name before refusing it.
      Sid: 'ReadInstances',
      Effect: 'Allow',
      Action: [
        'servicediscovery:ListInstances',
        'servicediscovery:GetInstance',
        ...(health ? ['servicediscovery:GetInstancesHealthStatus'] : []),
      ],
      Resource: [serviceArns],
    },
    {
      // The managed-by check before writing to an existing service (lib/cloud-map isManaged): services' tags only.
      Sid: 'ReadServiceOwnership',
      Effect: 'Allow',
      Action: ['servicediscovery:ListTagsForResource'],
      Resource: [serviceArns],
    },
    {
      Sid: 'WriteInstancesOfManagedServices',
      Effect: 'Allow',
      Action: [
        'servicediscovery:RegisterInstance',
        'servicediscovery:DeregisterInstance',
        ...(health ? ['servicediscovery:UpdateInstanceCustomHealthStatus'] : []),
      ],
      Resource: [serviceArns],
      Condition: { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG_KEY}`]: s.ownerId } },
    },
    {
      // Whatever else is attached to the role, a writer never creates, tags, untags, updates or deletes a service.
      Sid: 'NeverCreateOrChangeServices',
      Effect: 'Deny',
      Action: [
        'servicediscovery:CreateService',
        'servicediscovery:TagResource',
        'servicediscovery:UntagResource',
        'servicediscovery:UpdateService',
        'servicediscovery:DeleteService',
      ],
      Resource: [ANY_CLOUD_MAP_RESOURCE],
    },
  ];
  if (s.namespaceType === 'dns') statements.push(route53Statement(s));
  return statements;
}

/**
 * The createService function's permissions (functions/create-service.ts): resolve the configured namespaces, see
 * whether a name is taken and by whom, and create a service with the managed-by tag, in the configured namespaces
 * when IAM can name them. Its code calls CreateService with Tags and never TagResource on its own, so the
 * TagResource that CreateService needs cannot be used to take over an existing service.
 */
function createServiceStatements(s) {
  const serviceArns = sub(`${arnPrefix('servicediscovery')}:service/*`);
  return [
    logStatement(s, 'createService'),
    ...namespaceResolution(s),
    {
      // ListServices has no resource type and no condition key (the winner of a creation race is found by name).
      Sid: 'FindServices',
      Effect: 'Allow',
      Action: ['servicediscovery:ListServices'],
      Resource: '*',
    },
    {
      // Whether the winner of a creation race carries our tag: services' tags only.
      Sid: 'ReadServiceOwnership',
      Effect: 'Allow',
      Action: ['servicediscovery:ListTagsForResource'],
      Resource: [serviceArns],
    },
    {
      Sid: 'CreateManagedServicesInTheNamespace',
      Effect: 'Allow',
      Action: ['servicediscovery:CreateService'],
      Resource: [...createServiceNamespaceArns(s), serviceArns],
      Condition: managedRequestTag(s),
    },
    {
      // CreateService with Tags is also authorized as TagResource (Service Authorization Reference, Cloud Map).
      Sid: 'TagManagedServicesOnCreate',
      Effect: 'Allow',
      Action: ['servicediscovery:TagResource'],
      Resource: [serviceArns],
      Condition: managedRequestTag(s),
    },
    {
      Sid: 'NeverChangeServices',
      Effect: 'Deny',
      Action: ['servicediscovery:UntagResource', 'servicediscovery:UpdateService', 'servicediscovery:DeleteService'],
      Resource: [ANY_CLOUD_MAP_RESOURCE],
    },
  ];
}

/** The version store orders events per task (lib/dynamodb/dynamodb-version-store.ts). */
const taskVersionsStatement = {
  Sid: 'ReadAndWriteTaskVersions',
  Effect: 'Allow',
  Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  Resource: [{ 'Fn::GetAtt': ['TaskTable', 'Arn'] }],
};

/** The register function's permissions; see the README's list for every `Resource: "*"`. */
function registerStatements(s) {
  return [
    logStatement(s, 'register'),
    {
      // The on-failure destination is written with the function's own role.
      Sid: 'SendFailedEventsToDlq',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [{ 'Fn::GetAtt': ['RegisterDlq', 'Arn'] }],
    },
    taskVersionsStatement,
    ...ecsReadStatements(s),
    ...cloudMapStatements(s, { health: false }),
  ];
}

/**
 * The permissions of a scheduled function (reconcile, healthSweep): the register function's reads and writes
 * (both register through lib/registrar.ts registerPlanned and deregister through deregisterOwned), the task
 * listing, and Cloud Map's custom health. No DLQ: a failed run is repeated by the next scheduled one.
 */
function scheduledStatements(s, fn) {
  return [
    logStatement(s, fn),
    taskVersionsStatement,
    ...ecsListStatements(s),
    ...ecsReadStatements(s),
    ...cloudMapStatements(s, { health: true }),
  ];
}

/**
 * Cloud Map writes the DNS records of a DNS namespace with the caller's permissions. Our services use a custom
 * health check, so Cloud Map never creates Route 53 health checks for them: record changes are all it needs.
 * The mapping's namespaces are of the same type as the main one (namespaceType); their hosted zones are unknown
 * to the stack, and their names only when given by name: record names are limited only when every name is known.
 */
function route53Statement(s) {
  let zone;
  if (s.mappedNamespaces.length) {
    zone = sub(`arn:\${AWS::Partition}:route53:::hostedzone/*`);
  } else if (s.createNamespace) {
    zone = {
      'Fn::Sub': [
        `arn:\${AWS::Partition}:route53:::hostedzone/\${Zone}`,
        { Zone: { 'Fn::GetAtt': ['CloudMapNamespace', 'HostedZoneId'] } },
      ],
    };
  } else {
    zone = sub(`arn:\${AWS::Partition}:route53:::hostedzone/${s.hostedZoneId || '*'}`);
  }
  const names = writtenNamespaces(s).map((n) => n.name);
  return {
    Sid: 'WriteRecordsOfTheNamespace',
    Effect: 'Allow',
    Action: ['route53:ChangeResourceRecordSets'],
    Resource: [zone],
    Condition: {
      'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'SRV'] },
      ...(names.every(Boolean)
        ? {
            'ForAllValues:StringLike': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': uniqueNames(names).map((name) => `*.${name}`),
            },
          }
        : {}),
    },
  };
}

/** The lookup function's permissions: reads only. */
function lookupStatements(s) {
  return [
    logStatement(s, 'lookup'),
    {
      // Both list actions have no resource type and no condition key.
      Sid: 'ListNamespacesAndServices',
      Effect: 'Allow',
      Action: ['servicediscovery:ListNamespaces', 'servicediscovery:ListServices'],
      Resource: '*',
    },
    {
      Sid: 'ReadNamespaces',
      Effect: 'Allow',
      Action: ['servicediscovery:GetNamespace'],
      Resource: [sub(`${arnPrefix('servicediscovery')}:namespace/*`)],
    },
    {
      // Discovery is authorized by namespace and service name, not by ARN.
      Sid: 'DiscoverInstancesOfAllowedNamespaces',
      Effect: 'Allow',
      Action: ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'],
      Resource: '*',
      ...(s.lookupNamespaces === '*'
        ? {}
        : { Condition: { StringEquals: { 'servicediscovery:NamespaceName': s.lookupNamespaces } } }),
    },
  ];
}

function role(description, statements) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: description,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      Policies: [{ PolicyName: 'least-privilege', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

function namespaceResource(s) {
  const common = {
    Name: s.namespace,
    Description: `Cloud Map namespace of ${PROJECT} (${s.stage})`,
    Tags: [{ Key: MANAGED_TAG_KEY, Value: s.ownerId }],
  };
  return s.namespaceType === 'dns'
    ? { Type: 'AWS::ServiceDiscovery::PrivateDnsNamespace', Properties: { ...common, Vpc: s.namespaceVpcId } }
    : { Type: 'AWS::ServiceDiscovery::HttpNamespace', Properties: common };
}

/** Resources, outputs and extensions that depend on the parameters. */
function resources(s) {
  const Resources = {
    RegisterRole: role(`${PROJECT} ${s.stage}: register function`, registerStatements(s)),
    LookupRole: role(`${PROJECT} ${s.stage}: lookup function`, lookupStatements(s)),
    ReconcileRole: role(`${PROJECT} ${s.stage}: reconcile function`, scheduledStatements(s, 'reconcile')),
    HealthSweepRole: role(`${PROJECT} ${s.stage}: health sweep function`, scheduledStatements(s, 'healthSweep')),
    CreateServiceRole: role(`${PROJECT} ${s.stage}: service creator function`, createServiceStatements(s)),
  };
  const Outputs = {};
  if (s.createNamespace) {
    Resources.CloudMapNamespace = namespaceResource(s);
    Outputs.NamespaceId = {
      Description: 'Id of the Cloud Map namespace this stack created',
      Value: { Ref: 'CloudMapNamespace' },
    };
  }
  const extensions = {};
  if (s.registerMaxConcurrency !== undefined) {
    extensions.RegisterLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.registerMaxConcurrency } };
  }
  if (s.lookupMaxConcurrency !== undefined) {
    extensions.LookupLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.lookupMaxConcurrency } };
  }
  if (s.reconcileMaxConcurrency !== undefined) {
    extensions.ReconcileLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.reconcileMaxConcurrency } };
  }
  if (s.lookupMode === 'iam') {
    // HTTP APIs have no throttling setting in the framework: it goes on the $default stage.
    extensions.HttpApiStage = {
      Properties: {
        DefaultRouteSettings: {
          DetailedMetricsEnabled: false,
          ThrottlingRateLimit: s.throttleRate,
          ThrottlingBurstLimit: s.throttleBurst,
        },
      },
    };
  }
  return { Resources, Outputs, extensions };
}

/**
 * The private REST API's stage settings (serverless/rest-api-stage.js puts them on the stage): every method
 * throttled as the HTTP API's $default route is in iam mode. None in iam mode.
 */
function restApiStage(s) {
  if (s.lookupMode !== 'private') return {};
  return {
    MethodSettings: [
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: s.throttleRate,
        ThrottlingBurstLimit: s.throttleBurst,
      },
    ],
  };
}

/**
 * How long a scheduled reconcile run may wait in Lambda's queue: one interval (within Lambda's 60 s to 6 h). With
 * one reserved execution a run that finds the previous one still going is throttled and retried; once the next
 * scheduled run is due, the waiting one is dropped rather than queued behind it.
 */
function reconcileMaxEventAge(s) {
  return Math.min(21_600, Math.max(60, s.reconcileIntervalS));
}

/**
 * The register function's timeout: its wait for a health-checked task to turn HEALTHY, then a Cloud Map
 * operation's wait, plus the calls around them; at least the 60 s it always had, at most Lambda's 900 s.
 */
function registerTimeout(s) {
  const needed = Math.ceil((s.healthWaitMs + OPERATION_TIMEOUT_MS) / 1000) + REGISTER_TIMEOUT_MARGIN_S;
  return Math.min(900, Math.max(60, needed));
}

/** Wraps a derivation so osls can address it: `${file(./serverless/deploy-config.js):NAME}`. */
const derived = (derive) => async (context) => derive(await settingsOf(context));

module.exports = {
  namespace: derived(namespaceRef),
  rulePattern: derived(rulePattern),
  lookupEvents: derived(lookupEvents),
  endpointType: derived((s) => (s.lookupMode === 'private' ? 'PRIVATE' : 'REGIONAL')),
  vpcEndpointIds: derived((s) => (s.lookupMode === 'private' ? s.vpcEndpointIds : [])),
  apiGateway: derived(apiGateway),
  logRetentionInDays: derived((s) => Number(s.logRetentionInDays)),
  cacheIntervalMs: derived((s) => String(s.cacheIntervalMs)),
  cacheMaxEntries: derived((s) => String(s.cacheMaxEntries)),
  healthMaxAgeMs: derived((s) => String(s.healthMaxAgeMs)),
  cacheControlMaxAge: derived((s) => String(s.cacheControlMaxAge)),
  staleIfErrorMs: derived((s) => String(s.staleIfErrorMs)),
  // The lookup's allowlist (LOOKUP_NAMESPACES): `*` or the names, comma-separated (IAM holds the same list).
  lookupNamespaces: derived((s) => (s.lookupNamespaces === '*' ? '*' : s.lookupNamespaces.join(','))),
  healthWaitMs: derived((s) => String(s.healthWaitMs)),
  healthPollMs: derived((s) => String(s.healthPollMs)),
  operationTimeoutMs: derived(() => String(OPERATION_TIMEOUT_MS)),
  registerTimeout: derived(registerTimeout),
  watchedClusters: derived((s) => s.clusters.map((c) => c.ref).join(',')),
  clusterNamespaces: derived(clusterNamespacesVariable),
  serviceCreatorFunction: derived((s) => functionName(s, 'createService')),
  reconcileSchedule: derived((s) => s.reconcileSchedule),
  reconcileMaxEventAge: derived(reconcileMaxEventAge),
  restApiStage: derived(restApiStage),
  reconcileMaxDeletes: derived((s) => String(s.reconcileMaxDeletes)),
  healthSweepIntervalMs: derived((s) => String(s.healthSweepIntervalMs)),
  dnsRecords: derived((s) => s.dnsRecords),
  alarmActions: derived((s) => (s.alarmTopicArn ? [s.alarmTopicArn] : [])),
  registrationLagAlarmMs: derived((s) => s.registrationLagAlarmMs),
  resources: derived(resources),
};
