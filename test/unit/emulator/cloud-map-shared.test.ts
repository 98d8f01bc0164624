import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DeleteNamespaceCommand,
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetInstanceCommand,
  GetNamespaceCommand,
  GetOperationCommand,
  GetServiceCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  RegisterInstanceCommand,
} from '@aws-sdk/client-servicediscovery';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

/*
 * A Cloud Map namespace shared with the emulated account (000000000000) by another account through AWS RAM.
 * What each test relies on, from the AWS documentation:
 * - Developer guide, shared namespaces: owners share namespaces through AWS RAM; ResourceOwner names the owner,
 *   CreatedByAccount the account that created a service or registered an instance in it; list-namespaces returns
 *   the namespaces you own and those shared with you.
 *   https://docs.aws.amazon.com/cloud-map/latest/dg/sharing-namespaces.html
 *   https://docs.aws.amazon.com/cloud-map/latest/dg/sharing-identify.html
 * - GetNamespace / CreateService: "For namespaces shared with your AWS account, specify the namespace ARN."
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html
 * - RegisterInstance, GetInstance, ListInstances...: "For services created in a shared namespace, specify the
 *   service ARN." https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html
 * - DiscoverInstances / DiscoverInstancesRevision `OwnerAccount`: "For instances associated with namespaces that
 *   are shared with your account, you must specify an OwnerAccount" (fixed length 12).
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstancesRevision.html
 *   Without it AWS answers NamespaceNotFound (observed, open-telemetry/opentelemetry-collector-contrib#47895).
 * - GetOperation `OwnerAccount`: the same rule for operations. https://docs.aws.amazon.com/cloud-map/latest/api/API_GetOperation.html
 * - NamespaceFilter / ServiceFilter RESOURCE_OWNER: "Specify one of SELF or OTHER_ACCOUNTS"; ServiceFilter
 *   NAMESPACE_ID: "Specify the namespace ARN for namespaces that are shared with your AWS account."
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_NamespaceFilter.html
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_ServiceFilter.html
 * - Namespace / NamespaceSummary / Service / ServiceSummary `ResourceOwner` and `CreatedByAccount`.
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_NamespaceSummary.html
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_ServiceSummary.html
 */

const OWNER = '111122223333';
const SELF = '000000000000';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => stopHarness(h));

const share = (name = 'shared.local', services: string[] = []) =>
  h.emulator.shareNamespace({ ownerAccount: OWNER, name, services });

async function sharedService(namespaceArn: string, name = 'api'): Promise<{ id: string; arn: string }> {
  const { Service } = await h.cloudMap.send(
    new CreateServiceCommand({
      Name: name,
      NamespaceId: namespaceArn,
      HealthCheckCustomConfig: { FailureThreshold: 1 },
    }),
  );
  return { id: Service?.Id ?? '', arn: Service?.Arn ?? '' };
}

async function registerIn(serviceRef: string, id = 'i-1'): Promise<string> {
  const { OperationId } = await h.cloudMap.send(
    new RegisterInstanceCommand({
      ServiceId: serviceRef,
      InstanceId: id,
      Attributes: { AWS_INSTANCE_IPV4: '127.0.0.9', AWS_INSTANCE_PORT: '8080' },
    }),
  );
  await h.emulator.idle();
  return OperationId ?? '';
}

