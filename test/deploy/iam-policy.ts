import type { CfnResource, CfnTemplate } from '../../support/package-service';

/** `Fn::Sub` of this text, as the template writes it. */
export const sub = (text: string) => ({ 'Fn::Sub': text });

/** The ARN of `rest` in the stack's partition, region and account, as the template writes it. */
export const arn = (service: string, rest: string) =>
  sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`);

/** A resource of the template by logical id; throws when there is none. */
export function resourceOf(template: CfnTemplate, id: string): CfnResource {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
}

/** The environment variables of a function of the template, by logical id. */
export function environmentOf(template: CfnTemplate, id: string): Record<string, unknown> {
  return (resourceOf(template, id).Properties as { Environment: { Variables: Record<string, unknown> } }).Environment
    .Variables;
}

/**
 * The WriteRecordsOfTheNamespace statement of a namespace in a hosted zone the stack does not know: records of
 * type A, AAAA and SRV, with these record names (without them, any name).
 */
export function writeRecordsInAnyZone(recordNames?: string[]): Statement {
  return {
    Sid: 'WriteRecordsOfTheNamespace',
    Effect: 'Allow',
    Action: ['route53:ChangeResourceRecordSets'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, not a JavaScript template
    Resource: [sub('arn:${AWS::Partition}:route53:::hostedzone/*')],
    Condition: {
      'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'SRV'] },
      ...(recordNames && {
        'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': recordNames },
      }),
    },
  };
}

/** One IAM policy statement as the template holds it. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of a role's inline policies. */
export function statementsOf(role: CfnResource): Statement[] {
  const policies = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

/** The statements by Sid; throws on a statement without a Sid (each one must say what it is for). */
export function bySid(statements: Statement[]): Record<string, Statement> {
  const out: Record<string, Statement> = {};
  for (const s of statements) {
    if (!s.Sid) throw new Error(`statement without Sid: ${JSON.stringify(s)}`);
    out[s.Sid] = s;
  }
  return out;
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/**
 * The only statements allowed on `Resource: "*"`, with the reason the README gives: these actions have no
 * resource type in IAM. Keep this table and the README's list in step.
 */
export const STAR_RESOURCE_ALLOWED: Record<string, { actions: string[]; reason: string }> = {
  ReadTaskDefinitions: {
    actions: ['ecs:DescribeTaskDefinition'],
    reason: 'DescribeTaskDefinition has no resource type and no condition key',
  },
  ReadContainerInstanceAddresses: {
    actions: ['ec2:DescribeInstances'],
    reason: 'DescribeInstances has no resource type; the aws:RequestedRegion condition limits it to the stack region',
  },
  FindNamespaceByName: {
    actions: ['servicediscovery:ListNamespaces'],
    reason: 'ListNamespaces is a list action without resource type or condition key',
  },
  FindServicesAndFollowOperations: {
    actions: ['servicediscovery:ListServices', 'servicediscovery:GetOperation'],
    reason: 'ListServices and GetOperation have no resource type and no condition key',
  },
  FindServices: {
    actions: ['servicediscovery:ListServices'],
    reason: 'ListServices has no resource type and no condition key (the service creator finds a race winner by name)',
  },
  ListClusters: {
    actions: ['ecs:ListClusters'],
    reason:
      'ListClusters is a list action without resource type or condition key; granted only when every cluster is watched',
  },
  ListTasksOfWatchedClusters: {
    actions: ['ecs:ListTasks'],
    reason:
      'ListTasks is authorized on container instances, which Fargate tasks have none of; the ecs:cluster condition scopes it to the watched clusters',
  },
  ListNamespacesAndServices: {
    actions: ['servicediscovery:ListNamespaces', 'servicediscovery:ListServices'],
    reason: 'list actions without resource type or condition key',
  },
  DiscoverInstancesOfAllowedNamespaces: {
    actions: ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'],
    reason: 'discovery is authorized by servicediscovery:NamespaceName (condition), not by ARN',
  },
};
