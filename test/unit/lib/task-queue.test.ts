import { OperationFailedError, OperationTimeoutError, RegistrationInterruptedError } from '../../../lib/errors';
import { logger, metrics } from '../../../lib/observability';
import type { DescribedTask, RecheckQueue } from '../../../lib/ports';
import { confirmRegistration } from '../../../lib/registrar';
import { QUEUE_BATCH_SIZE } from '../../../lib/settings';
import { chunks } from '../../../lib/sqs/recheck-queue';
import {
  byTask,
  CONFIRM_DELAY_SECONDS,
  EVENTS_PER_MESSAGE,
  handleTaskMessages,
  MAX_FAILURES,
  packRechecks,
  readMessage,
  recheckDelaySeconds,
  runTaskInput,
  type TaskQueueDeps,
} from '../../../lib/task-queue';
import { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } from '../../../support/memory-adapters';
import { HEALTH_CHECKED_07, loadEvent } from '../../helpers/fixtures';

/**
 * The register and deregister functions' queue work (lib/task-queue.ts): no function waits for a task's health;
 * a task not HEALTHY yet goes back on the register queue as a delayed message (SQS DelaySeconds, whole seconds up
 * to 900: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatchRequestEntry.html),
 * and each event of a batch fails alone, reported through batchItemFailures
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
 */

const TASK_ARN = 'arn:aws:ecs:eu-west-2:332499610595:task/dev-ecs-public/f8bec92bed774ee4b27711702a862de5';
const TASK_ID = 'f8bec92bed774ee4b27711702a862de5';
const TASK_DEF = 'arn:aws:ecs:eu-west-2:332499610595:task-definition/cdp-demo-test-15:1';
const EVENT_TIME = Date.parse('2024-01-01T00:00:00Z');

const gatedDefinition = HEALTH_CHECKED_07;

/** The fixture's RUNNING event of a health-checked service task, for task `id`, at EVENT_TIME. */
function runningEvent(id = TASK_ID): Record<string, unknown> {
  const event = loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json') as Record<string, unknown>;
  const arn = TASK_ARN.replace(TASK_ID, id);
  return {
    ...event,
    time: new Date(EVENT_TIME).toISOString(),
    resources: [arn],
    detail: { ...(event.detail as object), taskArn: arn },
  };
}

/** A queue that keeps what is sent, and can refuse. */
class SentQueue implements RecheckQueue {
  readonly sent: { body: string; delaySeconds: number }[] = [];
  refuse = false;
  async send(messages: { body: string; delaySeconds: number }[]) {
    if (this.refuse) return { failed: messages.map((_, i) => i) };
    this.sent.push(...messages);
    return { failed: [] };
  }
}

function setup(health: () => string) {
  const registry = new MemoryRegistry();
  const tasks = new MemoryTaskSource();
  tasks.definitions.set(TASK_DEF, gatedDefinition);
  tasks.describeTask = async (_cluster, taskArn): Promise<DescribedTask> => {
    tasks.reads += 1;
    return { taskArn, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 5, tags: {}, healthStatus: health() };
  };
  const queue = new SentQueue();
  let clock = EVENT_TIME + 1000;
  const deps: TaskQueueDeps = {
    registry,
    tasks,
    versions: new MemoryVersionStore(),
    settings: {
      namespace: 'kudos.local',
      defaultPort: 80,
      dnsRecords: 'A',
      ownerId: 'ecs-cloudmap-registrar',
      dnsTtl: 10,
      healthWaitMs: 60_000,
      healthPollMs: 1000,
    },
    now: () => clock,
    sleep: async () => {
      throw new Error('nothing on this path may sleep');
    },
    recheck: queue,
  };
  return { registry, tasks, queue, deps, advance: (ms: number) => (clock += ms) };
}

