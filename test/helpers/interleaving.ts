import fc from 'fast-check';
import { isLeaving } from '../../lib/plan';
import type { DescribedTask, VersionStore } from '../../lib/ports';
import { reconcile } from '../../lib/reconcile';
import type { Outcome, RegistrarDeps } from '../../lib/registrar';
import { handleTaskEvent } from '../../lib/registrar';
import type { TaskDetail } from '../../lib/task-event';
import { MemoryRegistry, MemoryTaskSource } from '../../support/memory-adapters';
import {
  CLUSTER_ARN,
  describedAt,
  discoveryServiceOf,
  eventAt,
  lifecyclesArbitrary,
  runsAtTheEnd,
  TASK_DEFINITION,
  TASK_DEFINITION_ARN,
  type TaskLifecycle,
  type TaskStep,
  tagsOf,
} from './event-generators';

/**
 * Runs concurrent handler invocations under fast-check's scheduler: every call a handler makes to a
 * port (registry, ECS, version store) waits for the scheduler to release it, so the calls of handlers
 * running at once interleave in every order the scheduler picks.
 */

/** An error as an AWS SDK client throws it; the handler must rethrow it so that Lambda retries. */
export class InjectedAwsError extends Error {
  override readonly name = 'ServiceUnavailableException';
}

/** Where an injected failure happens: before the call reaches the service, or after it took effect. */
export type FailurePoint = 'before' | 'after';

/** Per call, in turn: mostly no failure, sometimes one before or after the call takes effect. */
export const failuresArbitrary = fc.array(
  fc.oneof(
    { weight: 12, arbitrary: fc.constant<FailurePoint | undefined>(undefined) },
    { weight: 1, arbitrary: fc.constantFrom<FailurePoint>('before', 'after') },
  ),
  { minLength: 1, maxLength: 64 },
);

/**
 * Wraps every method of a port so that each call is a step of the scheduler. `fail` decides, per call,
 * whether it throws an AWS error before or after the call takes effect (a lost response).
 */
export function scheduled<T extends object>(
  port: T,
  name: string,
  s: fc.Scheduler,
  fail: (label: string) => FailurePoint | undefined = () => undefined,
): T {
  return new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const label = `${name}.${String(key)}(${args.map((a) => (typeof a === 'string' ? a.slice(-6) : typeof a)).join(',')})`;
        await s.schedule(Promise.resolve(), label);
        const failure = fail(label);
        if (failure === 'before') throw new InjectedAwsError(`injected failure before ${label}`);
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (failure === 'after') throw new InjectedAwsError(`injected failure after ${label}`);
        return result;
      };
    },
  });
}

/** The registry's content as `service/instanceId` keys, sorted. */
export function registered(registry: MemoryRegistry): string[] {
  return [...registry.services.values()]
    .flatMap(({ info, instances }) => [...instances.keys()].map((id) => `${info.name}/${id}`))
    .sort();
}

/** What the registry must hold at the end: the tasks whose final ECS state is RUNNING/RUNNING. */
export function groundTruth(lifecycles: TaskLifecycle[]): string[] {
  return lifecycles
    .filter(runsAtTheEnd)
    .map((l) => `${discoveryServiceOf(l.owner)}/${l.taskId}`)
    .sort();
}

/** An ECS whose DescribeTasks answers with each task's state at this moment of the interleaving. */
export function memoryEcs(): MemoryTaskSource {
  const tasks = new MemoryTaskSource();
  tasks.definitions.set(TASK_DEFINITION_ARN, TASK_DEFINITION);
  return tasks;
}

/** The time of a run (ms epoch): moved by ECS's steps, read by the handlers and the version store. */
export class Clock {
  constructor(public ms = Date.parse('2023-11-24T11:09:30Z')) {}
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/**
 * ECS as the handlers see it: every state a task enters is stamped with the clock, and ECS's reads are
 * eventually consistent. "The Amazon ECS API follows an eventual consistency model ... run the
 * DescribeTasks command repeatedly, starting with a couple of seconds of wait time and increasing
 * gradually up to five minutes" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html):
 * so a read (DescribeTasks, ListTasks) may answer with the task's state of any moment in the last
 * `lagMs`, or not know a task started within it. `lags` picks, read after read, how far behind each is
 * (a fraction of `lagMs`). Only the current state counts for the truth (`current`).
 */
export class EventuallyConsistentEcs extends MemoryTaskSource {
  private readonly history = new Map<string, { at: number; lifecycle: TaskLifecycle; step: TaskStep }[]>();
  private read = 0;

