// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates

import {
  type CfnTemplate,
  onlyResourceOfType,
  packageService,
  resourcesOfType,
  scheduleOf,
} from '../../support/package-service';
import { bySid, resourceOf, statementsOf, sub } from './iam-policy';
import { patternOf, TASK_EVENT_PATH } from './task-events';

const ENDPOINTS = ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'];
const CLUSTER_B = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-b';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops';

/**
 * Private open API, a private DNS namespace created by the stack, two watched clusters, alarms to a topic,
 * and every tuning parameter away from its default.
 */
let openDns: CfnTemplate;
/** Private API with IAM, an existing HTTP namespace given by id, the consumers' concurrency at its bounds. */
let iamHttp: CfnTemplate;

beforeAll(async () => {
  [{ template: openDns }, { template: iamHttp }] = await Promise.all([
    packageService({
      lookupMode: 'private',
      lookupAuth: 'none',
      lookupVpcEndpointIds: ENDPOINTS.join(','),
      createNamespace: 'true',
      namespace: 'corp.internal',
      namespaceVpcId: 'vpc-0abc12345def67890',
      watchedClusters: `prod-a,${CLUSTER_B}`,
      alarmTopicArn: TOPIC,
      registerMaxConcurrency: 'none',
      deregisterMaxConcurrency: 'none',
      reconcileMaxConcurrency: 'none',
      lookupMaxConcurrency: '25',
      lookupThrottleRate: '30',
      lookupThrottleBurst: '60',
      reconcileRate: '1 hour',
      reconcileMaxDeletes: '10',
      healthSweepIntervalMs: '15000',
      healthWaitMs: '3600000',
      healthPollMs: '15000',
      cacheMaxEntries: '5000',
      healthMaxAgeMs: '2000',
      cacheControlMaxAge: '0',
      staleIfErrorMs: '60000',
    }),
    packageService({
      lookupMode: 'private',
      lookupAuth: 'iam',
      lookupVpcEndpointIds: ENDPOINTS[0] ?? '',
      namespace: 'ns-abcdefghij012345',
      namespaceType: 'http',
      lookupNamespaces: 'corp.http',
      registerMaxConcurrency: '2',
      deregisterMaxConcurrency: '1000',
    }),
  ]);
}, 180_000);

