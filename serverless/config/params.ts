import { CLOUD_MAP_NAMESPACE_NAME as NAMESPACE_NAME } from '../../lib/lookup/validation';
import { type IntSetting, SETTINGS, type Setting, type SettingKey } from '../../lib/settings';
import { DeployParamError, integer, list, matching, oneOf, rate, rateSeconds } from './checks';
import { type Cluster, clusterOf, type MappedNamespace, readClusterNamespaces } from './clusters';
import { isNamespaceRef, namespaceIdOf, sameNamespaceName, uniqueNames } from './namespaces';

/**
 * The deploy parameters, read once and checked: a wrong value fails `osls package` naming the parameter, before
 * CloudFormation sees it. Ranges, allowed values and patterns come from the settings catalogue (lib/settings.ts),
 * the ones the functions' loaders apply, so a value that packages also starts; the checks across parameters
 * (namespace references, the cluster mapping, the API modes) are this file's own.
 */

/** How osls resolves a variable for a `${file(...):NAME}` function: `param:NAME`, `sls:stage`. */
export type ResolveVariable = (variable: string) => Promise<unknown>;

/** Every parameter, checked: plain data, from which everything else is derived. */
export interface DeploySettings {
  stage: string;
  /** The task table's name, as osls resolved it (the default names the stage). */
  taskTableName: string;
  /** As given: a name, an id (ns-...) or an ARN. */
  namespace: string;
  /** True when `namespace` is an id or an ARN. */
  namespaceIsId: boolean;
  namespaceType: 'dns' | 'http';
  createNamespace: boolean;
  /** Empty when none. */
  namespaceVpcId: string;
  /** Empty when none. */
  hostedZoneId: string;
  /** The watched clusters and the mapped ones; empty = every cluster. */
  clusters: Cluster[];
  /** The mapping's pairs, without those naming the main namespace. */
  mappedNamespaces: MappedNamespace[];
  dnsRecords: 'A' | 'AAAA' | 'A+AAAA';
  dnsTtl: number;
  defaultPort: number;
  ownerId: string;
  lookupMode: 'iam' | 'private';
  lookupAuth: 'iam' | 'none';
  vpcEndpointIds: string[];
  lookupNamespaces: '*' | string[];
  throttleRate: number;
  throttleBurst: number;
  cacheIntervalMs: number;
  cacheMaxEntries: number;
  cacheMaxMb: number;
  healthMaxAgeMs: number;
  cacheControlMaxAge: number;
  staleIfErrorMs: number;
  healthWaitMs: number;
  healthPollMs: number;
  /** The schedule expression, `rate(5 minutes)`. */
  reconcileSchedule: string;
  reconcileIntervalS: number;
  reconcileMaxDeletes: number;
  healthSweepIntervalMs: number;
  registerMaxConcurrency: number | undefined;
  deregisterMaxConcurrency: number | undefined;
  lookupMaxConcurrency: number | undefined;
  reconcileMaxConcurrency: 1 | undefined;
  logRetentionInDays: string;
  /** Empty when none. */
  alarmTopicArn: string;
  registrationLagAlarmMs: number;
}

const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;

type KeyOf<T> = { [K in SettingKey]: (typeof SETTINGS)[K] extends T ? K : never }[SettingKey];

/** An integer parameter, within the catalogue's range. */
function intParam(key: KeyOf<IntSetting>, value: string): number {
  const { min, max } = SETTINGS[key];
  return integer(key, value, min, max);
}

/** An integer parameter that also takes `none` (no reservation): undefined for none. */
function intOrNone(key: KeyOf<IntSetting & { none: string }>, value: string): number | undefined {
  return value === 'none' ? undefined : intParam(key, value);
}

/** An enumerated parameter: one of the catalogue's values, once normalized (`a,aaaa` is `A+AAAA`). */
function enumParam<K extends KeyOf<{ type: 'enum' }>>(key: K, value: string): (typeof SETTINGS)[K]['values'][number] {
  const setting: Setting = SETTINGS[key];
  const normalized = setting.type === 'enum' && setting.normalize ? setting.normalize(value) : value;
  return oneOf(key, normalized, SETTINGS[key].values);
}

/** A string parameter that takes `none` for "not set": empty for none, else it must match the catalogue's pattern. */
function optionalRef(key: 'namespaceVpcId' | 'namespaceHostedZoneId' | 'alarmTopicArn', value: string) {
  const given = value.replace(/^none$/, '');
  return { given, valid: SETTINGS[key].pattern.test(given) };
}

