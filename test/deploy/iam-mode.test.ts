// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates

import { isLeaving, isRunning } from '../../lib/plan';
import {
  type CfnTemplate,
  onlyResourceOfType,
  packageService,
  resourcesOfType,
  scheduleOf,
} from '../../support/package-service';
import { loadEvent, realEventNames } from '../helpers/fixtures';
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
import {
  DESIRED_STATUSES,
  LAST_STATUSES,
  patternOf,
  patternRules,
  type RuleKind,
  rulesMatching,
  TASK_EVENT_PATH,
  taskEvent,
} from './task-events';

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
  HEALTH_WAIT_MS: '300000',
  HEALTH_POLL_MS: '1000',
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
/** What the task-event consumers get besides the registrar's configuration: their own queue, for re-checks. */
const CONSUMER_ENVIRONMENT = {
  RegisterLambdaFunction: { REGISTER_QUEUE_NAME: 'ecs-cloudmap-registrar-prod-register' },
  DeregisterLambdaFunction: { LEAVING_QUEUE_NAME: 'ecs-cloudmap-registrar-prod-leaving' },
};
/** The rule DLQ's senders: the two task-event rules, by ARN. */
const RULE_ARNS = {
  running: sub(
    'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/ecs-cloudmap-registrar-prod-task-running',
  ),
  leaving: sub(
    'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/ecs-cloudmap-registrar-prod-task-leaving',
  ),
};
/** The scheduled functions, by the logical id prefix osls gives them. */
const SCHEDULED = [
  ['Reconcile', 'reconcile'],
  ['HealthSweep', 'healthSweep'],
] as const;

