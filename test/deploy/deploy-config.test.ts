// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates
import { derive, roleStatements } from './derive';
import { arn, bySid, type Statement, sub, writeRecordsInAnyZone } from './iam-policy';
import { type RuleKind, rulesMatching, TASK_EVENT_PATH, taskEvent } from './task-events';

/**
 * serverless/config/ (what serverless/deploy-config.js loads) without `osls package`: the derivations of parameter sets that need no bundle
 * (the packaged tests cover the template as osls writes it). Parameters are read as osls would: those given,
 * else the defaults of serverless.yml.
 */

/** The derived resources, by logical id. */
async function resourcesFor(
  params: Record<string, string>,
): Promise<Record<string, { Properties: Record<string, unknown> }>> {
  return ((await derive('resources', params)) as { Resources: Record<string, { Properties: Record<string, unknown> }> })
    .Resources;
}

/** The event patterns of the two task-event rules, as the deploy code derives them. */
async function patternsFor(params: Record<string, string>) {
  const resources = await resourcesFor(params);
  const pattern = (kind: RuleKind) =>
    resources[TASK_EVENT_PATH[kind].rule]?.Properties.EventPattern as { detail: Record<string, unknown> };
  return { running: pattern('running'), leaving: pattern('leaving') };
}

/** One variable of a function's environment, as the deploy code derives it. */
async function variableOf(fn: string, variable: string, params: Record<string, string>): Promise<unknown> {
  return ((await derive(`${fn}Environment`, params)) as Record<string, unknown>)[variable];
}

