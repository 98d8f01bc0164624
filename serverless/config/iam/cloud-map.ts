// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates
import { MANAGED_TAG_KEY } from '../../../lib/cloud-map/service-creator';
import { arnPrefix, type CfnString, sub } from '../cfn';
import { namespacesByArn, serviceArnsOfNamespacesByArn, uniqueNames, writtenNamespaces } from '../namespaces';
import type { DeploySettings } from '../params';
import type { Statement } from './role';

/** Every Cloud Map service of the account and region. */
export const serviceArns = (): CfnString => sub(`${arnPrefix('servicediscovery')}:service/*`);

/** Every Cloud Map resource, in any account and region: what an explicit Deny covers (a shared namespace too). */
export const ANY_CLOUD_MAP_RESOURCE = sub(`arn:\${AWS::Partition}:servicediscovery:*:*:*`);

/**
 * Statements that resolve the namespaces written to (the main one and the mapping's): those given by id with
 * GetNamespace on them, those given by name with ListNamespaces (lib/cloud-map/namespaces.ts).
 */
export function namespaceResolution(s: DeploySettings): Statement[] {
  const namespaces = writtenNamespaces(s);
  const byId = namespaces.flatMap((n) => (n.arn ? [n.arn] : []));
  return [
    ...(byId.length
      ? [{ Sid: 'ReadNamespace', Effect: 'Allow' as const, Action: ['servicediscovery:GetNamespace'], Resource: byId }]
      : []),
    ...(namespaces.some((n) => n.byName)
      ? [
          // ListNamespaces has no resource type and no condition key: it can only be granted on "*".
          {
            Sid: 'FindNamespaceByName',
            Effect: 'Allow' as const,
            Action: ['servicediscovery:ListNamespaces'],
            Resource: '*' as const,
          },
        ]
      : []),
  ];
}

/** The request tag every created service carries, and no other: CreateService and TagResource are allowed only with it. */
export function managedRequestTag(s: DeploySettings): Statement['Condition'] {
  return {
    StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: s.ownerId },
    'ForAllValues:StringEquals': { 'aws:TagKeys': [MANAGED_TAG_KEY] },
  };
}

/**
 * The Cloud Map (and Route 53) permissions of a function that registers and deregisters tasks: find the
 * namespace and services, read instances, write instances of managed services only, and have a missing service
 * created by the service creator function. `health` adds the custom health reads and writes of the scheduled
 * functions (lib/health-sweep.ts fixHealth).
 *
 * The ownership tag is no boundary against a role that may add it: Cloud Map authorizes CreateService with Tags
 * as TagResource too and has no condition key that tells a create from a later tag. So no writer may create or
 * tag a service (explicitly denied): only the creator's role may, and its code only ever creates new services.
 */
