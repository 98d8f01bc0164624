import { CreateServiceCommand } from '@aws-sdk/client-ecs';
import {
  CreateServiceCommand as CreateCloudMapServiceCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
} from '@aws-sdk/client-servicediscovery';
import { logger } from '../../lib/observability';
import { fargateService } from '../../support/ecs-setup';
import { KUDOS_CLUSTER, pipelineForTests, withKudosApi } from '../helpers/pipeline-hooks';

/**
 * A Cloud Map service of the target name that this project did not create: ECS's own service registries and
 * Service Connect create theirs without the managed-by tag. The real register handler, over the real SDK, must
 * skip its tasks before writing anything, log why, and never throw (a throw is retried and ends in the DLQ).
 */
const cluster = KUDOS_CLUSTER;
const pipeline = pipelineForTests(withKudosApi);
afterEach(() => jest.restoreAllMocks());

describe('a Cloud Map service that another tool created', () => {
  it('skips its tasks with service-not-managed and a log line, writes nothing to it and never throws', async () => {
    const { cloudMap, ecs, emulator, outcomes } = pipeline;
    const namespaces = await cloudMap.send(new ListNamespacesCommand({}));
    const namespaceId = namespaces.Namespaces?.find((n) => n.Name === 'kudos.local')?.Id;
    // As ECS service registries create it: A records and custom health, tagged by ECS, not managed-by us.
    const { Service } = await cloudMap.send(
      new CreateCloudMapServiceCommand({
        Name: 'api',
        NamespaceId: namespaceId,
        DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 60 }] },
        HealthCheckCustomConfig: { FailureThreshold: 1 },
        Tags: [{ Key: 'AmazonECSManaged', Value: 'true' }],
      }),
    );
    const logged = jest.spyOn(logger, 'info');
    outcomes.length = 0;

    await ecs.send(
      new CreateServiceCommand(fargateService({ cluster, serviceName: 'api', taskDefinition: 'api', desiredCount: 2 })),
    );
    await emulator.idle();

    const skips = outcomes.filter((o) => (o as { reason?: string }).reason === 'service-not-managed');
    expect(skips.length).toBeGreaterThanOrEqual(2);
    expect(outcomes).not.toContainEqual(expect.objectContaining({ result: 'registered' }));
    // Nothing was written to their service.
    expect((await cloudMap.send(new ListInstancesCommand({ ServiceId: Service?.Id }))).Instances).toEqual([]);
    // Nothing was thrown: no Lambda retry ended in the dead-letter queue.
    expect(emulator.deadLetters()).toEqual([]);
    // One line per event says whose service it is and what to do.
    const lines = logged.mock.calls.filter(
      ([message, extra]) =>
        String(message).startsWith('skipped: ') &&
        (extra as { reason?: string } | undefined)?.reason === 'service-not-managed',
    );
    expect(lines).toHaveLength(skips.length);
    expect(String(lines[0]?.[0])).toMatch(/"api" in namespace "kudos.local" was not created by .*discovery:name/);
  });
});
