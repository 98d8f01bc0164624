import { CreateClusterCommand, DeleteClusterCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { DiscoverInstancesCommand, type HealthStatusFilter } from '@aws-sdk/client-servicediscovery';
import { loadReconcileConfig } from '../../lib/config';
import { sweepHealth } from '../../lib/health-sweep';
import { createRegistrarDeps } from '../../lib/registrar-runtime';
import { namedFargateTask, registerApp } from '../../support/ecs-setup';
import { pipelineForTests } from '../helpers/pipeline-hooks';

const cluster = 'checked';
const pipeline = pipelineForTests((p) =>
  registerApp(
    p.ecs,
    'checked',
    {
      portMappings: [{ containerPort: 8080 }],
      healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost:8080/ || exit 1'], interval: 5, retries: 3 },
    },
    cluster,
  ),
);

async function discover(healthStatus: HealthStatusFilter): Promise<string[]> {
  const out = await pipeline.cloudMap.send(
    new DiscoverInstancesCommand({ NamespaceName: 'kudos.local', ServiceName: 'checked', HealthStatus: healthStatus }),
  );
  return (out.Instances ?? []).map((i) => `${i.InstanceId}:${i.HealthStatus}`);
}

describe('health-gated membership on the local emulator', () => {
  it('registers a health-checked task once HEALTHY, and follows ECS health through the sweep', async () => {
    const { ecs, emulator, outcomes } = pipeline;
    const run = await ecs.send(new RunTaskCommand(namedFargateTask(cluster, 'checked', 'checked')));
    const taskArn = run.tasks?.[0]?.taskArn ?? '';
    const id = taskArn.split('/').pop();
    await emulator.idle();
    expect(outcomes).toContainEqual(expect.objectContaining({ result: 'registered', taskId: id }));
    await expect(discover('HEALTHY')).resolves.toEqual([`${id}:HEALTHY`]);

    const deps = createRegistrarDeps(loadReconcileConfig());
    emulator.setTaskHealth({ taskArn, cluster }, 'UNHEALTHY');
    await expect(sweepHealth(deps, [cluster], new Date())).resolves.toMatchObject({ healthChanged: 1 });
    await expect(discover('HEALTHY')).resolves.toEqual([]);
    await expect(discover('ALL')).resolves.toEqual([`${id}:UNHEALTHY`]);

    emulator.setTaskHealth({ taskArn, cluster }, 'HEALTHY');
    await expect(sweepHealth(deps, [cluster], new Date())).resolves.toMatchObject({ healthChanged: 1 });
    await expect(discover('HEALTHY')).resolves.toEqual([`${id}:HEALTHY`]);
  });

  it('skips a watched cluster that was deleted and still makes the others follow ECS health', async () => {
    const { ecs, emulator } = pipeline;
    await ecs.send(new CreateClusterCommand({ clusterName: 'deleted' }));
    await ecs.send(new DeleteClusterCommand({ cluster: 'deleted' }));
    const run = await ecs.send(new RunTaskCommand(namedFargateTask(cluster, 'checked', 'checked')));
    const taskArn = run.tasks?.[0]?.taskArn ?? '';
    await emulator.idle();
    emulator.setTaskHealth({ taskArn, cluster }, 'UNHEALTHY');

    const deps = createRegistrarDeps(loadReconcileConfig());
    await expect(sweepHealth(deps, ['deleted', cluster], new Date())).resolves.toMatchObject({
      healthChanged: 1,
      failed: 0,
      skippedByReason: { 'cluster-not-found': 1 },
    });
    await expect(discover('ALL')).resolves.toContainEqual(`${taskArn.split('/').pop()}:UNHEALTHY`);
  });
});
