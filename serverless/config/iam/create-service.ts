import { arnPrefix, type CfnString, sub } from '../cfn';
import { namespacesByArn, serviceArnsOfNamespacesByArn, writtenNamespaces } from '../namespaces';
import type { DeploySettings } from '../params';
import { ANY_CLOUD_MAP_RESOURCE, managedRequestTag, namespaceResolution, serviceArns } from './cloud-map';
import { logStatement, type Statement } from './role';

/**
 * The namespaces CreateService may create in: each one by ARN when every namespace is known by id; otherwise
 * every namespace (CreateService has servicediscovery:NamespaceArn but no namespace-name condition key).
 */
function createServiceNamespaceArns(s: DeploySettings): CfnString[] {
  const namespaces = writtenNamespaces(s);
  if (namespaces.some((n) => n.byName)) return [sub(`${arnPrefix('servicediscovery')}:namespace/*`)];
  return namespaces.flatMap((n) => (n.arn ? [n.arn] : []));
}

/**
 * The createService function's permissions (functions/create-service.ts): resolve the configured namespaces, see
 * whether a name is taken and by whom, and create a service with the managed-by tag, in the configured namespaces
 * when IAM can name them. Its code calls CreateService with Tags and never TagResource on its own, so the
 * TagResource that CreateService needs cannot be used to take over an existing service.
 */
export function createServiceStatements(s: DeploySettings): Statement[] {
  return [
    logStatement(s, 'createService'),
    ...namespaceResolution(s),
    {
      // ListServices has no resource type and no condition key (the winner of a creation race is found by name).
      Sid: 'FindServices',
      Effect: 'Allow',
      Action: ['servicediscovery:ListServices'],
      Resource: '*',
    },
    {
      // Whether the winner of a creation race carries our tag: services' tags only.
      Sid: 'ReadServiceOwnership',
      Effect: 'Allow',
      Action: ['servicediscovery:ListTagsForResource'],
      Resource: [serviceArns()],
    },
    {
      Sid: 'CreateManagedServicesInTheNamespace',
      Effect: 'Allow',
      Action: ['servicediscovery:CreateService'],
      Resource: [...createServiceNamespaceArns(s), serviceArns()],
      Condition: managedRequestTag(s),
    },
    {
      // CreateService with Tags is also authorized as TagResource (Service Authorization Reference, Cloud Map).
      Sid: 'TagManagedServicesOnCreate',
      Effect: 'Allow',
      Action: ['servicediscovery:TagResource'],
      Resource: [serviceArns()],
      Condition: managedRequestTag(s),
    },
    ...namespacesByArnStatements(s),
    {
      Sid: 'NeverChangeServices',
      Effect: 'Deny',
      Action: ['servicediscovery:UntagResource', 'servicediscovery:UpdateService', 'servicediscovery:DeleteService'],
      Resource: [ANY_CLOUD_MAP_RESOURCE],
    },
  ];
}

/**
 * Creating services in the namespaces given by ARN, which may be shared from another account: the service's ARN then
 * carries the owner's account (its ResourceOwner), which serviceArns() (this account) does not reach. CreateService
 * only in exactly those namespaces (servicediscovery:NamespaceArn, its condition key), with the managed-by tag only;
 * the tag's TagResource and the ownership read on the owner account's services. None without such a namespace.
 */
function namespacesByArnStatements(s: DeploySettings): Statement[] {
  const namespaces = namespacesByArn(s);
  if (namespaces.length === 0) return [];
  const arns = namespaces.map((n) => n.arn);
  const services = serviceArnsOfNamespacesByArn(namespaces);
  return [
    {
      Sid: 'CreateManagedServicesInNamespacesByArn',
      Effect: 'Allow',
      Action: ['servicediscovery:CreateService'],
      Resource: [...arns, ...services],
      Condition: { ...managedRequestTag(s), ArnEquals: { 'servicediscovery:NamespaceArn': arns } },
    },
    {
      Sid: 'TagManagedServicesOnCreateInNamespacesByArn',
      Effect: 'Allow',
      Action: ['servicediscovery:TagResource'],
      Resource: services,
      Condition: managedRequestTag(s),
    },
    {
      Sid: 'ReadServiceOwnershipInNamespacesByArn',
      Effect: 'Allow',
      Action: ['servicediscovery:ListTagsForResource'],
      Resource: services,
    },
  ];
}
