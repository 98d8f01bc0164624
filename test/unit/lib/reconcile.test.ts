import { OperationFailedError, ServiceNotManagedError } from '../../../lib/errors';
import { logger } from '../../../lib/observability';
import { ATTR } from '../../../lib/plan';
import { reconcile } from '../../../lib/reconcile';
import type { RegistrarDeps } from '../../../lib/registrar';
import { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } from '../../../support/memory-adapters';
import { TASK_DEFINITION, TASK_DEFINITION_ARN, type TaskOwner } from '../../helpers/event-generators';
import { awsError, listedTask, OWNER_ID, seedOwned, taskArnOf, taskIdOf } from '../../helpers/listed-tasks';

const OWNER = OWNER_ID;

function setup() {
  const registry = new MemoryRegistry();
  const tasks = new MemoryTaskSource();
  const versions = new MemoryVersionStore();
  tasks.definitions.set(TASK_DEFINITION_ARN, TASK_DEFINITION);
  const deps: RegistrarDeps = {
    registry,
    tasks,
    versions,
    settings: { namespace: 'kudos.local', defaultPort: 80, dnsRecords: 'A', ownerId: OWNER, dnsTtl: 10 },
  };
  return { registry, tasks, versions, deps };
}

const taskId = taskIdOf;
const taskArn = taskArnOf;
const running = listedTask;

const api: TaskOwner = { kind: 'service', service: 'api' };
const web: TaskOwner = { kind: 'service', service: 'web' };

describe('reconcile: each item fails alone', () => {
  it('registers the other tasks and makes every deletion when one task is denied, and counts the failure by reason', async () => {
    const { registry, tasks, deps } = setup();
    tasks.running.set('dev-ecs-public', [running(1, api), running(2, api), running(3, api)]);
    seedOwned(registry, 'api', 8);
    seedOwned(registry, 'api', 9);
    registry.failingInstances.set(taskId(2), awsError('AccessDeniedException'));

    const summary = await reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] });

    expect(summary).toMatchObject({
      registered: 2,
      deregistered: 2,
      failed: 1,
      failedByReason: { AccessDeniedException: 1 },
    });
    expect(registry.writes.sort()).toEqual(
      [
        `register api/${taskId(1)}`,
        `register api/${taskId(3)}`,
        `deregister api/${taskId(8)}`,
        `deregister api/${taskId(9)}`,
      ].sort(),
    );
  });

  it('retries the failed item on the next run, which succeeds once the cause is gone', async () => {
    const { registry, tasks, deps } = setup();
    tasks.running.set('dev-ecs-public', [running(1, api), running(2, api)]);
    registry.failingInstances.set(taskId(2), awsError('AccessDeniedException'));
    await expect(reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] })).resolves.toMatchObject({
      registered: 1,
      failed: 1,
    });
    registry.failingInstances.clear();
    await expect(reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] })).resolves.toMatchObject({
      registered: 1,
      unchanged: 1,
      failed: 0,
      failedByReason: {},
    });
  });

  it('counts a failed deregistration under its error code and still makes the other deletions', async () => {
    const { registry, tasks, deps } = setup();
    tasks.running.set('dev-ecs-public', [running(1, api)]);
    seedOwned(registry, 'api', 8);
    seedOwned(registry, 'api', 9);
    registry.failingInstances.set(taskId(8), new OperationFailedError('op-1', 'INTERNAL_FAILURE', 'boom'));

    await expect(reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] })).resolves.toMatchObject({
      deregistered: 1,
      failed: 1,
      failedByReason: { 'operation-failed': 1 },
    });
    expect(registry.writes).toContain(`deregister api/${taskId(9)}`);
  });

  it('logs one line per failed item naming the task, the Cloud Map service, the reason and the message', async () => {
    const { registry, tasks, deps } = setup();
    tasks.running.set('dev-ecs-public', [running(1, api), running(2, web)]);
    registry.failingInstances.set(taskId(1), awsError('AccessDeniedException', 'not authorized'));
    registry.failingInstances.set(taskId(2), awsError('ThrottlingException', 'slow down'));
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      await expect(reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] })).resolves.toMatchObject({
        failed: 2,
        failedByReason: { AccessDeniedException: 1, ThrottlingException: 1 },
      });
      expect(error).toHaveBeenCalledTimes(2);
      expect(error).toHaveBeenCalledWith(
        expect.stringContaining('not authorized'),
        expect.objectContaining({
          taskArn: taskArn(1, 'dev-ecs-public'),
          instanceId: taskId(1),
          cloudMapService: 'api',
          reason: 'AccessDeniedException',
        }),
      );
    } finally {
      error.mockRestore();
    }
  });

  it('writes and deletes nothing in a service whose instance listing failed, counts it, and carries on with the others', async () => {
    const { registry, tasks, deps } = setup();
    tasks.running.set('dev-ecs-public', [running(1, api), running(2, web)]);
    seedOwned(registry, 'api', 8);
    seedOwned(registry, 'web', 9);
    registry.failingListings.set('api', awsError('ThrottlingException'));

    await expect(reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] })).resolves.toMatchObject({
      registered: 1,
      deregistered: 1,
      failed: 1,
      failedByReason: { ThrottlingException: 1 },
    });
    expect(registry.writes.sort()).toEqual([`deregister web/${taskId(9)}`, `register web/${taskId(2)}`]);
  });

  it('counts a task whose task definition cannot be read as failed, and never deletes its instance', async () => {
    const { registry, tasks, deps } = setup();
    const odd = running(2, api);
    odd.detail = { ...odd.detail, taskDefinitionArn: `${TASK_DEFINITION_ARN}0` };
    tasks.running.set('dev-ecs-public', [running(1, api), odd]);
    seedOwned(registry, 'api', 2);
    const read = tasks.taskDefinition.bind(tasks);
    tasks.taskDefinition = async (arn) => {
      if (arn === odd.detail.taskDefinitionArn) throw awsError('AccessDeniedException');
      return read(arn);
    };

    await expect(reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] })).resolves.toMatchObject({
      registered: 1,
      deregistered: 0,
      failed: 1,
      failedByReason: { AccessDeniedException: 1 },
    });
    expect(registry.writes).toEqual([`register api/${taskId(1)}`]);
  });

  it('deletes nothing of a cluster whose task listing failed, and reconciles the other clusters', async () => {
    const { registry, tasks, deps } = setup();
    tasks.running.set('blue', [running(1, api, 'blue')]);
    seedOwned(registry, 'api', 8, 'blue');
    seedOwned(registry, 'web', 9, 'green');
    const list = tasks.listRunningTasks.bind(tasks);
    tasks.listRunningTasks = async (cluster) => {
      if (cluster === 'green') throw awsError('ServerException');
      return list(cluster);
    };

    await expect(reconcile(deps, { maxDeletes: 50, clusters: ['blue', 'green'] })).resolves.toMatchObject({
      registered: 1,
      deregistered: 1,
      failed: 1,
      failedByReason: { ServerException: 1 },
    });
    expect(registry.writes).not.toContain(`deregister web/${taskId(9)}`);
  });
});

