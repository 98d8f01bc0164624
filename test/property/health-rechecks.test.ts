import fc from 'fast-check';
import type { DescribedTask, RecheckQueue } from '../../lib/ports';
import { handleTaskMessages, type TaskQueueDeps } from '../../lib/task-queue';
import { MemoryVersionStore } from '../../support/memory-adapters';
import {
  eventAt,
  lifecyclesArbitrary,
  TASK_DEFINITION,
  TASK_DEFINITION_ARN,
  type TaskLifecycle,
} from '../helpers/event-generators';
import {
  type FailurePoint,
  failuresArbitrary,
  groundTruth,
  registered,
  SETTINGS,
  scheduledDeps,
} from '../helpers/interleaving';

/**
 * The new path for health-checked tasks (lib/task-queue.ts): a RUNNING event of a task ECS does not report HEALTHY
 * yet goes back on the register queue as a delayed re-check, and each re-check reads ECS again, as often as it
 * takes. Under every interleaving of ECS's moves, duplicated and reordered events, and re-checks delivered at any
 * point (the queue's delay is only a lower bound: SQS gives no order), the ordering guarantees still hold: Cloud Map
 * ends with exactly the tasks ECS runs, a stopped task is never registered again (never resurrect), and a task
 * that keeps running is never deregistered. Registrations are not waited for: each is confirmed by a later message,
 * and Cloud Map applies it (or fails it: the event is run again) at any point in between.
 */

const seed = Number(process.env.FC_SEED ?? 20_261_129);

/** The property's task definition: its essential container has a health check, so membership waits for HEALTHY. */
const GATED = {
  ...TASK_DEFINITION,
  containers: TASK_DEFINITION.containers.map((c) => ({ ...c, hasHealthCheck: true })),
};

async function play(
  s: fc.Scheduler,
  lifecycles: TaskLifecycle[],
  healthyAfterReads: number[],
  options: {
    /** How many of the run's registrations Cloud Map fails (the first ones to settle). */
    failedOperations?: number;
    /**
     * Whether an AWS call (or a send to the queue) fails before or after it takes effect. With it, a message given
     * back to SQS is handed out again, up to 5 receives, then kept for one DLQ replay once `calm()` stopped the faults.
     */
    fail?: (label: string) => FailurePoint | undefined;
    calm?: () => void;
  } = {},
) {
  const versions = new MemoryVersionStore();
  const { deps: base, registry, ecs } = scheduledDeps(s, versions, options.fail);
  ecs.definitions.set(TASK_DEFINITION_ARN, GATED);
  // Registrations are not waited for: Cloud Map applies each at a point of the interleaving the scheduler picks, and
  // until then the instance is not seen (a leaving event in between finds nothing to remove).
  let confirmations = 0;
  let toFail = options.failedOperations ?? 0;
  let undone = 0;
  registry.operationDelay = async () => {
    await s.schedule(Promise.resolve(), 'cloud map settles a registration');
    if (toFail <= 0) return undefined;
    toFail -= 1;
    return 'fail';
  };
  // ECS reports a task HEALTHY from its n-th read on (n drawn per task): health comes at a point of the interleaving.
  const reads = new Map<string, number>();
  const describe = ecs.describeTask.bind(ecs);
  ecs.describeTask = async (cluster: string, taskArn: string): Promise<DescribedTask | undefined> => {
    const task = await describe(cluster, taskArn);
    const n = (reads.get(taskArn) ?? 0) + 1;
    reads.set(taskArn, n);
    const index = lifecycles.findIndex((l) => l.taskArn === taskArn);
    const healthy = n >= (healthyAfterReads[index % healthyAfterReads.length] ?? 1);
    return task && { ...task, healthStatus: healthy ? 'HEALTHY' : 'UNKNOWN' };
  };
  const deliveries: Promise<void>[] = [];
  const deadLetters: string[] = [];
  let redelivered = 0;
  let replayed = 0;
  let rechecks = 0;
  let messages = 0;
  const deliver = (body: string, label: string, receives = 1) =>
    deliveries.push(
      (async () => {
        await s.schedule(Promise.resolve(), label);
        messages += 1;
        const result = await handleTaskMessages([{ messageId: `m${messages}`, body }], deps);
        if (!options.fail) expect(result.batchItemFailures).toEqual([]);
        else if (result.batchItemFailures.length > 0) {
          // SQS hands the message out again after its visibility timeout; after 5 receives it is in the DLQ.
          redelivered += 1;
          if (receives < 5) deliver(body, `${label} again`, receives + 1);
          else deadLetters.push(body);
        }
        undone += result.outcomes.filter(
          (o) => !(o instanceof Error) && o.result === 'skipped' && o.message.endsWith('registration undone'),
        ).length;
      })(),
    );
  const queue: RecheckQueue = {
    async send(sent) {
      if (options.fail?.('sqs.send') === 'before') return { failed: sent.map((_, i) => i) };
      for (const m of sent) {
        rechecks += 1;
        if (m.body.includes('"confirm":')) confirmations += 1;
        deliver(m.body, `recheck #${rechecks}`);
      }
      return { failed: [] };
    },
  };
  const deps: TaskQueueDeps = {
    ...base,
    settings: { ...SETTINGS, healthWaitMs: 3_600_000, healthPollMs: 1000 },
    recheck: queue,
    // The clock stands still: every re-check is still due.
    now: () => Date.parse('2023-11-24T11:09:31Z'),
  };
  const timelines = lifecycles.map(async (lifecycle) => {
    for (const step of lifecycle.steps) {
      const label = `${lifecycle.taskId.slice(0, 2)} ${step.lastStatus}/${step.desiredStatus} v${step.version}`;
      await s.schedule(Promise.resolve(), `ecs ${label}`);
      ecs.move(lifecycle, step);
      const event = { ...eventAt(lifecycle, step), time: '2023-11-24T11:09:30Z' };
      for (let copy = 0; copy < step.copies; copy += 1) deliver(JSON.stringify(event), label);
    }
  });
  await s.waitFor(Promise.all(timelines));
  // Deliveries add re-checks while they run: wait until none is left.
  const settle = async () => {
    for (let settled = 0; settled < deliveries.length; ) {
      const batch = deliveries.slice(settled);
      settled = deliveries.length;
      await s.waitFor(Promise.all(batch));
    }
  };
  await settle();
  // One replay of the DLQ (registrar replay-dlq) once the faults are over.
  options.calm?.();
  for (const body of deadLetters.splice(0)) {
    replayed += 1;
    deliver(body, 'replayed from the DLQ');
  }
  await settle();
  return { registry, rechecks, confirmations, undone, redelivered, replayed };
}