describe('clusterNamespaces (derived, not packaged)', () => {
  it('with every cluster watched, only routes: no cluster filter, no cluster condition, clusters still listed', async () => {
    const params = { clusterNamespaces: 'prod-b=b.internal' };
    const patterns = await patternsFor(params);
    const scheduled = await roleStatements(params, 'ReconcileRole');

    expect(patterns.running.detail.clusterArn).toBeUndefined();
    expect(patterns.leaving.detail.clusterArn).toBeUndefined();
    expect(await variableOf('reconcile', 'WATCHED_CLUSTERS', params)).toBe('');
    expect(await variableOf('register', 'CLUSTER_NAMESPACES', params)).toBe('prod-b=b.internal');
    expect(scheduled.ListClusters).toBeDefined();
    expect(scheduled.ListTasksOfWatchedClusters?.Condition).toBeUndefined();
    expect(scheduled.DescribeTasksOfWatchedClusters?.Resource).toEqual([arn('ecs', 'task/*')]);
  });

  it('defaults to no mapping', async () => {
    expect(await variableOf('register', 'CLUSTER_NAMESPACES', {})).toBe('');
  });

  it('with every namespace given by id, scopes CreateService and GetNamespace to each, with no ListNamespaces', async () => {
    const statements = await roleStatements(
      {
        namespace: 'ns-aaaaaaaaaaaaaaaa',
        lookupNamespaces: 'a.internal',
        clusterNamespaces: 'prod-b=ns-bbbbbbbbbbbbbbbb,prod-c=ns-bbbbbbbbbbbbbbbb',
      },
      'CreateServiceRole',
    );
    const namespaces = [
      arn('servicediscovery', 'namespace/ns-aaaaaaaaaaaaaaaa'),
      arn('servicediscovery', 'namespace/ns-bbbbbbbbbbbbbbbb'),
    ];

    expect(statements.CreateManagedServicesInTheNamespace?.Resource).toEqual([
      ...namespaces,
      arn('servicediscovery', 'service/*'),
    ]);
    expect(statements.ReadNamespace?.Resource).toEqual(namespaces);
    expect(statements.FindNamespaceByName).toBeUndefined();
  });

  it('with every namespace given by name, limits record writes to their names, in any hosted zone', async () => {
    const statements = await roleStatements(
      { namespaceHostedZoneId: 'Z0123456789ABC', clusterNamespaces: 'prod-b=B.internal.' },
      'RegisterRole',
    );

    expect(statements.WriteRecordsOfTheNamespace).toEqual(writeRecordsInAnyZone(['*.kudos.local', '*.b.internal']));
  });

  it('with an HTTP namespace, gives the mapped namespaces no Route 53 permission either (same type)', async () => {
    const statements = await roleStatements(
      { namespaceType: 'http', clusterNamespaces: 'prod-b=b.http' },
      'RegisterRole',
    );

    expect(statements.WriteRecordsOfTheNamespace).toBeUndefined();
  });

  it('into a namespace the stack creates, drops a pair naming it (those tasks go there anyway)', async () => {
    const params = {
      createNamespace: 'true',
      namespace: 'corp.internal',
      namespaceVpcId: 'vpc-0abc12345def67890',
      watchedClusters: 'prod-a',
      clusterNamespaces: 'prod-b=corp.internal',
    };
    const statements = await roleStatements(params, 'RegisterRole');
    const creator = await roleStatements(params, 'CreateServiceRole');

    expect(await variableOf('register', 'CLUSTER_NAMESPACES', params)).toBe('');
    expect(await variableOf('reconcile', 'WATCHED_CLUSTERS', params)).toBe('prod-a,prod-b');
    expect(statements.FindNamespaceByName).toBeUndefined();
    expect(creator.FindNamespaceByName).toBeUndefined();
    expect(creator.CreateManagedServicesInTheNamespace?.Resource).toEqual([
      { 'Fn::GetAtt': ['CloudMapNamespace', 'Arn'] },
      arn('servicediscovery', 'service/*'),
    ]);
  });

  it('keeps lookupNamespaces as given when it is given', async () => {
    const statements = await roleStatements(
      { lookupNamespaces: 'kudos.local', clusterNamespaces: 'prod-b=b.internal' },
      'LookupRole',
    );

    expect(statements.DiscoverInstancesOfAllowedNamespaces?.Condition).toEqual({
      StringEquals: { 'servicediscovery:NamespaceName': ['kudos.local'] },
    });
  });

  // The lookup's loader takes LOOKUP_NAMESPACES as `*` or [\w.-]+ names (lib/settings.ts): a name it would refuse
  // at cold start is refused here, before anything deploys.
  it.each(['a/b', 'corp local', 'kudos.local,a:b'])(
    'refuses lookupNamespaces=%j, which the lookup could not load',
    async (value) => {
      await expect(derive('resources', { lookupNamespaces: value })).rejects.toThrow('param "lookupNamespaces": ');
    },
  );

  it.each([
    ['a cluster that is neither a name nor an ARN', 'a/b=b.internal'],
    ['a namespace that is not a name CLUSTER_NAMESPACES accepts', 'prod-b=b internal'],
    ['a pair with two "="', 'prod-b=b.internal=c.internal'],
    ['a pair without namespace', 'prod-b='],
    ['no pair at all', ','],
    ['the same cluster by name and by ARN', 'prod-b=b.internal,arn:aws:ecs:eu-west-1:123456789012:cluster/prod-b=c'],
  ])('refuses %s, naming the parameter', async (_name, value) => {
    await expect(derive('resources', { clusterNamespaces: value })).rejects.toThrow('param "clusterNamespaces": ');
  });
});

