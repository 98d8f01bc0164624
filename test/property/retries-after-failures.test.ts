import fc from 'fast-check';
import { handleTaskEvent, LEAVING_OVERRULE_AFTER_MS, type RegistrarDeps } from '../../lib/registrar';
import { MemoryRegistry, MemoryVersionStore } from '../../support/memory-adapters';
import {
  describedAt,
  eventAt,
  lifecyclesArbitrary,
  type TaskLifecycle,
  type TaskStep,
} from '../helpers/event-generators';
import {
  Clock,
  failuresArbitrary,
  groundTruth,
  InjectedAwsError,
  LAG_MS,
  memoryEcs,
  playInterleaving,
  reconcileCaseArbitrary,
  registered,
  SETTINGS,
  scheduledDeps,
  settleAndReconcile,
} from '../helpers/interleaving';

/**
 * AWS calls fail (before or after taking effect) anywhere, Lambda retries each event up to three times,
 * and what still fails is replayed from the DLQ: Cloud Map must still end equal to what ECS runs. This
 * found a registration whose undo failed leaving a stale instance behind; the fix is that a RUNNING event
 * for a task ECS says is gone, or that the version store refuses as leaving, always finishes the undo.
 */

const seed = Number(process.env.FC_SEED ?? 20_240_602);

describe('ordering when AWS calls fail and Lambda retries (property)', () => {
  it('ends with Cloud Map holding exactly the tasks ECS runs after the retries and one DLQ replay', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), lifecyclesArbitrary(4), failuresArbitrary, async (s, lifecycles, failures) => {
        let call = 0;
        let faulty = true;
        const fail = () => (faulty ? failures[call++ % failures.length] : undefined);
        const { deps, registry, ecs } = scheduledDeps(s, new MemoryVersionStore(), fail);
        const { deadLetters } = await playInterleaving(s, lifecycles, ecs, deps, { attempts: 3 });
        faulty = false;
        for (const event of deadLetters) {
          await s.waitFor(handleTaskEvent(event, deps));
        }
        expect(registered(registry)).toEqual(groundTruth(lifecycles));
      }),
      { numRuns: 1000, seed },
    );
  });
});

describe('reconcile overruling leaving marks when AWS calls fail and ECS reads lag (property)', () => {
  // The model of ECS's eventual consistency and of forged leaving events is the ordering test's
  // (test/helpers/interleaving.ts, reconcileCaseArbitrary); here every call may also fail.
  it('never restores a task after its real leaving event, and ends equal to ECS after one DLQ replay and one reconcile run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), reconcileCaseArbitrary(4), failuresArbitrary, async (s, c, failures) => {
        let call = 0;
        let faulty = true;
        const fail = () => (faulty ? failures[call++ % failures.length] : undefined);
        const clock = new Clock();
        const { deps, registry, ecs, restored } = scheduledDeps(s, new MemoryVersionStore(clock.now), fail, {
          clock,
          lagMs: LAG_MS,
          lags: c.lags,
        });
        const { deadLetters } = await playInterleaving(s, c.lifecycles, ecs, deps, {
          attempts: 3,
          gapsMs: c.gapsMs,
          reconcileRuns: c.reconcileRuns,
          forged: c.forged,
        });
        faulty = false;
        for (const event of deadLetters) {
          await s.waitFor(handleTaskEvent(event, deps));
        }
        await settleAndReconcile(s, deps, clock, LEAVING_OVERRULE_AFTER_MS + LAG_MS + 1);
        expect(restored).toEqual([]);
        expect(registered(registry)).toEqual(groundTruth(c.lifecycles));
      }),
      { numRuns: 500, seed: seed + 1 },
    );
  });
});

describe('a RUNNING event whose undo failed, retried by Lambda', () => {
  it('leaves no instance behind once the retry has run', async () => {
    const task: TaskLifecycle = {
      taskArn: `arn:aws:ecs:eu-west-2:332499610595:task/dev-ecs-public/${'c'.repeat(32)}`,
      taskId: 'c'.repeat(32),
      ip: '10.0.0.99',
      owner: { kind: 'service', service: 'api' },
      steps: [
        { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 3, copies: 1 },
        { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 9, copies: 1 },
      ],
    };
    const [running, stopped] = task.steps as [TaskStep, TaskStep];
    const ecs = memoryEcs();
    ecs.tasks.set(task.taskArn, describedAt(task, running));
    const registry = new MemoryRegistry();
    const deps: RegistrarDeps = { registry, tasks: ecs, versions: new MemoryVersionStore(), settings: SETTINGS };
    // While the RUNNING handler is between its claim and its write, the task stops and the STOPPED event
    // is handled in full (nothing registered yet: nothing to remove).
    const listInstances = registry.listInstances.bind(registry);
    let raced = false;
    let failNextGet = false;
    registry.listInstances = async (service) => {
      if (!raced) {
        raced = true;
        ecs.tasks.set(task.taskArn, describedAt(task, stopped));
        await expect(handleTaskEvent(eventAt(task, stopped), deps)).resolves.toMatchObject({ result: 'deregistered' });
        failNextGet = true;
      }
      return listInstances(service);
    };
    // The RUNNING handler registers, sees the task leaving, and its undo fails (a throttled GetInstance).
    const getInstance = registry.getInstance.bind(registry);
    registry.getInstance = async (service, id) => {
      if (failNextGet) {
        failNextGet = false;
        throw new InjectedAwsError('Rate exceeded');
      }
      return getInstance(service, id);
    };
    await expect(handleTaskEvent(eventAt(task, running), deps)).rejects.toThrow(InjectedAwsError);
    expect(registered(registry)).toEqual([`api/${task.taskId}`]);

    // Lambda retries the RUNNING event: it should finish the undo.
    await handleTaskEvent(eventAt(task, running), deps);

    expect(registered(registry)).toEqual([]);
  });
});