  constructor(
    readonly clock: Clock,
    private readonly lagMs = 0,
    private readonly lags: number[] = [1],
  ) {
    super();
    this.definitions.set(TASK_DEFINITION_ARN, TASK_DEFINITION);
  }

  /** ECS moves the task to `step` now. */
  move(lifecycle: TaskLifecycle, step: TaskStep): void {
    const states = this.history.get(lifecycle.taskArn) ?? [];
    states.push({ at: this.clock.ms, lifecycle, step });
    this.history.set(lifecycle.taskArn, states);
  }

  /** When ECS started to stop the task (its first leaving state), if it has. */
  leftAt(taskArn: string): number | undefined {
    return this.history.get(taskArn)?.find((s) => isLeaving(s.step))?.at;
  }

  /** The state one read sees: the newest as of some moment in the last `lagMs`. */
  private seen(taskArn: string, lag: number) {
    const asOf = this.clock.ms - lag;
    return this.history
      .get(taskArn)
      ?.filter((s) => s.at <= asOf)
      .at(-1);
  }

  private nextLag(): number {
    const fraction = this.lags[this.read % this.lags.length] ?? 1;
    this.read += 1;
    return Math.round(fraction * this.lagMs);
  }

  override async listClusters(): Promise<string[]> {
    return [CLUSTER_ARN];
  }

  override async describeTask(_cluster: string, taskArn: string): Promise<DescribedTask | undefined> {
    this.reads += 1;
    const state = this.seen(taskArn, this.nextLag());
    return state ? describedAt(state.lifecycle, state.step) : undefined;
  }