describe('ownership of Cloud Map services (derived, not packaged)', () => {
  const WRITERS = ['RegisterRole', 'DeregisterRole', 'ReconcileRole', 'HealthSweepRole'];
  const serviceArns = arn('servicediscovery', 'service/*');
  /** Writing actions on services that no writer may ever hold: the ownership tag is put on by the creator only. */
  const SERVICE_CHANGES = [
    'servicediscovery:CreateService',
    'servicediscovery:TagResource',
    'servicediscovery:UntagResource',
    'servicediscovery:UpdateService',
    'servicediscovery:DeleteService',
  ];
  const PARAMETER_SETS: [string, Record<string, string>][] = [
    ['the defaults', {}],
    ['another ownerId', { ownerId: 'team-a' }],
    ['a namespace by id', { namespace: 'ns-aaaaaaaaaaaaaaaa', lookupNamespaces: 'a.internal' }],
    [
      'a namespace by ARN',
      {
        namespace: 'arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-abcdefghij0123456789',
        lookupNamespaces: 'corp.local',
      },
    ],
    [
      'a namespace the stack creates',
      { createNamespace: 'true', namespace: 'corp.internal', namespaceVpcId: 'vpc-0abc12345def67890' },
    ],
    ['an HTTP namespace and a cluster mapping', { namespaceType: 'http', clusterNamespaces: 'prod-b=b.http' }],
    ['watched clusters', { watchedClusters: 'prod-a,prod-b' }],
    ['private lookups', { lookupMode: 'private', lookupVpcEndpointIds: 'vpce-0123456789abcdef0' }],
  ];
  const allStatements = async (params: Record<string, string>) => {
    const { Resources } = (await derive('resources', params)) as {
      Resources: Record<
        string,
        { Type: string; Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] } }
      >;
    };
    return Object.fromEntries(
      Object.entries(Resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Role')
        .map(([id, r]) => [id, (r.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement)]),
    );
  };
  const actions = (s: Statement) => ([] as string[]).concat(s.Action);

  it.each(PARAMETER_SETS)(
    'with %s, no writer may create, tag, untag, update or delete a service, and each is explicitly denied all five',
    async (_name, params) => {
      const roles = await allStatements(params);

      for (const role of WRITERS) {
        const statements = roles[role] ?? [];
        const allowed = statements.filter((s) => s.Effect === 'Allow').flatMap(actions);
        expect(allowed.filter((a) => SERVICE_CHANGES.includes(a))).toEqual([]);
        // An explicit Deny wins over any Allow, whatever else is attached to the role.
        expect(statements.filter((s) => s.Effect === 'Deny')).toEqual([
          {
            Sid: 'NeverCreateOrChangeServices',
            Effect: 'Deny',
            Action: SERVICE_CHANGES,
            Resource: [sub('arn:${AWS::Partition}:servicediscovery:*:*:*')],
          },
        ]);
      }
    },
  );

  it.each(PARAMETER_SETS)(
    'with %s, the writers may invoke the service creator and no other function',
    async (_name, params) => {
      const roles = await allStatements(params);

      for (const role of WRITERS) {
        const lambda = (roles[role] ?? []).filter((s) => actions(s).some((a) => a.startsWith('lambda:')));
        expect(lambda).toEqual([
          {
            Sid: 'InvokeServiceCreator',
            Effect: 'Allow',
            Action: ['lambda:InvokeFunction'],
            Resource: [{ 'Fn::GetAtt': ['CreateServiceLambdaFunction', 'Arn'] }],
          },
        ]);
      }
    },
  );

  it.each(PARAMETER_SETS)(
    'with %s, only the creator role may create and tag services, with the managed-by=<ownerId> request tag alone',
    async (_name, params) => {
      const roles = await allStatements(params);
      const ownerId = params.ownerId ?? 'ecs-cloudmap-registrar';
      const managedRequestTag = {
        StringEquals: { 'aws:RequestTag/managed-by': ownerId },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by'] },
      };

      const creating = Object.entries(roles).flatMap(([role, statements]) =>
        statements
          .filter((s) => s.Effect === 'Allow')
          .filter((s) =>
            actions(s).some((a) => a === 'servicediscovery:CreateService' || a === 'servicediscovery:TagResource'),
          )
          .map((s) => ({ role, sid: s.Sid, actions: actions(s), condition: s.Condition })),
      );
      // CreateService with Tags is also authorized as TagResource, and Cloud Map has no condition key that tells a
      // create from a later TagResource call (no servicediscovery:CreateAction, unlike ecs:CreateAction), so only a
      // role whose code never calls TagResource may hold it:
      // https://docs.amazonaws.cn/service-authorization/latest/reference/list_servicediscovery.html
      // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
      expect(creating).toEqual([
        {
          role: 'CreateServiceRole',
          sid: 'CreateManagedServicesInTheNamespace',
          actions: ['servicediscovery:CreateService'],
          condition: managedRequestTag,
        },
        {
          role: 'CreateServiceRole',
          sid: 'TagManagedServicesOnCreate',
          actions: ['servicediscovery:TagResource'],
          condition: managedRequestTag,
        },
        // A namespace given by ARN may be another account's (shared): its services carry the owner's account.
        ...(params.namespace?.startsWith('arn:')
          ? [
              {
                role: 'CreateServiceRole',
                sid: 'CreateManagedServicesInNamespacesByArn',
                actions: ['servicediscovery:CreateService'],
                condition: { ...managedRequestTag, ArnEquals: { 'servicediscovery:NamespaceArn': [params.namespace] } },
              },
              {
                role: 'CreateServiceRole',
                sid: 'TagManagedServicesOnCreateInNamespacesByArn',
                actions: ['servicediscovery:TagResource'],
                condition: managedRequestTag,
              },
            ]
          : []),
      ]);
    },
  );

  it('gives the creator only what creating a service needs: no instance, record, lambda or untag permission', async () => {
    const statements = bySid((await allStatements({ ownerId: 'team-a' })).CreateServiceRole ?? []);

    expect(statements).toEqual({
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
        Resource: [serviceArns],
      },
      CreateManagedServicesInTheNamespace: {
        Sid: 'CreateManagedServicesInTheNamespace',
        Effect: 'Allow',
        Action: ['servicediscovery:CreateService'],
        Resource: [arn('servicediscovery', 'namespace/*'), serviceArns],
        Condition: {
          StringEquals: { 'aws:RequestTag/managed-by': 'team-a' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by'] },
        },
      },
      TagManagedServicesOnCreate: {
        Sid: 'TagManagedServicesOnCreate',
        Effect: 'Allow',
        Action: ['servicediscovery:TagResource'],
        Resource: [serviceArns],
        Condition: {
          StringEquals: { 'aws:RequestTag/managed-by': 'team-a' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by'] },
        },
      },
      NeverChangeServices: {
        Sid: 'NeverChangeServices',
        Effect: 'Deny',
        Action: ['servicediscovery:UntagResource', 'servicediscovery:UpdateService', 'servicediscovery:DeleteService'],
        Resource: [sub('arn:${AWS::Partition}:servicediscovery:*:*:*')],
      },
    });
  });

  it.each(WRITERS)(
    '%s reads the tags of services only (the managed-by check before writing to an existing service)',
    async (role) => {
      const statements = await roleStatements({}, role);
      const reads = Object.values(statements).filter((s) =>
        ([] as string[]).concat(s.Action).includes('servicediscovery:ListTagsForResource'),
      );

      // ListTagsForResource authorizes on the namespace or service resource type:
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html
      expect(reads).toEqual([
        {
          Sid: 'ReadServiceOwnership',
          Effect: 'Allow',
          Action: ['servicediscovery:ListTagsForResource'],
          Resource: [serviceArns],
        },
      ]);
    },
  );

  it('gives the lookup function no tag permission at all', async () => {
    const statements = await roleStatements({}, 'LookupRole');
    const actions = Object.values(statements).flatMap((s) => ([] as string[]).concat(s.Action));

    expect(actions.filter((a) => /Tag/.test(a))).toEqual([]);
  });
});

