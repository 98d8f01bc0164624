import { fixHealth } from './health-sweep';
import { ATTR, type RegisterPlan, type Registration, registrationsOf } from './plan';
import type { InstanceRecord, ServiceInfo } from './ports';
import { deregisterOwned, type RegistrarDeps, registerPlanned } from './registrar';
import { planRunningTasks } from './running-tasks';
import { clusterName } from './task-event';

export interface ReconcileOptions {
  /** Clusters to read (ARNs or names); default: every cluster of the account and region. */
  clusters?: string[];
  /** Compute and report, write nothing. */
  dryRun?: boolean;
  /** Lift the cap on deletions and the empty-listing guard. */
  force?: boolean;
  /** Most deregistrations in one run (without `force`); the rest wait for the next run. */
  maxDeletes: number;
  /** Cloud Map writes at once. */
  concurrency?: number;
  /** Called as work completes: for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

export interface ReconcileSummary {
  registered: number;
  deregistered: number;
  updated: number;
  unchanged: number;
  /** Tasks or instances left alone for a reason (not owned, name taken, version race...). */
  skipped: number;
  /** Deregistrations held back by the cap or the empty-listing guard. */
  deferred: number;
  dryRun: boolean;
}

/** The attributes whose difference makes an instance wrong (address, port). */
const ADDRESS_KEYS = [ATTR.ipv4, ATTR.ipv6, ATTR.port] as const;

interface Owned {
  namespace: string;
  service: ServiceInfo;
  instance: InstanceRecord;
}

/** An instance's identity across the namespaces the registrar writes to. */
const key = (namespace: string, service: string, instanceId: string) =>
  `${namespace.toLowerCase()}/${service.toLowerCase()}/${instanceId}`;

/** Every namespace the registrar writes to: the default one and those of the cluster mapping. */
function namespacesOf(deps: RegistrarDeps): string[] {
  return [...new Set([deps.settings.namespace, ...Object.values(deps.settings.clusterNamespaces ?? {})])];
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  });
  await Promise.all(runners);
}

/** Every instance this project owns in the namespaces, by `namespace/service/instanceId`. */
async function ownedInstances(deps: RegistrarDeps, namespaceRefs: string[]): Promise<Map<string, Owned>> {
  const owned = new Map<string, Owned>();
  for (const namespaceRef of namespaceRefs) {
    const namespace = await deps.registry.resolveNamespace(namespaceRef);
    for (const service of await deps.registry.listServices(namespace)) {
      for (const instance of await deps.registry.listInstances(service)) {
        if (instance.attributes[ATTR.owner] !== deps.settings.ownerId) continue;
        owned.set(key(namespaceRef, service.name, instance.id), { namespace: namespaceRef, service, instance });
      }
    }
  }
  return owned;
}

function sameAddress(a: Record<string, string>, b: Record<string, string>): boolean {
  return ADDRESS_KEYS.every((k) => a[k] === b[k]);
}

/**
 * Makes Cloud Map equal to what ECS runs, for the instances this project owns: registers running tasks
 * that are missing (backfill, lost events), fixes a wrong address or port, and deregisters instances
 * whose task is gone, after re-checking each with DescribeTasks. It never touches an instance it does
 * not own, deletes nothing when a listing fails (it throws first) or comes back empty while instances
 * exist, and caps deletions per run unless forced.
 */