  override async listRunningTasks(): Promise<{ detail: TaskDetail; tags: Record<string, string> }[]> {
    const lag = this.nextLag();
    return [...this.history.keys()].flatMap((taskArn) => {
      const state = this.seen(taskArn, lag);
      if (state?.step.desiredStatus !== 'RUNNING') return [];
      const { detail } = eventAt(state.lifecycle, state.step) as { detail: TaskDetail };
      return [{ detail, tags: tagsOf(state.lifecycle.owner) }];
    });
  }
}

export interface InterleavingOptions {
  /** Lambda's asynchronous attempts per delivery (1 = no retry); what still fails goes to the DLQ. */
  attempts?: number;
  /**
   * How far the clock moves before each ECS step, delivery and reconcile run, one after the other
   * (cycled); none: time stands still.
   */
  gapsMs?: number[];
  /** Reconcile runs, each started at a point the scheduler picks among the events. */
  reconcileRuns?: number;
  /**
   * Leaving events ECS never sent (forged or mis-routed), each for the task at `task` (modulo the
   * number of tasks), at `version`, delivered at any point after the task first runs.
   */
  forged?: { task: number; version: number }[];
}

export interface InterleavingResult {
  outcomes: Outcome[];
  /** Events whose every attempt failed. */
  deadLetters: Record<string, unknown>[];
}

/** True for an injected failure, or an error that carries one (a wrapped or aggregated failure). */
export function isInjected(error: unknown): boolean {
  if (error instanceof InjectedAwsError) return true;
  if (error instanceof AggregateError) return error.errors.some(isInjected);
  return error instanceof Error && error.cause !== undefined && isInjected(error.cause);
}

/** One reconcile run as the scheduled function makes it, over every cluster ECS lists. */
export async function runReconcile(deps: RegistrarDeps): Promise<void> {
  try {
    await reconcile(deps, { maxDeletes: 50, clusters: [CLUSTER_ARN] });
  } catch (error) {
    // A run an injected failure stopped is a failed run: the next one starts over.
    if (!isInjected(error)) throw error;
  }
}

/**
 * Plays the lifecycles: each task's ECS timeline moves one state at a time (a scheduler step each), and
 * every state change delivers its event `copies` times, each delivery a handler invocation of its own
 * started at a point the scheduler picks. So events arrive late, out of order, duplicated and at once.
 * Optionally, time passes before each move (`gapsMs`), reconcile runs start among the events, and forged
 * leaving events hit tasks once they run.
 */
export async function playInterleaving(
  s: fc.Scheduler,
  lifecycles: TaskLifecycle[],
  ecs: EventuallyConsistentEcs,
  deps: RegistrarDeps,
  options: InterleavingOptions = {},
): Promise<InterleavingResult> {
  const attempts = options.attempts ?? 1;
  const outcomes: Outcome[] = [];
  const deadLetters: Record<string, unknown>[] = [];
  const deliveries: Promise<void>[] = [];
  const gaps = options.gapsMs ?? [0];
  let moves = 0;
  const pass = () => {
    ecs.clock.advance(gaps[moves % gaps.length] ?? 0);
    moves += 1;
  };
  const deliver = async (event: Record<string, unknown>, label: string) => {
    for (let attempt = 1; ; attempt += 1) {
      await s.schedule(Promise.resolve(), `deliver ${label} #${attempt}`);
      pass();
      try {
        outcomes.push(await handleTaskEvent(event, deps));
        return;
      } catch (error) {
        if (!(error instanceof InjectedAwsError)) throw error;
        if (attempt >= attempts) {
          deadLetters.push(event);
          return;
        }
      }
    }
  };
  const forged = options.forged ?? [];
  const timelines = lifecycles.map(async (lifecycle, index) => {
    for (const step of lifecycle.steps) {
      const label = `${lifecycle.taskId.slice(0, 2)} ${step.lastStatus}/${step.desiredStatus} v${step.version}`;
      await s.schedule(Promise.resolve(), `ecs ${label}`);
      pass();
      ecs.move(lifecycle, step);
      const event = eventAt(lifecycle, step);
      for (let copy = 0; copy < step.copies; copy += 1) deliveries.push(deliver(event, label));
      if (step.lastStatus !== 'RUNNING' || step.desiredStatus !== 'RUNNING') continue;
      for (const f of forged.filter((f) => f.task % lifecycles.length === index)) {
        const lie = { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: f.version, copies: 1 };
        deliveries.push(
          deliver(eventAt(lifecycle, lie), `${lifecycle.taskId.slice(0, 2)} forged STOPPED v${f.version}`),
        );
      }
    }
  });
  const runs = Array.from({ length: options.reconcileRuns ?? 0 }, async (_, i) => {
    await s.schedule(Promise.resolve(), `reconcile #${i + 1}`);
    pass();
    await runReconcile(deps);
  });
  await s.waitFor(Promise.all([...timelines, ...runs]));
  await s.waitFor(Promise.all(deliveries));
  return { outcomes, deadLetters };
}

/** The registrar's settings in every property run. */
export const SETTINGS: RegistrarDeps['settings'] = {
  namespace: 'kudos.local',
  defaultPort: 80,
  dnsRecords: 'A',
  ownerId: 'ecs-cloudmap-registrar',
  dnsTtl: 10,
};

export interface ScheduledDepsOptions {
  /** The run's time; default: a clock that stands still. */
  clock?: Clock;
  /** How far behind ECS's reads may be (see EventuallyConsistentEcs); default 0. */
  lagMs?: number;
  /** Each read's lag as a fraction of `lagMs`, read after read (cycled). */
  lags?: number[];
  /** The registrar's threshold for overruling a leaving mark; default: the registrar's own. */
  leavingOverruleAfterMs?: number;
}

/**
 * Wraps the version store to watch the race property of reconcile's overrule: a leaving mark recorded
 * after ECS really started to stop the task must never be overruled. Each such overrule is reported
 * (task id) in `restored`. A mark recorded while the overrule is in flight is not counted (no order).
 */
function watchingOverrules(versions: VersionStore, ecs: EventuallyConsistentEcs, restored: string[]): VersionStore {
  const markedAfterLeaving = new Set<string>();
  return new Proxy(versions, {
    get(target, key) {
      const value = Reflect.get(target, key) as (...a: unknown[]) => Promise<unknown>;
      if (key === 'markLeaving') {
        return async (taskArn: string, version: number) => {
          const leftAt = ecs.leftAt(taskArn);
          const real = leftAt !== undefined && ecs.clock.ms >= leftAt;
          const previous = await target.markLeaving(taskArn, version);
          if (real) markedAfterLeaving.add(taskArn);
          return previous;
        };
      }
      if (key === 'overruleLeaving') {
        return async (...args: Parameters<VersionStore['overruleLeaving']>) => {
          const [taskArn] = args;
          const wasMarked = markedAfterLeaving.has(taskArn);
          const overruled = await target.overruleLeaving(...args);
          if (overruled && wasMarked) restored.push(taskArn.slice(-32));
          if (overruled) markedAfterLeaving.delete(taskArn);
          return overruled;
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The registry and ECS for one run, with every port scheduled; `versions` is supplied by the caller. */
export function scheduledDeps(
  s: fc.Scheduler,
  versions: RegistrarDeps['versions'],
  fail?: (label: string) => FailurePoint | undefined,
  options: ScheduledDepsOptions = {},
): { deps: RegistrarDeps; registry: MemoryRegistry; ecs: EventuallyConsistentEcs; clock: Clock; restored: string[] } {
  const registry = new MemoryRegistry();
  const clock = options.clock ?? new Clock();
  const ecs = new EventuallyConsistentEcs(clock, options.lagMs ?? 0, options.lags);
  const restored: string[] = [];
  const deps: RegistrarDeps = {
    registry: scheduled(registry, 'cloudmap', s, fail),
    tasks: scheduled(ecs, 'ecs', s, fail),
    versions: scheduled(watchingOverrules(versions, ecs, restored), 'versions', s, fail),
    settings:
      options.leavingOverruleAfterMs === undefined
        ? SETTINGS
        : { ...SETTINGS, leavingOverruleAfterMs: options.leavingOverruleAfterMs },
    now: clock.now,
    // Waits are scheduling points of the interleaving, not time.
    sleep: async () => undefined,
  };
  return { deps, registry, ecs, clock, restored };
}

/**
 * After the events: time passes until every leaving mark is older than the overrule threshold and ECS's
 * reads have caught up, and one reconcile run makes Cloud Map equal to ECS.
 */
export async function settleAndReconcile(
  s: fc.Scheduler,
  deps: RegistrarDeps,
  clock: Clock,
  waitMs: number,
): Promise<void> {
  clock.advance(waitMs);
  await s.waitFor(runReconcile(deps));
}

/** The tasks ECS has stopped (or is stopping) at the end, as `service/instanceId` keys. */
export function stoppedTasks(lifecycles: TaskLifecycle[]): string[] {
  return lifecycles
    .filter((l) => !runsAtTheEnd(l))
    .map((l) => `${discoveryServiceOf(l.owner)}/${l.taskId}`)
    .sort();
}

/**
 * ECS's reads are eventually consistent: AWS advises polling DescribeTasks "starting with a couple of
 * seconds of wait time and increasing gradually up to five minutes" for a change to show
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html). The model lets each read
 * lag by up to those five minutes, time passes before every ECS step, delivery and reconcile run (mostly
 * less than the lag, sometimes more), reconcile runs among the events, and leaving events ECS never sent
 * (forged or mis-routed, of any version) hit tasks, some of which really stop later.
 */
export const LAG_MS = 5 * 60_000;

/** One run of that model: the lifecycles, the time between moves, each read's lag, forged events, runs. */
export interface ReconcileCase {
  lifecycles: TaskLifecycle[];
  gapsMs: number[];
  lags: number[];
  forged: { task: number; version: number }[];
  reconcileRuns: number;
}

export const reconcileCaseArbitrary = (maxTasks: number): fc.Arbitrary<ReconcileCase> =>
  fc.record({
    lifecycles: lifecyclesArbitrary(maxTasks),
    gapsMs: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: LAG_MS / 4 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * LAG_MS }) },
      ),
      { minLength: 1, maxLength: 24 },
    ),
    lags: fc.array(fc.constantFrom(0, 0.25, 0.5, 0.75, 1), { minLength: 1, maxLength: 16 }),
    forged: fc.array(fc.record({ task: fc.nat(maxTasks), version: fc.integer({ min: 1, max: 40 }) }), {
      maxLength: 3,
    }),
    reconcileRuns: fc.integer({ min: 1, max: 4 }),
  });
