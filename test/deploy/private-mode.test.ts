// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates
import { bySid, statementsOf } from './iam-policy';
import { type CfnTemplate, onlyResourceOfType, packageService, resourcesOfType } from './package-service';

const ENDPOINTS = ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'];
const CLUSTER_B = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-b';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops';

const sub = (text: string) => ({ 'Fn::Sub': text });

/** Private open API, a private DNS namespace created by the stack, two watched clusters, alarms to a topic. */
let openDns: CfnTemplate;
/** Private API with IAM, an existing HTTP namespace given by id. */
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
    }),
    packageService({
      lookupMode: 'private',
      lookupAuth: 'iam',
      lookupVpcEndpointIds: ENDPOINTS[0] ?? '',
      namespace: 'ns-abcdefghij012345',
      namespaceType: 'http',
      lookupNamespaces: 'corp.http',
    }),
  ]);
}, 180_000);

const resource = (template: CfnTemplate, id: string) => {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
};

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

  it('with lookupAuth=none, leaves the four GET methods open (the resource policy is the gate)', () => {
    const methods = Object.values(resourcesOfType(openDns, 'AWS::ApiGateway::Method'));

    expect(methods.map((m) => m.Properties.HttpMethod)).toEqual(['GET', 'GET', 'GET', 'GET']);
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('NONE');
  });

  it('with lookupAuth=iam, requires SigV4 on every method and allows only principals of this account', () => {
    const methods = Object.values(resourcesOfType(iamHttp, 'AWS::ApiGateway::Method'));
    const [, api] = onlyResourceOfType(iamHttp, 'AWS::ApiGateway::RestApi');

    expect(methods).toHaveLength(4);
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
    expect(resource(openDns, 'CloudMapNamespace')).toMatchObject({
      Type: 'AWS::ServiceDiscovery::PrivateDnsNamespace',
      Properties: { Name: 'corp.internal', Vpc: 'vpc-0abc12345def67890' },
    });
    for (const fn of ['RegisterLambdaFunction', 'LookupLambdaFunction']) {
      expect(resource(openDns, fn).Properties).toMatchObject({
        Environment: { Variables: { NAMESPACE: { Ref: 'CloudMapNamespace' } } },
      });
    }
  });

  it('scopes CreateService, GetNamespace and the record writes to that namespace and its hosted zone', () => {
    const statements = bySid(statementsOf(resource(openDns, 'RegisterRole')));

    expect(statements.CreateManagedServicesInTheNamespace?.Resource).toEqual([
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

  it('filter the rule on their ARNs', () => {
    const [, rule] = onlyResourceOfType(openDns, 'AWS::Events::Rule');

    expect((rule.Properties.EventPattern as { detail: { clusterArn: unknown } }).detail.clusterArn).toEqual(
      clusterArns,
    );
  });

  it('scope the ECS reads to their tasks and services, with the ecs:cluster condition', () => {
    const statements = bySid(statementsOf(resource(openDns, 'RegisterRole')));
    const prefix = 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}';

    expect(statements.DescribeTasksOfWatchedClusters).toMatchObject({
      Resource: [sub(`${prefix}:task/prod-a/*`), sub(`${prefix}:task/prod-b/*`)],
      Condition: { ArnEquals: { 'ecs:cluster': clusterArns } },
    });
    expect(statements.ReadServiceTagsOfWatchedClusters).toMatchObject({
      Resource: [sub(`${prefix}:service/prod-a/*`), sub(`${prefix}:service/prod-b/*`)],
      Condition: { ArnEquals: { 'ecs:cluster': clusterArns } },
    });
  });
});

describe('an existing HTTP namespace given by id', () => {
  it('needs no Route 53 permission and reads the namespace by its ARN', () => {
    const statements = bySid(statementsOf(resource(iamHttp, 'RegisterRole')));

    expect(statements.WriteRecordsOfTheNamespace).toBeUndefined();
    expect(statements.ReadNamespace?.Resource).toEqual([
      sub('arn:${AWS::Partition}:servicediscovery:${AWS::Region}:${AWS::AccountId}:namespace/ns-abcdefghij012345'),
    ]);
  });

  it('limits discovery to the namespaces named in lookupNamespaces', () => {
    const statements = bySid(statementsOf(resource(iamHttp, 'LookupRole')));

    expect(statements.DiscoverInstancesOfAllowedNamespaces?.Condition).toEqual({
      StringEquals: { 'servicediscovery:NamespaceName': ['corp.http'] },
    });
  });
});

describe('other parameters', () => {
  it('registerMaxConcurrency=none leaves the register function without reserved concurrency', () => {
    expect(resource(openDns, 'RegisterLambdaFunction').Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('alarmTopicArn sends every alarm and its recovery to the topic', () => {
    const alarms = Object.values(resourcesOfType(openDns, 'AWS::CloudWatch::Alarm'));

    expect(alarms).toHaveLength(8);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([TOPIC]);
      expect(alarm.Properties.OKActions).toEqual([TOPIC]);
    }
  });
});