const record = (body: unknown, messageId = 'm1') => ({
  messageId,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

let quiet: jest.SpyInstance[];
beforeEach(() => {
  quiet = [
    jest.spyOn(logger, 'info').mockImplementation(() => undefined),
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined),
    jest.spyOn(logger, 'error').mockImplementation(() => undefined),
  ];
});
afterEach(() => {
  for (const spy of quiet) spy.mockRestore();
});

describe('a health-checked task that is not HEALTHY yet', () => {
  it('goes back on the register queue with the poll as its delay, and nothing is written', async () => {
    const { registry, queue, deps } = setup(() => 'UNKNOWN');
    const result = await handleTaskMessages([record(runningEvent())], deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(registry.writes).toEqual([]);
    expect(queue.sent).toHaveLength(1);
    // The poll (1 s) less the register queue's 1 s batching window, which holds the message that long.
    expect(queue.sent[0]?.delaySeconds).toBe(0);
    expect(readMessage(queue.sent[0]?.body ?? '')).toEqual({ events: [runningEvent()], failures: 0, recheck: true });
  });

  it('is registered by the re-check that finds it HEALTHY, and re-checked no more (only its confirmation follows)', async () => {
    let health = 'UNKNOWN';
    const { registry, queue, deps } = setup(() => health);
    await handleTaskMessages([record(runningEvent())], deps);
    health = 'HEALTHY';
    const recheck = queue.sent.splice(0);
    const result = await handleTaskMessages([record(recheck[0]?.body)], deps);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'registered', taskId: TASK_ID })]);
    expect(registry.writes).toEqual([`register cdp-demo-test-15/${TASK_ID}`]);
    expect(queue.sent.map((m) => readMessage(m.body))).toEqual([
      expect.objectContaining({ confirm: [expect.anything()] }),
    ]);
  });

  it('goes back on the queue without waiting for the registrations of its batch', async () => {
    const healthy = '0123456789abcdef0123456789abcdef';
    const { registry, queue, deps } = setup(() => 'UNKNOWN');
    const describe = deps.tasks.describeTask.bind(deps.tasks);
    deps.tasks.describeTask = async (cluster, taskArn) => {
      const task = await describe(cluster, taskArn);
      return task && { ...task, healthStatus: taskArn.endsWith(healthy) ? 'HEALTHY' : 'UNKNOWN' };
    };
    let release: () => void = () => undefined;
    const register = registry.register.bind(registry);
    const sentWhileRegistering: number[] = [];
    registry.register = async (...args) => {
      // A Cloud Map operation that takes its time: the pending task's re-check must already be on its way.
      await new Promise<void>((resolve) => {
        release = resolve;
        setTimeout(() => {
          sentWhileRegistering.push(queue.sent.length);
          resolve();
        }, 20);
      });
      return register(...args);
    };
    await handleTaskMessages([record(runningEvent(healthy), 'h'), record(runningEvent(), 'p')], deps);
    release();
    expect(sentWhileRegistering).toEqual([1]);
    expect(registry.writes).toEqual([`register cdp-demo-test-15/${healthy}`]);
  });

  it('is left to the health sweep once healthWaitMs has passed since its RUNNING event', async () => {
    const { queue, deps, advance } = setup(() => 'UNKNOWN');
    advance(60_000);
    await handleTaskMessages([record(runningEvent())], deps);
    expect(queue.sent).toEqual([]);
  });

  it('is said once: a re-check that finds it still pending logs at debug only, counted in one metric per batch', async () => {
    const { queue, deps } = setup(() => 'UNKNOWN');
    const info = logger.info as unknown as jest.SpyInstance;
    const debug = jest.spyOn(logger, 'debug').mockImplementation(() => undefined);
    const added = jest.spyOn(metrics, 'addMetric');
    const single = jest.spyOn(metrics, 'singleMetric');
    try {
      const ids = ['0'.repeat(32), '1'.repeat(32)];
      await handleTaskMessages(
        ids.map((id, i) => record(runningEvent(id), `m${i}`)),
        deps,
      );
      // The RUNNING events themselves: a line and a Skipped metric each.
      expect(info.mock.calls.filter(([line]) => String(line).startsWith('skipped:'))).toHaveLength(2);
      expect(single).toHaveBeenCalledTimes(2);
      info.mockClear();
      single.mockClear();
      added.mockClear();
      const rechecks = queue.sent.splice(0);
      await handleTaskMessages(
        rechecks.map((m, i) => record(m.body, `r${i}`)),
        deps,
      );
      expect(info.mock.calls.map(([line]) => String(line))).toEqual(['re-check(s) sent: 1 message(s)']);
      expect(single).not.toHaveBeenCalled();
      expect(debug.mock.calls.filter(([line]) => String(line).startsWith('still pending:'))).toHaveLength(2);
      expect(added.mock.calls.filter(([name]) => name === 'HealthRechecks')).toEqual([
        ['HealthRechecks', expect.anything(), 2],
      ]);
      // Still re-checked.
      expect(queue.sent).toHaveLength(1);
    } finally {
      debug.mockRestore();
      added.mockRestore();
      single.mockRestore();
    }
  });

  it('says so when its last re-check, healthWaitMs after its RUNNING event, leaves it to the health sweep', async () => {
    const { queue, deps, advance } = setup(() => 'UNKNOWN');
    const info = logger.info as unknown as jest.SpyInstance;
    await handleTaskMessages([record(runningEvent())], deps);
    const [recheck] = queue.sent.splice(0);
    advance(60_000);
    info.mockClear();
    const added = jest.spyOn(metrics, 'addMetric');
    const single = jest.spyOn(metrics, 'singleMetric');
    try {
      await handleTaskMessages([record(recheck?.body)], deps);
      expect(queue.sent).toEqual([]);
      expect(info.mock.calls.map(([line]) => String(line))).toEqual([
        `task ${TASK_ID} still not HEALTHY after HEALTH_WAIT_MS: left to the health sweep`,
      ]);
      expect(single).not.toHaveBeenCalled();
      expect(added.mock.calls.filter(([name]) => name === 'HealthRechecks')).toEqual([
        ['HealthRechecks', expect.anything(), 1],
      ]);
    } finally {
      added.mockRestore();
      single.mockRestore();
    }
  });

  it('is recorded as any event when it is no re-check of ours: a RUNNING event already past healthWaitMs, a retry after a failure, a replay', async () => {
    const { queue, deps, advance } = setup(() => 'UNKNOWN');
    const info = logger.info as unknown as jest.SpyInstance;
    const single = jest.spyOn(metrics, 'singleMetric');
    const skippedLines = () => info.mock.calls.map(([line]) => String(line)).filter((l) => l.startsWith('skipped:'));
    try {
      // A RUNNING event that arrives after the wait: its skip is said, and nothing about the health sweep.
      advance(60_000);
      await handleTaskMessages([record(runningEvent())], deps);
      expect(skippedLines()).toHaveLength(1);
      expect(info.mock.calls.some(([line]) => String(line).includes('left to the health sweep'))).toBe(false);
      expect(single).toHaveBeenCalledTimes(1);
      advance(-60_000);
      // The retry of an event that failed: its first outcome after the failure is said.
      info.mockClear();
      single.mockClear();
      await handleTaskMessages([record({ recheck: { failures: 1 }, events: [runningEvent()] })], deps);
      expect(skippedLines()).toHaveLength(1);
      expect(single).toHaveBeenCalledTimes(1);
      // An operator's replay of a re-check (registrar replay-dlq): said too.
      queue.sent.splice(0);
      info.mockClear();
      single.mockClear();
      await runTaskInput({ recheck: { failures: 0 }, events: [runningEvent()] }, deps);
      expect(skippedLines()).toHaveLength(1);
      expect(single).toHaveBeenCalledTimes(1);
    } finally {
      single.mockRestore();
    }
  });

  it('is neither registered nor re-checked when ECS reports it UNHEALTHY', async () => {
    const { registry, queue, deps } = setup(() => 'UNHEALTHY');
    const result = await handleTaskMessages([record(runningEvent())], deps);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'skipped', reason: 'unhealthy' })]);
    expect(registry.writes).toEqual([]);
    expect(queue.sent).toEqual([]);
  });

  it('waits the whole poll when its batch came full: the window, which closes once 10 messages wait, held nothing', async () => {
    const { queue, deps } = setup(() => 'UNKNOWN');
    const ids = Array.from({ length: QUEUE_BATCH_SIZE }, (_, i) => String(i).repeat(32));
    await handleTaskMessages(
      ids.map((id, i) => record(runningEvent(id), `m${i}`)),
      deps,
    );
    // Without it a busy register queue brought every pending task round as fast as the function took batches
    // (about every 0.25 s in the burst benchmark, 4 ECS reads a second per task instead of 1).
    expect(queue.sent.map((m) => m.delaySeconds)).toEqual([1]);
    await handleTaskMessages(
      ids.slice(1).map((id, i) => record(runningEvent(id), `n${i}`)),
      deps,
    );
    expect(queue.sent.map((m) => m.delaySeconds)).toEqual([1, 0]);
  });

  it('is re-checked together with the others of its batch: one message, one ECS read each', async () => {
    const { tasks, queue, deps } = setup(() => 'UNKNOWN');
    const ids = ['0'.repeat(32), '1'.repeat(32), '2'.repeat(32)];
    await handleTaskMessages(
      ids.map((id, i) => record(runningEvent(id), `m${i}`)),
      deps,
    );
    expect(tasks.reads).toBe(3);
    expect(queue.sent).toHaveLength(1);
    expect((readMessage(queue.sent[0]?.body ?? '') as { events: unknown[] }).events).toHaveLength(3);
  });
});

