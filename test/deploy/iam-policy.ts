import type { CfnResource } from '../../support/package-service';

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
