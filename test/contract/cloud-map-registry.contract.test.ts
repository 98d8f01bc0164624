import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DeleteNamespaceCommand,
  DeleteServiceCommand,
  GetNamespaceCommand,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { createServiceDiscoveryClient } from '../../lib/aws-clients';
import { CloudMapRegistry } from '../../lib/cloud-map/cloud-map-registry';
import { NamespaceNotFoundError, ServiceNotManagedError } from '../../lib/errors';
import type { NamespaceInfo, ServiceInfo } from '../../lib/ports';
import { createEmulator, type Emulator } from '../../local/emulator';

/**
 * The Cloud Map adapter's contract: the same tests run against any AWS-compatible endpoint named by
 * TEST_CLOUDMAP_ENDPOINT (a sandbox account, another emulator), with the standard AWS credentials and region,
 * or, without it, against the built-in emulator twice: with AWS's ids (`ns-` + 16) and with ids of another
 * length (`ns-` + 20, as other endpoints hand out), so that nothing here depends on an id format. They create
 * one HTTP namespace and clean up after themselves.
 */
const external = process.env.TEST_CLOUDMAP_ENDPOINT;
const OWNER = 'ecs-cloudmap-registrar-contract';
const endpoints: { label: string; idLength?: number }[] = external
  ? [{ label: external }]
  : [{ label: 'built-in emulator' }, { label: 'built-in emulator, 20-character ids', idLength: 20 }];

