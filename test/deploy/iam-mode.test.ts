// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates

import {
  type CfnTemplate,
  onlyResourceOfType,
  packageService,
  resourcesOfType,
  scheduleOf,
  taskStateRule,
} from '../../support/package-service';
import {
  actionsOf,
  arn,
  bySid,
  environmentOf,
  resourceOf,
  resourcesOf,
  STAR_RESOURCE_ALLOWED,
  type Statement,
  statementsOf,
  sub,
  writeRecordsInAnyZone,
} from './iam-policy';

/** The default deployment: HTTP API with IAM, existing DNS namespace by name, every cluster. */
let template: CfnTemplate;
let zipBytes: Record<string, number>;
let bundles: Record<string, string>;

beforeAll(async () => {
  ({ template, zipBytes, bundles } = await packageService());
}, 180_000);

const resource = (id: string) => resourceOf(template, id);
const environment = (fn: string) => environmentOf(template, fn);
/** The register function's configuration, which the scheduled functions share (they register through it). */
const REGISTRAR_ENVIRONMENT = {
  NAMESPACE: 'kudos.local',
  DNS_RECORDS: 'A',
  DNS_TTL: '10',
  DEFAULT_PORT: '80',
  OWNER_ID: 'ecs-cloudmap-registrar',
  TASK_TABLE: 'ecs-cloudmap-registrar-prod-tasks',
  OPERATION_TIMEOUT_MS: '30000',
  HEALTH_WAIT_MS: '12000',
  HEALTH_POLL_MS: '2000',
  CLUSTER_NAMESPACES: '',
  SERVICE_CREATOR_FUNCTION: 'ecs-cloudmap-registrar-prod-createService',
};
/** What no writer may ever do to a Cloud Map service, whatever else is attached to its role. */
const NEVER_CREATE_OR_CHANGE_SERVICES: Statement = {
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
};
/** The scheduled functions, by the logical id prefix osls gives them. */
const SCHEDULED = [
  ['Reconcile', 'reconcile'],
  ['HealthSweep', 'healthSweep'],
] as const;