describe('health-checked tasks re-checked through the register queue (property)', () => {
  it('ends with Cloud Map holding exactly the tasks ECS runs, never registering a stopped task again', async () => {
    let anyRecheck = false;
    let anyConfirmation = false;
    let anyUndone = false;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        lifecyclesArbitrary(4),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 2 }),
        async (s, lifecycles, healthyAfter, failedOperations) => {
          const { registry, rechecks, confirmations, undone } = await play(s, lifecycles, healthyAfter, {
            failedOperations,
          });
          anyRecheck ||= rechecks > 0;
          anyConfirmation ||= confirmations > 0;
          anyUndone ||= undone > 0;
          expect(registered(registry)).toEqual(groundTruth(lifecycles));
          const running = new Set(groundTruth(lifecycles));
          const removed = registry.writes.filter((w) => w.startsWith('deregister ')).map((w) => w.slice(11));
          expect(removed.filter((key) => running.has(key))).toEqual([]);
        },
      ),
      { numRuns: 300, seed },
    );
    // The runs went through the new path, not around it.
    expect(anyRecheck).toBe(true);
    expect(anyConfirmation).toBe(true);
    // Some runs had a leaving event while a registration was pending, which only its confirmation could undo.
    expect(anyUndone).toBe(true);
  });
});

describe('health-checked tasks through the register queue when AWS calls fail (property)', () => {
  it('ends with Cloud Map holding exactly the tasks ECS runs after SQS redeliveries and one DLQ replay', async () => {
    let anyRedelivered = false;
    let anyUndone = false;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        lifecyclesArbitrary(3),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 1 }),
        failuresArbitrary,
        async (s, lifecycles, healthyAfter, failedOperations, failures) => {
          let call = 0;
          let faulty = true;
          const { registry, redelivered, undone } = await play(s, lifecycles, healthyAfter, {
            failedOperations,
            fail: () => (faulty ? failures[call++ % failures.length] : undefined),
            calm: () => {
              faulty = false;
            },
          });
          expect(registered(registry)).toEqual(groundTruth(lifecycles));
          anyRedelivered ||= redelivered > 0;
          anyUndone ||= undone > 0;
        },
      ),
      { numRuns: 200, seed: seed + 1 },
    );
    // The faults reached SQS's own retry, and confirmations still undid registrations of leaving tasks.
    expect(anyRedelivered).toBe(true);
    expect(anyUndone).toBe(true);
  });
});