describe.each(endpoints)('CloudMapRegistry contract ($label)', ({ idLength }) => {
  const run = `${Date.now().toString(36)}${idLength ?? ''}`;
  let emulator: Emulator | undefined;
  let client: ServiceDiscoveryClient;
  let registry: CloudMapRegistry;
  let namespace: NamespaceInfo;
  const created: ServiceInfo[] = [];

  beforeAll(async () => {
    if (!external) emulator = await createEmulator({ port: 0, timeScale: 0.001, cloudMapIdLength: idLength });
    const endpoint = external ?? emulator?.url ?? '';
    client = createServiceDiscoveryClient({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1' });
    registry = new CloudMapRegistry(client, { ownerId: OWNER, operationTimeoutMs: 120_000 });
    const out = await client.send(new CreateHttpNamespaceCommand({ Name: `contract-${run}.local` }));
    await registry.waitForOperation(out.OperationId);
    namespace = await registry.resolveNamespace(`contract-${run}.local`);
  }, 180_000);

  afterAll(async () => {
    for (const service of created) {
      for (const instance of await registry.listInstances(service)) await registry.deregister(service, instance.id);
      await client.send(new DeleteServiceCommand({ Id: service.id })).catch(() => undefined);
    }
    if (namespace) {
      const out = await client.send(new DeleteNamespaceCommand({ Id: namespace.id })).catch(() => undefined);
      await registry.waitForOperation(out?.OperationId).catch(() => undefined);
    }
    client.destroy();
    await emulator?.close();
  }, 180_000);

  async function service(name: string): Promise<ServiceInfo> {
    const info = await registry.ensureService(namespace, { name, dnsRecords: 'A', ttlSeconds: 10 });
    if (!created.some((s) => s.id === info.id)) created.push(info);
    return info;
  }

  it('resolves the namespace by name, by id and by ARN, whatever the length of its id', async () => {
    expect(namespace).toMatchObject({ name: `contract-${run}.local`, type: 'HTTP' });
    const fresh = new CloudMapRegistry(client, { ownerId: 'x', operationTimeoutMs: 60_000 });
    await expect(fresh.resolveNamespace(namespace.id)).resolves.toMatchObject({ id: namespace.id, type: 'HTTP' });
    // GetNamespace `Id`: "The ID or Amazon Resource Name (ARN) of the namespace",
    // https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html
    const { Namespace } = await client.send(new GetNamespaceCommand({ Id: namespace.id }));
    await expect(fresh.resolveNamespace(Namespace?.Arn ?? '')).resolves.toMatchObject({ id: namespace.id });
  });

  it('reports an unknown namespace as NamespaceNotFoundError', async () => {
    await expect(registry.resolveNamespace(`nope-${run}.local`)).rejects.toBeInstanceOf(NamespaceNotFoundError);
    await expect(registry.resolveNamespace('ns-0000000000000000')).rejects.toBeInstanceOf(NamespaceNotFoundError);
  });

  it('creates a missing service once, even when callers race, and finds it afterwards', async () => {
    const racers = [0, 1, 2].map(() => new CloudMapRegistry(client, { ownerId: OWNER, operationTimeoutMs: 60_000 }));
    const spec = { name: 'race', dnsRecords: 'A' as const, ttlSeconds: 10 };
    const ids = await Promise.all(racers.map((r) => r.ensureService(namespace, spec)));
    for (const info of ids) if (!created.some((s) => s.id === info.id)) created.push(info);
    expect(new Set(ids.map((i) => i.id)).size).toBe(1);
    await expect(registry.findService(namespace, 'race')).resolves.toMatchObject({ id: ids[0]?.id });
    expect((await registry.listServices(namespace)).map((s) => s.name)).toContain('race');
  });

  it('refuses a service of the name that another tool created, and knows its own', async () => {
    // As ECS service registries or Service Connect create theirs: no managed-by tag.
    const { Service } = await client.send(
      new CreateServiceCommand({ Name: 'theirs', NamespaceId: namespace.id, CreatorRequestId: `theirs-${run}` }),
    );
    const theirs = { id: Service?.Id ?? '', name: 'theirs', namespaceId: namespace.id };
    created.push(theirs);
    await expect(
      registry.ensureService(namespace, { name: 'theirs', dnsRecords: 'A', ttlSeconds: 10 }),
    ).rejects.toBeInstanceOf(ServiceNotManagedError);
    await expect(registry.isManaged(theirs)).resolves.toBe(false);
    await expect(registry.isManaged(await service('api'))).resolves.toBe(true);
  });

  it('registers an instance, waits for the operation, and reads it back', async () => {
    const api = await service('api');
    await registry.register(api, 'task-1', { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '8080', team: 'kudos' });
    await expect(registry.getInstance(api, 'task-1')).resolves.toEqual({
      id: 'task-1',
      attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '8080', team: 'kudos' },
    });
    expect((await registry.listInstances(api)).map((i) => i.id)).toEqual(['task-1']);
  });

  it('updates an instance in place when the same id registers again', async () => {
    const api = await service('api');
    await registry.register(api, 'task-1', { AWS_INSTANCE_IPV4: '10.0.0.2', AWS_INSTANCE_PORT: '8080' });
    await expect(registry.getInstance(api, 'task-1')).resolves.toMatchObject({
      attributes: { AWS_INSTANCE_IPV4: '10.0.0.2' },
    });
    expect(await registry.listInstances(api)).toHaveLength(1);
  });

  it('registers without waiting: answers the operation, which reads pending until it succeeds', async () => {
    const api = await service('api');
    const operationId = await registry.register(api, 'task-9', { AWS_INSTANCE_IPV4: '10.0.0.9' }, { wait: false });
    expect(operationId).toEqual(expect.any(String));
    let state = await registry.operationState(operationId as string);
    for (let polls = 0; state === 'pending' && polls < 600; polls += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await registry.operationState(operationId as string);
    }
    expect(state).toBe('success');
    await expect(registry.getInstance(api, 'task-9')).resolves.toMatchObject({ id: 'task-9' });
    await registry.deregister(api, 'task-9');
  });

  it('sets and reads custom health', async () => {
    const api = await service('api');
    await registry.setHealth(api, 'task-1', 'UNHEALTHY');
    // AWS applies a custom health update asynchronously: wait for it where it is real.
    for (let i = 0; i < 60 && (await registry.getHealth(api))['task-1'] !== 'UNHEALTHY'; i += 1) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    await expect(registry.getHealth(api)).resolves.toMatchObject({ 'task-1': 'UNHEALTHY' });
  }, 90_000);

  it('surfaces an attribute Cloud Map refuses as InvalidInput', async () => {
    const api = await service('api');
    await expect(
      registry.register(api, 'task-2', { AWS_INSTANCE_IPV4: '10.0.0.3', 'bad key': 'v' }),
    ).rejects.toMatchObject({
      name: 'InvalidInput',
    });
  });

  it('deregisters, and treats an instance that is already gone as success', async () => {
    const api = await service('api');
    await registry.deregister(api, 'task-1');
    await expect(registry.getInstance(api, 'task-1')).resolves.toBeUndefined();
    await expect(registry.deregister(api, 'task-1')).resolves.toBeUndefined();
  });

  // RegisterInstance `CreatorRequestId`: a repeated id is the first request retried, answered with its operation
  // and not executed again (https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html).
  it('registers an instance again after its deregistration, with the same attributes', async () => {
    const api = await service('api');
    const attributes = { AWS_INSTANCE_IPV4: '10.0.0.4', AWS_INSTANCE_PORT: '8080' };
    await registry.register(api, 'task-3', attributes);
    await registry.deregister(api, 'task-3');
    await registry.register(api, 'task-3', attributes);
    await expect(registry.getInstance(api, 'task-3')).resolves.toEqual({ id: 'task-3', attributes });
  });
});