describe('namespace references (derived, not packaged)', () => {
  const NS_ARN = 'arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-abcdefghij0123456789';

  it('accepts an ns- id of any length Cloud Map gives (here 20 characters) and scopes IAM to it', async () => {
    const statements = await roleStatements(
      { namespace: 'ns-abcdefghij0123456789', lookupNamespaces: 'corp.local' },
      'RegisterRole',
    );

    expect(statements.ReadNamespace?.Resource).toEqual([arn('servicediscovery', 'namespace/ns-abcdefghij0123456789')]);
    expect(statements.FindNamespaceByName).toBeUndefined();
  });

  it('accepts a namespace ARN, scopes GetNamespace and CreateService to that ARN and passes it on as given', async () => {
    const params = { namespace: NS_ARN, lookupNamespaces: 'corp.local' };
    const statements = await roleStatements(params, 'RegisterRole');
    const creator = await roleStatements(params, 'CreateServiceRole');

    expect(statements.ReadNamespace?.Resource).toEqual([NS_ARN]);
    expect(creator.ReadNamespace?.Resource).toEqual([NS_ARN]);
    expect(creator.CreateManagedServicesInTheNamespace?.Resource).toEqual([
      NS_ARN,
      arn('servicediscovery', 'service/*'),
    ]);
    expect(await variableOf('register', 'NAMESPACE', params)).toBe(NS_ARN);
  });

  it('accepts namespace ARNs in the cluster mapping', async () => {
    const params = { clusterNamespaces: `prod-b=${NS_ARN}`, lookupNamespaces: 'kudos.local' };
    const statements = await roleStatements(params, 'RegisterRole');

    expect(await variableOf('register', 'CLUSTER_NAMESPACES', params)).toBe(`prod-b=${NS_ARN}`);
    expect(statements.ReadNamespace?.Resource).toEqual([NS_ARN]);
  });

  it.each([
    ['longer than a namespace id (64 characters)', `ns-${'a'.repeat(62)}`],
    ['with upper case', 'ns-ABCDEFGHIJ012345'],
  ])('takes an ns- string %s for a name, as lib/cloud-map/namespaces.ts does', async (_name, namespace) => {
    const statements = await roleStatements({ namespace }, 'RegisterRole');

    expect(statements.FindNamespaceByName).toBeDefined();
    expect(statements.ReadNamespace).toBeUndefined();
  });

  it.each([
    ['namespace', 'arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-abcdefghij012345'],
    ['clusterNamespaces', 'prod-b=arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-abcdefghij012345'],
  ])('refuses an ARN that is not a namespace ARN in %s, naming the parameter', async (name, value) => {
    await expect(derive('resources', { [name]: value, lookupNamespaces: 'corp.local' })).rejects.toThrow(
      `param "${name}": `,
    );
  });
});