describe('default deployment (lookupMode=iam)', () => {
  describe('the EventBridge rules', () => {
    const patterns = () => ({ running: patternOf(template, 'running'), leaving: patternOf(template, 'leaving') });

    it('are two, each with an event pattern: one for running tasks, one for leaving tasks', () => {
      expect(Object.keys(patternRules(template)).sort()).toEqual(['TaskLeavingRule', 'TaskRunningRule']);
      expect(resource('TaskRunningRule').Properties).toMatchObject({
        Name: 'ecs-cloudmap-registrar-prod-task-running',
        State: 'ENABLED',
      });
      expect(resource('TaskLeavingRule').Properties).toMatchObject({
        Name: 'ecs-cloudmap-registrar-prod-task-leaving',
        State: 'ENABLED',
      });
    });

    it('the running rule matches only ECS task state changes of tasks running and meant to run, from every cluster', () => {
      expect(patterns().running).toEqual({
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] },
      });
    });

    it('the leaving rule matches only ECS task state changes of tasks going or gone, from every cluster', () => {
      expect(patterns().leaving).toEqual({
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: {
          $or: [
            { lastStatus: ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] },
            { desiredStatus: ['STOPPED'] },
          ],
        },
      });
    });

    // Matched as EventBridge matches (content filtering: every field named must match, `$or` any of its patterns):
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
    it.each(LAST_STATUSES.flatMap((last) => DESIRED_STATUSES.map((desired) => [last, desired] as const)))(
      'sends a task event with lastStatus %s, desiredStatus %s to the one queue the registrar wants it on, or none',
      (lastStatus, desiredStatus) => {
        const status = { lastStatus, desiredStatus };
        const expected: RuleKind[] = isRunning(status) ? ['running'] : isLeaving(status) ? ['leaving'] : [];

        expect(rulesMatching(patterns(), taskEvent(lastStatus, desiredStatus))).toEqual(expected);
      },
    );

    it('routes the recorded ECS events: RUNNING to the running rule only, STOPPED or DEPROVISIONING to the leaving rule only, others nowhere', () => {
      const routes = Object.fromEntries(
        realEventNames().map((name) => [name, rulesMatching(patterns(), loadEvent(name))]),
      );

      expect(routes).toEqual({
        '01-fargate-awsvpc-running-standalone-docs.json': ['running'],
        '02-fargate-stopped-essential-exit255-standalone.json': ['leaving'],
        '04-fargate-deprovisioning-essential-exited-standalone.json': ['leaving'],
        '05-fargate-stopped-elb-healthcheck-service.json': ['leaving'],
        '07-fargate-running-multicontainer-service-connect-sdi.json': ['running'],
        '12-ec2-awsvpc-running-multicontainer-docs.json': ['running'],
        '30-deployment-state-change-failed-docs.json': [],
        '32-service-action-steady-state-docs.json': [],
      });
    });

    // A rule's SQS target is authorized by the queue's policy, with no role on the target:
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
    it.each(['running', 'leaving'] as const)(
      'the %s rule has one target, its queue, retried for an hour, then dead-lettered to the rule DLQ',
      (kind) => {
        const { rule, queue } = TASK_EVENT_PATH[kind];

        expect(resource(rule).Properties.Targets).toEqual([
          {
            Id: queue,
            Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['RuleDlq', 'Arn'] } },
          },
        ]);
      },
    );

    it('invoke no function: nothing but the queues event sources may invoke the register and deregister functions', () => {
      const invokers = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter((p) =>
        /"(Register|Deregister)LambdaFunction"/.test(JSON.stringify(p.Properties.FunctionName)),
      );

      expect(invokers).toEqual([]);
    });
  });

  describe('task-event queues', () => {
    it.each([
      ['RegisterQueue', 'ecs-cloudmap-registrar-prod-register'],
      ['LeavingQueue', 'ecs-cloudmap-registrar-prod-leaving'],
    ])(
      '%s keeps messages 6 hours, SSE-SQS encrypted, and moves one received 5 times to the register DLQ',
      (id, name) => {
        expect(resource(id)).toEqual({
          Type: 'AWS::SQS::Queue',
          Properties: {
            QueueName: name,
            VisibilityTimeout: 360,
            MessageRetentionPeriod: 21_600,
            SqsManagedSseEnabled: true,
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['RegisterDlq', 'Arn'] }, maxReceiveCount: 5 },
          },
        });
      },
    );

    // AWS advises a visibility timeout of six times the function's timeout for an SQS event source:
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    it.each(['running', 'leaving'] as const)(
      'the %s queue hides a received batch for six times its consumer function timeout',
      (kind) => {
        const { queue, fn } = TASK_EVENT_PATH[kind];

        expect(resource(queue).Properties.VisibilityTimeout).toBe(6 * Number(resource(fn).Properties.Timeout));
      },
    );

    // A message moved to a DLQ keeps its enqueue time, so the DLQ must keep messages longer than its sources:
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html
    it('redrive to the register DLQ only, which keeps a message longer than they do and has no DLQ itself', () => {
      const redriven = Object.entries(resourcesOfType(template, 'AWS::SQS::Queue')).filter(
        ([, q]) => q.Properties.RedrivePolicy !== undefined,
      );

      expect(redriven.map(([id]) => id).sort()).toEqual(['LeavingQueue', 'RegisterQueue']);
      for (const [, queue] of redriven) {
        expect(Number(resource('RegisterDlq').Properties.MessageRetentionPeriod)).toBeGreaterThan(
          Number(queue.Properties.MessageRetentionPeriod),
        );
      }
      expect(resource('RegisterDlq').Properties.RedrivePolicy).toBeUndefined();
    });

    // EventBridge sends to a rule's target queue as events.amazonaws.com with the rule as aws:SourceArn. Keys of one
    // condition are ANDed, the values of a negated key NORed, and a negated condition is true when its key is absent:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    it('let only the running rule and the register role send to the register queue, and deny everyone else', () => {
      const policy = resource('RegisterQueuePolicy');
      const queue = { 'Fn::GetAtt': ['RegisterQueue', 'Arn'] };

      expect(policy.Type).toBe('AWS::SQS::QueuePolicy');
      expect(policy.Properties.Queues).toEqual([{ Ref: 'RegisterQueue' }]);
      expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Sid: 'OnlyItsRuleMaySend',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queue,
          Condition: { ArnEquals: { 'aws:SourceArn': RULE_ARNS.running } },
        },
        {
          Sid: 'NobodyElseMaySend',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: queue,
          Condition: {
            ArnNotEquals: {
              'aws:SourceArn': RULE_ARNS.running,
              'aws:PrincipalArn': [{ 'Fn::GetAtt': ['RegisterRole', 'Arn'] }],
            },
          },
        },
      ]);
    });

    it('let only the leaving rule and the deregister role (its re-tries) send to the leaving queue, and deny everyone else', () => {
      const policy = resource('LeavingQueuePolicy');
      const queue = { 'Fn::GetAtt': ['LeavingQueue', 'Arn'] };

      expect(policy.Type).toBe('AWS::SQS::QueuePolicy');
      expect(policy.Properties.Queues).toEqual([{ Ref: 'LeavingQueue' }]);
      expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Sid: 'OnlyItsRuleMaySend',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queue,
          Condition: { ArnEquals: { 'aws:SourceArn': RULE_ARNS.leaving } },
        },
        {
          Sid: 'NobodyElseMaySend',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: queue,
          Condition: {
            ArnNotEquals: {
              'aws:SourceArn': RULE_ARNS.leaving,
              'aws:PrincipalArn': [{ 'Fn::GetAtt': ['DeregisterRole', 'Arn'] }],
            },
          },
        },
      ]);
    });

    it.each([
      ['RegisterQueuePolicy', 'RegisterQueue', 'RegisterRole'],
      ['LeavingQueuePolicy', 'LeavingQueue', 'DeregisterRole'],
    ])(
      "spare from %s's Deny exactly the role IAM lets send to %s (a re-check is never refused): %s",
      (policyId, queueId, roleId) => {
        const deny = (resource(policyId).Properties.PolicyDocument as { Statement: Statement[] }).Statement.find(
          (s) => s.Effect === 'Deny',
        );
        const spared = deny?.Condition?.ArnNotEquals?.['aws:PrincipalArn'];
        const senders = Object.entries(resourcesOfType(template, 'AWS::IAM::Role'))
          .filter(([, role]) =>
            statementsOf(role).some(
              (s) =>
                s.Effect === 'Allow' &&
                actionsOf(s).includes('sqs:SendMessage') &&
                JSON.stringify(resourcesOf(s)).includes(`"${queueId}"`),
            ),
          )
          .map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] }));

        expect(senders).toEqual([{ 'Fn::GetAtt': [roleId, 'Arn'] }]);
        expect(spared).toEqual(senders);
      },
    );
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
    // absent, so the Deny also refuses a direct SendMessage (no aws:SourceArn); the values of a negated key are NORed:
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/resource-based-policies-eventbridge.html
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    it('lets only the two task-event rules send to the rule DLQ, and denies everyone else', () => {
      const policy = resource('RuleDlqPolicy');
      const ruleArns = [RULE_ARNS.running, RULE_ARNS.leaving];

      expect(policy.Type).toBe('AWS::SQS::QueuePolicy');
      expect(policy.Properties.Queues).toEqual([{ Ref: 'RuleDlq' }]);
      expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Sid: 'OnlyTheTaskStateRulesMaySend',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['RuleDlq', 'Arn'] },
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } },
        },
        {
          Sid: 'NobodyElseMaySend',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['RuleDlq', 'Arn'] },
          Condition: { ArnNotEquals: { 'aws:SourceArn': ruleArns } },
        },
      ]);
    });

    // The register DLQ is filled by SQS redrive (resources/queues.yml says why it has no policy).
    it('have no queue policy besides the rule DLQ and the two task-event queues', () => {
      expect(Object.keys(resourcesOfType(template, 'AWS::SQS::QueuePolicy')).sort()).toEqual([
        'LeavingQueuePolicy',
        'RegisterQueuePolicy',
        'RuleDlqPolicy',
      ]);
    });

    it('are written by no role: no function has an asynchronous on-failure destination or sends to a DLQ', () => {
      expect(template.Resources.RegisterLambdaEvConf).toBeUndefined();
      expect(template.Resources.DeregisterLambdaEvConf).toBeUndefined();
      for (const [, role] of Object.entries(resourcesOfType(template, 'AWS::IAM::Role'))) {
        for (const statement of statementsOf(role)) {
          expect(JSON.stringify(statement.Resource)).not.toMatch(/"(RuleDlq|RegisterDlq)"/);
        }
      }
    });
  });

  describe('functions', () => {
    it('run Node.js 22 on arm64 with their own roles; register is capped at 5 executions, deregister at 10', () => {
      const register = resource('RegisterLambdaFunction').Properties;
      const deregister = resource('DeregisterLambdaFunction').Properties;
      const lookup = resource('LookupLambdaFunction').Properties;

      expect(register).toMatchObject({
        Handler: 'functions/register.handler',
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': ['RegisterRole', 'Arn'] },
        ReservedConcurrentExecutions: 5,
      });
      expect(deregister).toMatchObject({
        FunctionName: 'ecs-cloudmap-registrar-prod-deregister',
        Handler: 'functions/deregister.handler',
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': ['DeregisterRole', 'Arn'] },
        ReservedConcurrentExecutions: 10,
      });
      expect(lookup).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': ['LookupRole', 'Arn'] },
      });
      expect(lookup.ReservedConcurrentExecutions).toBeUndefined();
      expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    });

    it('give both task-event consumers 60 s: a Cloud Map operation (30 s) plus 30 s, no health wait', () => {
      expect(resource('RegisterLambdaFunction').Properties.Timeout).toBe(60);
      expect(resource('DeregisterLambdaFunction').Properties.Timeout).toBe(60);
    });

    // Batches of 10 with no batching window, failures reported per message, at most as many batches at once as
    // the function's reservation (AWS: keep reserved concurrency at least the maximum concurrency):
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    it.each([
      ['running', 5, 1],
      ['leaving', 10, 0],
    ] as const)(
      'the %s queue hands its consumer batches of 10, at most %d at a time, gathered for %d s, failures per message',
      (kind, max, window) => {
        const { queue, fn, role } = TASK_EVENT_PATH[kind];
        const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).filter(
          (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [fn, 'Arn'] }),
        );

        expect(mappings).toEqual([
          {
            Type: 'AWS::Lambda::EventSourceMapping',
            DependsOn: [role],
            Properties: {
              BatchSize: 10,
              MaximumBatchingWindowInSeconds: window,
              EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
              FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
              Enabled: true,
              FunctionResponseTypes: ['ReportBatchItemFailures'],
              ScalingConfig: { MaximumConcurrency: max },
            },
          },
        ]);
        expect(resource(fn).Properties.ReservedConcurrentExecutions).toBe(max);
      },
    );

    it('read the task-event queues and nothing else through event sources', () => {
      const sources = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).map((m) =>
        JSON.stringify([m.Properties.EventSourceArn, m.Properties.FunctionName]),
      );

      expect(sources.sort()).toEqual(
        [
          [{ 'Fn::GetAtt': ['LeavingQueue', 'Arn'] }, { 'Fn::GetAtt': ['DeregisterLambdaFunction', 'Arn'] }],
          [{ 'Fn::GetAtt': ['RegisterQueue', 'Arn'] }, { 'Fn::GetAtt': ['RegisterLambdaFunction', 'Arn'] }],
        ]
          .map((pair) => JSON.stringify(pair))
          .sort(),
      );
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

    it.each(['RegisterLambdaFunction', 'DeregisterLambdaFunction'] as const)(
      'give %s its ordering, Cloud Map and health re-check settings, and its own queue by name',
      (id) => {
        expect(environment(id)).toEqual({
          POWERTOOLS_SERVICE_NAME: 'ecs-cloudmap-registrar',
          POWERTOOLS_METRICS_NAMESPACE: 'EcsCloudMapRegistrar',
          ...REGISTRAR_ENVIRONMENT,
          ...CONSUMER_ENVIRONMENT[id],
        });
      },
    );

    it("name each function's queue as the queue is named", () => {
      expect(CONSUMER_ENVIRONMENT.RegisterLambdaFunction.REGISTER_QUEUE_NAME).toBe(
        resource('RegisterQueue').Properties.QueueName,
      );
      expect(CONSUMER_ENVIRONMENT.DeregisterLambdaFunction.LEAVING_QUEUE_NAME).toBe(
        resource('LeavingQueue').Properties.QueueName,
      );
    });

    it('keep their logs 30 days', () => {
      for (const group of Object.values(resourcesOfType(template, 'AWS::Logs::LogGroup'))) {
        expect(group.Properties.RetentionInDays).toBe(30);
      }
    });

    it('stay within the bundle budgets (lookup 160 KB, register and deregister 230 KB zipped)', () => {
      expect(zipBytes.lookup).toBeLessThanOrEqual(160 * 1024);
      expect(zipBytes.register).toBeLessThanOrEqual(230 * 1024);
      expect(zipBytes.deregister).toBeLessThanOrEqual(230 * 1024);
    });

    it.each(['register', 'deregister', 'reconcile', 'healthSweep'])(
      '%s loads the EC2 client, left out of its bundle, with require() when a bridge or host task needs it',
      (fn) => {
        const bundle = bundles[fn] ?? '';

        expect(bundle).toMatch(/Promise\.resolve\(\)\.then\(\(\)=>\w+\(require\("@aws-sdk\/client-ec2"\)\)\)/);
        expect(bundle).not.toContain('import("@aws-sdk/client-ec2")');
      },
    );

    it.each(['register', 'deregister', 'reconcile', 'healthSweep'])(
      '%s loads the Lambda client, left out of its bundle, with require() only to have a service created',
      (fn) => {
        const bundle = bundles[fn] ?? '';

        expect(bundle).toMatch(/Promise\.resolve\(\)\.then\(\(\)=>\w+\(require\("@aws-sdk\/client-lambda"\)\)\)/);
        expect(bundle).not.toContain('import("@aws-sdk/client-lambda")');
      },
    );

    it('package one zip per function, each size recorded (no budget for the scheduled functions)', () => {
      expect(Object.keys(zipBytes).sort()).toEqual([
        'createService',
        'deregister',
        'healthSweep',
        'lookup',
        'reconcile',
        'register',
      ]);
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

    // An SQS event source reads the queue with the function's role:
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    it.each([
      ['RegisterRole', 'register', 'RegisterQueue'],
      ['DeregisterRole', 'deregister', 'LeavingQueue'],
    ])(
      'gives %s exactly these statements: its own logs and queue, and its re-checks on that queue',
      (role, fn, queue) => {
        expect(statements(role)).toEqual(consumerStatements(fn, queue));
      },
    );

    it('lets no other role touch a queue', () => {
      for (const role of ROLES.filter((r) => r !== 'RegisterRole' && r !== 'DeregisterRole')) {
        const sqs = statementsOf(resource(role)).filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
        expect({ role, sqs }).toEqual({ role, sqs: [] });
      }
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

    it('watch errors and throttles of the register and lookup functions, errors of the others', () => {
      const lambdaAlarms = alarms()
        .filter((a) => a.Namespace === 'AWS/Lambda')
        .map((a) => `${(a.Dimensions as { Value: { Ref: string } }[])[0]?.Value.Ref} ${a.MetricName}`)
        .sort();

      expect(lambdaAlarms).toEqual([
        'CreateServiceLambdaFunction Errors',
        'DeregisterLambdaFunction Errors',
        'HealthSweepLambdaFunction Errors',
        'LookupLambdaFunction Errors',
        'LookupLambdaFunction Throttles',
        'ReconcileLambdaFunction Errors',
        'RegisterLambdaFunction Errors',
        'RegisterLambdaFunction Throttles',
      ]);
    });

    // Lambda's AsyncEventAge is gone with the asynchronous invocations; a queue's backlog shows in its oldest message:
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
    it.each([
      ['register-queue-age', 'RegisterQueue', 600],
      ['leaving-queue-age', 'LeavingQueue', 60],
    ])('%s fires when the oldest message of %s is older than %d s in a minute', (name, queue, threshold) => {
      expect(alarm(name)).toEqual({
        AlarmName: `ecs-cloudmap-registrar-prod-${name}`,
        AlarmDescription: expect.any(String),
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [],
        OKActions: [],
      });
    });

    it.each([
      ['register-errors', 'RegisterLambdaFunction'],
      ['deregister-errors', 'DeregisterLambdaFunction'],
    ])('%s fires on 5 errors of %s in 5 minutes (a few are Cloud Map throttling, retried away)', (name, fn) => {
      expect(alarm(name)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it('watch no Lambda asynchronous event age any more', () => {
      expect(alarms().filter((a) => a.MetricName === 'AsyncEventAge')).toEqual([]);
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

    it('come with a dashboard that shows the oldest message of both task-event queues', () => {
      const [, dashboard] = onlyResourceOfType(template, 'AWS::CloudWatch::Dashboard');
      const [body, variables] = (
        dashboard.Properties.DashboardBody as { 'Fn::Sub': [string, Record<string, unknown>] }
      )['Fn::Sub'];
      const rows = (JSON.parse(body) as { widgets: { properties: { metrics: string[][] } }[] }).widgets.flatMap(
        (w) => w.properties.metrics,
      );

      // "..." repeats the previous row's namespace, metric and dimension name:
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
      expect(rows).toEqual(
        expect.arrayContaining([
          ['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', '${RegisterTaskQueue}'],
          ['...', '${LeavingTaskQueue}'],
        ]),
      );
      expect(variables).toMatchObject({
        RegisterTaskQueue: { 'Fn::GetAtt': ['RegisterQueue', 'QueueName'] },
        LeavingTaskQueue: { 'Fn::GetAtt': ['LeavingQueue', 'QueueName'] },
      });
    });
  });
});

const ROLES = ['RegisterRole', 'DeregisterRole', 'LookupRole', 'ReconcileRole', 'HealthSweepRole', 'CreateServiceRole'];

/**
 * What every function that writes instances may do with the default parameters (the register, deregister, reconcile
 * and health sweep roles): write its own logs, order its writes through the task table, read the tasks, services,
 * task definitions and container instances of the watched clusters, find namespaces and services, have a missing
 * service created, read ownership, write the namespace's records, and never create or change a service.
 */
function writerStatements(fn: string): Record<string, Statement> {
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
    ReadServiceOwnership: {
      Sid: 'ReadServiceOwnership',
      Effect: 'Allow',
      Action: ['servicediscovery:ListTagsForResource'],
      Resource: [arn('servicediscovery', 'service/*')],
    },
    NeverCreateOrChangeServices: NEVER_CREATE_OR_CHANGE_SERVICES,
    WriteRecordsOfTheNamespace: writeRecordsInAnyZone(['*.kudos.local']),
  };
}

/**
 * What a task-event consumer may do with the default parameters: what every writer may, plus read its own queue
 * (its event source does, with its role) and put its re-checks and re-sent failures on it (SendMessageBatch is
 * authorized as SendMessage: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-batch-api.html),
 * and read and register or deregister instances.
 */
function consumerStatements(fn: string, ownQueue: string): Record<string, Statement> {
  return {
    ...writerStatements(fn),
    ReadOwnQueue: {
      Sid: 'ReadOwnQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: [{ 'Fn::GetAtt': [ownQueue, 'Arn'] }],
    },
    SendRechecksToOwnQueue: {
      Sid: 'SendRechecksToOwnQueue',
      Effect: 'Allow',
      Action: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
      Resource: [{ 'Fn::GetAtt': [ownQueue, 'Arn'] }],
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
  };
}

/**
 * What a scheduled function may do with the default parameters: what every writer may, plus list every cluster and
 * its running tasks, register and deregister in managed services, and follow and set their custom health.
 */
function scheduledStatements(fn: string): Record<string, Statement> {
  return {
    ...writerStatements(fn),
    ListClusters: { Sid: 'ListClusters', Effect: 'Allow', Action: ['ecs:ListClusters'], Resource: '*' },
    ListTasksOfWatchedClusters: {
      Sid: 'ListTasksOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:ListTasks'],
      Resource: '*',
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
  };
}