describe('each event of a batch fails alone', () => {
  const denied = () => Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });

  it('re-sends a failed event on its own after 10 s, and the others of the batch are done', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    const other = '0123456789abcdef0123456789abcdef';
    registry.failingInstances.set(TASK_ID, denied());
    const result = await handleTaskMessages([record(runningEvent(), 'bad'), record(runningEvent(other), 'good')], deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(registry.writes).toContain(`register cdp-demo-test-15/${other}`);
    const resent = queue.sent.filter((m) => !('confirm' in readMessage(m.body)));
    expect(resent).toHaveLength(1);
    expect(resent[0]?.delaySeconds).toBe(10);
    expect(readMessage(resent[0]?.body ?? '')).toEqual({ events: [runningEvent()], failures: 1, recheck: true });
  });

  it(`gives the message back to SQS (then its DLQ) once an event has failed ${MAX_FAILURES} times`, async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    registry.failingInstances.set(TASK_ID, denied());
    const body = { recheck: { failures: MAX_FAILURES - 1 }, events: [runningEvent()] };
    const result = await handleTaskMessages([record(body, 'tired')], deps);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'tired' }]);
    expect(queue.sent).toEqual([]);
  });

  it('gives a message back when its re-check cannot be sent', async () => {
    const { queue, deps } = setup(() => 'UNKNOWN');
    queue.refuse = true;
    const result = await handleTaskMessages([record(runningEvent(), 'pending')], deps);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'pending' }]);
  });

  it('skips a body that is not JSON, logging why, and never hands it out again', async () => {
    const { deps } = setup(() => 'HEALTHY');
    const result = await handleTaskMessages([record('{not json', 'junk')], deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(logger.warn).toHaveBeenCalledWith(
      'skipped: message junk: the message body is not JSON',
      expect.objectContaining({ reason: 'unreadable-message' }),
    );
  });

  it('skips an event that is not an ECS task state change as the register function always did', async () => {
    const { deps } = setup(() => 'HEALTHY');
    const result = await handleTaskMessages([record({ hello: 'world' })], deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'skipped' })]);
  });
});

