import type fc from 'fast-check';
import type { Outcome, RegistrarDeps } from '../../lib/registrar';
import { handleTaskEvent } from '../../lib/registrar';
import {
  describedAt,
  discoveryServiceOf,
  eventAt,
  runsAtTheEnd,
  TASK_DEFINITION,
  TASK_DEFINITION_ARN,
  type TaskLifecycle,
} from './event-generators';
import { MemoryRegistry, MemoryTaskSource } from './memory-adapters';

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

export interface InterleavingOptions {
  /** Lambda's asynchronous attempts per delivery (1 = no retry); what still fails goes to the DLQ. */
  attempts?: number;
}

export interface InterleavingResult {
  outcomes: Outcome[];
  /** Events whose every attempt failed. */
  deadLetters: Record<string, unknown>[];
}

/**
 * Plays the lifecycles: each task's ECS timeline moves one state at a time (a scheduler step each), and
 * every state change delivers its event `copies` times, each delivery a handler invocation of its own
 * started at a point the scheduler picks. So events arrive late, out of order, duplicated and at once.
 */
export async function playInterleaving(
  s: fc.Scheduler,
  lifecycles: TaskLifecycle[],
  ecs: MemoryTaskSource,
  deps: RegistrarDeps,
  options: InterleavingOptions = {},
): Promise<InterleavingResult> {
  const attempts = options.attempts ?? 1;
  const outcomes: Outcome[] = [];
  const deadLetters: Record<string, unknown>[] = [];
  const deliveries: Promise<void>[] = [];
  const deliver = async (event: Record<string, unknown>, label: string) => {
    for (let attempt = 1; ; attempt += 1) {
      await s.schedule(Promise.resolve(), `deliver ${label} #${attempt}`);
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
  const timelines = lifecycles.map(async (lifecycle) => {
    for (const step of lifecycle.steps) {
      const label = `${lifecycle.taskId.slice(0, 2)} ${step.lastStatus}/${step.desiredStatus} v${step.version}`;
      await s.schedule(Promise.resolve(), `ecs ${label}`);
      ecs.tasks.set(lifecycle.taskArn, describedAt(lifecycle, step));
      const event = eventAt(lifecycle, step);
      for (let copy = 0; copy < step.copies; copy += 1) deliveries.push(deliver(event, label));
    }
  });
  await s.waitFor(Promise.all(timelines));
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

/** The registry and ECS for one run, with every port scheduled; `versions` is supplied by the caller. */
export function scheduledDeps(
  s: fc.Scheduler,
  versions: RegistrarDeps['versions'],
  fail?: (label: string) => FailurePoint | undefined,
): { deps: RegistrarDeps; registry: MemoryRegistry; ecs: MemoryTaskSource } {
  const registry = new MemoryRegistry();
  const ecs = memoryEcs();
  const deps: RegistrarDeps = {
    registry: scheduled(registry, 'cloudmap', s, fail),
    tasks: scheduled(ecs, 'ecs', s, fail),
    versions: scheduled(versions, 'versions', s, fail),
    settings: SETTINGS,
    now: () => Date.parse('2023-11-24T11:09:30Z'),
    // Waits are scheduling points of the interleaving, not time.
    sleep: async () => undefined,
  };
  return { deps, registry, ecs };
}