/** Reads and checks every parameter; the result is plain data, everything else is derived from it. */
export async function readSettings(resolveVariable: ResolveVariable): Promise<DeploySettings> {
  const param = async (name: string): Promise<string> => {
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
  const namespaceType = enumParam('namespaceType', await param('namespaceType'));
  const createNamespace = enumParam('createNamespace', await param('createNamespace')) === 'true';
  const vpc = optionalRef('namespaceVpcId', await param('namespaceVpcId'));
  const namespaceVpcId = vpc.given;
  if (createNamespace) {
    if (namespaceIsId) throw new DeployParamError('namespace', 'a namespace to create needs a name, not an id');
    if (namespaceType === 'dns' && !vpc.valid) {
      throw new DeployParamError(
        'namespaceVpcId',
        'a private DNS namespace to create needs the id of its VPC (vpc-...)',
      );
    }
  }
  if (namespaceVpcId && !vpc.valid) {
    throw new DeployParamError('namespaceVpcId', `"${namespaceVpcId}" is not a VPC id`);
  }
  const zone = optionalRef('namespaceHostedZoneId', await param('namespaceHostedZoneId'));
  const hostedZoneId = zone.given;
  if (hostedZoneId && (!zone.valid || createNamespace || namespaceType !== 'dns')) {
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
  // A pair naming the main namespace routes nowhere new: its cluster's tasks go there anyway.
  const mappedNamespaces = clusterNamespaces.filter((m) => {
    if (m.namespaceIsId && namespaceIsId) return namespaceIdOf(m.namespace) !== namespaceIdOf(namespace);
    return m.namespaceIsId || namespaceIsId || !sameNamespaceName(m.namespace, namespace);
  });

  const dnsRecords = enumParam('dnsRecords', await param('dnsRecords'));
  const dnsTtl = intParam('dnsTtl', await param('dnsTtl'));
  const defaultPort = intParam('defaultPort', await param('defaultPort'));
  const ownerId = await param('ownerId');
  if (!SETTINGS.ownerId.pattern.test(ownerId)) {
    throw new DeployParamError('ownerId', 'use 1 to 1024 printable ASCII characters');
  }
  const taskTableName = await param('taskTableName');
  if (!SETTINGS.taskTableName.pattern.test(taskTableName)) {
    throw new DeployParamError('taskTableName', `"${taskTableName}" is ${SETTINGS.taskTableName.patternMessage}`);
  }

  const lookupMode = enumParam('lookupMode', await param('lookupMode'));
  const lookupAuth = enumParam('lookupAuth', await param('lookupAuth'));
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
  let lookupNamespaces: '*' | string[];
  if (lookupNamespacesParam === '*') {
    lookupNamespaces = '*';
  } else if (list(lookupNamespacesParam).length > 0) {
    // What the lookup's loader accepts (LOOKUP_NAMESPACES), so that a deploy never fails at cold start.
    if (!SETTINGS.lookupNamespaces.pattern.test(lookupNamespacesParam)) {
      throw new DeployParamError(
        'lookupNamespaces',
        `"${lookupNamespacesParam}" is not * or namespace names (letters, digits, ".", "_", "-"), comma-separated`,
      );
    }
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

  const registerMaxConcurrency = intOrNone('registerMaxConcurrency', await param('registerMaxConcurrency'));
  const deregisterMaxConcurrency = intOrNone('deregisterMaxConcurrency', await param('deregisterMaxConcurrency'));
  const lookupMaxConcurrency = intOrNone('lookupMaxConcurrency', await param('lookupMaxConcurrency'));
  // 1 makes reconcile runs exclusive; none (for accounts that cannot reserve any) lets them overlap.
  const reconcileMaxConcurrency =
    enumParam('reconcileMaxConcurrency', await param('reconcileMaxConcurrency')) === '1' ? 1 : undefined;
  const alarm = optionalRef('alarmTopicArn', await param('alarmTopicArn'));
  const alarmTopicArn = alarm.given;
  if (alarmTopicArn && !alarm.valid) {
    throw new DeployParamError('alarmTopicArn', `"${alarmTopicArn}" is not an SNS topic ARN`);
  }

  return {
    stage,
    taskTableName,
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
    throttleRate: intParam('lookupThrottleRate', await param('lookupThrottleRate')),
    throttleBurst: intParam('lookupThrottleBurst', await param('lookupThrottleBurst')),
    cacheIntervalMs: intParam('cacheIntervalMs', await param('cacheIntervalMs')),
    cacheMaxEntries: intParam('cacheMaxEntries', await param('cacheMaxEntries')),
    cacheMaxMb: intParam('cacheMaxMb', await param('cacheMaxMb')),
    healthMaxAgeMs: intParam('healthMaxAgeMs', await param('healthMaxAgeMs')),
    cacheControlMaxAge: intParam('cacheControlMaxAge', await param('cacheControlMaxAge')),
    staleIfErrorMs: intParam('staleIfErrorMs', await param('staleIfErrorMs')),
    healthWaitMs: intParam('healthWaitMs', await param('healthWaitMs')),
    healthPollMs: intParam('healthPollMs', await param('healthPollMs')),
    reconcileSchedule: rate('reconcileRate', await param('reconcileRate')),
    reconcileIntervalS: rateSeconds(await param('reconcileRate')),
    reconcileMaxDeletes: intParam('reconcileMaxDeletes', await param('reconcileMaxDeletes')),
    // The sweep loops within one scheduled minute: a longer interval would mean one pass a minute anyway.
    healthSweepIntervalMs: intParam('healthSweepIntervalMs', await param('healthSweepIntervalMs')),
    registerMaxConcurrency,
    deregisterMaxConcurrency,
    lookupMaxConcurrency,
    reconcileMaxConcurrency,
    logRetentionInDays: enumParam('logRetentionDays', await param('logRetentionDays')),
    alarmTopicArn,
    registrationLagAlarmMs: intParam('registrationLagAlarmMs', await param('registrationLagAlarmMs')),
  };
}

let settingsPromise: Promise<DeploySettings> | undefined;

/** The checked settings, read once per osls run (a failed read is not kept: osls retries unresolved variables). */
export function settingsOf({ resolveVariable }: { resolveVariable: ResolveVariable }): Promise<DeploySettings> {
  if (!settingsPromise) {
    settingsPromise = readSettings(resolveVariable);
    settingsPromise.catch(() => {
      settingsPromise = undefined;
    });
  }
  return settingsPromise;
}
