import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateServiceCommand as CreateCloudMapServiceCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  RegisterInstanceCommand,
} from '@aws-sdk/client-servicediscovery';
import { loadReconcileConfig } from '../../lib/config';
import { reconcile } from '../../lib/reconcile';
import { createRegistrarDeps } from '../../lib/registrar-runtime';
import { fargateService, registerApp } from '../../support/ecs-setup';
import { runCli } from '../helpers/cli-io';
import { pipelineForTests } from '../helpers/pipeline-hooks';

const taskDefinition = 'web';
const pipeline = pipelineForTests((p) => registerApp(p.ecs, 'web', { portMappings: [{ containerPort: 80 }] }));

const deps = () => createRegistrarDeps(loadReconcileConfig());

async function namespaceId(): Promise<string> {
  const out = await pipeline.cloudMap.send(new ListNamespacesCommand({}));
  return out.Namespaces?.find((n) => n.Name === 'kudos.local')?.Id ?? '';
}

async function serviceId(name: string): Promise<string | undefined> {
  const out = await pipeline.cloudMap.send(
    new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [await namespaceId()], Condition: 'EQ' }] }),
  );
  return out.Services?.find((s) => s.Name === name)?.Id;
}

async function instances(name: string): Promise<Record<string, Record<string, string>>> {
  const id = await serviceId(name);
  if (!id) return {};
  const out = await pipeline.cloudMap.send(new ListInstancesCommand({ ServiceId: id }));
  return Object.fromEntries((out.Instances ?? []).map((i) => [i.Id ?? '', i.Attributes ?? {}]));
}

