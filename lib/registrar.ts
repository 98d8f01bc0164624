import {
  ATTR,
  type DeregisterPlan,
  ecsServiceName,
  isLeaving,
  isRunning,
  type PlanSettings,
  planTaskEvent,
  type RegisterPlan,
  type TaskFacts,
} from './plan';
import type { InstanceRecord, Registry, TaskSource } from './ports';
import { arnTail, parseTaskEvent, type TaskStateChange } from './task-event';

/** What became of one event: for logs, metrics and tests. */
export type Outcome =
  | { result: 'registered'; taskId: string; service: string; namespace: string; lagMs: number; warnings?: string[] }
  | { result: 'deregistered'; taskId: string; service: string; namespace: string; lagMs: number }
  | { result: 'skipped'; reason: string; message: string; taskId?: string };

export interface RegistrarSettings extends PlanSettings {
  dnsTtl: number;
}

export interface RegistrarDeps {
  registry: Registry;
  tasks: TaskSource;
  settings: RegistrarSettings;
  now?: () => number;
}

const skipped = (reason: string, message: string, taskId?: string): Outcome => ({
  result: 'skipped',
  reason,
  message,
  ...(taskId ? { taskId } : {}),
});

/** The identity that holds a Cloud Map name: the ECS service (with its cluster), or none for standalone tasks. */
function holder(attributes: Record<string, string>): string | undefined {
  const service = attributes[ATTR.service];
  return service ? `${attributes[ATTR.cluster] ?? ''}/${service}` : undefined;
}

/**
 * Reads what ECS says of the task. A leaving task needs only its tags (for the name); a running one also
 * needs its current status (never resurrect) and its task definition (the port).
 */
export async function gatherFacts(event: TaskStateChange, tasks: TaskSource): Promise<TaskFacts> {
  const { detail } = event;
  const cluster = detail.clusterArn;
  const service = ecsServiceName(detail);
  const [described, serviceTags, taskDefinition] = await Promise.all([
    tasks.describeTask(cluster, detail.taskArn),
    service ? tasks.serviceTags(cluster, service) : Promise.resolve({}),
    isLeaving(detail) ? Promise.resolve(undefined) : tasks.taskDefinition(detail.taskDefinitionArn),
  ]);
  return { described: described ?? null, serviceTags, ...(taskDefinition ? { taskDefinition } : {}) };
}

/**
 * Handles one input from EventBridge: validates it, plans, and makes Cloud Map match the plan.
 * Invalid or irrelevant input is skipped (never thrown: a retry would not help); AWS failures are
 * thrown so that Lambda retries and the DLQ keeps what still fails.
 */
export async function handleTaskEvent(input: unknown, deps: RegistrarDeps): Promise<Outcome> {
  const parsed = parseTaskEvent(input);
  if (!parsed.ok) return skipped(parsed.reason, parsed.message);
  const { event } = parsed;
  const { detail } = event;
  const taskId = arnTail(detail.taskArn);
  if (!isLeaving(detail) && !isRunning(detail)) {
    return skipped('not-running-yet', `task is ${detail.lastStatus} (desired ${detail.desiredStatus})`, taskId);
  }
  const facts = await gatherFacts(event, deps.tasks);
  const plan = planTaskEvent(event, facts, deps.settings);
  const now = deps.now ?? Date.now;
  const lag = () => Math.max(0, now() - Date.parse(event.time));
  switch (plan.action) {
    case 'ignore':
      return skipped(plan.reason, plan.message, taskId);
    case 'deregister': {
      const done = await applyDeregister(plan, deps);
      return done ?? { result: 'deregistered', taskId, service: plan.service, namespace: plan.namespace, lagMs: lag() };
    }
    case 'register': {
      const done = await applyRegister(plan, deps);
      return (
        done ?? {
          result: 'registered',
          taskId,
          service: plan.service,
          namespace: plan.namespace,
          lagMs: lag(),
          ...(plan.warnings ? { warnings: plan.warnings } : {}),
        }
      );
    }
  }
}

/** Registers unless an instance blocks it; returns the skip outcome when one does. */
async function applyRegister(plan: RegisterPlan, deps: RegistrarDeps): Promise<Outcome | undefined> {
  const { registry, settings } = deps;
  const namespace = await registry.resolveNamespace(plan.namespace);
  const service = await registry.ensureService(namespace, {
    name: plan.service,
    dnsRecords: namespace.type === 'HTTP' ? 'none' : plan.dnsRecords,
    ttlSeconds: settings.dnsTtl,
  });
  const instances = await registry.listInstances(service);
  const blocked = registrationBlocker(plan, instances, settings.ownerId);
  if (blocked) return skipped(blocked.reason, blocked.message, plan.instanceId);
  await registry.register(service, plan.instanceId, plan.attributes);
  return undefined;
}

/**
 * Why the instances already in the service forbid this registration: an instance with the same id that
 * another system made, a newer (or the same) version of this task, or a name held by another ECS service.
 */
export function registrationBlocker(
  plan: RegisterPlan,
  instances: InstanceRecord[],
  ownerId: string,
): { reason: string; message: string } | undefined {
  const existing = instances.find((i) => i.id === plan.instanceId);
  if (existing) {
    if (existing.attributes[ATTR.owner] !== ownerId) {
      return {
        reason: 'not-owned',
        message: `instance ${plan.instanceId} in ${plan.service} was not created by ${ownerId}; left untouched`,
      };
    }
    const known = Number(existing.attributes[ATTR.version]);
    if (Number.isFinite(known) && known >= plan.version) {
      return {
        reason: known === plan.version ? 'duplicate-event' : 'stale-event',
        message: `instance already registered from version ${known}; event version ${plan.version}`,
      };
    }
  }
  const mine = holder(plan.attributes);
  const other = instances.find(
    (i) => i.id !== plan.instanceId && holder(i.attributes) && holder(i.attributes) !== mine,
  );
  if (other) {
    return {
      reason: 'name-taken',
      message: `Cloud Map service "${plan.service}" is held by tasks of ECS service ${holder(other.attributes)}; refusing ${mine ?? 'a standalone task'}`,
    };
  }
  return undefined;
}

/** Deregisters an instance this project owns; a missing service or instance is success. */
async function applyDeregister(plan: DeregisterPlan, deps: RegistrarDeps): Promise<Outcome | undefined> {
  const { registry, settings } = deps;
  const namespace = await registry.resolveNamespace(plan.namespace);
  const service = await registry.findService(namespace, plan.service);
  if (!service) return undefined;
  const existing = await registry.getInstance(service, plan.instanceId);
  if (!existing) return undefined;
  if (existing.attributes[ATTR.owner] !== settings.ownerId) {
    return skipped(
      'not-owned',
      `instance ${plan.instanceId} in ${plan.service} was not created by ${settings.ownerId}; left untouched`,
      plan.instanceId,
    );
  }
  await registry.deregister(service, plan.instanceId);
  return undefined;
}