export function cloudMapStatements(s: DeploySettings, { health }: { health: boolean }): Statement[] {
  const statements: Statement[] = [
    ...namespaceResolution(s),
    {
      // ListServices and GetOperation have no resource type and no condition key.
      Sid: 'FindServicesAndFollowOperations',
      Effect: 'Allow',
      Action: ['servicediscovery:ListServices', 'servicediscovery:GetOperation'],
      Resource: '*',
    },
    {
      // A missing service is created by the createService function (lib/cloud-map/lambda-service-creator.ts).
      Sid: 'InvokeServiceCreator',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: [{ 'Fn::GetAtt': ['CreateServiceLambdaFunction', 'Arn'] }],
    },
    {
      // Reads are not limited to managed services: the registrar must see who holds a name before refusing it.
      Sid: 'ReadInstances',
      Effect: 'Allow',
      Action: [
        'servicediscovery:ListInstances',
        'servicediscovery:GetInstance',
        ...(health ? ['servicediscovery:GetInstancesHealthStatus'] : []),
      ],
      Resource: [serviceArns()],
    },
    {
      // The managed-by check before writing to an existing service (lib/cloud-map isManaged): services' tags only.
      Sid: 'ReadServiceOwnership',
      Effect: 'Allow',
      Action: ['servicediscovery:ListTagsForResource'],
      Resource: [serviceArns()],
    },
    {
      Sid: 'WriteInstancesOfManagedServices',
      Effect: 'Allow',
      Action: [
        'servicediscovery:RegisterInstance',
        'servicediscovery:DeregisterInstance',
        ...(health ? ['servicediscovery:UpdateInstanceCustomHealthStatus'] : []),
      ],
      Resource: [serviceArns()],
      Condition: { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG_KEY}`]: s.ownerId } },
    },
    {
      // Whatever else is attached to the role, a writer never creates, tags, untags, updates or deletes a service.
      Sid: 'NeverCreateOrChangeServices',
      Effect: 'Deny',
      Action: [
        'servicediscovery:CreateService',
        'servicediscovery:TagResource',
        'servicediscovery:UntagResource',
        'servicediscovery:UpdateService',
        'servicediscovery:DeleteService',
      ],
      Resource: [ANY_CLOUD_MAP_RESOURCE],
    },
  ];
  statements.push(...namespacesByArnStatements(s, { health }));
  if (s.namespaceType === 'dns') statements.push(route53Statement(s));
  return statements;
}

/** ServiceCreatedByAccount: the services this account created (the createService function's), in any namespace. */
export const CREATED_BY_THIS_ACCOUNT = { 'servicediscovery:ServiceCreatedByAccount': { Ref: 'AWS::AccountId' } };

/**
 * The instance reads and writes in the namespaces given by ARN, which may be shared from another account: their
 * services carry the owner's account in their ARN ("For services created in a shared namespace, specify the service
 * ARN", API Reference, RegisterInstance), so the statements above (this account's services) do not reach them.
 * Writes only into services of ours (managed-by) that this account created (servicediscovery:ServiceCreatedByAccount,
 * a condition key of RegisterInstance, DeregisterInstance and UpdateInstanceCustomHealthStatus in the Service
 * Authorization Reference): never the owner's services, nor another consumer's. None without such a namespace.
 */
function namespacesByArnStatements(s: DeploySettings, { health }: { health: boolean }): Statement[] {
  const services = serviceArnsOfNamespacesByArn(namespacesByArn(s));
  if (services.length === 0) return [];
  return [
    {
      Sid: 'ReadInstancesInNamespacesByArn',
      Effect: 'Allow',
      Action: [
        'servicediscovery:ListInstances',
        'servicediscovery:GetInstance',
        ...(health ? ['servicediscovery:GetInstancesHealthStatus'] : []),
        'servicediscovery:ListTagsForResource',
      ],
      Resource: services,
    },
    {
      Sid: 'WriteInstancesOfManagedServicesInNamespacesByArn',
      Effect: 'Allow',
      Action: [
        'servicediscovery:RegisterInstance',
        'servicediscovery:DeregisterInstance',
        ...(health ? ['servicediscovery:UpdateInstanceCustomHealthStatus'] : []),
      ],
      Resource: services,
      Condition: { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG_KEY}`]: s.ownerId, ...CREATED_BY_THIS_ACCOUNT } },
    },
  ];
}

/**
 * Cloud Map writes the DNS records of a DNS namespace with the caller's permissions. Our services use a custom
 * health check, so Cloud Map never creates Route 53 health checks for them: record changes are all it needs.
 * The mapping's namespaces are of the same type as the main one (namespaceType); their hosted zones are unknown
 * to the stack, and their names only when given by name: record names are limited only when every name is known.
 */
function route53Statement(s: DeploySettings): Statement {
  let zone: CfnString;
  if (s.mappedNamespaces.length) {
    zone = sub(`arn:\${AWS::Partition}:route53:::hostedzone/*`);
  } else if (s.createNamespace) {
    zone = {
      'Fn::Sub': [
        `arn:\${AWS::Partition}:route53:::hostedzone/\${Zone}`,
        { Zone: { 'Fn::GetAtt': ['CloudMapNamespace', 'HostedZoneId'] } },
      ],
    };
  } else {
    zone = sub(`arn:\${AWS::Partition}:route53:::hostedzone/${s.hostedZoneId || '*'}`);
  }
  const names = writtenNamespaces(s).map((n) => n.name);
  return {
    Sid: 'WriteRecordsOfTheNamespace',
    Effect: 'Allow',
    Action: ['route53:ChangeResourceRecordSets'],
    Resource: [zone],
    Condition: {
      'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'SRV'] },
      ...(names.every((name): name is string => Boolean(name))
        ? {
            'ForAllValues:StringLike': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': uniqueNames(names).map((name) => `*.${name}`),
            },
          }
        : {}),
    },
  };
}