describe('concurrency and throttling (derived, not packaged)', () => {
  type Extensions = Record<string, { Properties: Record<string, unknown> }>;
  const extensions = async (params: Record<string, string>) =>
    ((await derive('resources', params)) as { extensions: Extensions }).extensions;

  it('reserves 5 executions for the register function and 10 for the deregister function by default', async () => {
    const reserved = await extensions({});

    expect(reserved.RegisterLambdaFunction?.Properties).toEqual({ ReservedConcurrentExecutions: 5 });
    expect(reserved.DeregisterLambdaFunction?.Properties).toEqual({ ReservedConcurrentExecutions: 10 });
  });

  it('reserves registerMaxConcurrency and deregisterMaxConcurrency each for its own function, none for none', async () => {
    const given = await extensions({ registerMaxConcurrency: '3', deregisterMaxConcurrency: '7' });
    const none = await extensions({ registerMaxConcurrency: 'none', deregisterMaxConcurrency: 'none' });

    expect(given.RegisterLambdaFunction?.Properties).toEqual({ ReservedConcurrentExecutions: 3 });
    expect(given.DeregisterLambdaFunction?.Properties).toEqual({ ReservedConcurrentExecutions: 7 });
    expect(none.RegisterLambdaFunction).toBeUndefined();
    expect(none.DeregisterLambdaFunction).toBeUndefined();
  });

  it('reserves 1 execution for the reconcile function by default, so two runs never overlap', async () => {
    expect((await extensions({})).ReconcileLambdaFunction?.Properties).toEqual({ ReservedConcurrentExecutions: 1 });
  });

  it('lets small accounts drop the reconcile reservation (reconcileMaxConcurrency=none)', async () => {
    expect((await extensions({ reconcileMaxConcurrency: 'none' })).ReconcileLambdaFunction).toBeUndefined();
  });

  it('drops a reconcile run that waited one interval for the previous run (the next scheduled run replaces it)', async () => {
    expect(await derive('reconcileMaxEventAge', {})).toBe(300);
    expect(await derive('reconcileMaxEventAge', { reconcileRate: '1 minute' })).toBe(60);
    expect(await derive('reconcileMaxEventAge', { reconcileRate: '2 days' })).toBe(21_600);
  });

  it('leaves the lookup function unreserved by default and reserves lookupMaxConcurrency when given', async () => {
    expect((await extensions({})).LookupLambdaFunction).toBeUndefined();
    expect((await extensions({ lookupMaxConcurrency: '20' })).LookupLambdaFunction?.Properties).toEqual({
      ReservedConcurrentExecutions: 20,
    });
  });

  it('throttles every method of the private REST API stage with lookupThrottleRate and lookupThrottleBurst', async () => {
    const params = {
      lookupMode: 'private',
      lookupVpcEndpointIds: 'vpce-0123456789abcdef0',
      lookupThrottleRate: '50',
      lookupThrottleBurst: '80',
    };

    expect(await derive('restApiStage', params)).toEqual({
      MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 }],
    });
  });

  it('has no REST API stage settings in iam mode (the HTTP API stage is throttled instead)', async () => {
    expect(await derive('restApiStage', {})).toEqual({});
  });

  // An SQS event source's maximum concurrency goes from 2 to 1000, and these parameters set it:
  // https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html
  it.each([
    ['registerMaxConcurrency', '1'],
    ['registerMaxConcurrency', '1001'],
    ['deregisterMaxConcurrency', '1'],
    ['deregisterMaxConcurrency', '0'],
    ['deregisterMaxConcurrency', '1001'],
    ['deregisterMaxConcurrency', 'many'],
    ['reconcileMaxConcurrency', '2'],
    ['reconcileMaxConcurrency', '0'],
    ['lookupMaxConcurrency', '0'],
    ['lookupMaxConcurrency', 'many'],
    ['lookupThrottleRate', '0'],
    ['lookupThrottleBurst', '5001'],
  ])('refuses %s=%s, naming the parameter', async (name, value) => {
    await expect(derive('resources', { [name]: value })).rejects.toThrow(`param "${name}": `);
  });
});