export async function reconcile(deps: RegistrarDeps, options: ReconcileOptions): Promise<ReconcileSummary> {
  const now = new Date((deps.now ?? Date.now)());
  const dryRun = options.dryRun ?? false;
  const summary: ReconcileSummary = {
    registered: 0,
    deregistered: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    deferred: 0,
    dryRun,
  };
  const clusters = options.clusters ?? (await deps.tasks.listClusters());
  // Both listings complete before any write: a failure of either throws here and changes nothing.
  const owned = await ownedInstances(deps, namespacesOf(deps));
  const planned = await planRunningTasks(deps, clusters, now);
  const tasks = planned.length;
  const desired = new Map<string, { plan: RegisterPlan; taskArn: string; registration: Registration }>();
  for (const { plan, detail } of planned) {
    if (plan.action !== 'register') continue;
    for (const registration of registrationsOf(plan)) {
      desired.set(key(plan.namespace, registration.service, registration.instanceId), {
        plan,
        taskArn: detail.taskArn,
        registration,
      });
    }
  }

  // One write per task (all its registrations), counted per instance: missing or with a wrong address.
  const toWrite = new Map<string, { plan: RegisterPlan; taskArn: string; missing: number; wrong: number }>();
  for (const [k, want] of desired) {
    const have = owned.get(k);
    if (have && sameAddress(have.instance.attributes, want.registration.attributes)) {
      summary.unchanged += 1;
      continue;
    }
    const entry = toWrite.get(want.taskArn) ?? { plan: want.plan, taskArn: want.taskArn, missing: 0, wrong: 0 };
    if (have) entry.wrong += 1;
    else entry.missing += 1;
    toWrite.set(want.taskArn, entry);
  }
  // Instances of clusters outside the watched ones are not this run's to judge (nor, in IAM, to describe).
  const watched = new Set(clusters.map(clusterName));
  const stale = [...owned.entries()]
    .filter(([k]) => !desired.has(k))
    .map(([, v]) => v)
    .filter((v) => {
      const inWatched = watched.has(v.instance.attributes[ATTR.cluster] ?? '');
      if (!inWatched) summary.skipped += 1;
      return inWatched;
    });

  const total = toWrite.size + stale.length;
  let done = 0;
  const progress = () => {
    done += 1;
    options.onProgress?.(done, total);
  };
  const concurrency = options.concurrency ?? 4;

  await pool([...toWrite.values()], concurrency, async ({ plan, taskArn, missing, wrong }) => {
    // Forced: a same-version instance with a wrong address is rewritten in place.
    const blocked = dryRun ? undefined : await registerPlanned(plan, taskArn, deps, { force: true });
    if (blocked) summary.skipped += missing + wrong;
    else {
      summary.registered += missing;
      summary.updated += wrong;
    }
    progress();
  });

  // An empty task listing beside existing instances looks like a wrong account, region or cluster list.
  const guarded = tasks === 0 && owned.size > 0 && !options.force;
  let deletesLeft = options.force ? Number.POSITIVE_INFINITY : options.maxDeletes;
  await pool(stale, concurrency, async ({ namespace, service, instance }) => {
    if (guarded) {
      summary.deferred += 1;
      progress();
      return;
    }
    if (await stillRunning(deps, instance)) {
      summary.skipped += 1;
      progress();
      return;
    }
    if (deletesLeft <= 0) {
      summary.deferred += 1;
      progress();
      return;
    }
    deletesLeft -= 1;
    if (!dryRun) {
      const taskArn = instance.attributes[ATTR.taskArn];
      if (taskArn) await deps.versions.markLeaving(taskArn, Number(instance.attributes[ATTR.version] ?? 0));
      await deregisterOwned(namespace, service.name, instance.id, deps);
    }
    summary.deregistered += 1;
    progress();
  });
  if (!dryRun) summary.updated += (await fixHealth(deps, planned)).changed;
  return summary;
}

/**
 * The re-check before a deletion: the task may have started after the listing. True when ECS says the
 * task is running, in which case the instance stays (the task's own events decide its fate).
 */
async function stillRunning(deps: RegistrarDeps, instance: InstanceRecord): Promise<boolean> {
  const taskArn = instance.attributes[ATTR.taskArn];
  const cluster = instance.attributes[ATTR.cluster];
  if (!taskArn || !cluster) return false;
  const described = await deps.tasks.describeTask(cluster, taskArn);
  return described?.lastStatus === 'RUNNING' && described.desiredStatus === 'RUNNING';
}
