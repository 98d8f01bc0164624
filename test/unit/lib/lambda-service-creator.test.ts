import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateServiceCommand,
  ListServicesCommand,
  ServiceDiscoveryClient,
  TagResourceCommand,
} from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudMapRegistry } from '../../../lib/cloud-map/cloud-map-registry';
import { LambdaServiceCreator, ServiceCreationFailedError } from '../../../lib/cloud-map/lambda-service-creator';
import { loadRegistrarConfig } from '../../../lib/config';
import { ServiceNotManagedError } from '../../../lib/errors';
import type { NamespaceInfo } from '../../../lib/ports';
import { createRegistrarDeps } from '../../../lib/registrar-runtime';

/**
 * The writers' ServiceCreator in Lambda: a synchronous Invoke of the createService function. Invoke sets
 * FunctionError ("Handled" or "Unhandled") when the function threw, timed out or ran out of memory, and the payload
 * then holds the error: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */

const lambda = mockClient(LambdaClient);
const cloudMap = mockClient(ServiceDiscoveryClient);
const namespace: NamespaceInfo = {
  id: 'ns-abcdefghijklmnop',
  name: 'kudos.local',
  type: 'DNS_PRIVATE',
  httpName: 'kudos.local',
};
const spec = { name: 'api', dnsRecords: 'A' as const, ttlSeconds: 10 };
const arn = 'arn:aws:servicediscovery:us-east-1:123456789012:service/srv-9';
/** An Invoke payload as the SDK hands it out (a Uint8Array with transformToString). */
const payload = (value: unknown) => {
  const text = JSON.stringify(value);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
};
const creator = () =>
  new LambdaServiceCreator('ecs-cloudmap-registrar-prod-createService', { ownerId: 'ecs-cloudmap-registrar' });

beforeEach(() => {
  lambda.reset();
  cloudMap.reset();
});

describe('LambdaServiceCreator', () => {
  it('invokes the createService function synchronously with the request and answers its service', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ service: { id: 'srv-9', arn, name: 'api', namespaceId: namespace.id } }),
    });

    await expect(creator().create(namespace, spec)).resolves.toEqual({
      id: 'srv-9',
      arn,
      name: 'api',
      namespaceId: namespace.id,
    });
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('ecs-cloudmap-registrar-prod-createService');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      namespaceId: namespace.id,
      name: 'api',
      dnsRecords: 'A',
      ttlSeconds: 10,
    });
  });

  it('turns a service-not-managed answer into ServiceNotManagedError (skipped, never retried)', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ error: 'service-not-managed', message: 'not ours' }),
    });

    const error = await creator()
      .create(namespace, spec)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceNotManagedError);
    expect(error).toMatchObject({ code: 'service-not-managed', namespace: 'kudos.local', service: 'api' });
  });

  it.each(['Unhandled', 'Handled'])('throws on a FunctionError (%s), so that the event is retried', async (kind) => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: kind,
      Payload: payload({ errorType: 'ThrottlingException', errorMessage: 'Rate exceeded' }),
    });

    const error = await creator()
      .create(namespace, spec)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceCreationFailedError);
    expect(error).not.toBeInstanceOf(ServiceNotManagedError);
    expect((error as Error).message).toContain('Rate exceeded');
  });

  it.each([
    ['another refusal', { error: 'namespace-not-allowed', message: 'namespace ns-x is not configured' }],
    ['a service of another name', { service: { id: 'srv-9', name: 'web', namespaceId: namespace.id } }],
    ['a service in another namespace', { service: { id: 'srv-9', name: 'api', namespaceId: 'ns-other' } }],
    ['no JSON object', 'created'],
  ])('throws on %s, so that the event is retried', async (_what, answer) => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload(answer) });

    await expect(creator().create(namespace, spec)).rejects.toBeInstanceOf(ServiceCreationFailedError);
  });

  it('rethrows a failed Invoke (throttled, denied) as it comes', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    await expect(creator().create(namespace, spec)).rejects.toMatchObject({ name: 'TooManyRequestsException' });
  });

  it('loads the Lambda SDK on the first creation only, not when built', async () => {
    const sdk = await import('@aws-sdk/client-lambda');
    const load = jest.fn(async () => sdk);
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ service: { id: 'srv-9', name: 'api', namespaceId: namespace.id } }),
    });
    const built = new LambdaServiceCreator('creator', { ownerId: 'ecs-cloudmap-registrar', load });

    expect(load).not.toHaveBeenCalled();
    await built.create(namespace, spec);
    await built.create(namespace, spec);
    expect(load).toHaveBeenCalledTimes(1);
  });
});

describe('CloudMapRegistry with the Lambda creator', () => {
  it('has a missing service created by the function and never calls CreateService or TagResource itself', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ service: { id: 'srv-9', arn, name: 'api', namespaceId: namespace.id } }),
    });
    const registry = new CloudMapRegistry(new ServiceDiscoveryClient({ region: 'us-east-1' }), {
      ownerId: 'ecs-cloudmap-registrar',
      operationTimeoutMs: 5000,
      creator: creator(),
    });

    await expect(registry.ensureService(namespace, spec)).resolves.toMatchObject({ id: 'srv-9' });
    // Created with our tag by the function: managed, without a tag read.
    await expect(registry.isManaged({ id: 'srv-9', name: 'api', namespaceId: namespace.id })).resolves.toBe(true);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(cloudMap.commandCalls(CreateServiceCommand)).toHaveLength(0);
    expect(cloudMap.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('refuses the name when the function answers service-not-managed, without creating anything itself', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ error: 'service-not-managed', message: 'not ours' }),
    });
    const registry = new CloudMapRegistry(new ServiceDiscoveryClient({ region: 'us-east-1' }), {
      ownerId: 'ecs-cloudmap-registrar',
      operationTimeoutMs: 5000,
      creator: creator(),
    });

    await expect(registry.ensureService(namespace, spec)).rejects.toBeInstanceOf(ServiceNotManagedError);
    expect(cloudMap.commandCalls(CreateServiceCommand)).toHaveLength(0);
    expect(cloudMap.commandCalls(TagResourceCommand)).toHaveLength(0);
  });
});

describe('createRegistrarDeps', () => {
  const env = { NAMESPACE: 'kudos.local', TASK_TABLE: 'tasks' };

  it('with SERVICE_CREATOR_FUNCTION, creates missing services through that function only', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ service: { id: 'srv-9', arn, name: 'api', namespaceId: namespace.id } }),
    });
    const deps = createRegistrarDeps(
      loadRegistrarConfig({ ...env, SERVICE_CREATOR_FUNCTION: 'ecs-cloudmap-registrar-prod-createService' }),
    );

    await deps.registry.ensureService(namespace, spec);

    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.FunctionName).toBe(
      'ecs-cloudmap-registrar-prod-createService',
    );
    expect(cloudMap.commandCalls(CreateServiceCommand)).toHaveLength(0);
    expect(cloudMap.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('without it (tests, the emulator, the CLI), creates them in-process with the managed-by tag', async () => {
    cloudMap.on(ListServicesCommand).resolves({ Services: [] });
    cloudMap.on(CreateServiceCommand).resolves({ Service: { Id: 'srv-9', Name: 'api', Arn: arn } });
    const deps = createRegistrarDeps(loadRegistrarConfig(env));

    await deps.registry.ensureService(namespace, spec);

    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(cloudMap.commandCalls(CreateServiceCommand)[0]?.args[0].input.Tags).toEqual([
      { Key: 'managed-by', Value: 'ecs-cloudmap-registrar' },
    ]);
  });
});
