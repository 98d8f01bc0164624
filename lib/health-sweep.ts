import { type ItemCounts, ItemTally } from './item-tally';
import type { CustomHealth, ServiceInfo } from './ports';
import { type RegistrarDeps, registerPlanned } from './registrar';
import { countBlocked, type PlannedTask, planRunningTasks, registerItem } from './running-tasks';
import { arnTail } from './task-event';

export interface HealthSweepSummary extends ItemCounts {
  /** Health-checked tasks registered because ECS now reports them HEALTHY. */
  registered: number;
  /** Instances whose Cloud Map health was set to follow ECS (HEALTHY or UNHEALTHY). */
  healthChanged: number;
  /** Health-checked tasks still waiting for ECS to report their health. */
  pending: number;
}

/**
 * What Cloud Map holds of one service's health: `known` false when the read failed (nothing may be
 * decided on it); no `service` when it is missing or another tool's (never read: nothing there is ours).
 */
interface ServiceHealth {
  known: boolean;
  service?: ServiceInfo;
  health: Record<string, string>;
}

type HealthReader = (namespaceRef: string, name: string) => Promise<ServiceHealth>;

/** Reads each service's health at most once per pass; a failed read is counted once. */
function healthReader(deps: RegistrarDeps, tally: ItemTally): HealthReader {
  const read = new Map<string, Promise<ServiceHealth>>();
  return (namespaceRef, name) => {
    const key = `${namespaceRef}/${name}`;
    let found = read.get(key);
    if (!found) {
      found = tally
        .attempt({ action: 'get-health', namespace: namespaceRef, cloudMapService: name }, async () => {
          const namespace = await deps.registry.resolveNamespace(namespaceRef);
          const service = await deps.registry.findService(namespace, name);
          if (!service || !(await deps.registry.isManaged(service))) return { known: true, health: {} };
          return { known: true, service, health: await deps.registry.getHealth(service) };
        })
        .then((done) => done?.value ?? { known: false, health: {} });
      read.set(key, found);
    }
    return found;
  };
}

/**
 * Makes the custom health of registered health-checked tasks follow what ECS reports: UNHEALTHY
 * takes the instance out of healthy answers (and out of DNS), HEALTHY brings it back. Reads Cloud Map's
 * current health once per service and writes only what differs. Each read and write fails alone,
 * counted in `tally`; a service another tool created is never read.
 */
export async function fixHealth(
  deps: RegistrarDeps,
  planned: PlannedTask[],
  tally: ItemTally,
  serviceHealth: HealthReader = healthReader(deps, tally),
): Promise<{ changed: number }> {
  let changed = 0;
  for (const { detail, plan, gated } of planned) {
    if (!gated) continue;
    let want: CustomHealth;
    if (plan.action === 'register') want = 'HEALTHY';
    else if (plan.action === 'ignore' && plan.reason === 'unhealthy') want = 'UNHEALTHY';
    else continue;
    const instanceId = arnTail(detail.taskArn);
    const read = await tally.attempt({ action: 'read-task-record', taskArn: detail.taskArn, instanceId }, () =>
      deps.versions.get(detail.taskArn),
    );
    const record = read?.value;
    if (record?.state !== 'running' || !record.namespace) continue;
    for (const name of record.services) {
      const { service, health } = await serviceHealth(record.namespace, name);
      const current = health[instanceId];
      if (!service || current === undefined || current === want) continue;
      const item = {
        action: 'set-health',
        taskArn: detail.taskArn,
        instanceId,
        namespace: record.namespace,
        cloudMapService: name,
      };
      if (await tally.attempt(item, () => deps.registry.setHealth(service, instanceId, want))) changed += 1;
    }
  }
  return { changed };
}

/**
 * One pass of the health sweep: registers health-checked tasks that ECS now reports HEALTHY (those the
 * RUNNING event could not wait for), and makes registered ones follow ECS's health. ECS emits no event
 * when a task's health changes, so this polling is what gates membership on health. Each cluster, task
 * and write fails alone: counted in `failed` by reason, logged, and tried again by the next pass.
 */
export async function sweepHealth(deps: RegistrarDeps, clusters: string[], now: Date): Promise<HealthSweepSummary> {
  const tally = new ItemTally();
  const serviceHealth = healthReader(deps, tally);
  const planned = (await planRunningTasks(deps, clusters, now, tally)).planned.filter((p) => p.gated);
  let registered = 0;
  let pending = 0;
  for (const { detail, plan } of planned) {
    if (plan.action === 'ignore' && plan.reason === 'health-pending') pending += 1;
    if (plan.action !== 'register') continue;
    // Cloud Map, not the task table, says whether it is registered: a registration that failed after its
    // claim is recorded, yet missing, and must be tried again.
    const held = await Promise.all(
      plan.registrations.map(async (r) => {
        const { known, health } = await serviceHealth(plan.namespace, r.service);
        return known ? health[r.instanceId] !== undefined : undefined;
      }),
    );
    if (held.every((present) => present === true) || held.includes(undefined)) continue;
    const item = registerItem(plan, detail.taskArn);
    const done = await tally.attempt(item, () => registerPlanned(plan, detail.taskArn, deps));
    if (done?.value) countBlocked(tally, plan, done.value);
    else if (done) registered += 1;
  }
  const healthChanged = (await fixHealth(deps, planned, tally, serviceHealth)).changed;
  return { registered, healthChanged, pending, ...tally.counts() };
}
