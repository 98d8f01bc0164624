import fc from 'fast-check';
import type { DescribedTask, TaskDefinitionFacts } from '../../lib/ports';
import { loadEvent, withDetail } from './fixtures';

/**
 * Generators of ECS task lifecycles and of the task state change events ECS emits for them, for the
 * property tests: each lifecycle is the sequence of states ECS moves one task through, and each state
 * emits one event that EventBridge may deliver more than once.
 */

export const REGION = 'eu-west-2';
export const ACCOUNT = '332499610595';
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/dev-ecs-public`;
export const TASK_DEFINITION_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/api:7`;

/** The task definition every generated task runs: one essential container, one port, no health check. */
export const TASK_DEFINITION: TaskDefinitionFacts = {
  arn: TASK_DEFINITION_ARN,
  family: 'api',
  networkMode: 'awsvpc',
  containers: [{ name: 'app', essential: true, portMappings: [{ containerPort: 8080 }], hasHealthCheck: false }],
};

/** The leaving states in the order ECS goes through them (the first is RUNNING with desired STOPPED). */
export const LEAVING_STATES = [
  { lastStatus: 'RUNNING', desiredStatus: 'STOPPED' },
  { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' },
  { lastStatus: 'STOPPING', desiredStatus: 'STOPPED' },
  { lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED' },
  { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
] as const;

/** One state of a task as ECS holds it, and the event it emits. */
export interface TaskStep {
  lastStatus: string;
  desiredStatus: string;
  version: number;
  /** How many times EventBridge delivers this state's event (at-least-once: 1 or more). */
  copies: number;
}

/** Who a task belongs to: an ECS service (named after it), or a standalone task tagged discovery:name. */
export type TaskOwner = { kind: 'service'; service: string } | { kind: 'standalone'; name: string };

export interface TaskLifecycle {
  taskArn: string;
  taskId: string;
  ip: string;
  owner: TaskOwner;
  steps: TaskStep[];
}

/** The Cloud Map service a task of this owner is registered in. */
export function discoveryServiceOf(owner: TaskOwner): string {
  return owner.kind === 'service' ? owner.service : owner.name;
}

/** The tags ECS returns for a task of this owner (DescribeTasks include TAGS). */
export function tagsOf(owner: TaskOwner): Record<string, string> {
  return owner.kind === 'standalone' ? { 'discovery:name': owner.name } : {};
}

/** True when ECS's final state of the task is RUNNING/RUNNING: the only tasks that must be registered. */
export function runsAtTheEnd(lifecycle: TaskLifecycle): boolean {
  const last = lifecycle.steps[lifecycle.steps.length - 1];
  return last?.lastStatus === 'RUNNING' && last.desiredStatus === 'RUNNING';
}

const ownerArbitrary: fc.Arbitrary<TaskOwner> = fc.oneof(
  fc.constantFrom<TaskOwner>({ kind: 'service', service: 'api' }, { kind: 'service', service: 'web' }),
  fc.constant<TaskOwner>({ kind: 'standalone', name: 'batch' }),
);

const copiesArbitrary = fc.integer({ min: 1, max: 3 });

/**
 * A lifecycle's steps: maybe PENDING first, then RUNNING, then either nothing more (the task keeps
 * running) or an ordered, non-empty subset of the leaving states. Versions grow by 1 to 3 per step.
 */
const stepsArbitrary: fc.Arbitrary<TaskStep[]> = fc
  .record({
    pending: fc.boolean(),
    leaving: fc.option(fc.subarray([...LEAVING_STATES], { minLength: 1 }), { nil: undefined, freq: 3 }),
    gaps: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 8, maxLength: 8 }),
    copies: fc.array(copiesArbitrary, { minLength: 8, maxLength: 8 }),
  })
  .map(({ pending, leaving, gaps, copies }) => {
    const states = [
      ...(pending ? [{ lastStatus: 'PENDING', desiredStatus: 'RUNNING' }] : []),
      { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' },
      ...(leaving ?? []),
    ];
    let version = 1;
    return states.map((state, i) => {
      version += gaps[i] ?? 1;
      return { ...state, version, copies: copies[i] ?? 1 };
    });
  });

/** N task lifecycles (1..max) with distinct task ids and addresses. */
export function lifecyclesArbitrary(max = 6): fc.Arbitrary<TaskLifecycle[]> {
  return fc
    .array(fc.record({ owner: ownerArbitrary, steps: stepsArbitrary }), { minLength: 1, maxLength: max })
    .map((tasks) =>
      tasks.map(({ owner, steps }, i) => {
        const taskId = `${(i + 1).toString(16).padStart(2, '0')}${'ab'.repeat(15)}`;
        return {
          taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/dev-ecs-public/${taskId}`,
          taskId,
          ip: `10.0.0.${i + 10}`,
          owner,
          steps,
        };
      }),
    );
}

/** The task as DescribeTasks returns it while ECS holds it in `step`. */
export function describedAt(lifecycle: TaskLifecycle, step: TaskStep): DescribedTask {
  return {
    taskArn: lifecycle.taskArn,
    lastStatus: step.lastStatus,
    desiredStatus: step.desiredStatus,
    version: step.version,
    tags: tagsOf(lifecycle.owner),
  };
}

let fixture: ReturnType<typeof loadEvent> | undefined;

/** The event ECS emits when the task enters `step`, built on the real Fargate service fixture. */
export function eventAt(lifecycle: TaskLifecycle, step: TaskStep): Record<string, unknown> {
  fixture ??= loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json');
  const event = withDetail(fixture, {
    taskArn: lifecycle.taskArn,
    clusterArn: CLUSTER_ARN,
    taskDefinitionArn: TASK_DEFINITION_ARN,
    lastStatus: step.lastStatus,
    desiredStatus: step.desiredStatus,
    version: step.version,
    group: lifecycle.owner.kind === 'service' ? `service:${lifecycle.owner.service}` : 'family:api',
    startedBy: lifecycle.owner.kind === 'service' ? 'ecs-svc/123' : 'manual',
    attachments: [
      {
        id: 'eni-attachment',
        type: 'eni',
        status: 'ATTACHED',
        details: [{ name: 'privateIPv4Address', value: lifecycle.ip }],
      },
    ],
  });
  return { ...event, id: `${lifecycle.taskId}-${step.version}`, resources: [lifecycle.taskArn] };
}