describe('lookupMode=private', () => {
  it('serves the lookup from a PRIVATE REST API bound to the given VPC endpoints, with no HTTP API', () => {
    const [, api] = onlyResourceOfType(openDns, 'AWS::ApiGateway::RestApi');

    expect(api.Properties.EndpointConfiguration).toEqual({ Types: ['PRIVATE'], VpcEndpointIds: ENDPOINTS });
    expect(resourcesOfType(openDns, 'AWS::ApiGatewayV2::Api')).toEqual({});
  });

  it('denies every request that does not come through the given VPC endpoints', () => {
    const [, api] = onlyResourceOfType(openDns, 'AWS::ApiGateway::RestApi');

    expect((api.Properties.Policy as { Statement: unknown[] }).Statement).toEqual([
      { Effect: 'Allow', Principal: '*', Action: ['execute-api:Invoke'], Resource: 'execute-api:/*' },
      {
        Effect: 'Deny',
        Principal: '*',
        Action: ['execute-api:Invoke'],
        Resource: 'execute-api:/*',
        Condition: { StringNotEquals: { 'aws:SourceVpce': ENDPOINTS } },
      },
    ]);
  });

  it('with lookupAuth=none, leaves the nine GET methods open (the resource policy is the gate)', () => {
    const methods = Object.values(resourcesOfType(openDns, 'AWS::ApiGateway::Method'));

    expect(methods.map((m) => m.Properties.HttpMethod)).toEqual(Array(9).fill('GET'));
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('NONE');
  });

  it('throttles every method on a stage of its own (lookupThrottleRate, lookupThrottleBurst)', () => {
    const [deploymentId, deployment] = onlyResourceOfType(openDns, 'AWS::ApiGateway::Deployment');
    const [, stage] = onlyResourceOfType(openDns, 'AWS::ApiGateway::Stage');

    // CloudFormation refuses a deployment's StageDescription once the stage exists (every deploy after the first):
    // https://github.com/awsdocs/aws-cloudformation-user-guide/pull/387
    expect(deployment.Properties.StageName).toBeUndefined();
    expect(stage.Properties).toEqual({
      RestApiId: { Ref: 'ApiGatewayRestApi' },
      DeploymentId: { Ref: deploymentId },
      StageName: 'prod',
      MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 30, ThrottlingBurstLimit: 60 }],
    });
  });

  it('throttles with the defaults (100 per second, burst 200) when not given', () => {
    const [, stage] = onlyResourceOfType(iamHttp, 'AWS::ApiGateway::Stage');

    expect(stage.Properties.MethodSettings).toEqual([
      { HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    ]);
  });

  it('lookupMaxConcurrency reserves that many executions for the lookup function', () => {
    expect(resourceOf(openDns, 'LookupLambdaFunction').Properties.ReservedConcurrentExecutions).toBe(25);
    expect(resourceOf(iamHttp, 'LookupLambdaFunction').Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('with lookupAuth=iam, requires SigV4 on every method and allows only principals of this account', () => {
    const methods = Object.values(resourcesOfType(iamHttp, 'AWS::ApiGateway::Method'));
    const [, api] = onlyResourceOfType(iamHttp, 'AWS::ApiGateway::RestApi');

    expect(methods).toHaveLength(9);
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
    expect((api.Properties.Policy as { Statement: unknown[] }).Statement[0]).toEqual({
      Effect: 'Allow',
      Principal: '*',
      Action: ['execute-api:Invoke'],
      Resource: 'execute-api:/*',
      Condition: { StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } },
    });
  });
});

describe('a namespace created by the stack', () => {
  it('is a private DNS namespace in the given VPC, and the functions get its id', () => {
    expect(resourceOf(openDns, 'CloudMapNamespace')).toMatchObject({
      Type: 'AWS::ServiceDiscovery::PrivateDnsNamespace',
      Properties: { Name: 'corp.internal', Vpc: 'vpc-0abc12345def67890' },
    });
    for (const fn of [
      'RegisterLambdaFunction',
      'DeregisterLambdaFunction',
      'LookupLambdaFunction',
      'ReconcileLambdaFunction',
      'HealthSweepLambdaFunction',
    ]) {
      expect(resourceOf(openDns, fn).Properties).toMatchObject({
        Environment: { Variables: { NAMESPACE: { Ref: 'CloudMapNamespace' } } },
      });
    }
  });

  it('scopes CreateService, GetNamespace and the record writes to that namespace and its hosted zone', () => {
    const statements = bySid(statementsOf(resourceOf(openDns, 'RegisterRole')));
    const creator = bySid(statementsOf(resourceOf(openDns, 'CreateServiceRole')));

    expect(statements.CreateManagedServicesInTheNamespace).toBeUndefined();
    expect(creator.ReadNamespace?.Resource).toEqual([{ 'Fn::GetAtt': ['CloudMapNamespace', 'Arn'] }]);
    expect(creator.CreateManagedServicesInTheNamespace?.Resource).toEqual([
      { 'Fn::GetAtt': ['CloudMapNamespace', 'Arn'] },
      sub('arn:${AWS::Partition}:servicediscovery:${AWS::Region}:${AWS::AccountId}:service/*'),
    ]);
    expect(statements.ReadNamespace?.Resource).toEqual([{ 'Fn::GetAtt': ['CloudMapNamespace', 'Arn'] }]);
    expect(statements.FindNamespaceByName).toBeUndefined();
    expect(statements.WriteRecordsOfTheNamespace).toMatchObject({
      Resource: [
        {
          'Fn::Sub': [
            'arn:${AWS::Partition}:route53:::hostedzone/${Zone}',
            { Zone: { 'Fn::GetAtt': ['CloudMapNamespace', 'HostedZoneId'] } },
          ],
        },
      ],
      Condition: {
        'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.corp.internal'] },
      },
    });
  });
});