describe('default deployment (lookupMode=iam)', () => {
  describe('the EventBridge rule', () => {
    it('matches only ECS task state changes the register function acts on, from every cluster', () => {
      const [, rule] = taskStateRule(template);

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
      const [, rule] = taskStateRule(template);
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

    // EventBridge sends to a rule's DLQ with the rule as aws:SourceArn; a negated condition is true when its key is
    // absent, so the Deny also refuses a direct SendMessage (no aws:SourceArn):
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/resource-based-policies-eventbridge.html
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    it('lets only the task-state rule send to the rule DLQ, and denies everyone else', () => {
      const policy = resource('RuleDlqPolicy');
      const ruleArn = sub(
        'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/ecs-cloudmap-registrar-prod-task-state',
      );

      expect(policy.Type).toBe('AWS::SQS::QueuePolicy');
      expect(policy.Properties.Queues).toEqual([{ Ref: 'RuleDlq' }]);
      expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Sid: 'OnlyTheTaskStateRuleMaySend',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['RuleDlq', 'Arn'] },
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
        },
        {
          Sid: 'NobodyElseMaySend',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['RuleDlq', 'Arn'] },
          Condition: { ArnNotEquals: { 'aws:SourceArn': ruleArn } },
        },
      ]);
    });

    // Lambda writes an on-failure record with the function's execution role:
    // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    it("lets only the register function's role send to the register DLQ, and denies everyone else", () => {
      const policy = resource('RegisterDlqPolicy');
      const role = { 'Fn::GetAtt': ['RegisterRole', 'Arn'] };

      expect(policy.Type).toBe('AWS::SQS::QueuePolicy');
      expect(policy.Properties.Queues).toEqual([{ Ref: 'RegisterDlq' }]);
      expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Sid: 'OnlyTheRegisterFunctionMaySend',
          Effect: 'Allow',
          Principal: { AWS: role },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['RegisterDlq', 'Arn'] },
        },
        {
          Sid: 'NobodyElseMaySend',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['RegisterDlq', 'Arn'] },
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': role } },
        },
      ]);
    });

    it('have no queue policy besides these two', () => {
      expect(Object.keys(resourcesOfType(template, 'AWS::SQS::QueuePolicy')).sort()).toEqual([
        'RegisterDlqPolicy',
        'RuleDlqPolicy',
      ]);
    });

    it('sends what the register function still fails on to the register DLQ, after 2 retries and up to 6 hours', () => {
      const config = resource('RegisterLambdaEvConf');

      expect(config.Type).toBe('AWS::Lambda::EventInvokeConfig');
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

    it('give the register function time for the health wait plus a Cloud Map operation (12 + 30 s, at least 60 s)', () => {
      expect(resource('RegisterLambdaFunction').Properties.Timeout).toBe(60);
    });

    it('give the lookup function its cache settings (the defaults of loadLookupConfig)', () => {
      expect(environment('LookupLambdaFunction')).toEqual({
        NAMESPACE: 'kudos.local',
        POWERTOOLS_SERVICE_NAME: 'ecs-cloudmap-registrar',
        POWERTOOLS_METRICS_NAMESPACE: 'EcsCloudMapRegistrar',
        CACHE_INTERVAL_MS: '1000',
        CACHE_MAX_ENTRIES: '1000',
        CACHE_MAX_MB: '48',
        HEALTH_MAX_AGE_MS: '5000',
        CACHE_CONTROL_MAX_AGE: '1',
        STALE_IF_ERROR_MS: '30000',
        LOOKUP_NAMESPACES: 'kudos.local',
      });
    });

    it('give the register function its ordering, Cloud Map and health-wait settings', () => {
      expect(environment('RegisterLambdaFunction')).toEqual({
        POWERTOOLS_SERVICE_NAME: 'ecs-cloudmap-registrar',
        POWERTOOLS_METRICS_NAMESPACE: 'EcsCloudMapRegistrar',
        ...REGISTRAR_ENVIRONMENT,
      });
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

    it.each(['register', 'reconcile', 'healthSweep'])(
      '%s loads the EC2 client, left out of its bundle, with require() when a bridge or host task needs it',
      (fn) => {
        const bundle = bundles[fn] ?? '';

        expect(bundle).toMatch(/Promise\.resolve\(\)\.then\(\(\)=>\w+\(require\("@aws-sdk\/client-ec2"\)\)\)/);
        expect(bundle).not.toContain('import("@aws-sdk/client-ec2")');
      },
    );

    it.each(['register', 'reconcile', 'healthSweep'])(
      '%s loads the Lambda client, left out of its bundle, with require() only to have a service created',
      (fn) => {
        const bundle = bundles[fn] ?? '';

        expect(bundle).toMatch(/Promise\.resolve\(\)\.then\(\(\)=>\w+\(require\("@aws-sdk\/client-lambda"\)\)\)/);
        expect(bundle).not.toContain('import("@aws-sdk/client-lambda")');
      },
    );

    it('package one zip per function, each size recorded (no budget for the scheduled functions)', () => {
      expect(Object.keys(zipBytes).sort()).toEqual(['createService', 'healthSweep', 'lookup', 'reconcile', 'register']);
      for (const size of Object.values(zipBytes)) expect(size).toBeGreaterThan(0);
      console.info(`function zips (bytes): ${JSON.stringify(zipBytes)}`);
    });
  });

  describe('the service creator function', () => {
    it('runs Node.js 22 on arm64 with its own role, invoked by nothing but the writers (no event source)', () => {
      expect(resource('CreateServiceLambdaFunction').Properties).toMatchObject({
        FunctionName: 'ecs-cloudmap-registrar-prod-createService',
        Handler: 'functions/create-service.handler',
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': ['CreateServiceRole', 'Arn'] },
      });
      const invokers = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter((p) =>
        JSON.stringify(p.Properties.FunctionName).includes('CreateServiceLambdaFunction'),
      );
      expect(invokers).toEqual([]);
    });

    it('knows the namespaces it may create in and the managed-by value, nothing else', () => {
      expect(environment('CreateServiceLambdaFunction')).toEqual({
        NAMESPACE: 'kudos.local',
        POWERTOOLS_SERVICE_NAME: 'ecs-cloudmap-registrar',
        POWERTOOLS_METRICS_NAMESPACE: 'EcsCloudMapRegistrar',
        OWNER_ID: 'ecs-cloudmap-registrar',
        CLUSTER_NAMESPACES: '',
      });
    });

    it('has the only role that may create and tag services: with the managed-by request tag, never untag', () => {
      const managedRequestTag = {
        StringEquals: { 'aws:RequestTag/managed-by': 'ecs-cloudmap-registrar' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by'] },
      };

      expect(bySid(statementsOf(resource('CreateServiceRole')))).toEqual({
        WriteOwnLogs: {
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [arn('logs', 'log-group:/aws/lambda/ecs-cloudmap-registrar-prod-createService:*')],
        },
        FindNamespaceByName: {
          Sid: 'FindNamespaceByName',
          Effect: 'Allow',
          Action: ['servicediscovery:ListNamespaces'],
          Resource: '*',
        },
        FindServices: {
          Sid: 'FindServices',
          Effect: 'Allow',
          Action: ['servicediscovery:ListServices'],
          Resource: '*',
        },
        ReadServiceOwnership: {
          Sid: 'ReadServiceOwnership',
          Effect: 'Allow',
          Action: ['servicediscovery:ListTagsForResource'],
          Resource: [arn('servicediscovery', 'service/*')],
        },
        CreateManagedServicesInTheNamespace: {
          Sid: 'CreateManagedServicesInTheNamespace',
          Effect: 'Allow',
          Action: ['servicediscovery:CreateService'],
          Resource: [arn('servicediscovery', 'namespace/*'), arn('servicediscovery', 'service/*')],
          Condition: managedRequestTag,
        },
        TagManagedServicesOnCreate: {
          Sid: 'TagManagedServicesOnCreate',
          Effect: 'Allow',
          Action: ['servicediscovery:TagResource'],
          Resource: [arn('servicediscovery', 'service/*')],
          Condition: managedRequestTag,
        },
        NeverChangeServices: {
          Sid: 'NeverChangeServices',
          Effect: 'Deny',
          Action: [
            'servicediscovery:UntagResource',
            'servicediscovery:UpdateService',
            'servicediscovery:DeleteService',
          ],
          Resource: [sub('arn:${AWS::Partition}:servicediscovery:*:*:*')],
        },
      });
    });
  });

  describe('scheduled functions', () => {
    it.each(SCHEDULED)('%s runs Node.js 22 on arm64 with its own role', (id) => {
      expect(resource(`${id}LambdaFunction`).Properties).toMatchObject({
        Handler: `functions/${id === 'Reconcile' ? 'reconcile' : 'health-sweep'}.handler`,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': [`${id}Role`, 'Arn'] },
      });
    });

    it('reconcile runs are exclusive: one reserved execution (the health sweep has no reservation)', () => {
      expect(resource('ReconcileLambdaFunction').Properties.ReservedConcurrentExecutions).toBe(1);
      expect(resource('HealthSweepLambdaFunction').Properties.ReservedConcurrentExecutions).toBeUndefined();
    });

    it('reconcile runs every 5 minutes with 600 s to finish', () => {
      expect(scheduleOf(template, 'ReconcileLambdaFunction')).toEqual({
        Name: 'ecs-cloudmap-registrar-prod-reconcile',
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
      });
      expect(resource('ReconcileLambdaFunction').Properties.Timeout).toBe(600);
    });

    it('the health sweep runs every minute with 75 s to finish (it loops for 60 s)', () => {
      expect(scheduleOf(template, 'HealthSweepLambdaFunction')).toEqual({
        Name: 'ecs-cloudmap-registrar-prod-health-sweep',
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
      });
      expect(resource('HealthSweepLambdaFunction').Properties.Timeout).toBe(75);
    });

    it.each(SCHEDULED)('%s may be invoked by its own schedule rule only', (id) => {
      const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter(
        (p) =>
          JSON.stringify(p.Properties.FunctionName) ===
          JSON.stringify({ 'Fn::GetAtt': [`${id}LambdaFunction`, 'Arn'] }),
      );

      expect(permissions.map((p) => p.Properties)).toEqual([
        {
          FunctionName: { 'Fn::GetAtt': [`${id}LambdaFunction`, 'Arn'] },
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [`${id}EventsRuleSchedule1`, 'Arn'] },
        },
      ]);
    });

    it('the health sweep is not retried by Lambda (the next scheduled run is the retry)', () => {
      expect(resource('HealthSweepLambdaEvConf').Properties).toEqual({
        FunctionName: { Ref: 'HealthSweepLambdaFunction' },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
        DestinationConfig: {},
      });
    });

    // A throttled asynchronous invocation waits in Lambda's queue until its maximum event age:
    // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    it('reconcile is not retried, and a run still throttled by the previous one after one interval is dropped', () => {
      expect(resource('ReconcileLambdaEvConf').Properties).toEqual({
        FunctionName: { Ref: 'ReconcileLambdaFunction' },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 300,
        DestinationConfig: {},
      });
    });

    it.each(SCHEDULED)("%s gets the register function's configuration plus the reconcile and sweep settings", (id) => {
      expect(environment(`${id}LambdaFunction`)).toEqual({
        POWERTOOLS_SERVICE_NAME: 'ecs-cloudmap-registrar',
        POWERTOOLS_METRICS_NAMESPACE: 'EcsCloudMapRegistrar',
        ...REGISTRAR_ENVIRONMENT,
        WATCHED_CLUSTERS: '',
        RECONCILE_MAX_DELETES: '50',
        HEALTH_SWEEP_INTERVAL_MS: '20000',
      });
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
        'GET /console',
        'GET /console/{file}',
        'GET /namespaces',
        'GET /namespaces/{namespace}/services',
        'GET /namespaces/{namespace}/services/{service}',
        'GET /prometheus/targets',
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
        DescribeContainerInstancesOfWatchedClusters: {
          Sid: 'DescribeContainerInstancesOfWatchedClusters',
          Effect: 'Allow',
          Action: ['ecs:DescribeContainerInstances'],
          Resource: [arn('ecs', 'container-instance/*')],
        },
        ReadContainerInstanceAddresses: {
          Sid: 'ReadContainerInstanceAddresses',
          Effect: 'Allow',
          Action: ['ec2:DescribeInstances'],
          Resource: '*',
          Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } },
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
        InvokeServiceCreator: {
          Sid: 'InvokeServiceCreator',
          Effect: 'Allow',
          Action: ['lambda:InvokeFunction'],
          Resource: [{ 'Fn::GetAtt': ['CreateServiceLambdaFunction', 'Arn'] }],
        },
        ReadInstances: {
          Sid: 'ReadInstances',
          Effect: 'Allow',
          Action: ['servicediscovery:ListInstances', 'servicediscovery:GetInstance'],
          Resource: [arn('servicediscovery', 'service/*')],
        },
        ReadServiceOwnership: {
          Sid: 'ReadServiceOwnership',
          Effect: 'Allow',
          Action: ['servicediscovery:ListTagsForResource'],
          Resource: [arn('servicediscovery', 'service/*')],
        },
        WriteInstancesOfManagedServices: {
          Sid: 'WriteInstancesOfManagedServices',
          Effect: 'Allow',
          Action: ['servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance'],
          Resource: [arn('servicediscovery', 'service/*')],
          Condition: { StringEquals: { 'aws:ResourceTag/managed-by': 'ecs-cloudmap-registrar' } },
        },
        NeverCreateOrChangeServices: NEVER_CREATE_OR_CHANGE_SERVICES,
        WriteRecordsOfTheNamespace: writeRecordsInAnyZone(['*.kudos.local']),
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

    it.each(SCHEDULED)(
      'gives %s exactly the calls of reconcile, the health sweep and the registrar: every cluster listed',
      (id, fn) => {
        expect(statements(`${id}Role`)).toEqual(scheduledStatements(fn));
      },
    );

    it('never allows a wildcard action, and puts Resource "*" only on the listed statements', () => {
      const all: Statement[] = ROLES.flatMap((role) => statementsOf(resource(role)));

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
      for (const id of ROLES) {
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
        'CreateServiceLambdaFunction Errors',
        'HealthSweepLambdaFunction Errors',
        'LookupLambdaFunction Errors',
        'LookupLambdaFunction Throttles',
        'ReconcileLambdaFunction Errors',
        'RegisterLambdaFunction AsyncEventAge',
        'RegisterLambdaFunction Errors',
        'RegisterLambdaFunction Throttles',
      ]);
    });

    it('fire on any failed reconcile run, and on 3 failed health sweeps in 5 minutes', () => {
      expect(alarm('reconcile-errors')).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(alarm('health-sweep-errors')).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it.each([
      ['reconcile-items-failed', 'ReconcileItemsFailed', 1],
      ['health-sweep-items-failed', 'HealthSweepItemsFailed', 3],
    ])('%s watches the %s count the function emits (EMF), at %d in 5 minutes', (name, metric, threshold) => {
      expect(alarm(name)).toMatchObject({
        Namespace: 'EcsCloudMapRegistrar',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'ecs-cloudmap-registrar' }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
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

    it('come with a dashboard that also shows the failed items of reconcile and the health sweep', () => {
      const [, dashboard] = onlyResourceOfType(template, 'AWS::CloudWatch::Dashboard');
      const [body] = (dashboard.Properties.DashboardBody as { 'Fn::Sub': [string, unknown] })['Fn::Sub'];
      const metrics = (JSON.parse(body) as { widgets: { properties: { metrics: string[][] } }[] }).widgets.flatMap(
        (w) => w.properties.metrics.map((m) => m[1]),
      );

      expect(dashboard.Properties.DashboardName).toBe('ecs-cloudmap-registrar-prod');
      expect(metrics).toEqual(expect.arrayContaining(['ReconcileItemsFailed', 'HealthSweepItemsFailed']));
    });
  });
});

const ROLES = ['RegisterRole', 'LookupRole', 'ReconcileRole', 'HealthSweepRole', 'CreateServiceRole'];

/**
 * What a scheduled function may do with the default parameters: list every cluster and its running tasks,
 * read them as the register function does, register and deregister in managed services, follow and set
 * their custom health, and order its writes through the task table.
 */
function scheduledStatements(fn: string): Record<string, Statement> {
  return {
    WriteOwnLogs: {
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [arn('logs', `log-group:/aws/lambda/ecs-cloudmap-registrar-prod-${fn}:*`)],
    },
    ReadAndWriteTaskVersions: {
      Sid: 'ReadAndWriteTaskVersions',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      Resource: [{ 'Fn::GetAtt': ['TaskTable', 'Arn'] }],
    },
    ListClusters: { Sid: 'ListClusters', Effect: 'Allow', Action: ['ecs:ListClusters'], Resource: '*' },
    ListTasksOfWatchedClusters: {
      Sid: 'ListTasksOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:ListTasks'],
      Resource: '*',
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
    DescribeContainerInstancesOfWatchedClusters: {
      Sid: 'DescribeContainerInstancesOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeContainerInstances'],
      Resource: [arn('ecs', 'container-instance/*')],
    },
    ReadContainerInstanceAddresses: {
      Sid: 'ReadContainerInstanceAddresses',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } },
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
      Resource: [arn('servicediscovery', 'service/*')],
    },
    ReadServiceOwnership: {
      Sid: 'ReadServiceOwnership',
      Effect: 'Allow',
      Action: ['servicediscovery:ListTagsForResource'],
      Resource: [arn('servicediscovery', 'service/*')],
    },
    WriteInstancesOfManagedServices: {
      Sid: 'WriteInstancesOfManagedServices',
      Effect: 'Allow',
      Action: [
        'servicediscovery:RegisterInstance',
        'servicediscovery:DeregisterInstance',
        'servicediscovery:UpdateInstanceCustomHealthStatus',
      ],
      Resource: [arn('servicediscovery', 'service/*')],
      Condition: { StringEquals: { 'aws:ResourceTag/managed-by': 'ecs-cloudmap-registrar' } },
    },
    NeverCreateOrChangeServices: NEVER_CREATE_OR_CHANGE_SERVICES,
    WriteRecordsOfTheNamespace: writeRecordsInAnyZone(['*.kudos.local']),
  };
}
