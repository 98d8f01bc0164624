import { ClusterNotFoundError } from './errors';
import type { ItemTally, RunItem } from './item-tally';
import { ecsServiceName, isHealthGated, type Plan, planTaskEvent, type RegisterPlan } from './plan';
import { type Outcome, type RegistrarDeps, withContainerInstance } from './registrar';
import { arnTail, clusterName, TASK_STATE_CHANGE, type TaskDetail, type TaskStateChange } from './task-event';

/** A task ECS runs now, with the plan the registrar makes for it. */
export interface PlannedTask {
  detail: TaskDetail;
  plan: Plan;
  /** An essential container has a health check: the task joins only once HEALTHY. */
  gated: boolean;
}

/** Parses account and region from an ECS ARN (arn:aws:ecs:REGION:ACCOUNT:...). */
function arnParts(arn: string): { region: string; account: string } {
  const [, , , region = '', account = ''] = arn.split(':');
  return { region, account };
}

/** A described task as the task state change event ECS would publish for it now. */
export function taskEvent(detail: TaskDetail, now: Date): TaskStateChange {
  const { region, account } = arnParts(detail.taskArn);
  return {
    version: '0',
    id: `listed-${arnTail(detail.taskArn)}-${detail.version}`,
    'detail-type': TASK_STATE_CHANGE,
    source: 'aws.ecs',
    account,
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [detail.taskArn],
    detail,
  } as TaskStateChange;
}

/** What ECS runs in the watched clusters, planned, and what of it could not be known this run. */
export interface RunningTasks {
  planned: PlannedTask[];
  /** Names of the clusters whose every task is known (listed, and each planned or counted unplanned). */
  listed: Set<string>;
  /** Names of the watched clusters ECS does not find (ClusterNotFoundException). */
  missing: Set<string>;
  /** Tasks ECS listed whose plan failed (a read failed): their instances must not be judged stale. */
  unplanned: Set<string>;
}

/**
 * Lists the tasks ECS runs in the clusters (ListTasks + DescribeTasks, 100 per call) and plans each
 * as if its state change had just arrived, with what ECS says of it now (tags, health) and its task
 * definition (cached). The same decision as the event path, so the two cannot disagree.
 *
 * Each cluster and each task fails alone (counted in `tally`): a cluster whose listing fails is left out
 * of `listed`, a task whose reads fail goes to `unplanned`, and a cluster ECS does not find is skipped
 * with one warning and reported in `missing`.
 */
export async function planRunningTasks(
  deps: RegistrarDeps,
  clusters: string[],
  now: Date,
  tally: ItemTally,
): Promise<RunningTasks> {
  const result: RunningTasks = { planned: [], listed: new Set(), missing: new Set(), unplanned: new Set() };
  for (const cluster of clusters) {
    const name = clusterName(cluster);
    let listing: Awaited<ReturnType<RegistrarDeps['tasks']['listRunningTasks']>>;
    try {
      listing = await deps.tasks.listRunningTasks(cluster);
    } catch (error) {
      if (error instanceof ClusterNotFoundError) {
        result.missing.add(name);
        tally.skipOnce(
          error.code,
          name,
          `${error.message}: skipped (deleted, or in another account or region); remove it from WATCHED_CLUSTERS if it was deleted`,
          { cluster: name },
        );
      } else tally.fail({ action: 'list-tasks', cluster: name }, error);
      continue;
    }
    for (const { detail, tags } of listing) {
      const planned = await tally.attempt({ action: 'plan-task', taskArn: detail.taskArn, cluster: name }, () =>
        planListedTask(deps, detail, tags, now),
      );
      if (planned) result.planned.push(planned.value);
      else result.unplanned.add(detail.taskArn);
    }
    result.listed.add(name);
  }
  return result;
}

/** Plans one listed task with what ECS says of its service and task definition. */
async function planListedTask(
  deps: RegistrarDeps,
  detail: TaskDetail,
  tags: Record<string, string>,
  now: Date,
): Promise<PlannedTask> {
  const service = ecsServiceName(detail);
  const [serviceTags, taskDefinition] = await Promise.all([
    service ? deps.tasks.serviceTags(detail.clusterArn, service) : Promise.resolve({}),
    deps.tasks.taskDefinition(detail.taskDefinitionArn),
  ]);
  const described = {
    taskArn: detail.taskArn,
    lastStatus: detail.lastStatus,
    desiredStatus: detail.desiredStatus,
    version: detail.version,
    ...(detail.healthStatus ? { healthStatus: detail.healthStatus } : {}),
    tags,
  };
  const facts = await withContainerInstance({ described, serviceTags, taskDefinition }, detail, deps.tasks);
  const plan = planTaskEvent(taskEvent(detail, now), facts, deps.settings);
  return { detail, plan, gated: isHealthGated(taskDefinition) };
}

/** The run item of a task's registration, for the line that logs its failure (named by its primary instance). */
export function registerItem(plan: RegisterPlan, taskArn: string): RunItem {
  const [primary] = plan.registrations;
  return {
    action: 'register',
    taskArn,
    instanceId: primary.instanceId,
    namespace: plan.namespace,
    cloudMapService: primary.service,
  };
}

/**
 * Counts a registration that something refused. A Cloud Map service that is not ours counts once per
 * (namespace, service) per run, with one warning saying what to do; anything else counts `count` times.
 */
export function countBlocked(tally: ItemTally, plan: RegisterPlan, blocked: Outcome, count = 1): void {
  if (blocked.result !== 'skipped') return;
  if (blocked.reason === 'service-not-managed') {
    // Every registration was refused, so the first (the primary service's) was: the message names it.
    const [primary] = plan.registrations;
    tally.skipOnce(blocked.reason, `${plan.namespace}/${primary.service}`, blocked.message, {
      namespace: plan.namespace,
      cloudMapService: primary.service,
    });
  } else tally.skip(blocked.reason, count);
}
