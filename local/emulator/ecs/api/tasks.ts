import { invalidParameter } from '../../aws-error';
import { type Input, paginate } from '../../wire';
import type { EcsContext } from '../context';
import type { Task } from '../model';
import { checkNetwork, includesTags, LIST_LIMITS, readCount, readLaunchType, readTags } from '../readers';
import { describeTask } from '../task-view';

// RunTask, StopTask, DescribeTasks, ListTasks, and the health knob.

export function runTask(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const definition = ctx.state.taskDefinition(input.taskDefinition);
  const launchType = readLaunchType(input.launchType);
  const network = checkNetwork(definition, launchType, input.networkConfiguration);
  const count = readCount(input.count ?? 1, 'count');
  if (count < 1 || count > 10) throw invalidParameter('count must be between 1 and 10.');
  const startedBy = typeof input.startedBy === 'string' ? input.startedBy : undefined;
  const tags = [...readTags(input.tags), ...(input.propagateTags === 'TASK_DEFINITION' ? definition.tags : [])];
  if (launchType === 'EC2' && ctx.state.instancesOf(cluster).length === 0) {
    throw invalidParameter('No Container Instances were found in your cluster.');
  }
  const tasks: unknown[] = [];
  const failures = new Map<string, { arn: string; reason: string }>();
  for (let i = 0; i < count; i++) {
    const task = ctx.placement.start({
      cluster,
      definition,
      launchType,
      network,
      group: typeof input.group === 'string' ? input.group : `family:${definition.family}`,
      startedBy,
      tags,
    });
    if (task) {
      tasks.push(describeTask(task, false));
      continue;
    }
    // ECS reports each container instance it could not use (Amazon ECS Developer Guide, API failure reasons).
    for (const instance of ctx.state.instancesOf(cluster)) {
      failures.set(instance.arn, { arn: instance.arn, reason: 'RESOURCE:PORTS' });
    }
  }
  return { tasks, failures: [...failures.values()] };
}

export function stopTask(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const task = ctx.state.findTask(cluster, String(input.task ?? ''));
  if (!task) throw invalidParameter('The referenced task was not found.');
  const reason = typeof input.reason === 'string' && input.reason ? input.reason : 'Task stopped by user';
  ctx.lifecycle.stop(task, 'UserInitiated', reason);
  const service = ctx.state.serviceOf(task);
  if (service) ctx.scheduler.reconcile(service);
  return { task: describeTask(task, false) };
}

export function describeTasks(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const refs = Array.isArray(input.tasks) ? input.tasks.map(String) : [];
  if (refs.length === 0 || refs.length > 100) throw invalidParameter('tasks must name 1 to 100 tasks.');
  const tasks: unknown[] = [];
  const failures: unknown[] = [];
  for (const ref of refs) {
    const task = ctx.state.findTask(cluster, ref);
    if (task) tasks.push(describeTask(task, includesTags(input)));
    else
      failures.push({
        arn: ref.startsWith('arn:') ? ref : ctx.state.arn(`task/${cluster.name}/${ref}`),
        reason: 'MISSING',
      });
  }
  return { tasks, failures };
}

export function listTasks(ctx: EcsContext, input: Input): unknown {
  const cluster = ctx.state.cluster(input.cluster);
  const desired = input.desiredStatus ?? 'RUNNING';
  if (!['RUNNING', 'PENDING', 'STOPPED'].includes(String(desired))) throw invalidParameter('Invalid desiredStatus.');
  if (input.serviceName !== undefined && input.family !== undefined) {
    throw invalidParameter('family and serviceName cannot be specified together.');
  }
  const serviceArn =
    input.serviceName === undefined ? undefined : ctx.state.service(input.cluster, input.serviceName).arn;
  const arns = [...ctx.state.tasks.values()]
    .filter((task) => task.cluster === cluster && task.desiredStatus === desired)
    .filter((task) => serviceArn === undefined || task.serviceArn === serviceArn)
    .filter((task) => input.family === undefined || task.taskDefinition.family === input.family)
    .filter((task) => input.startedBy === undefined || task.startedBy === input.startedBy)
    .filter((task) => input.launchType === undefined || task.launchType === input.launchType)
    .map((task) => task.arn);
  const { page, nextToken } = paginate(arns, input.nextToken, input.maxResults, LIST_LIMITS);
  return { taskArns: page, nextToken };
}

/**
 * The health knob: makes the health-checked containers of the given tasks (a task ARN or id, or every
 * live task of a service) report `status`. Returns the ARNs of the tasks it touched.
 */
export function setTaskHealth(
  ctx: EcsContext,
  target: { taskArn?: string; service?: string; cluster?: string },
  status: 'HEALTHY' | 'UNHEALTHY',
): string[] {
  const cluster = ctx.state.cluster(target.cluster);
  const tasks = target.taskArn
    ? [ctx.state.findTask(cluster, target.taskArn)].filter((task): task is Task => task !== undefined)
    : [...ctx.state.tasks.values()].filter(
        (task) =>
          task.cluster === cluster && task.group === `service:${target.service}` && task.desiredStatus === 'RUNNING',
      );
  for (const task of tasks) ctx.lifecycle.setHealth(task, status);
  return tasks.map((task) => task.arn);
}
