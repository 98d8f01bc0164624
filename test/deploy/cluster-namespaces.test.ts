// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates

import { type CfnTemplate, packageService } from '../../support/package-service';
import {
  arn,
  bySid,
  environmentOf,
  resourceOf,
  STAR_RESOURCE_ALLOWED,
  type Statement,
  statementsOf,
  writeRecordsInAnyZone,
} from './iam-policy';
import { patternOf, rulesMatching, taskEvent } from './task-events';

const CLUSTER_C = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-c';

/**
 * One watched cluster (prod-a) and three mapped ones: prod-b to a namespace by name, prod-c (by ARN) to a
 * namespace by id, prod-d to the main namespace (kudos.local, in other letters), written with spaces around.
 */
let template: CfnTemplate;
let zipBytes: Record<string, number>;

beforeAll(async () => {
  ({ template, zipBytes } = await packageService({
    watchedClusters: 'prod-a',
    clusterNamespaces: ` prod-b=b.internal , ${CLUSTER_C} = ns-0123456789abcdef,prod-d=KUDOS.local`,
  }));
}, 180_000);

const resource = (id: string) => resourceOf(template, id);
const variables = (id: string) => environmentOf(template, id);
const statements = (role: string) => bySid(statementsOf(resource(role)));

const CLUSTER_ARNS = [
  arn('ecs', 'cluster/prod-a'),
  arn('ecs', 'cluster/prod-b'),
  CLUSTER_C,
  arn('ecs', 'cluster/prod-d'),
];
const clusterScoped = (kind: string) => [
  arn('ecs', `${kind}/prod-a/*`),
  arn('ecs', `${kind}/prod-b/*`),
  arn('ecs', `${kind}/prod-c/*`),
  arn('ecs', `${kind}/prod-d/*`),
];
const CLUSTER_CONDITION = { ArnEquals: { 'ecs:cluster': CLUSTER_ARNS } };
const MANAGED_REQUEST_TAG = {
  StringEquals: { 'aws:RequestTag/managed-by': 'ecs-cloudmap-registrar' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by'] },
};

/** The statements of the register function and the scheduled functions that the mapping changes. */
const CHANGED: Record<string, Statement> = {
  DescribeTasksOfWatchedClusters: {
    Sid: 'DescribeTasksOfWatchedClusters',
    Effect: 'Allow',
    Action: ['ecs:DescribeTasks'],
    Resource: clusterScoped('task'),
    Condition: CLUSTER_CONDITION,
  },
  ReadServiceTagsOfWatchedClusters: {
    Sid: 'ReadServiceTagsOfWatchedClusters',
    Effect: 'Allow',
    Action: ['ecs:DescribeServices'],
    Resource: clusterScoped('service'),
    Condition: CLUSTER_CONDITION,
  },
  DescribeContainerInstancesOfWatchedClusters: {
    Sid: 'DescribeContainerInstancesOfWatchedClusters',
    Effect: 'Allow',
    Action: ['ecs:DescribeContainerInstances'],
    Resource: clusterScoped('container-instance'),
    Condition: CLUSTER_CONDITION,
  },
  // The namespace given by id is read by its ARN; those given by name (kudos.local, b.internal) are listed.
  ReadNamespace: {
    Sid: 'ReadNamespace',
    Effect: 'Allow',
    Action: ['servicediscovery:GetNamespace'],
    Resource: [arn('servicediscovery', 'namespace/ns-0123456789abcdef')],
  },
  FindNamespaceByName: {
    Sid: 'FindNamespaceByName',
    Effect: 'Allow',
    Action: ['servicediscovery:ListNamespaces'],
    Resource: '*',
  },
  // The hosted zones are unknown, and so is the name of the namespace given by id: no record-name condition.
  WriteRecordsOfTheNamespace: writeRecordsInAnyZone(),
};

describe('clusterNamespaces', () => {
  it.each(['running', 'leaving'] as const)(
    'adds the mapped clusters to the %s rule filter, once each, after the watched ones',
    (kind) => {
      expect((patternOf(template, kind) as { detail: { clusterArn: unknown } }).detail.clusterArn).toEqual(
        CLUSTER_ARNS,
      );
    },
  );

  it('keeps the events of any other cluster off both queues', () => {
    const patterns = { running: patternOf(template, 'running'), leaving: patternOf(template, 'leaving') };

    expect(rulesMatching(patterns, taskEvent('RUNNING', 'RUNNING', CLUSTER_C))).toEqual(['running']);
    expect(rulesMatching(patterns, taskEvent('STOPPED', 'STOPPED', CLUSTER_C))).toEqual(['leaving']);
    for (const [last, desired] of [
      ['RUNNING', 'RUNNING'],
      ['STOPPED', 'STOPPED'],
      ['RUNNING', 'STOPPED'],
    ]) {
      const other = taskEvent(last as string, desired as string, 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-x');
      expect(rulesMatching(patterns, other)).toEqual([]);
    }
  });

  it.each(['RegisterLambdaFunction', 'DeregisterLambdaFunction'])(
    'reaches %s normalized, without the pair that names the main namespace',
    (id) => {
      expect(variables(id)).toMatchObject({
        NAMESPACE: 'kudos.local',
        CLUSTER_NAMESPACES: `prod-b=b.internal,${CLUSTER_C}=ns-0123456789abcdef`,
      });
      expect(variables(id).WATCHED_CLUSTERS).toBeUndefined();
    },
  );

  it.each(['ReconcileLambdaFunction', 'HealthSweepLambdaFunction'])(
    'reaches %s, which also lists the tasks of the mapped clusters',
    (id) => {
      expect(variables(id)).toMatchObject({
        NAMESPACE: 'kudos.local',
        CLUSTER_NAMESPACES: `prod-b=b.internal,${CLUSTER_C}=ns-0123456789abcdef`,
        WATCHED_CLUSTERS: `prod-a,prod-b,${CLUSTER_C},prod-d`,
      });
    },
  );

  it('is not given to the lookup, which serves the namespaces by name', () => {
    expect(variables('LookupLambdaFunction').CLUSTER_NAMESPACES).toBeUndefined();
  });

  it.each(['RegisterRole', 'DeregisterRole', 'ReconcileRole', 'HealthSweepRole'])(
    '%s reads the mapped clusters and writes in the mapped namespaces (these statements change)',
    (role) => {
      const all = statements(role);

      expect(Object.fromEntries(Object.keys(CHANGED).map((sid) => [sid, all[sid]]))).toEqual(CHANGED);
    },
  );

  it('lets the service creator create in every namespace (CreateService has no namespace-name condition key)', () => {
    const creator = statements('CreateServiceRole');

    expect(creator.CreateManagedServicesInTheNamespace).toEqual({
      Sid: 'CreateManagedServicesInTheNamespace',
      Effect: 'Allow',
      Action: ['servicediscovery:CreateService'],
      Resource: [arn('servicediscovery', 'namespace/*'), arn('servicediscovery', 'service/*')],
      Condition: MANAGED_REQUEST_TAG,
    });
    expect(creator.ReadNamespace).toEqual(CHANGED.ReadNamespace);
    expect(creator.FindNamespaceByName).toEqual(CHANGED.FindNamespaceByName);
  });

  it('gives the service creator the mapping, so that it creates in the mapped namespaces and no others', () => {
    expect(variables('CreateServiceLambdaFunction')).toMatchObject({
      NAMESPACE: 'kudos.local',
      CLUSTER_NAMESPACES: `prod-b=b.internal,${CLUSTER_C}=ns-0123456789abcdef`,
    });
  });

  it.each(['ReconcileRole', 'HealthSweepRole'])(
    '%s lists the tasks of the mapped clusters, no cluster list',
    (role) => {
      const all = statements(role);

      expect(all.ListTasksOfWatchedClusters).toEqual({
        Sid: 'ListTasksOfWatchedClusters',
        Effect: 'Allow',
        Action: ['ecs:ListTasks'],
        Resource: '*',
        Condition: CLUSTER_CONDITION,
      });
      expect(all.ListClusters).toBeUndefined();
    },
  );

  it('keeps instance writes on managed services only (tag-conditioned, whatever the namespace)', () => {
    expect(statements('RegisterRole').WriteInstancesOfManagedServices).toEqual({
      Sid: 'WriteInstancesOfManagedServices',
      Effect: 'Allow',
      Action: ['servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance'],
      Resource: [arn('servicediscovery', 'service/*')],
      Condition: { StringEquals: { 'aws:ResourceTag/managed-by': 'ecs-cloudmap-registrar' } },
    });
  });

  it('lets the lookup discover in the mapped namespaces given by name (an id has no name to grant)', () => {
    expect(statements('LookupRole').DiscoverInstancesOfAllowedNamespaces).toEqual({
      Sid: 'DiscoverInstancesOfAllowedNamespaces',
      Effect: 'Allow',
      Action: ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'],
      Resource: '*',
      Condition: { StringEquals: { 'servicediscovery:NamespaceName': ['kudos.local', 'b.internal'] } },
    });
  });

  it('tells the lookup which namespaces it serves: the same names its IAM condition holds', () => {
    expect(variables('LookupLambdaFunction').LOOKUP_NAMESPACES).toBe('kudos.local,b.internal');
  });

  it('puts Resource "*" only on the listed statements', () => {
    for (const role of [
      'RegisterRole',
      'DeregisterRole',
      'LookupRole',
      'ReconcileRole',
      'HealthSweepRole',
      'CreateServiceRole',
    ]) {
      for (const statement of statementsOf(resource(role))) {
        if (statement.Resource === '*' || (Array.isArray(statement.Resource) && statement.Resource.includes('*'))) {
          expect(STAR_RESOURCE_ALLOWED[statement.Sid ?? '']).toBeDefined();
        }
      }
    }
  });

  it('keeps the register and deregister bundles within their budget', () => {
    expect(zipBytes.register).toBeLessThanOrEqual(230 * 1024);
    expect(zipBytes.deregister).toBeLessThanOrEqual(230 * 1024);
    expect(zipBytes.lookup).toBeLessThanOrEqual(160 * 1024);
  });
});
