// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bySid, type Statement } from './iam-policy';

/**
 * serverless/deploy-config.js without `osls package`: the derivations of parameter sets that need no bundle
 * (the packaged tests cover the template as osls writes it). Parameters are read as osls would: those given,
 * else the defaults of serverless.yml.
 */

const ROOT = join(__dirname, '..', '..');

/** `params.default` of serverless.yml (flat `name: value` lines). */
function defaultParams(): Record<string, string> {
  const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
  const block = yml.slice(yml.indexOf('\n  default:\n'), yml.indexOf('\nprovider:'));
  const params: Record<string, string> = {};
  for (const match of block.matchAll(/^ {4}(\w+): (.*)$/gm)) {
    params[match[1] as string] = (match[2] as string).replace(/^'(.*)'$/, '$1');
  }
  return params;
}

type Derive = (context: { resolveVariable: (name: string) => Promise<unknown> }) => Promise<unknown>;

/** Runs one derivation of deploy-config.js (a fresh copy: it keeps the settings of its first run). */
function derive(name: string, params: Record<string, string>): Promise<unknown> {
  const values: Record<string, string> = { ...defaultParams(), ...params };
  let config: Record<string, Derive> = {};
  jest.isolateModules(() => {
    config = require(join(ROOT, 'serverless', 'deploy-config.js'));
  });
  const resolveVariable = async (variable: string) =>
    variable === 'sls:stage' ? 'prod' : values[variable.replace(/^param:/, '')];
  const derivation = config[name];
  if (!derivation) throw new Error(`deploy-config.js has no ${name}`);
  return derivation({ resolveVariable });
}

const sub = (text: string) => ({ 'Fn::Sub': text });
const arn = (service: string, rest: string) =>
  sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`);

async function roleStatements(params: Record<string, string>, role: string): Promise<Record<string, Statement>> {
  const { Resources } = (await derive('resources', params)) as {
    Resources: Record<string, { Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] } }>;
  };
  return bySid(Resources[role]?.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement) ?? []);
}

describe('clusterNamespaces (derived, not packaged)', () => {
  it('with every cluster watched, only routes: no cluster filter, no cluster condition, clusters still listed', async () => {
    const params = { clusterNamespaces: 'prod-b=b.internal' };
    const pattern = (await derive('rulePattern', params)) as { detail: Record<string, unknown> };
    const scheduled = await roleStatements(params, 'ReconcileRole');

    expect(pattern.detail.clusterArn).toBeUndefined();
    expect(await derive('watchedClusters', params)).toBe('');
    expect(await derive('clusterNamespaces', params)).toBe('prod-b=b.internal');
    expect(scheduled.ListClusters).toBeDefined();
    expect(scheduled.ListTasksOfWatchedClusters?.Condition).toBeUndefined();
    expect(scheduled.DescribeTasksOfWatchedClusters?.Resource).toEqual([arn('ecs', 'task/*')]);
  });

  it('defaults to no mapping', async () => {
    expect(await derive('clusterNamespaces', {})).toBe('');
  });

  it('with every namespace given by id, scopes CreateService and GetNamespace to each, with no ListNamespaces', async () => {
    const statements = await roleStatements(
      {
        namespace: 'ns-aaaaaaaaaaaaaaaa',
        lookupNamespaces: 'a.internal',
        clusterNamespaces: 'prod-b=ns-bbbbbbbbbbbbbbbb,prod-c=ns-bbbbbbbbbbbbbbbb',
      },
      'RegisterRole',
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

    expect(statements.WriteRecordsOfTheNamespace).toEqual({
      Sid: 'WriteRecordsOfTheNamespace',
      Effect: 'Allow',
      Action: ['route53:ChangeResourceRecordSets'],
      Resource: [sub('arn:${AWS::Partition}:route53:::hostedzone/*')],
      Condition: {
        'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'SRV'] },
        'ForAllValues:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.kudos.local', '*.b.internal'],
        },
      },
    });
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

    expect(await derive('clusterNamespaces', params)).toBe('');
    expect(await derive('watchedClusters', params)).toBe('prod-a,prod-b');
    expect(statements.FindNamespaceByName).toBeUndefined();
    expect(statements.CreateManagedServicesInTheNamespace?.Resource).toEqual([
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

  it.each([
    ['a cluster that is neither a name nor an ARN', 'a/b=b.internal'],
    ['a namespace that is not a name CLUSTER_NAMESPACES accepts', 'prod-b=b internal'],
    ['a pair with two "="', 'prod-b=b.internal=c.internal'],
    ['a pair without namespace', 'prod-b='],
    ['no pair at all', ','],
    ['the same cluster by name and by ARN', 'prod-b=b.internal,arn:aws:ecs:eu-west-1:123456789012:cluster/prod-b=c'],
  ])('refuses %s, naming the parameter', async (_name, value) => {
    await expect(derive('rulePattern', { clusterNamespaces: value })).rejects.toThrow('param "clusterNamespaces": ');
  });
});