describe('watched clusters', () => {
  const clusterArns = [sub('arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/prod-a'), CLUSTER_B];

  it.each(['running', 'leaving'] as const)('filter the %s rule on their ARNs', (kind) => {
    expect((patternOf(openDns, kind) as { detail: { clusterArn: unknown } }).detail.clusterArn).toEqual(clusterArns);
  });

  it('scope the ECS reads to their tasks, services and container instances, with the ecs:cluster condition', () => {
    const statements = bySid(statementsOf(resourceOf(openDns, 'RegisterRole')));
    const prefix = 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}';

    expect(statements.DescribeTasksOfWatchedClusters).toMatchObject({
      Resource: [sub(`${prefix}:task/prod-a/*`), sub(`${prefix}:task/prod-b/*`)],
      Condition: { ArnEquals: { 'ecs:cluster': clusterArns } },
    });
    expect(statements.ReadServiceTagsOfWatchedClusters).toMatchObject({
      Resource: [sub(`${prefix}:service/prod-a/*`), sub(`${prefix}:service/prod-b/*`)],
      Condition: { ArnEquals: { 'ecs:cluster': clusterArns } },
    });
    expect(statements.DescribeContainerInstancesOfWatchedClusters).toMatchObject({
      Resource: [sub(`${prefix}:container-instance/prod-a/*`), sub(`${prefix}:container-instance/prod-b/*`)],
      Condition: { ArnEquals: { 'ecs:cluster': clusterArns } },
    });
  });

  it('let the scheduled functions list only their tasks (no ListClusters) and read and write as the register function', () => {
    const prefix = 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}';
    const serviceArns = sub('arn:${AWS::Partition}:servicediscovery:${AWS::Region}:${AWS::AccountId}:service/*');
    const clusterCondition = { ArnEquals: { 'ecs:cluster': clusterArns } };
    const expected = (fn: string) => ({
      WriteOwnLogs: {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [
          sub(
            `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/ecs-cloudmap-registrar-prod-${fn}:*`,
          ),
        ],
      },
      ReadAndWriteTaskVersions: {
        Sid: 'ReadAndWriteTaskVersions',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: [{ 'Fn::GetAtt': ['TaskTable', 'Arn'] }],
      },
      ListTasksOfWatchedClusters: {
        Sid: 'ListTasksOfWatchedClusters',
        Effect: 'Allow',
        Action: ['ecs:ListTasks'],
        Resource: '*',
        Condition: clusterCondition,
      },
      DescribeTasksOfWatchedClusters: {
        Sid: 'DescribeTasksOfWatchedClusters',
        Effect: 'Allow',
        Action: ['ecs:DescribeTasks'],
        Resource: [sub(`${prefix}:task/prod-a/*`), sub(`${prefix}:task/prod-b/*`)],
        Condition: clusterCondition,
      },
      ReadServiceTagsOfWatchedClusters: {
        Sid: 'ReadServiceTagsOfWatchedClusters',
        Effect: 'Allow',
        Action: ['ecs:DescribeServices'],
        Resource: [sub(`${prefix}:service/prod-a/*`), sub(`${prefix}:service/prod-b/*`)],
        Condition: clusterCondition,
      },
      ReadTaskDefinitions: {
        Sid: 'ReadTaskDefinitions',
        Effect: 'Allow',
        Action: ['ecs:DescribeTaskDefinition'],
        Resource: '*',
      },
      DescribeContainerInstancesOfWatchedClusters: {
        Sid: 'DescribeContainerInstancesOfWatchedClusters',
        Effect: 'Allow',
        Action: ['ecs:DescribeContainerInstances'],
        Resource: [sub(`${prefix}:container-instance/prod-a/*`), sub(`${prefix}:container-instance/prod-b/*`)],
        Condition: clusterCondition,
      },
      ReadContainerInstanceAddresses: {
        Sid: 'ReadContainerInstanceAddresses',
        Effect: 'Allow',
        Action: ['ec2:DescribeInstances'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } },
      },
      ReadNamespace: {
        Sid: 'ReadNamespace',
        Effect: 'Allow',
        Action: ['servicediscovery:GetNamespace'],
        Resource: [{ 'Fn::GetAtt': ['CloudMapNamespace', 'Arn'] }],
      },
      FindServicesAndFollowOperations: {
        Sid: 'FindServicesAndFollowOperations',
        Effect: 'Allow',
        Action: ['servicediscovery:ListServices', 'servicediscovery:GetOperation'],
        Resource: '*',
      },
      InvokeServiceCreator: {
        Sid: 'InvokeServiceCreator',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: [{ 'Fn::GetAtt': ['CreateServiceLambdaFunction', 'Arn'] }],
      },
      ReadInstances: {
        Sid: 'ReadInstances',
        Effect: 'Allow',
        Action: [
          'servicediscovery:ListInstances',
          'servicediscovery:GetInstance',
          'servicediscovery:GetInstancesHealthStatus',
        ],
        Resource: [serviceArns],
      },
      ReadServiceOwnership: {
        Sid: 'ReadServiceOwnership',
        Effect: 'Allow',
        Action: ['servicediscovery:ListTagsForResource'],
        Resource: [serviceArns],
      },
      NeverCreateOrChangeServices: {
        Sid: 'NeverCreateOrChangeServices',
        Effect: 'Deny',
        Action: [
          'servicediscovery:CreateService',
          'servicediscovery:TagResource',
          'servicediscovery:UntagResource',
          'servicediscovery:UpdateService',
          'servicediscovery:DeleteService',
        ],
        Resource: [sub('arn:${AWS::Partition}:servicediscovery:*:*:*')],
      },
      WriteInstancesOfManagedServices: {
        Sid: 'WriteInstancesOfManagedServices',
        Effect: 'Allow',
        Action: [
          'servicediscovery:RegisterInstance',
          'servicediscovery:DeregisterInstance',
          'servicediscovery:UpdateInstanceCustomHealthStatus',
        ],
        Resource: [serviceArns],
        Condition: { StringEquals: { 'aws:ResourceTag/managed-by': 'ecs-cloudmap-registrar' } },
      },
      WriteRecordsOfTheNamespace: {
        Sid: 'WriteRecordsOfTheNamespace',
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: [
          {
            'Fn::Sub': [
              'arn:${AWS::Partition}:route53:::hostedzone/${Zone}',
              { Zone: { 'Fn::GetAtt': ['CloudMapNamespace', 'HostedZoneId'] } },
            ],
          },
        ],
        Condition: {
          'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'SRV'] },
          'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.corp.internal'] },
        },
      },
    });

    expect(bySid(statementsOf(resourceOf(openDns, 'ReconcileRole')))).toEqual(expected('reconcile'));
    expect(bySid(statementsOf(resourceOf(openDns, 'HealthSweepRole')))).toEqual(expected('healthSweep'));
  });

  it('are passed to the scheduled functions as given (names or ARNs)', () => {
    for (const fn of ['ReconcileLambdaFunction', 'HealthSweepLambdaFunction']) {
      expect(resourceOf(openDns, fn).Properties).toMatchObject({
        Environment: { Variables: { WATCHED_CLUSTERS: `prod-a,${CLUSTER_B}` } },
      });
    }
  });
});