describe('a registration, confirmed by a later message instead of waiting for Cloud Map', () => {
  /** The fixture's leaving event of the task (desired STOPPED), one version after the RUNNING one. */
  function stoppingEvent(): Record<string, unknown> {
    const event = runningEvent();
    Object.assign(event.detail as Record<string, unknown>, { desiredStatus: 'STOPPED', version: 6 });
    return event;
  }

  /** Cloud Map's operations stay pending until `apply()`. */
  function pendingOperations(registry: MemoryRegistry) {
    let apply: () => void = () => undefined;
    const applied = new Promise<void>((resolve) => {
      apply = resolve;
    });
    registry.operationDelay = () => applied.then(() => undefined);
    return async () => {
      apply();
      await applied;
      await new Promise((resolve) => setImmediate(resolve));
    };
  }

  it('returns before the operation is done and sends a confirmation with its operation, CONFIRM_DELAY_SECONDS later', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    pendingOperations(registry);
    const result = await handleTaskMessages([record(runningEvent(), 'run')], deps);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'registered' })]);
    expect(registry.writes).toEqual([]);
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]?.delaySeconds).toBe(CONFIRM_DELAY_SECONDS);
    expect(readMessage(queue.sent[0]?.body ?? '')).toEqual({
      events: [runningEvent()],
      failures: 0,
      recheck: true,
      confirm: [
        {
          taskArn: TASK_ARN,
          namespace: 'kudos.local',
          since: EVENT_TIME + 1000,
          registrations: [{ service: 'cdp-demo-test-15', instanceId: TASK_ID, operationId: 'op-1' }],
        },
      ],
    });
  });

  it('asks again CONFIRM_DELAY_SECONDS later while the operation is pending, and is done once it succeeded', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    const apply = pendingOperations(registry);
    await handleTaskMessages([record(runningEvent())], deps);
    const confirmation = queue.sent.splice(0)[0]?.body ?? '';
    await handleTaskMessages([record(confirmation)], deps);
    expect(queue.sent.map((m) => m.delaySeconds)).toEqual([CONFIRM_DELAY_SECONDS]);
    expect(queue.sent[0]?.body).toBe(confirmation);
    queue.sent.splice(0);
    await apply();
    const result = await handleTaskMessages([record(confirmation)], deps);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'confirmed', taskId: TASK_ID })]);
    expect(queue.sent).toEqual([]);
    expect(registry.writes).toEqual([`register cdp-demo-test-15/${TASK_ID}`]);
  });

  it('undoes the registration when the task started to leave while its operation was pending (never resurrect)', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    const apply = pendingOperations(registry);
    await handleTaskMessages([record(runningEvent())], deps);
    const confirmation = queue.sent.splice(0)[0]?.body ?? '';
    // The leaving event comes while the registration is pending: GetInstance does not show it yet, so the leaving
    // side has nothing to remove; then Cloud Map applies the registration.
    const leaving = await handleTaskMessages([record(stoppingEvent())], deps);
    expect(leaving.outcomes).toEqual([expect.objectContaining({ result: 'deregistered' })]);
    await apply();
    expect(await registry.getInstance({ id: '', name: 'cdp-demo-test-15', namespaceId: '' }, TASK_ID)).toBeDefined();
    const result = await handleTaskMessages([record(confirmation)], deps);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'skipped', reason: 'task-leaving' })]);
    expect(await registry.getInstance({ id: '', name: 'cdp-demo-test-15', namespaceId: '' }, TASK_ID)).toBeUndefined();
    expect(await deps.versions.get(TASK_ARN)).toMatchObject({ state: 'leaving', cleared: true });
  });

  it('runs the event again at once when an operation failed, and confirms the new write', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    await handleTaskMessages([record(runningEvent())], deps);
    const confirmation = queue.sent.splice(0)[0]?.body ?? '';
    registry.operations.set('op-1', 'failed');
    registry.services.get('cdp-demo-test-15')?.instances.delete(TASK_ID);
    const result = await handleTaskMessages([record(confirmation, 'c')], deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'registered', taskId: TASK_ID })]);
    const again = readMessage(queue.sent[0]?.body ?? '');
    expect(again).toMatchObject({ failures: 0, confirm: [{ attempt: 1, registrations: [{ operationId: 'op-2' }] }] });
  });

  it(`gives the message back to SQS once the operations failed ${MAX_FAILURES} times in a row`, async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    await handleTaskMessages([record(runningEvent())], deps);
    const sent = readMessage(queue.sent.splice(0)[0]?.body ?? '') as { events: unknown[]; confirm: object[] };
    registry.operations.set('op-1', 'failed');
    const tired = {
      recheck: { failures: 0 },
      events: sent.events,
      confirm: [{ ...sent.confirm[0], attempt: MAX_FAILURES - 1 }],
    };
    const result = await handleTaskMessages([record(tired, 'tired')], deps);
    expect(result.outcomes).toEqual([expect.any(OperationFailedError)]);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'tired' }]);
    expect(queue.sent).toEqual([]);
  });

  it('keeps asking while another operation of the task is pending, even when one failed', async () => {
    const { registry, deps } = setup(() => 'HEALTHY');
    registry.operations.set('op-a', 'failed');
    registry.operations.set('op-b', 'pending');
    const confirm = {
      taskArn: TASK_ARN,
      namespace: 'kudos.local',
      since: EVENT_TIME,
      registrations: [
        { service: 'a', instanceId: TASK_ID, operationId: 'op-a' },
        { service: 'b', instanceId: TASK_ID, operationId: 'op-b' },
      ],
    };
    await expect(confirmRegistration(confirm, deps)).resolves.toBe('pending');
  });

  it('is asked again as a confirmation when it cannot be made (a throttled read), never forgetting the write', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    await handleTaskMessages([record(runningEvent())], deps);
    const confirmation = queue.sent.splice(0)[0]?.body ?? '';
    registry.operationState = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    const result = await handleTaskMessages([record(confirmation, 'c')], deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(queue.sent.map((m) => m.delaySeconds)).toEqual([10]);
    expect(readMessage(queue.sent[0]?.body ?? '')).toMatchObject({ failures: 1, confirm: [{ taskArn: TASK_ARN }] });
  });

  it('still undoes a registration whose confirmation failed once, when the task left while it was pending', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    const apply = pendingOperations(registry);
    await handleTaskMessages([record(runningEvent())], deps);
    const confirmation = queue.sent.splice(0)[0]?.body ?? '';
    // The task leaves while its registration is pending: the leaving event finds nothing to remove.
    await handleTaskMessages([record(stoppingEvent())], deps);
    // The confirmation cannot be made (GetOperation throttled): it comes back as a confirmation, not as the event,
    // whose retry would find the task leaving and the instance not there yet, and stop.
    const operationState = registry.operationState.bind(registry);
    registry.operationState = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    await handleTaskMessages([record(confirmation)], deps);
    registry.operationState = operationState;
    const retried = queue.sent.splice(0)[0]?.body ?? '';
    await handleTaskMessages([record(retried)], deps);
    // Then Cloud Map applies the registration, and the next confirmation removes it.
    await apply();
    for (let round = 0; round < 3 && queue.sent.length > 0; round += 1) {
      const bodies = queue.sent.splice(0).map((m) => m.body);
      await handleTaskMessages(
        bodies.map((body, i) => record(body, `r${round}-${i}`)),
        deps,
      );
    }
    expect(await registry.getInstance({ id: '', name: 'cdp-demo-test-15', namespaceId: '' }, TASK_ID)).toBeUndefined();
  });

  it('is asked again, later, when the operation has been pending longer than operationTimeoutMs', async () => {
    const { registry, queue, deps, advance } = setup(() => 'HEALTHY');
    pendingOperations(registry);
    deps.settings.operationTimeoutMs = 30_000;
    await handleTaskMessages([record(runningEvent())], deps);
    const confirmation = queue.sent.splice(0)[0]?.body ?? '';
    advance(30_001);
    const result = await handleTaskMessages([record(confirmation)], deps);
    expect(result.outcomes).toEqual([expect.any(OperationTimeoutError)]);
    expect(readMessage(queue.sent[0]?.body ?? '')).toMatchObject({ failures: 1, confirm: [expect.anything()] });
  });

  it("confirms the writes already sent when a later port's registration fails, and tries the event again", async () => {
    const { registry, tasks, queue, deps } = setup(() => 'HEALTHY');
    pendingOperations(registry);
    const describe = tasks.describeTask.bind(tasks);
    tasks.describeTask = async (cluster, taskArn) => {
      const task = await describe(cluster, taskArn);
      return task && { ...task, tags: { 'discovery:port:admin': '9090', 'discovery:port:http': '8080' } };
    };
    const ensure = registry.ensureService.bind(registry);
    let calls = 0;
    registry.ensureService = async (namespace, spec) => {
      calls += 1;
      if (calls === 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return ensure(namespace, spec);
    };
    const result = await handleTaskMessages([record(runningEvent(), 'run')], deps);
    expect(result.outcomes).toEqual([expect.any(RegistrationInterruptedError)]);
    const sent = queue.sent.map((m) => ({ delay: m.delaySeconds, message: readMessage(m.body) }));
    expect(sent).toEqual(
      expect.arrayContaining([
        {
          delay: CONFIRM_DELAY_SECONDS,
          message: expect.objectContaining({
            failures: 0,
            confirm: [expect.objectContaining({ registrations: [expect.objectContaining({ operationId: 'op-1' })] })],
          }),
        },
        { delay: 10, message: { events: [runningEvent()], failures: 1, recheck: true } },
      ]),
    );
    expect(sent).toHaveLength(2);
  });

  it('gives the registering message back when its confirmation cannot be sent (its retry re-reads the record)', async () => {
    const { queue, deps } = setup(() => 'HEALTHY');
    queue.refuse = true;
    const result = await handleTaskMessages([record(runningEvent(), 'run')], deps);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'run' }]);
  });

  it('skips a confirmation message whose confirm list does not match its events, logging why', async () => {
    const { deps } = setup(() => 'HEALTHY');
    const body = { recheck: { failures: 0 }, events: [runningEvent()], confirm: [] };
    const result = await handleTaskMessages([record(body, 'odd')], deps);
    expect(result.outcomes).toEqual([]);
    expect(logger.warn).toHaveBeenCalledWith(
      'skipped: message odd: a confirmation message whose confirm list does not match its events',
      expect.objectContaining({ reason: 'unreadable-message' }),
    );
  });

  it('waits for the operation itself when there is no queue to confirm on (reconcile, the CLI)', async () => {
    const { registry, deps } = setup(() => 'HEALTHY');
    const waits: unknown[] = [];
    const register = registry.register.bind(registry);
    registry.register = async (service, id, attributes, options) => {
      waits.push(options?.wait);
      return register(service, id, attributes, options);
    };
    const { recheck: _, ...withoutQueue } = deps;
    const result = await handleTaskMessages([record(runningEvent())], withoutQueue);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'registered' })]);
    expect(waits).toEqual([true]);
  });
});