describe('the task-event path (derived, not packaged)', () => {
  const WATCHED = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-a';

  it.each([
    ['registerEvents', 'RegisterQueue', 5, 1],
    ['deregisterEvents', 'LeavingQueue', 10, 0],
  ])(
    '%s: one SQS event on %s, batches of 10, failures per message, at most %d batches, gathered for %d s',
    async (name, queue, max, window) => {
      expect(await derive(name, {})).toEqual([
        {
          sqs: {
            arn: { 'Fn::GetAtt': [queue, 'Arn'] },
            batchSize: 10,
            maximumBatchingWindow: window,
            functionResponseType: 'ReportBatchItemFailures',
            maximumConcurrency: max,
          },
        },
      ]);
    },
  );

  it('caps each queue at its own function MaxConcurrency, and not at all with none', async () => {
    const params = { registerMaxConcurrency: '2', deregisterMaxConcurrency: 'none' };
    const [register] = (await derive('registerEvents', params)) as { sqs: Record<string, unknown> }[];
    const [deregister] = (await derive('deregisterEvents', params)) as { sqs: Record<string, unknown> }[];

    expect(register?.sqs.maximumConcurrency).toBe(2);
    expect(deregister?.sqs).toEqual({
      arn: { 'Fn::GetAtt': ['LeavingQueue', 'Arn'] },
      batchSize: 10,
      maximumBatchingWindow: 0,
      functionResponseType: 'ReportBatchItemFailures',
    });
  });

  it('gives the consumers a fixed timeout that no health wait grows (60 s)', async () => {
    expect(await derive('taskEventTimeout', {})).toBe(60);
    expect(await derive('taskEventTimeout', { healthWaitMs: '3600000', healthPollMs: '900000' })).toBe(60);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html (six times the function's timeout)
  it('hides a received batch on either queue for six times the consumers timeout', async () => {
    const resources = await resourcesFor({ healthWaitMs: '3600000' });
    const timeout = Number(await derive('taskEventTimeout', {}));

    expect(resources.RegisterQueue?.Properties.VisibilityTimeout).toBe(6 * timeout);
    expect(resources.LeavingQueue?.Properties.VisibilityTimeout).toBe(6 * timeout);
  });

  it.each([
    ['register', 'REGISTER_QUEUE_NAME', 'LEAVING_QUEUE_NAME', 'RegisterQueue', 'ecs-cloudmap-registrar-prod-register'],
    ['deregister', 'LEAVING_QUEUE_NAME', 'REGISTER_QUEUE_NAME', 'LeavingQueue', 'ecs-cloudmap-registrar-prod-leaving'],
  ])(
    'tells %s where its re-checks go: %s is its own queue, and it is not given the other one (%s)',
    async (fn, variable, other, queueId, name) => {
      const resources = await resourcesFor({});

      expect(await variableOf(fn, variable, {})).toBe(name);
      expect(await variableOf(fn, other, {})).toBeUndefined();
      expect(resources[queueId]?.Properties.QueueName).toBe(name);
    },
  );

  it.each(['reconcile', 'healthSweep', 'lookup', 'createService'])(
    'does not give %s a task-event queue',
    async (fn) => {
      expect(await variableOf(fn, 'REGISTER_QUEUE_NAME', {})).toBeUndefined();
      expect(await variableOf(fn, 'LEAVING_QUEUE_NAME', {})).toBeUndefined();
    },
  );

  it('accepts a health wait of up to an hour, re-checked every 1 s to every 15 minutes', async () => {
    for (const [wait, poll] of [
      ['3600000', '1000'],
      ['0', '900000'],
    ] as const) {
      const params = { healthWaitMs: wait, healthPollMs: poll };
      expect(await variableOf('register', 'HEALTH_WAIT_MS', params)).toBe(wait);
      expect(await variableOf('register', 'HEALTH_POLL_MS', params)).toBe(poll);
    }
  });

  // A re-check is a message delay: whole seconds, at most SQS's 15 minutes:
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-delay-queues.html
  it.each([
    ['healthPollMs', '999'],
    ['healthPollMs', '900001'],
    ['healthPollMs', '500'],
    ['healthWaitMs', '3600001'],
    ['healthWaitMs', '-1'],
  ])('refuses %s=%s, naming the parameter', async (name, value) => {
    await expect(derive('resources', { [name]: value })).rejects.toThrow(`param "${name}": `);
  });

  it('filters both rules on the watched clusters: an event of another cluster reaches neither queue', async () => {
    const patterns = await patternsFor({ watchedClusters: WATCHED });
    const other = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-x';

    expect(patterns.running.detail.clusterArn).toEqual([WATCHED]);
    expect(patterns.leaving.detail.clusterArn).toEqual([WATCHED]);
    expect(rulesMatching(patterns, taskEvent('RUNNING', 'RUNNING', WATCHED))).toEqual(['running']);
    expect(rulesMatching(patterns, taskEvent('RUNNING', 'STOPPED', WATCHED))).toEqual(['leaving']);
    expect(rulesMatching(patterns, taskEvent('RUNNING', 'RUNNING', other))).toEqual([]);
    expect(rulesMatching(patterns, taskEvent('STOPPED', 'STOPPED', other))).toEqual([]);
  });
});