describe('an existing HTTP namespace given by id', () => {
  it.each(['RegisterRole', 'DeregisterRole', 'ReconcileRole', 'HealthSweepRole'])(
    '%s needs no Route 53 permission and reads the namespace by its ARN',
    (role) => {
      const statements = bySid(statementsOf(resourceOf(iamHttp, role)));

      expect(statements.WriteRecordsOfTheNamespace).toBeUndefined();
      expect(statements.FindNamespaceByName).toBeUndefined();
      expect(statements.ReadNamespace?.Resource).toEqual([
        sub('arn:${AWS::Partition}:servicediscovery:${AWS::Region}:${AWS::AccountId}:namespace/ns-abcdefghij012345'),
      ]);
    },
  );

  it('limits discovery to the namespaces named in lookupNamespaces', () => {
    const statements = bySid(statementsOf(resourceOf(iamHttp, 'LookupRole')));

    expect(statements.DiscoverInstancesOfAllowedNamespaces?.Condition).toEqual({
      StringEquals: { 'servicediscovery:NamespaceName': ['corp.http'] },
    });
    // The function refuses any other namespace before calling Cloud Map (LOOKUP_NAMESPACES).
    const lookup = resourceOf(iamHttp, 'LookupLambdaFunction').Properties as {
      Environment: { Variables: Record<string, unknown> };
    };
    expect(lookup.Environment.Variables.LOOKUP_NAMESPACES).toBe('corp.http');
  });
});

