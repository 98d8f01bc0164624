import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetNamespaceCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  NamespaceNotFound,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { NamespaceResolver } from '../../../lib/cloud-map/namespaces';
import type { LookupConfig } from '../../../lib/config';
import { lookupHandler } from './handler-under-test';
import { manualClock, testConfig, v2Event } from './helpers';
import { meta, sd } from './mocked-cloud-map';

/*
 * Lookups from a Cloud Map namespace shared with the account by another one (AWS RAM), given by its ARN.
 * - DiscoverInstances / DiscoverInstancesRevision `OwnerAccount`: "For instances associated with namespaces that are
 *   shared with your account, you must specify an OwnerAccount", the namespace's ResourceOwner.
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstancesRevision.html
 * - Namespace `ResourceOwner`: "If this isn't your account ID, it's the ID of the account that shared the namespace
 *   with your account." https://docs.aws.amazon.com/cloud-map/latest/api/API_Namespace.html
 * - GetNamespace `Id`: "For namespaces shared with your AWS account, specify the namespace ARN."
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html
 * - ServiceFilter NAMESPACE_ID: "Specify the namespace ARN for namespaces that are shared with your AWS account."
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_ServiceFilter.html
 */

const OWNER = '111122223333';
const SHARED_ID = 'ns-abcdefghijklmnop';
const SHARED_ARN = `arn:aws:servicediscovery:us-east-1:${OWNER}:namespace/${SHARED_ID}`;
const SHARED = { Id: SHARED_ID, Arn: SHARED_ARN, Name: 'shared.local', Type: 'HTTP' as const, ResourceOwner: OWNER };
// An own namespace that happens to bear the same id: only the owner tells the two apart.
const OWN = { Id: SHARED_ID, Name: 'kudos.local', Type: 'HTTP' as const, ResourceOwner: '000000000000' };

const instance = (id: string) => ({
  InstanceId: id,
  HealthStatus: 'HEALTHY' as const,
  Attributes: { AWS_INSTANCE_IPV4: '127.0.0.5', AWS_INSTANCE_PORT: '8080' },
});

function build(config: Partial<LookupConfig>) {
  const clock = manualClock();
  const handler = lookupHandler(testConfig(config), { now: clock.now });
  const lookup = async (path: string, query = '') => {
    const response = await handler(v2Event(path, query));
    return { ...response, json: response.body ? JSON.parse(response.body) : undefined };
  };
  return { lookup, clock };
}

beforeEach(() => {
  sd.reset();
  sd.on(GetNamespaceCommand, { Id: SHARED_ARN }).resolves({ Namespace: SHARED });
  sd.on(ListNamespacesCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => {
    const wanted = input.Filters?.[0]?.Values?.[0]?.toLowerCase();
    return { Namespaces: [OWN].filter((ns) => ns.Name === wanted) };
  });
  // Cloud Map finds the shared namespace only with its owner's account as OwnerAccount (NamespaceNotFound otherwise).
  sd.on(DiscoverInstancesCommand).callsFake((input: { NamespaceName: string; OwnerAccount?: string }) => {
    if (input.NamespaceName === 'shared.local' && input.OwnerAccount === OWNER) {
      return { InstancesRevision: 7, Instances: [instance('shared-1')] };
    }
    if (input.NamespaceName === 'kudos.local' && input.OwnerAccount === undefined) {
      return { InstancesRevision: 3, Instances: [instance('own-1')] };
    }
    throw new NamespaceNotFound({ message: 'no', ...meta });
  });
  sd.on(DiscoverInstancesRevisionCommand).callsFake((input: { NamespaceName: string; OwnerAccount?: string }) => {
    if (input.NamespaceName === 'shared.local' && input.OwnerAccount === OWNER) return { InstancesRevision: 7 };
    if (input.NamespaceName === 'kudos.local' && input.OwnerAccount === undefined) return { InstancesRevision: 3 };
    throw new NamespaceNotFound({ message: 'no', ...meta });
  });
});

