import { reconcile } from '../../../lib/reconcile';
import { handleTaskEvent, type RegistrarDeps } from '../../../lib/registrar';
import type { TaskDetail } from '../../../lib/task-event';
import { MemoryRegistry, MemoryVersionStore } from '../../../support/memory-adapters';
import { CLUSTER_ARN, describedAt, eventAt, type TaskLifecycle, type TaskStep } from '../../helpers/event-generators';
import { InjectedAwsError, memoryEcs, registered, SETTINGS } from '../../helpers/interleaving';

/**
 * Found by test/property/retries-after-failures.test.ts (seed 20240603, path "50"): a reconcile run registers
 * a task that ECS listed as running; the task stops while that write is in flight, and its leaving event,
 * handled in full before the write lands, finds nothing to remove and marks the task cleared. The run sees the
 * leaving mark after its write and starts the undo, which fails. Nothing retries a reconcile item but the
 * next run, and when ECS lists no task at all the empty-listing guard defers every deletion: the instance of a
 * task ECS stopped stayed registered, and every later leaving event skipped it as already deregistered.
 */

const task: TaskLifecycle = {
  taskArn: `arn:aws:ecs:eu-west-2:332499610595:task/dev-ecs-public/${'d'.repeat(32)}`,
  taskId: 'd'.repeat(32),
  ip: '10.0.0.77',
  owner: { kind: 'service', service: 'api' },
  steps: [
    { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 3, copies: 1 },
    { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 9, copies: 2 },
  ],
};
const [runningStep, stoppedStep] = task.steps as [TaskStep, TaskStep];

describe('reconcile registering a task that stops while the write is in flight, whose undo then fails', () => {
  it('removes the instance on the next run, even when ECS then lists no task at all', async () => {
    const ecs = memoryEcs();
    const registry = new MemoryRegistry();
    const versions = new MemoryVersionStore();
    const deps: RegistrarDeps = { registry, tasks: ecs, versions, settings: SETTINGS };
    // ECS lists the task as running: the first run registers it.
    ecs.tasks.set(task.taskArn, describedAt(task, runningStep));
    ecs.running.set('dev-ecs-public', [
      { detail: (eventAt(task, runningStep) as { detail: TaskDetail }).detail, tags: {} },
    ]);
    // While the run's write is in flight, the task stops and its STOPPED event is handled in full: nothing
    // is registered yet, so it removes nothing and marks the task cleared.
    const register = registry.register.bind(registry);
    registry.register = async (...args) => {
      ecs.tasks.set(task.taskArn, describedAt(task, stoppedStep));
      ecs.running.set('dev-ecs-public', []);
      await expect(handleTaskEvent(eventAt(task, stoppedStep), deps)).resolves.toMatchObject({
        result: 'deregistered',
      });
      return register(...args);
    };
    // The run sees the leaving mark after its write; its undo fails at its first call (a throttled write).
    const setCleared = versions.setCleared.bind(versions);
    let throttled = false;
    versions.setCleared = async (taskArn, cleared) => {
      if (!cleared && !throttled) {
        throttled = true;
        throw new InjectedAwsError('Rate exceeded');
      }
      return setCleared(taskArn, cleared);
    };

    await expect(reconcile(deps, { maxDeletes: 50, clusters: [CLUSTER_ARN] })).resolves.toMatchObject({ failed: 1 });
    expect(registered(registry)).toEqual([`api/${task.taskId}`]);
    // EventBridge's second copy of the STOPPED event trusts the cleared mark.
    await expect(handleTaskEvent(eventAt(task, stoppedStep), deps)).resolves.toMatchObject({
      reason: 'already-deregistered',
    });

    // The next run: ECS lists no task (the cluster is empty now), DescribeTasks says the task stopped.
    registry.register = register;
    await expect(reconcile(deps, { maxDeletes: 50, clusters: [CLUSTER_ARN] })).resolves.toMatchObject({
      deregistered: 1,
      failed: 0,
    });

    expect(registered(registry)).toEqual([]);
  });
});