describe('other parameters', () => {
  /** The event source mapping of the queue of this kind (one per queue). */
  const mappingOf = (template: CfnTemplate, kind: 'running' | 'leaving') => {
    const arn = JSON.stringify({ 'Fn::GetAtt': [TASK_EVENT_PATH[kind].queue, 'Arn'] });
    const found = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).filter(
      (m) => JSON.stringify(m.Properties.EventSourceArn) === arn,
    );
    if (found.length !== 1) throw new Error(`expected one event source on the ${kind} queue, found ${found.length}`);
    return (found[0] as { Properties: Record<string, unknown> }).Properties;
  };

  it.each(['running', 'leaving'] as const)(
    'register/deregisterMaxConcurrency=none leaves the %s queue consumer unreserved and its event source uncapped',
    (kind) => {
      const mapping = mappingOf(openDns, kind);

      expect(resourceOf(openDns, TASK_EVENT_PATH[kind].fn).Properties.ReservedConcurrentExecutions).toBeUndefined();
      expect(mapping).toMatchObject({ BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
      expect(mapping.ScalingConfig).toBeUndefined();
    },
  );

  // An SQS event source's maximum concurrency goes from 2 to 1000:
  // https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html
  it.each([
    ['running', 2],
    ['leaving', 1000],
  ] as const)(
    'the %s queue consumer takes its MaxConcurrency as reservation and event source cap (%d)',
    (kind, max) => {
      expect(resourceOf(iamHttp, TASK_EVENT_PATH[kind].fn).Properties.ReservedConcurrentExecutions).toBe(max);
      expect(mappingOf(iamHttp, kind).ScalingConfig).toEqual({ MaximumConcurrency: max });
    },
  );

  it('reconcileMaxConcurrency=none leaves the reconcile function without reserved concurrency (small accounts)', () => {
    expect(resourceOf(openDns, 'ReconcileLambdaFunction').Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(resourceOf(iamHttp, 'ReconcileLambdaFunction').Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('reconcileRate also bounds how long a throttled reconcile run may wait (one interval)', () => {
    expect(resourceOf(openDns, 'ReconcileLambdaEvConf').Properties.MaximumEventAgeInSeconds).toBe(3600);
  });

  it('alarmTopicArn sends every alarm and its recovery to the topic', () => {
    const alarms = Object.values(resourcesOfType(openDns, 'AWS::CloudWatch::Alarm'));

    expect(alarms).toHaveLength(15);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([TOPIC]);
      expect(alarm.Properties.OKActions).toEqual([TOPIC]);
    }
  });
});

describe('tuning parameters', () => {
  const variables = (id: string) =>
    (resourceOf(openDns, id).Properties as { Environment: { Variables: Record<string, unknown> } }).Environment
      .Variables;

  it('reconcileRate sets the reconcile schedule', () => {
    expect(scheduleOf(openDns, 'ReconcileLambdaFunction')).toMatchObject({ ScheduleExpression: 'rate(1 hour)' });
    expect(scheduleOf(openDns, 'HealthSweepLambdaFunction')).toMatchObject({ ScheduleExpression: 'rate(1 minute)' });
  });

  it('reconcileMaxDeletes and healthSweepIntervalMs reach both scheduled functions', () => {
    for (const fn of ['ReconcileLambdaFunction', 'HealthSweepLambdaFunction']) {
      expect(variables(fn)).toMatchObject({ RECONCILE_MAX_DELETES: '10', HEALTH_SWEEP_INTERVAL_MS: '15000' });
    }
  });

  it.each([
    'RegisterLambdaFunction',
    'DeregisterLambdaFunction',
    'ReconcileLambdaFunction',
    'HealthSweepLambdaFunction',
  ])('healthWaitMs (up to an hour) and healthPollMs reach %s', (fn) => {
    expect(variables(fn)).toMatchObject({ HEALTH_WAIT_MS: '3600000', HEALTH_POLL_MS: '15000' });
  });

  it('a health wait of an hour leaves the consumers timeout at 60 s and their queues visibility at 360 s (no function waits)', () => {
    for (const kind of ['running', 'leaving'] as const) {
      expect(resourceOf(openDns, TASK_EVENT_PATH[kind].fn).Properties.Timeout).toBe(60);
      expect(resourceOf(openDns, TASK_EVENT_PATH[kind].queue).Properties.VisibilityTimeout).toBe(360);
    }
  });

  it('the cache parameters reach the lookup function', () => {
    expect(variables('LookupLambdaFunction')).toMatchObject({
      CACHE_MAX_ENTRIES: '5000',
      HEALTH_MAX_AGE_MS: '2000',
      CACHE_CONTROL_MAX_AGE: '0',
      STALE_IF_ERROR_MS: '60000',
    });
  });
});