describe('a leaving task', () => {
  it('is deregistered without waiting for the Cloud Map operation', async () => {
    const { registry, deps } = setup(() => 'HEALTHY');
    await handleTaskMessages([record(runningEvent())], deps);
    const waits: unknown[] = [];
    const deregister = registry.deregister.bind(registry);
    registry.deregister = async (service, id, options) => {
      waits.push(options?.wait);
      return deregister(service, id, options);
    };
    const stopping = runningEvent();
    (stopping.detail as Record<string, unknown>).desiredStatus = 'STOPPED';
    (stopping.detail as Record<string, unknown>).version = 6;
    const result = await handleTaskMessages([record(stopping)], deps);
    expect(result.outcomes).toEqual([expect.objectContaining({ result: 'deregistered' })]);
    expect(waits).toEqual([false]);
  });
});

describe('events of one task in one batch', () => {
  it('are handled one after the other, oldest first: the later leaving event finds the work done, without waiting', async () => {
    const { registry, deps } = setup(() => 'HEALTHY');
    await handleTaskMessages([record(runningEvent())], deps);
    const leaving = (version: number, lastStatus: string) => {
      const event = runningEvent();
      Object.assign(event.detail as Record<string, unknown>, { desiredStatus: 'STOPPED', lastStatus, version });
      return event;
    };
    // Newest first in the batch, as SQS may hand them; `sleep` throws in this setup, so any wait fails the test.
    const result = await handleTaskMessages(
      [
        record(leaving(8, 'STOPPED'), 'late'),
        record(leaving(6, 'RUNNING'), 'first'),
        record(leaving(7, 'STOPPING'), 'mid'),
      ],
      deps,
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(result.outcomes.map((o) => (o instanceof Error ? o.message : o.result))).toEqual([
      'deregistered',
      'skipped',
      'skipped',
    ]);
    expect(registry.writes.filter((w) => w.startsWith('deregister'))).toEqual([
      `deregister cdp-demo-test-15/${TASK_ID}`,
    ]);
  });

  it('group by task ARN, each group by ascending version', () => {
    const job = (taskArn: string | undefined, version: number) => ({ event: { detail: { taskArn, version } } });
    const groups = byTask([job('a', 3), job('b', 1), job('a', 2), job(undefined, 1), job(undefined, 2)]);
    expect(groups.map((g) => g.map((j) => `${j.event.detail.taskArn}${j.event.detail.version}`))).toEqual([
      ['a2', 'a3'],
      ['b1'],
      ['undefined1'],
      ['undefined2'],
    ]);
  });
});

describe('invoked directly (registrar replay-dlq)', () => {
  it('answers the outcome of the event', async () => {
    const { deps } = setup(() => 'HEALTHY');
    await expect(runTaskInput(runningEvent(), deps)).resolves.toMatchObject({ result: 'registered' });
  });

  it('throws the error of a failed event, so the caller sees the function fail (and nothing is re-sent)', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    registry.failingInstances.set(TASK_ID, Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(runTaskInput(runningEvent(), deps)).rejects.toThrow('denied');
    expect(queue.sent).toEqual([]);
  });

  it('handles every event of a re-check message (what the register DLQ may hold)', async () => {
    const { registry, deps } = setup(() => 'HEALTHY');
    const other = '0123456789abcdef0123456789abcdef';
    const message = { recheck: { failures: 4 }, events: [runningEvent(), runningEvent(other)] };
    await expect(runTaskInput(message, deps)).resolves.toMatchObject({ result: 'registered' });
    expect(registry.writes.sort()).toEqual([
      `register cdp-demo-test-15/${other}`,
      `register cdp-demo-test-15/${TASK_ID}`,
    ]);
  });

  it('answers a confirmation whose operation is still pending as confirmation-pending, and sends it again', async () => {
    const { registry, queue, deps } = setup(() => 'HEALTHY');
    registry.operationDelay = () => new Promise(() => undefined);
    await handleTaskMessages([record(runningEvent())], deps);
    const confirmation = JSON.parse(queue.sent.splice(0)[0]?.body ?? '{}');
    await expect(runTaskInput(confirmation, deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'confirmation-pending',
    });
    expect(queue.sent.map((m) => readMessage(m.body))).toEqual([
      expect.objectContaining({ confirm: [expect.anything()] }),
    ]);
  });

  it('fails when the re-check of a task not HEALTHY yet cannot be sent, so the replay keeps its message', async () => {
    const { queue, deps } = setup(() => 'UNKNOWN');
    queue.refuse = true;
    await expect(runTaskInput(runningEvent(), deps)).rejects.toThrow('could not be sent');
  });

  it('answers an SQS event with the batch answer', async () => {
    const { deps } = setup(() => 'HEALTHY');
    const sqsEvent = { Records: [{ ...record(runningEvent()), eventSource: 'aws:sqs' }] };
    await expect(runTaskInput(sqsEvent, deps)).resolves.toEqual({ batchItemFailures: [] });
  });
});

describe('re-check messages', () => {
  it(`hold at most ${EVENTS_PER_MESSAGE} events and about 200 KB`, () => {
    const events = Array.from({ length: 100 }, (_, i) => ({ event: { n: i } }));
    expect(packRechecks(events, 0).map((m) => m.count)).toEqual([40, 40, 20]);
    const big = Array.from({ length: 5 }, () => ({ event: { pad: 'x'.repeat(90_000) } }));
    const packed = packRechecks(big, 0);
    expect(packed.map((m) => m.count)).toEqual([2, 2, 1]);
    for (const m of packed) expect(m.body.length).toBeLessThan(256 * 1024);
    expect(readMessage(packed[0]?.body ?? '')).toMatchObject({ failures: 0 });
  });

  it('count bytes, as SQS does, not characters: events with multi-byte text stay within 256 KiB a message', () => {
    const wide = Array.from({ length: 5 }, () => ({ event: { pad: 'é'.repeat(60_000) } }));
    const packed = packRechecks(wide, 0);
    for (const m of packed) expect(Buffer.byteLength(m.body)).toBeLessThan(256 * 1024);
    expect(packed.map((m) => m.count)).toEqual([1, 1, 1, 1, 1]);
  });

  it('never mix confirmations and plain events in one group (its confirm list must line up with its events)', () => {
    const confirm = { taskArn: TASK_ARN, namespace: 'kudos.local', since: 1, registrations: [] };
    expect(() => packRechecks([{ event: { n: 1 }, confirm }, { event: { n: 2 } }], 0)).toThrow('one group');
    const packed = packRechecks([{ event: { n: 1 }, confirm }], 0);
    expect(readMessage(packed[0]?.body ?? '')).toEqual({
      events: [{ n: 1 }],
      failures: 0,
      recheck: true,
      confirm: [confirm],
    });
  });

  it('wait the poll less the batching window (whole seconds), then 10 s doubling after failures, at most 900 s', () => {
    // The register queue's 1 s batching window is part of the poll.
    expect(recheckDelaySeconds(0, 1000)).toBe(0);
    expect(recheckDelaySeconds(0, 1500)).toBe(1);
    expect(recheckDelaySeconds(0, 3000)).toBe(2);
    // A batch that came full waited for no window: the whole poll.
    expect(recheckDelaySeconds(0, 1000, false)).toBe(1);
    expect(recheckDelaySeconds(0, 1500, false)).toBe(2);
    expect(recheckDelaySeconds(0, 1_000_000, false)).toBe(900);
    expect([1, 2, 3, 4].map((f) => recheckDelaySeconds(f, 1000))).toEqual([10, 20, 40, 80]);
    expect(recheckDelaySeconds(1, 1000, false)).toBe(10);
    expect(recheckDelaySeconds(20, 1000)).toBe(900);
  });

  it('go out 10 a SendMessageBatch call, within its 256 KiB', () => {
    const small = Array.from({ length: 23 }, () => ({ body: 'x' }));
    expect(chunks(small).map((c) => c.length)).toEqual([10, 10, 3]);
    const large = Array.from({ length: 3 }, () => ({ body: 'x'.repeat(150_000) }));
    expect(chunks(large).map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