/** Each test runs its services in a cluster of its own, so the counts of one do not leak into another. */
async function runningIds(service: string, cluster = service): Promise<string[]> {
  const arns =
    (await pipeline.ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' })))
      .taskArns ?? [];
  if (!arns.length) return [];
  const tasks = (await pipeline.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks ?? [];
  return tasks
    .filter((t) => t.lastStatus === 'RUNNING')
    .map((t) => t.taskArn?.split('/').pop() ?? '')
    .sort();
}

async function createService(name: string, desiredCount: number, cluster = name): Promise<void> {
  await pipeline.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await pipeline.ecs.send(
    new CreateServiceCommand(fargateService({ cluster, serviceName: name, taskDefinition, desiredCount })),
  );
  await pipeline.emulator.idle();
}

describe('reconcile', () => {
  it('backfills tasks that were running before the pipeline saw them', async () => {
    pipeline.emulator.setEventDelivery(false);
    await createService('backfill', 3);
    pipeline.emulator.setEventDelivery(true);
    expect(await instances('backfill')).toEqual({});
    const summary = await reconcile(deps(), { maxDeletes: 50, clusters: ['backfill'] });
    expect(summary).toMatchObject({ registered: 3, deregistered: 0 });
    expect(Object.keys(await instances('backfill')).sort()).toEqual(await runningIds('backfill'));
    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['backfill'] })).resolves.toMatchObject({
      registered: 0,
      unchanged: 3,
    });
  });

  it('removes instances whose stop events were lost, and only up to the cap', async () => {
    await createService('lost', 3);
    // Another service keeps the cluster's listing non-empty (an empty listing deletes nothing).
    await createService('keeper', 1, 'lost');
    pipeline.emulator.setEventDelivery(false);
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: 'lost', service: 'lost', desiredCount: 0 }));
    await pipeline.emulator.idle();
    pipeline.emulator.setEventDelivery(true);
    expect(Object.keys(await instances('lost'))).toHaveLength(3);
    await expect(reconcile(deps(), { maxDeletes: 1, clusters: ['lost'] })).resolves.toMatchObject({
      deregistered: 1,
      deferred: 2,
    });
    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['lost'] })).resolves.toMatchObject({
      deregistered: 2,
      deferred: 0,
    });
    expect(await instances('lost')).toEqual({});
  });

  it('fixes a wrong address and never touches an instance it does not own', async () => {
    await createService('drift', 1);
    const [taskId] = await runningIds('drift');
    const id = (await serviceId('drift')) ?? '';
    const owned = (await instances('drift'))[taskId ?? ''] ?? {};
    await pipeline.cloudMap.send(
      new RegisterInstanceCommand({
        ServiceId: id,
        InstanceId: taskId,
        Attributes: { ...owned, AWS_INSTANCE_IPV4: '10.9.9.9' },
      }),
    );
    await pipeline.cloudMap.send(
      new RegisterInstanceCommand({
        ServiceId: id,
        InstanceId: 'manual',
        Attributes: { AWS_INSTANCE_IPV4: '10.1.1.1' },
      }),
    );
    await pipeline.emulator.idle();
    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['drift'] })).resolves.toMatchObject({ updated: 1 });
    const after = await instances('drift');
    expect(after[taskId ?? '']?.AWS_INSTANCE_IPV4).toBe(owned.AWS_INSTANCE_IPV4);
    expect(after.manual).toEqual({ AWS_INSTANCE_IPV4: '10.1.1.1' });
  });

  it('deletes nothing when the task listing comes back empty while instances exist, unless forced', async () => {
    await createService('guarded', 2);
    pipeline.emulator.setEventDelivery(false);
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: 'guarded', service: 'guarded', desiredCount: 0 }));
    await pipeline.emulator.idle();
    pipeline.emulator.setEventDelivery(true);
    const before = await instances('guarded');
    expect(Object.keys(before)).toHaveLength(2);
    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['guarded'] })).resolves.toMatchObject({
      deregistered: 0,
      deferred: 2,
    });
    expect(await instances('guarded')).toEqual(before);
    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['guarded'], force: true })).resolves.toMatchObject({
      deregistered: 2,
    });
    expect(await instances('guarded')).toEqual({});
  });

  it('leaves alone the instances of clusters it does not watch', async () => {
    await createService('elsewhere', 1);
    pipeline.emulator.setEventDelivery(false);
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: 'elsewhere', service: 'elsewhere', desiredCount: 0 }));
    await pipeline.emulator.idle();
    pipeline.emulator.setEventDelivery(true);
    await reconcile(deps(), { maxDeletes: 50, clusters: ['backfill'] });
    expect(Object.keys(await instances('elsewhere'))).toHaveLength(1);
  });

  it('writes nothing in a dry run', async () => {
    pipeline.emulator.setEventDelivery(false);
    await createService('dry', 2);
    pipeline.emulator.setEventDelivery(true);
    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['dry'], dryRun: true })).resolves.toMatchObject({
      registered: 2,
      dryRun: true,
    });
    expect(await instances('dry')).toEqual({});
  });

  it('counts a task whose registration is denied as failed, registers the others and removes the stale, in one run', async () => {
    // The stale: instances of a service whose tasks stopped while events were lost.
    await createService('stale', 2, 'poison');
    pipeline.emulator.setEventDelivery(false);
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: 'poison', service: 'stale', desiredCount: 0 }));
    await createService('poison', 3);
    pipeline.emulator.setEventDelivery(true);
    const [poisoned, ...others] = await runningIds('poison');
    // An IAM policy denying writes of that one instance (the emulator's faults knob).
    pipeline.emulator.setFaults({ denyInstanceIds: [poisoned ?? ''] });
    try {
      await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['poison'] })).resolves.toMatchObject({
        registered: 2,
        deregistered: 2,
        failed: 1,
        failedByReason: { AccessDeniedException: 1 },
      });
      expect(Object.keys(await instances('poison')).sort()).toEqual(others);
      expect(await instances('stale')).toEqual({});
    } finally {
      pipeline.emulator.setFaults({});
    }
    // The next run retries it.
    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['poison'] })).resolves.toMatchObject({
      registered: 1,
      failed: 0,
    });
    expect(Object.keys(await instances('poison')).sort()).toEqual(await runningIds('poison'));
  });

  it('skips a Cloud Map service another tool created, counting it once per run, and writes nothing there', async () => {
    // Another tool (ECS service registries, Service Connect) made the service: no managed-by tag.
    await pipeline.cloudMap.send(
      new CreateCloudMapServiceCommand({ Name: 'legacy', NamespaceId: await namespaceId() }),
    );
    pipeline.emulator.setEventDelivery(false);
    await createService('legacy', 2);
    pipeline.emulator.setEventDelivery(true);
    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['legacy'] })).resolves.toMatchObject({
      registered: 0,
      failed: 0,
      skippedByReason: { 'service-not-managed': 1 },
    });
    expect(await instances('legacy')).toEqual({});
  });

  it('skips a watched cluster that was deleted, reconciles the others, and removes its instances only when forced', async () => {
    await createService('doomed', 2);
    expect(Object.keys(await instances('doomed'))).toHaveLength(2);
    // The cluster is emptied and deleted while events are lost (ECS refuses to delete it before).
    pipeline.emulator.setEventDelivery(false);
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: 'doomed', service: 'doomed', desiredCount: 0 }));
    await pipeline.ecs.send(new DeleteServiceCommand({ cluster: 'doomed', service: 'doomed' }));
    await pipeline.emulator.idle();
    await pipeline.ecs.send(new DeleteClusterCommand({ cluster: 'doomed' }));
    await createService('survivor', 1);
    pipeline.emulator.setEventDelivery(true);

    await expect(reconcile(deps(), { maxDeletes: 50, clusters: ['survivor', 'doomed'] })).resolves.toMatchObject({
      registered: 1,
      deregistered: 0,
      deferred: 2,
      failed: 0,
      skippedByReason: { 'cluster-not-found': 1 },
    });
    expect(Object.keys(await instances('doomed'))).toHaveLength(2);
    await expect(
      reconcile(deps(), { maxDeletes: 50, clusters: ['survivor', 'doomed'], force: true }),
    ).resolves.toMatchObject({ deregistered: 2, failed: 0 });
    expect(await instances('doomed')).toEqual({});
  });

  it('runs as `registrar reconcile`, ending with one JSON line', async () => {
    await pipeline.cloudMap.send(
      new CreateCloudMapServiceCommand({ Name: 'unrelated', NamespaceId: await namespaceId() }),
    );
    const { code, out, err } = await runCli(['reconcile', '--cluster', 'dry'], process.env);
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1] ?? '')).toMatchObject({ registered: 2, deregistered: 0, updated: 0 });
  });
});
