import type { CustomHealth, ServiceInfo } from './ports';
import { type RegistrarDeps, registerPlanned } from './registrar';
import { type PlannedTask, planRunningTasks } from './running-tasks';
import { arnTail } from './task-event';

export interface HealthSweepSummary {
  /** Health-checked tasks registered because ECS now reports them HEALTHY. */
  registered: number;
  /** Instances whose Cloud Map health was set to follow ECS (HEALTHY or UNHEALTHY). */
  healthChanged: number;
  /** Health-checked tasks still waiting for ECS to report their health. */
  pending: number;
}

/**
 * Makes the custom health of registered health-checked tasks follow what ECS reports: UNHEALTHY
 * takes the instance out of healthy answers (and out of DNS), HEALTHY brings it back. Reads Cloud Map's
 * current health once per service and writes only what differs.
 */
export async function fixHealth(deps: RegistrarDeps, planned: PlannedTask[]): Promise<{ changed: number }> {
  const healthByService = new Map<string, Promise<{ service?: ServiceInfo; health: Record<string, string> }>>();
  const serviceHealth = (namespaceRef: string, name: string) => {
    const key = `${namespaceRef}/${name}`;
    let found = healthByService.get(key);
    if (!found) {
      found = (async () => {
        const namespace = await deps.registry.resolveNamespace(namespaceRef);
        const service = await deps.registry.findService(namespace, name);
        return service ? { service, health: await deps.registry.getHealth(service) } : { health: {} };
      })();
      healthByService.set(key, found);
    }
    return found;
  };
  let changed = 0;
  for (const { detail, plan, gated } of planned) {
    if (!gated) continue;
    let want: CustomHealth;
    if (plan.action === 'register') want = 'HEALTHY';
    else if (plan.action === 'ignore' && plan.reason === 'unhealthy') want = 'UNHEALTHY';
    else continue;
    const record = await deps.versions.get(detail.taskArn);
    if (record?.state !== 'running' || !record.namespace) continue;
    const instanceId = arnTail(detail.taskArn);
    for (const name of record.services) {
      const { service, health } = await serviceHealth(record.namespace, name);
      const current = health[instanceId];
      if (!service || current === undefined || current === want) continue;
      await deps.registry.setHealth(service, instanceId, want);
      changed += 1;
    }
  }
  return { changed };
}

/**
 * One pass of the health sweep: registers health-checked tasks that ECS now reports HEALTHY (those the
 * RUNNING event could not wait for), and makes registered ones follow ECS's health. ECS emits no event
 * when a task's health changes, so this polling is what gates membership on health.
 */
export async function sweepHealth(deps: RegistrarDeps, clusters: string[], now: Date): Promise<HealthSweepSummary> {
  const planned = (await planRunningTasks(deps, clusters, now)).filter((p) => p.gated);
  const summary: HealthSweepSummary = { registered: 0, healthChanged: 0, pending: 0 };
  for (const { detail, plan } of planned) {
    if (plan.action === 'ignore' && plan.reason === 'health-pending') summary.pending += 1;
    if (plan.action !== 'register') continue;
    const record = await deps.versions.get(detail.taskArn);
    if (record && record.services.length > 0) continue;
    if (!(await registerPlanned(plan, detail.taskArn, deps))) summary.registered += 1;
  }
  summary.healthChanged = (await fixHealth(deps, planned)).changed;
  return summary;
}
