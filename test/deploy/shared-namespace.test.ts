// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${sls:stage} is an osls variable, not a JavaScript template
import { roleStatements } from './derive';
import { arn } from './iam-policy';

/*
 * IAM for a namespace given by ARN, which may be another account's, shared through AWS RAM (derived, not packaged).
 * - CreateService `NamespaceId`: "For namespaces shared with your AWS account, specify the namespace ARN"; its
 *   condition key servicediscovery:NamespaceArn. https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html
 * - A service's ResourceOwner is its namespace's owner, its CreatedByAccount the account that created it:
 *   https://docs.aws.amazon.com/cloud-map/latest/dg/sharing-identify.html,
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_ServiceSummary.html
 * - Condition keys of the service actions (servicediscovery:ServiceArn, servicediscovery:ServiceCreatedByAccount; no
 *   namespace key): https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html
 */

const OWNER = '111122223333';
const SHARED_ARN = `arn:aws:servicediscovery:eu-west-1:${OWNER}:namespace/ns-abcdefghij0123456789`;
const OTHER_ARN = 'arn:aws:servicediscovery:eu-west-1:444455556666:namespace/ns-0123456789abcdefghij';
const OWNER_SERVICES = `arn:aws:servicediscovery:eu-west-1:${OWNER}:service/*`;

const shared = { namespace: SHARED_ARN, lookupNamespaces: 'shared.local' };
const managed = { 'aws:RequestTag/managed-by': 'ecs-cloudmap-registrar' };

describe('a namespace given by ARN of another account (shared through AWS RAM)', () => {
  it("lets the creator create services in exactly that namespace, their ARNs in the owner's account", async () => {
    const creator = await roleStatements(shared, 'CreateServiceRole');

    expect(creator.CreateManagedServicesInNamespacesByArn).toEqual({
      Sid: 'CreateManagedServicesInNamespacesByArn',
      Effect: 'Allow',
      Action: ['servicediscovery:CreateService'],
      Resource: [SHARED_ARN, OWNER_SERVICES],
      Condition: {
        StringEquals: managed,
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by'] },
        ArnEquals: { 'servicediscovery:NamespaceArn': [SHARED_ARN] },
      },
    });
    expect(creator.TagManagedServicesOnCreateInNamespacesByArn?.Resource).toEqual([OWNER_SERVICES]);
    expect(creator.ReadServiceOwnershipInNamespacesByArn?.Resource).toEqual([OWNER_SERVICES]);
    expect(creator.ReadNamespace?.Resource).toEqual([SHARED_ARN]);
  });

  it.each(['RegisterRole', 'ReconcileRole', 'HealthSweepRole'])(
    "lets %s write only managed services this account created, in the owner's account",
    async (role) => {
      const statements = await roleStatements(shared, role);

      expect(statements.WriteInstancesOfManagedServicesInNamespacesByArn?.Resource).toEqual([OWNER_SERVICES]);
      expect(statements.WriteInstancesOfManagedServicesInNamespacesByArn?.Condition).toEqual({
        StringEquals: {
          'aws:ResourceTag/managed-by': 'ecs-cloudmap-registrar',
          'servicediscovery:ServiceCreatedByAccount': { Ref: 'AWS::AccountId' },
        },
      });
      expect(statements.ReadInstancesInNamespacesByArn?.Resource).toEqual([OWNER_SERVICES]);
      expect(statements.ReadNamespace?.Resource).toEqual([SHARED_ARN]);
    },
  );

  it('names every account it reaches: no statement has a wildcard account but the explicit Deny', async () => {
    for (const role of ['RegisterRole', 'ReconcileRole', 'HealthSweepRole', 'CreateServiceRole', 'LookupRole']) {
      const statements = Object.values(await roleStatements(shared, role)).filter((s) => s.Effect === 'Allow');
      const resources = statements.flatMap((s) => ([] as unknown[]).concat(s.Resource));
      const literal = resources.filter((r): r is string => typeof r === 'string' && r !== '*');

      expect(literal.filter((r) => /^arn:[^:]+:[^:]+:[^:]*:\*:/.test(r))).toEqual([]);
    }
  });

  it('reads exactly that namespace in the lookup (GetNamespace on its ARN)', async () => {
    const lookup = await roleStatements(shared, 'LookupRole');

    expect(lookup.ReadNamespaceByArn?.Resource).toEqual([SHARED_ARN]);
    expect(lookup.DiscoverInstancesOfAllowedNamespaces?.Condition).toEqual({
      StringEquals: { 'servicediscovery:NamespaceName': ['shared.local'] },
    });
  });

  it("covers each namespace of the mapping given by ARN with its own owner's services", async () => {
    const statements = await roleStatements(
      { ...shared, clusterNamespaces: `prod-b=${OTHER_ARN}`, lookupNamespaces: 'shared.local' },
      'RegisterRole',
    );

    expect(statements.WriteInstancesOfManagedServicesInNamespacesByArn?.Resource).toEqual([
      OWNER_SERVICES,
      'arn:aws:servicediscovery:eu-west-1:444455556666:service/*',
    ]);
  });

  it('adds nothing for namespaces given by name or id', async () => {
    const sets: Record<string, string>[] = [{}, { namespace: 'ns-aaaaaaaaaaaaaaaa', lookupNamespaces: 'a.internal' }];
    for (const params of sets) {
      const register = await roleStatements(params, 'RegisterRole');
      const creator = await roleStatements(params, 'CreateServiceRole');
      const lookup = await roleStatements(params, 'LookupRole');

      expect(Object.keys(register).filter((sid) => sid.endsWith('ByArn'))).toEqual([]);
      expect(Object.keys(creator).filter((sid) => sid.endsWith('ByArn'))).toEqual([]);
      expect(Object.keys(lookup).filter((sid) => sid.endsWith('ByArn'))).toEqual([]);
      expect(register.WriteInstancesOfManagedServices?.Resource).toEqual([arn('servicediscovery', 'service/*')]);
    }
  });
});