describe('reconcile: a Cloud Map service another tool created', () => {
  it('never lists its instances, writes nothing there, and counts it once per run with one log line saying what to do', async () => {
    const { registry, tasks, deps } = setup();
    const legacy: TaskOwner = { kind: 'service', service: 'legacy' };
    registry.seed('legacy', 'someone-else', { [ATTR.ipv4]: '10.9.9.9' });
    registry.foreign.add('legacy');
    tasks.running.set('dev-ecs-public', [running(1, legacy), running(2, legacy), running(3, api)]);
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      const summary = await reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] });

      expect(summary).toMatchObject({
        registered: 1,
        failed: 0,
        skippedByReason: { 'service-not-managed': 1 },
      });
      expect(registry.listed).not.toContain('legacy');
      expect(registry.writes).toEqual([`register api/${taskId(3)}`]);
      const message = new ServiceNotManagedError('kudos.local', 'legacy', OWNER).message;
      const lines = warn.mock.calls.filter(([text]) => String(text).includes('legacy'));
      expect(lines).toHaveLength(1);
      expect(lines[0]?.[0]).toBe(message);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('reconcile: a watched cluster that was deleted', () => {
  it('skips the cluster with a warning, reconciles the others, and leaves its instances alone unless forced', async () => {
    const { registry, tasks, deps } = setup();
    tasks.running.set('live', [running(1, api, 'live')]);
    tasks.deletedClusters.add('gone');
    seedOwned(registry, 'web', 9, 'gone');
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      await expect(reconcile(deps, { maxDeletes: 50, clusters: ['live', 'gone'] })).resolves.toMatchObject({
        registered: 1,
        deregistered: 0,
        deferred: 1,
        failed: 0,
        skippedByReason: { 'cluster-not-found': 1 },
      });
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('gone'),
        expect.objectContaining({ cluster: 'gone', reason: 'cluster-not-found' }),
      );
      expect(Object.keys(await registry.listInstances({ id: '', name: 'web', namespaceId: '' }))).toHaveLength(1);

      await expect(reconcile(deps, { maxDeletes: 50, clusters: ['live', 'gone'], force: true })).resolves.toMatchObject(
        { deregistered: 1, deferred: 0, failed: 0 },
      );
      expect(registry.writes).toContain(`deregister web/${taskId(9)}`);
    } finally {
      warn.mockRestore();
    }
  });
});