describe('lookups from a namespace shared from another account', () => {
  it('discovers with the owner as OwnerAccount, on DiscoverInstances and on the revision checks', async () => {
    const { lookup, clock } = build({ namespace: SHARED_ARN, lookupNamespaces: ['shared.local'] });

    const first = await lookup('/services/api');
    clock.advance(1500);
    const second = await lookup('/services/api');

    expect(first.statusCode).toBe(200);
    expect(first.json.instances.map((i: { id: string }) => i.id)).toEqual(['shared-1']);
    expect(second.statusCode).toBe(200);
    expect(sd.commandCalls(DiscoverInstancesCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ NamespaceName: 'shared.local', ServiceName: 'api', OwnerAccount: OWNER }),
    ]);
    expect(sd.commandCalls(DiscoverInstancesRevisionCommand).map((c) => c.args[0].input)).toEqual([
      { NamespaceName: 'shared.local', ServiceName: 'api', OwnerAccount: OWNER },
    ]);
  });

  it('serves the shared namespace by its name too, with its owner, when it is given by ARN', async () => {
    const { lookup } = build({ namespace: SHARED_ARN, lookupNamespaces: ['shared.local'] });

    const response = await lookup('/namespaces/shared.local/services/api');

    expect(response.statusCode).toBe(200);
    expect(response.json.namespace).toBe('shared.local');
    expect(sd.commandCalls(ListNamespacesCommand)).toHaveLength(0);
    expect(sd.commandCalls(DiscoverInstancesCommand)[0]?.args[0].input.OwnerAccount).toBe(OWNER);
  });

  it('keeps the owner in every cache key: an own namespace of the same id never gets the shared answer', async () => {
    const { lookup } = build({ namespace: SHARED_ARN, lookupNamespaces: ['shared.local', 'kudos.local'] });

    const shared = await lookup('/services/api');
    const own = await lookup('/namespaces/kudos.local/services/api');
    const sharedAgain = await lookup('/services/api');

    expect(shared.json.instances.map((i: { id: string }) => i.id)).toEqual(['shared-1']);
    expect(own.json.instances.map((i: { id: string }) => i.id)).toEqual(['own-1']);
    expect(sharedAgain.json.instances.map((i: { id: string }) => i.id)).toEqual(['shared-1']);
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(2);
  });

  it('leaves the requests about an own namespace given by name as they were: no OwnerAccount', async () => {
    const { lookup } = build({ namespace: 'kudos.local' });

    expect((await lookup('/services/api')).statusCode).toBe(200);
    expect(sd.commandCalls(DiscoverInstancesCommand)[0]?.args[0].input).not.toHaveProperty('OwnerAccount');
  });

  it("lists the shared namespace's services by its ARN (NAMESPACE_ID), not by its id", async () => {
    sd.on(ListServicesCommand).resolves({ Services: [{ Id: 'srv-1', Name: 'api', InstanceCount: 1 }] });
    const { lookup } = build({ namespace: SHARED_ARN, lookupNamespaces: ['shared.local'] });

    const response = await lookup('/services');

    expect(response.statusCode).toBe(200);
    expect(sd.commandCalls(ListServicesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'NAMESPACE_ID', Values: [SHARED_ARN], Condition: 'EQ' },
    ]);
  });
});

describe('NamespaceResolver and a namespace ARN of another account', () => {
  it('resolves it with its ARN and its owner, from ResourceOwner', async () => {
    const resolver = new NamespaceResolver(new ServiceDiscoveryClient({ maxAttempts: 1 }));

    await expect(resolver.resolve(SHARED_ARN)).resolves.toEqual({
      id: SHARED_ID,
      name: 'shared.local',
      type: 'HTTP',
      httpName: 'shared.local',
      arn: SHARED_ARN,
      ownerAccount: OWNER,
    });
  });

  it("takes the owner from the ARN when Cloud Map's answer has no ResourceOwner", async () => {
    const { ResourceOwner: _none, ...withoutOwner } = SHARED;
    sd.on(GetNamespaceCommand, { Id: SHARED_ARN }).resolves({ Namespace: withoutOwner });
    const resolver = new NamespaceResolver(new ServiceDiscoveryClient({ maxAttempts: 1 }));

    await expect(resolver.resolve(SHARED_ARN)).resolves.toMatchObject({ ownerAccount: OWNER });
  });

  it('gives a namespace found by name no owner (the account’s own, as before)', async () => {
    const resolver = new NamespaceResolver(new ServiceDiscoveryClient({ maxAttempts: 1 }));

    const found = await resolver.resolve('kudos.local');

    expect(found).not.toHaveProperty('ownerAccount');
    expect(found).not.toHaveProperty('arn');
  });
});

describe('a namespace given by ARN that cannot be read', () => {
  it("does not stop the lookup's other namespaces from answering, and fails the request only where it may be meant", async () => {
    // The share was revoked, or GetNamespace is throttled: Cloud Map answers an error for the ARN.
    sd.on(GetNamespaceCommand, { Id: SHARED_ARN }).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }),
    );
    const { lookup } = build({ namespace: 'kudos.local', lookupNamespaces: [SHARED_ARN, 'kudos.local'] });

    const own = await lookup('/services/api');
    expect(own.statusCode).toBe(200);
    expect(own.json.instances.map((i: { id: string }) => i.id)).toEqual(['own-1']);
    // A name no other served namespace has may be the unreadable one's: its failure, not a 404.
    expect((await lookup('/namespaces/shared.local/services/api')).statusCode).toBe(503);
  });
});
