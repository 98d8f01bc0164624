// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates
import { actionsOf, bySid, resourcesOf, STAR_RESOURCE_ALLOWED, type Statement, statementsOf } from './iam-policy';
import { type CfnTemplate, onlyResourceOfType, packageService, resourcesOfType } from './package-service';

/** The default deployment: HTTP API with IAM, existing DNS namespace by name, every cluster. */
let template: CfnTemplate;
let zipBytes: Record<string, number>;

beforeAll(async () => {
  ({ template, zipBytes } = await packageService());
}, 180_000);

const sub = (text: string) => ({ 'Fn::Sub': text });
const resource = (id: string) => {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
};

describe('default deployment (lookupMode=iam)', () => {
  describe('the EventBridge rule', () => {
    it('matches only ECS task state changes the register function acts on, from every cluster', () => {
      const [, rule] = onlyResourceOfType(template, 'AWS::Events::Rule');

      expect(rule.Properties.EventPattern).toEqual({
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: {
          $or: [
            { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] },
            { lastStatus: ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] },
            { desiredStatus: ['STOPPED'] },
          ],
        },
      });
      expect(rule.Properties.Name).toBe('ecs-cloudmap-registrar-prod-task-state');
    });

    it('targets the register function with a retry policy and the rule DLQ', () => {
      const [, rule] = onlyResourceOfType(template, 'AWS::Events::Rule');
      const [target] = rule.Properties.Targets as Record<string, unknown>[];

      expect(target).toMatchObject({
        Arn: { 'Fn::GetAtt': ['RegisterLambdaFunction', 'Arn'] },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['RuleDlq', 'Arn'] } },
      });
    });
  });

  describe('dead-letter queues', () => {
    it.each(['RuleDlq', 'RegisterDlq'])('%s keeps messages 14 days and is encrypted with SSE-SQS', (id) => {
      expect(resource(id)).toMatchObject({
        Type: 'AWS::SQS::Queue',
        Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
      });
      expect(resource(id).Properties.KmsMasterKeyId).toBeUndefined();
    });

    it('lets only the task-state rule send to the rule DLQ', () => {
      const [, policy] = onlyResourceOfType(template, 'AWS::SQS::QueuePolicy');

      expect(policy.Properties.Queues).toEqual([{ Ref: 'RuleDlq' }]);
      expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Sid: 'OnlyTheTaskStateRuleMaySend',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['RuleDlq', 'Arn'] },
          Condition: {
            ArnEquals: {
              'aws:SourceArn': sub(
                'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/ecs-cloudmap-registrar-prod-task-state',
              ),
            },
          },
        },
      ]);
    });

    it('sends what the register function still fails on to the register DLQ, after 2 retries and up to 6 hours', () => {
      const [, config] = onlyResourceOfType(template, 'AWS::Lambda::EventInvokeConfig');

      expect(config.Properties).toEqual({
        FunctionName: { Ref: 'RegisterLambdaFunction' },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 21_600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['RegisterDlq', 'Arn'] } } },
      });
    });
  });

  describe('functions', () => {
    it('run Node.js 22 on arm64 with their own roles, and the register function is capped at 5', () => {
      const register = resource('RegisterLambdaFunction').Properties;
      const lookup = resource('LookupLambdaFunction').Properties;

      expect(register).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': ['RegisterRole', 'Arn'] },
        ReservedConcurrentExecutions: 5,
      });
      expect(lookup).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': ['LookupRole', 'Arn'] },
      });
      expect(lookup.ReservedConcurrentExecutions).toBeUndefined();
      expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    });

    it('receive their configuration from the parameters', () => {
      const register = resource('RegisterLambdaFunction').Properties as { Environment: { Variables: unknown } };
      const lookup = resource('LookupLambdaFunction').Properties as { Environment: { Variables: unknown } };

      expect(register.Environment.Variables).toMatchObject({
        NAMESPACE: 'kudos.local',
        DNS_RECORDS: 'A',
        DNS_TTL: '10',
        DEFAULT_PORT: '80',
        OWNER_ID: 'ecs-cloudmap-registrar',
        TASK_TABLE: 'ecs-cloudmap-registrar-prod-tasks',
      });
      expect(lookup.Environment.Variables).toMatchObject({ NAMESPACE: 'kudos.local', CACHE_INTERVAL_MS: '1000' });
    });

    it('keep their logs 30 days', () => {
      for (const group of Object.values(resourcesOfType(template, 'AWS::Logs::LogGroup'))) {
        expect(group.Properties.RetentionInDays).toBe(30);
      }
    });

    it('stay within the bundle budgets (lookup 160 KB, register 230 KB zipped)', () => {
      expect(zipBytes.lookup).toBeLessThanOrEqual(160 * 1024);
      expect(zipBytes.register).toBeLessThanOrEqual(230 * 1024);
    });
  });

  describe('the task table', () => {
    it('is keyed on taskArn and expires items on expiresAt', () => {
      expect(resource('TaskTable').Properties).toMatchObject({
        TableName: 'ecs-cloudmap-registrar-prod-tasks',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'taskArn', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });
  });

  describe('the lookup API', () => {
    it('requires IAM (SigV4) on every route', () => {
      const routes = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route'));

      expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual([
        'GET /namespaces/{namespace}/services/{service}',
        'GET /resolve/{name}',
        'GET /services',
        'GET /services/{service}',
      ]);
      for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
    });

    it('throttles on the $default stage', () => {
      expect(resource('HttpApiStage').Properties).toMatchObject({
        StageName: '$default',
        DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      });
    });

    it('has no REST API', () => {
      expect(resourcesOfType(template, 'AWS::ApiGateway::RestApi')).toEqual({});
    });
  });

  describe('IAM', () => {
    const statements = (role: string) => bySid(statementsOf(resource(role)));
    const arn = (service: string, rest: string) =>
      sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`);

    it('gives the register function exactly these statements', () => {
      expect(statements('RegisterRole')).toEqual({
        WriteOwnLogs: {
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [arn('logs', 'log-group:/aws/lambda/ecs-cloudmap-registrar-prod-register:*')],
        },
        SendFailedEventsToDlq: {
          Sid: 'SendFailedEventsToDlq',
          Effect: 'Allow',
          Action: ['sqs:SendMessage'],
          Resource: [{ 'Fn::GetAtt': ['RegisterDlq', 'Arn'] }],
        },
        ReadAndWriteTaskVersions: {
          Sid: 'ReadAndWriteTaskVersions',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: [{ 'Fn::GetAtt': ['TaskTable', 'Arn'] }],
        },
        DescribeTasksOfWatchedClusters: {
          Sid: 'DescribeTasksOfWatchedClusters',
          Effect: 'Allow',
          Action: ['ecs:DescribeTasks'],
          Resource: [arn('ecs', 'task/*')],
        },
        ReadServiceTagsOfWatchedClusters: {
          Sid: 'ReadServiceTagsOfWatchedClusters',
          Effect: 'Allow',
          Action: ['ecs:DescribeServices'],
          Resource: [arn('ecs', 'service/*')],
        },
        ReadTaskDefinitions: {
          Sid: 'ReadTaskDefinitions',
          Effect: 'Allow',
          Action: ['ecs:DescribeTaskDefinition'],
          Resource: '*',
        },
        FindNamespaceByName: {
          Sid: 'FindNamespaceByName',
          Effect: 'Allow',
          Action: ['servicediscovery:ListNamespaces'],
          Resource: '*',
        },
        FindServicesAndFollowOperations: {
          Sid: 'FindServicesAndFollowOperations',
          Effect: 'Allow',
          Action: ['servicediscovery:ListServices', 'servicediscovery:GetOperation'],
          Resource: '*',
        },
        CreateManagedServicesInTheNamespace: {
          Sid: 'CreateManagedServicesInTheNamespace',
          Effect: 'Allow',
          Action: ['servicediscovery:CreateService'],
          Resource: [arn('servicediscovery', 'namespace/*'), arn('servicediscovery', 'service/*')],
          Condition: {
            StringEquals: { 'aws:RequestTag/managed-by': 'ecs-cloudmap-registrar' },
            'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by'] },
          },
        },
        TagManagedServicesOnCreate: {
          Sid: 'TagManagedServicesOnCreate',
          Effect: 'Allow',
          Action: ['servicediscovery:TagResource'],
          Resource: [arn('servicediscovery', 'service/*')],
          Condition: {
            StringEquals: { 'aws:RequestTag/managed-by': 'ecs-cloudmap-registrar' },
            'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by'] },
          },
        },
        ReadInstances: {
          Sid: 'ReadInstances',
          Effect: 'Allow',
          Action: ['servicediscovery:ListInstances', 'servicediscovery:GetInstance'],
          Resource: [arn('servicediscovery', 'service/*')],
        },
        WriteInstancesOfManagedServices: {
          Sid: 'WriteInstancesOfManagedServices',
          Effect: 'Allow',
          Action: ['servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance'],
          Resource: [arn('servicediscovery', 'service/*')],
          Condition: { StringEquals: { 'aws:ResourceTag/managed-by': 'ecs-cloudmap-registrar' } },
        },
        WriteRecordsOfTheNamespace: {
          Sid: 'WriteRecordsOfTheNamespace',
          Effect: 'Allow',
          Action: ['route53:ChangeResourceRecordSets'],
          Resource: [sub('arn:${AWS::Partition}:route53:::hostedzone/*')],
          Condition: {
            'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'SRV'] },
            'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.kudos.local'] },
          },
        },
      });
    });

    it('gives the lookup function reads only, discovery limited to the namespace', () => {
      expect(statements('LookupRole')).toEqual({
        WriteOwnLogs: {
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [arn('logs', 'log-group:/aws/lambda/ecs-cloudmap-registrar-prod-lookup:*')],
        },
        ListNamespacesAndServices: {
          Sid: 'ListNamespacesAndServices',
          Effect: 'Allow',
          Action: ['servicediscovery:ListNamespaces', 'servicediscovery:ListServices'],
          Resource: '*',
        },
        ReadNamespaces: {
          Sid: 'ReadNamespaces',
          Effect: 'Allow',
          Action: ['servicediscovery:GetNamespace'],
          Resource: [arn('servicediscovery', 'namespace/*')],
        },
        DiscoverInstancesOfAllowedNamespaces: {
          Sid: 'DiscoverInstancesOfAllowedNamespaces',
          Effect: 'Allow',
          Action: ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'],
          Resource: '*',
          Condition: { StringEquals: { 'servicediscovery:NamespaceName': ['kudos.local'] } },
        },
      });
    });

    it('never allows a wildcard action, and puts Resource "*" only on the listed statements', () => {
      const all: Statement[] = [...statementsOf(resource('RegisterRole')), ...statementsOf(resource('LookupRole'))];

      for (const statement of all) {
        for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
        if (resourcesOf(statement).includes('*')) {
          const allowed = STAR_RESOURCE_ALLOWED[statement.Sid ?? ''];
          expect(allowed).toBeDefined();
          expect(actionsOf(statement).sort()).toEqual([...(allowed?.actions ?? [])].sort());
        }
      }
    });

    it('lets only Lambda assume the roles', () => {
      for (const id of ['RegisterRole', 'LookupRole']) {
        expect(resource(id).Properties.AssumeRolePolicyDocument).toEqual({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        });
      }
    });
  });

  describe('alarms', () => {
    const alarms = () => Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const alarm = (name: string) => {
      const found = alarms().find((a) => a.AlarmName === `ecs-cloudmap-registrar-prod-${name}`);
      if (!found) throw new Error(`no alarm ${name}`);
      return found;
    };

    it('watch both DLQs for any message', () => {
      for (const [name, queue] of [
        ['rule-dlq-not-empty', 'RuleDlq'],
        ['register-dlq-not-empty', 'RegisterDlq'],
      ] as const) {
        expect(alarm(name)).toMatchObject({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
    });

    it('watch errors and throttles of both functions, and the register queue age', () => {
      const lambdaAlarms = alarms()
        .filter((a) => a.Namespace === 'AWS/Lambda')
        .map((a) => `${(a.Dimensions as { Value: { Ref: string } }[])[0]?.Value.Ref} ${a.MetricName}`)
        .sort();

      expect(lambdaAlarms).toEqual([
        'LookupLambdaFunction Errors',
        'LookupLambdaFunction Throttles',
        'RegisterLambdaFunction AsyncEventAge',
        'RegisterLambdaFunction Errors',
        'RegisterLambdaFunction Throttles',
      ]);
    });

    it('watch the registration lag metric the register function emits', () => {
      expect(alarm('registration-lag')).toMatchObject({
        Namespace: 'EcsCloudMapRegistrar',
        MetricName: 'RegistrationLag',
        Dimensions: [{ Name: 'service', Value: 'ecs-cloudmap-registrar' }],
        ExtendedStatistic: 'p90',
        Threshold: 60_000,
      });
    });

    it('notify nobody unless a topic is given', () => {
      for (const a of alarms()) expect(a.AlarmActions).toEqual([]);
    });

    it('come with a dashboard', () => {
      const [, dashboard] = onlyResourceOfType(template, 'AWS::CloudWatch::Dashboard');
      expect(dashboard.Properties.DashboardName).toBe('ecs-cloudmap-registrar-prod');
    });
  });
});