describe('a namespace shared from another account (Cloud Map emulator)', () => {
  it('has an ARN in the owner account and the owner as ResourceOwner, found by ARN', async () => {
    const shared = share();

    expect(shared.Arn).toBe(`arn:aws:servicediscovery:us-east-1:${OWNER}:namespace/${shared.Id}`);
    const { Namespace } = await h.cloudMap.send(new GetNamespaceCommand({ Id: shared.Arn }));
    expect(Namespace).toMatchObject({ Id: shared.Id, Arn: shared.Arn, Name: 'shared.local', ResourceOwner: OWNER });
  });

  it('is not found by its id alone (a shared namespace is named by ARN)', async () => {
    const shared = share();

    const error = await rejectionOf(h.cloudMap.send(new GetNamespaceCommand({ Id: shared.Id })));
    expect(error.name).toBe('NamespaceNotFound');
  });

  it('is listed beside the own namespaces, each with its ResourceOwner, and RESOURCE_OWNER picks SELF or OTHER_ACCOUNTS', async () => {
    await h.cloudMap.send(new CreateHttpNamespaceCommand({ Name: 'own.local' }));
    const shared = share();
    const list = async (value?: string) =>
      (
        await h.cloudMap.send(
          new ListNamespacesCommand(
            value ? { Filters: [{ Name: 'RESOURCE_OWNER', Values: [value], Condition: 'EQ' }] } : {},
          ),
        )
      ).Namespaces?.map((ns) => [ns.Name, ns.ResourceOwner]);

    expect(await list()).toEqual([
      ['own.local', SELF],
      ['shared.local', OWNER],
    ]);
    expect(await list('SELF')).toEqual([['own.local', SELF]]);
    expect(await list('OTHER_ACCOUNTS')).toEqual([['shared.local', OWNER]]);
    expect(shared.ResourceOwner).toBe(OWNER);
  });

  it('refuses a RESOURCE_OWNER value other than SELF and OTHER_ACCOUNTS', async () => {
    const error = await rejectionOf(
      h.cloudMap.send(
        new ListNamespacesCommand({ Filters: [{ Name: 'RESOURCE_OWNER', Values: [SELF], Condition: 'EQ' }] }),
      ),
    );
    expect(error.name).toBe('InvalidInput');
  });

  it('may bear the name of an own namespace: names are unique per account', async () => {
    await h.cloudMap.send(new CreateHttpNamespaceCommand({ Name: 'shared.local' }));

    expect(() => share()).not.toThrow();
  });

  it('takes a service created by the consumer through the namespace ARN: owner in the ARN and ResourceOwner, consumer in CreatedByAccount', async () => {
    const shared = share();

    const service = await sharedService(shared.Arn);

    expect(service.arn).toBe(`arn:aws:servicediscovery:us-east-1:${OWNER}:service/${service.id}`);
    const { Service } = await h.cloudMap.send(new GetServiceCommand({ Id: service.arn }));
    expect(Service).toMatchObject({ Name: 'api', ResourceOwner: OWNER, CreatedByAccount: SELF });
  });

  it('does not take a service by the namespace id alone', async () => {
    const shared = share();

    const error = await rejectionOf(h.cloudMap.send(new CreateServiceCommand({ Name: 'api', NamespaceId: shared.Id })));
    expect(error.name).toBe('NamespaceNotFound');
  });

  it("lists its services by the namespace ARN (not its id), with the owner's services too and RESOURCE_OWNER", async () => {
    const shared = share('shared.local', ['owned-by-owner']);
    await sharedService(shared.Arn, 'api');
    const { Id: ownId } = await h.cloudMap
      .send(new CreateHttpNamespaceCommand({ Name: 'own.local' }))
      .then(
        async ({ OperationId }) => (await h.cloudMap.send(new GetOperationCommand({ OperationId }))).Operation ?? {},
      )
      .then((op) => ({ Id: op.Targets?.NAMESPACE ?? '' }));
    await h.cloudMap.send(new CreateServiceCommand({ Name: 'mine', NamespaceId: ownId }));
    const names = async (filters: { Name: 'NAMESPACE_ID' | 'RESOURCE_OWNER'; Values: string[] }[]) =>
      (
        await h.cloudMap.send(new ListServicesCommand({ Filters: filters.map((f) => ({ ...f, Condition: 'EQ' })) }))
      ).Services?.map((s) => [s.Name, s.ResourceOwner, s.CreatedByAccount]);

    expect(await names([{ Name: 'NAMESPACE_ID', Values: [shared.Arn] }])).toEqual([
      ['owned-by-owner', OWNER, OWNER],
      ['api', OWNER, SELF],
    ]);
    expect(await names([{ Name: 'NAMESPACE_ID', Values: [shared.Id] }])).toEqual([]);
    expect(await names([{ Name: 'RESOURCE_OWNER', Values: ['OTHER_ACCOUNTS'] }])).toEqual([
      ['owned-by-owner', OWNER, OWNER],
      ['api', OWNER, SELF],
    ]);
    expect(await names([{ Name: 'RESOURCE_OWNER', Values: ['SELF'] }])).toEqual([['mine', SELF, SELF]]);
  });

  it('registers an instance through the service ARN; its id alone is ServiceNotFound', async () => {
    const service = await sharedService(share().Arn);

    const error = await rejectionOf(registerIn(service.id));
    expect(error.name).toBe('ServiceNotFound');
    await registerIn(service.arn);
    const got = await h.cloudMap.send(new GetInstanceCommand({ ServiceId: service.arn, InstanceId: 'i-1' }));
    expect(got.ResourceOwner).toBe(OWNER);
    expect(got.Instance?.CreatedByAccount).toBe(SELF);
    const listed = await h.cloudMap.send(new ListInstancesCommand({ ServiceId: service.arn }));
    expect(listed.ResourceOwner).toBe(OWNER);
  });

  it('follows the operation of a write only with the OwnerAccount, which the operation carries', async () => {
    const service = await sharedService(share().Arn);
    const operationId = await registerIn(service.arn);

    const error = await rejectionOf(h.cloudMap.send(new GetOperationCommand({ OperationId: operationId })));
    expect(error.name).toBe('OperationNotFound');
    const { Operation } = await h.cloudMap.send(
      new GetOperationCommand({ OperationId: operationId, OwnerAccount: OWNER }),
    );
    expect(Operation).toMatchObject({ Status: 'SUCCESS', OwnerAccount: OWNER });
  });

  it('discovers its instances only with OwnerAccount: without it, or with another account, NamespaceNotFound', async () => {
    const service = await sharedService(share().Arn);
    await registerIn(service.arn);
    const discover = (OwnerAccount?: string) =>
      h.cloudMap.send(
        new DiscoverInstancesCommand({
          NamespaceName: 'shared.local',
          ServiceName: 'api',
          ...(OwnerAccount ? { OwnerAccount } : {}),
        }),
      );

    expect((await rejectionOf(discover())).name).toBe('NamespaceNotFound');
    expect((await rejectionOf(discover('444455556666'))).name).toBe('NamespaceNotFound');
    const found = await discover(OWNER);
    expect(found.Instances?.map((i) => i.InstanceId)).toEqual(['i-1']);
    const revision = await h.cloudMap.send(
      new DiscoverInstancesRevisionCommand({ NamespaceName: 'shared.local', ServiceName: 'api', OwnerAccount: OWNER }),
    );
    expect(revision.InstancesRevision).toBe(found.InstancesRevision);
    const noOwner = await rejectionOf(
      h.cloudMap.send(new DiscoverInstancesRevisionCommand({ NamespaceName: 'shared.local', ServiceName: 'api' })),
    );
    expect(noOwner.name).toBe('NamespaceNotFound');
  });

  it('keeps an own namespace of the same name apart: no OwnerAccount (or its own) finds the own one', async () => {
    const { OperationId } = await h.cloudMap.send(new CreateHttpNamespaceCommand({ Name: 'shared.local' }));
    const ownId = (await h.cloudMap.send(new GetOperationCommand({ OperationId }))).Operation?.Targets?.NAMESPACE;
    const own = await h.cloudMap.send(new CreateServiceCommand({ Name: 'api', NamespaceId: ownId }));
    await registerIn(own.Service?.Id ?? '', 'own-1');
    const service = await sharedService(share().Arn);
    await registerIn(service.arn, 'shared-1');
    const ids = async (OwnerAccount?: string) =>
      (
        await h.cloudMap.send(
          new DiscoverInstancesCommand({ NamespaceName: 'shared.local', ServiceName: 'api', OwnerAccount }),
        )
      ).Instances?.map((i) => i.InstanceId);

    expect(await ids()).toEqual(['own-1']);
    expect(await ids(SELF)).toEqual(['own-1']);
    expect(await ids(OWNER)).toEqual(['shared-1']);
  });

  it('refuses an OwnerAccount that is not 12 digits (InvalidInput)', async () => {
    const error = await rejectionOf(
      h.cloudMap.send(new DiscoverInstancesCommand({ NamespaceName: 'x.local', ServiceName: 'a', OwnerAccount: '12' })),
    );
    expect(error.name).toBe('InvalidInput');
  });

  it('cannot be deleted by the consumer (the guide names no such right: refused, the safe side)', async () => {
    const shared = share();

    const error = await rejectionOf(h.cloudMap.send(new DeleteNamespaceCommand({ Id: shared.Arn })));
    expect(error.name).toBe('AccessDeniedException');
  });

  it('is made and listed by the /_local/shared-namespaces knob as well', async () => {
    const made = h.emulator.knob('shared-namespaces', { ownerAccount: OWNER, name: 'knob.local' }) as {
      shared: { Arn: string };
    };

    expect(made.shared.Arn).toContain(`:${OWNER}:namespace/ns-`);
    expect(h.emulator.knob('shared-namespaces')).toEqual({
      namespaces: [expect.objectContaining({ Name: 'knob.local', ResourceOwner: OWNER, Arn: made.shared.Arn })],
    });
    expect(() => h.emulator.knob('shared-namespaces', { ownerAccount: SELF, name: 'x.local' })).toThrow(RangeError);
  });
});
