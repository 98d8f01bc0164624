import {
  CreatePrivateDnsNamespaceCommand,
  CreateServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  ListInstancesCommand,
  RegisterInstanceCommand,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

let h: Harness;
let serviceId: string;
beforeEach(async () => {
  h = await startHarness();
  const { OperationId } = await h.cloudMap.send(
    new CreatePrivateDnsNamespaceCommand({ Name: 'kudos.local', Vpc: 'vpc-local' }),
  );
  const { Operation } = await h.cloudMap.send(new GetOperationCommand({ OperationId }));
  const { Service } = await h.cloudMap.send(
    new CreateServiceCommand({
      Name: 'api',
      NamespaceId: Operation?.Targets?.NAMESPACE ?? '',
      DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 10 }] },
      HealthCheckCustomConfig: { FailureThreshold: 1 },
    }),
  );
  serviceId = Service?.Id ?? '';
});
afterEach(() => stopHarness(h));

const register = (id: string) =>
  h.cloudMap.send(
    new RegisterInstanceCommand({
      ServiceId: serviceId,
      InstanceId: id,
      Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1' },
    }),
  );

describe('the denyInstanceIds fault', () => {
  // AccessDeniedException is AWS's common error for a call IAM denies, HTTP 403
  // (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html).
  it('answers AccessDeniedException to every write naming a listed instance, and lets the others through', async () => {
    h.emulator.setFaults({ denyInstanceIds: ['poisoned'] });

    for (const call of [
      register('poisoned'),
      h.cloudMap.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'poisoned' })),
      h.cloudMap.send(
        new UpdateInstanceCustomHealthStatusCommand({
          ServiceId: serviceId,
          InstanceId: 'poisoned',
          Status: 'UNHEALTHY',
        }),
      ),
    ]) {
      const error = await rejectionOf(call);
      expect(error.name).toBe('AccessDeniedException');
      expect(error.$metadata).toMatchObject({ httpStatusCode: 403 });
    }
    await register('fine');
    await h.emulator.idle();
    const listed = await h.cloudMap.send(new ListInstancesCommand({ ServiceId: serviceId }));
    expect(listed.Instances?.map((i) => i.Id)).toEqual(['fine']);
  });

  it('is read back, combines with the rate faults, and is cleared by {}', async () => {
    expect(h.emulator.knob('faults', { throttleRate: 0.1, denyInstanceIds: ['a', 'b'] })).toEqual({
      throttleRate: 0.1,
      denyInstanceIds: ['a', 'b'],
    });
    expect(h.emulator.knob('faults')).toEqual({ throttleRate: 0.1, denyInstanceIds: ['a', 'b'] });
    h.emulator.setFaults({});
    await expect(register('a')).resolves.toMatchObject({ OperationId: expect.any(String) });
  });

  it.each([[['']], ['poisoned'], [[7]]])('refuses denyInstanceIds %j with 400', async (value) => {
    const response = await fetch(`${h.emulator.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ denyInstanceIds: value }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'denyInstanceIds is a list of instance ids' });
  });
});
