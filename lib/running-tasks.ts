import { ecsServiceName, isHealthGated, type Plan, planTaskEvent } from './plan';
import { type RegistrarDeps, withContainerInstance } from './registrar';
import { arnTail, TASK_STATE_CHANGE, type TaskDetail, type TaskStateChange } from './task-event';

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

/**
 * Lists the tasks ECS runs in the clusters (ListTasks + DescribeTasks, 100 per call) and plans each
 * as if its state change had just arrived, with what ECS says of it now (tags, health) and its task
 * definition (cached). The same decision as the event path, so the two cannot disagree.
 */
export async function planRunningTasks(deps: RegistrarDeps, clusters: string[], now: Date): Promise<PlannedTask[]> {
  const planned: PlannedTask[] = [];
  for (const cluster of clusters) {
    for (const { detail, tags } of await deps.tasks.listRunningTasks(cluster)) {
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
      planned.push({ detail, plan, gated: isHealthGated(taskDefinition) });
    }
  }
  return planned;
}
