import { arnPrefix, sub } from '../cfn';
import { namespacesByArn } from '../namespaces';
import type { DeploySettings } from '../params';
import { logStatement, type Statement } from './role';

/** The lookup function's permissions (functions/lookup.ts): reads only. */
export function lookupStatements(s: DeploySettings): Statement[] {
  return [
    logStatement(s, 'lookup'),
    {
      // Both list actions have no resource type and no condition key.
      Sid: 'ListNamespacesAndServices',
      Effect: 'Allow',
      Action: ['servicediscovery:ListNamespaces', 'servicediscovery:ListServices'],
      Resource: '*',
    },
    {
      Sid: 'ReadNamespaces',
      Effect: 'Allow',
      Action: ['servicediscovery:GetNamespace'],
      Resource: [sub(`${arnPrefix('servicediscovery')}:namespace/*`)],
    },
    // NAMESPACE given by ARN may be another account's (shared): GetNamespace on exactly that ARN.
    ...(s.namespaceIsId && namespacesByArn(s).some((n) => n.arn === s.namespace)
      ? [
          {
            Sid: 'ReadNamespaceByArn',
            Effect: 'Allow' as const,
            Action: ['servicediscovery:GetNamespace'],
            Resource: [s.namespace],
          },
        ]
      : []),
    {
      // Discovery is authorized by namespace and service name, not by ARN (OwnerAccount included).
      Sid: 'DiscoverInstancesOfAllowedNamespaces',
      Effect: 'Allow',
      Action: ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'],
      Resource: '*',
      ...(s.lookupNamespaces === '*'
        ? {}
        : { Condition: { StringEquals: { 'servicediscovery:NamespaceName': s.lookupNamespaces } } }),
    },
  ];
}
