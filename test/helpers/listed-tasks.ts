import { ATTR } from '../../lib/plan';
import { parseTaskEvent, type TaskDetail } from '../../lib/task-event';
import type { MemoryRegistry } from '../../support/memory-adapters';
import { ACCOUNT, eventAt, REGION, type TaskOwner } from './event-generators';

/**
 * Tasks as ListTasks + DescribeTasks give them to a reconcile or a health sweep, and the instances an
 * earlier run registered for them, for use-case tests on the memory adapters. Task `n` has id
 * `taskIdOf(n)` and, running, address 10.0.1.n.
 */

export const OWNER_ID = 'ecs-cloudmap-registrar';

export const taskIdOf = (n: number) => `${n.toString(16).padStart(2, '0')}${'cd'.repeat(15)}`;

export const taskArnOf = (n: number, cluster = 'dev-ecs-public') =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster}/${taskIdOf(n)}`;

/** An AWS SDK error as the SDK raises it: `name` is the error code. */
export function awsError(name: string, message = `${name} (test)`): Error {
  return Object.assign(new Error(message), { name });
}

/** Task `n`, RUNNING/RUNNING in `cluster`, as the task source lists it. */
export function listedTask(
  n: number,
  owner: TaskOwner,
  cluster = 'dev-ecs-public',
  extra: Partial<TaskDetail> = {},
): { detail: TaskDetail; tags: Record<string, string> } {
  const event = eventAt(
    { taskArn: taskArnOf(n, cluster), taskId: taskIdOf(n), ip: `10.0.1.${n}`, owner, steps: [] },
    { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 3, copies: 1 },
  );
  const parsed = parseTaskEvent(event);
  if (!parsed.ok) throw new Error(parsed.message);
  const detail = {
    ...parsed.event.detail,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`,
    ...extra,
  };
  return { detail, tags: owner.kind === 'standalone' ? { 'discovery:name': owner.name } : {} };
}

/** The instance an earlier run registered for task `n` of `cluster` (which may be gone now). */
export function seedOwned(registry: MemoryRegistry, service: string, n: number, cluster = 'dev-ecs-public'): void {
  registry.seed(service, taskIdOf(n), {
    [ATTR.ipv4]: `10.0.2.${n}`,
    [ATTR.port]: '8080',
    [ATTR.cluster]: cluster,
    [ATTR.taskArn]: taskArnOf(n, cluster),
    [ATTR.version]: '3',
    [ATTR.owner]: OWNER_ID,
  });
}
