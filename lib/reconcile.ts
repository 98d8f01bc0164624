import { ServiceNotManagedError } from './errors';
import { fixHealth } from './health-sweep';
import { type ItemCounts, ItemTally } from './item-tally';
import { logger } from './observability';
import { ATTR, type RegisterPlan, type Registration } from './plan';
import { pool } from './pool';
import type { InstanceRecord, ServiceInfo } from './ports';
import { deregisterOwned, type RegistrarDeps, registerPlanned } from './registrar';
import { countBlocked, planRunningTasks, registerItem } from './running-tasks';
import { clusterName } from './task-event';

export interface ReconcileOptions {
  /** Clusters to read (ARNs or names); default: every cluster of the account and region. */
  clusters?: string[];
  /** Compute and report, write nothing. */
  dryRun?: boolean;
  /** Lift the cap on deletions, the empty-listing guard and the hold on clusters ECS does not find. */
  force?: boolean;
  /** Most deregistrations in one run (without `force`); the rest wait for the next run. */
  maxDeletes: number;
  /** Cloud Map writes at once. */
  concurrency?: number;
  /** Called as work completes: for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

export interface ReconcileSummary extends ItemCounts {
  registered: number;
  deregistered: number;
  updated: number;
  unchanged: number;
  /**
   * Deregistrations held back by the cap, the empty-listing guard, or a watched cluster ECS does not
   * find; `force` lifts all three.
   */
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

/** What Cloud Map holds of this project, and what of it could not be read this run. */
interface OwnedListing {
  owned: Map<string, Owned>;
  /** `namespace/service` (or `namespace/*`) whose instances are unknown: their listing failed. */
  unknown: Set<string>;
  /** `namespace/service` of services another tool created, with the message that says what to do. */
  foreign: Map<string, string>;
}

/** A Cloud Map service's identity across the namespaces the registrar writes to. */
const serviceKey = (namespace: string, service: string) => `${namespace.toLowerCase()}/${service.toLowerCase()}`;

/** An instance's identity across the namespaces the registrar writes to. */
const key = (namespace: string, service: string, instanceId: string) =>
  `${serviceKey(namespace, service)}/${instanceId}`;

/** Every namespace the registrar writes to: the default one and those of the cluster mapping. */
function namespacesOf(deps: RegistrarDeps): string[] {
  return [...new Set([deps.settings.namespace, ...Object.values(deps.settings.clusterNamespaces ?? {})])];
}

/**
 * Every instance this project owns in the namespaces, by `namespace/service/instanceId`. Services that
 * are not ours are never listed (IAM may deny it, and nothing there is ours); a listing that fails is
 * counted and its namespace or service marked unknown, so that nothing is written or deleted there on
 * partial knowledge.
 */
async function ownedInstances(deps: RegistrarDeps, namespaceRefs: string[], tally: ItemTally): Promise<OwnedListing> {
  const listing: OwnedListing = { owned: new Map(), unknown: new Set(), foreign: new Map() };
  for (const namespaceRef of namespaceRefs) {
    const services = await tally.attempt({ action: 'list-services', namespace: namespaceRef }, async () => {
      const namespace = await deps.registry.resolveNamespace(namespaceRef);
      return { namespace, services: await deps.registry.listServices(namespace) };
    });
    if (!services) {
      listing.unknown.add(serviceKey(namespaceRef, '*'));
      continue;
    }
    const { namespace } = services.value;
    for (const service of services.value.services) {
      const item = { action: 'list-instances', namespace: namespaceRef, cloudMapService: service.name };
      const instances = await tally.attempt(item, async () =>
        (await deps.registry.isManaged(service)) ? deps.registry.listInstances(service) : undefined,
      );
      if (!instances) listing.unknown.add(serviceKey(namespaceRef, service.name));
      else if (!instances.value) {
        const notOurs = new ServiceNotManagedError(namespace.name, service.name, deps.settings.ownerId);
        listing.foreign.set(serviceKey(namespaceRef, service.name), notOurs.message);
      } else {
        for (const instance of instances.value) {
          if (instance.attributes[ATTR.owner] !== deps.settings.ownerId) continue;
          listing.owned.set(key(namespaceRef, service.name, instance.id), {
            namespace: namespaceRef,
            service,
            instance,
          });
        }
      }
    }
  }
  return listing;
}

function sameAddress(a: Record<string, string>, b: Record<string, string>): boolean {
  return ADDRESS_KEYS.every((k) => a[k] === b[k]);
}

/**
 * Makes Cloud Map equal to what ECS runs, for the instances this project owns: registers running tasks
 * that are missing (backfill, lost events), fixes a wrong address or port, and deregisters instances
 * whose task is gone, after re-checking each with DescribeTasks. It never touches an instance it does
 * not own, nor a service another tool created; it caps deletions per run unless forced.
 *
 * Every item fails alone (STYLE §12): a failed write is counted in `failed` by reason, logged, and
 * retried by the next run, and the others proceed. Listings complete before any write, and nothing is
 * decided on partial knowledge: where a listing failed (a namespace, a service, a cluster, a task's
 * reads) nothing is written or deleted; an empty task listing beside existing instances deletes nothing.
 */
export async function reconcile(deps: RegistrarDeps, options: ReconcileOptions): Promise<ReconcileSummary> {
  const now = new Date((deps.now ?? Date.now)());
  const dryRun = options.dryRun ?? false;
  const force = options.force ?? false;
  const tally = new ItemTally();
  const counts = { registered: 0, deregistered: 0, updated: 0, unchanged: 0, deferred: 0 };
  const clusters = options.clusters ?? (await deps.tasks.listClusters());
  // Both listings complete before any write.
  const { owned, unknown, foreign } = await ownedInstances(deps, namespacesOf(deps), tally);
  const ecs = await planRunningTasks(deps, clusters, now, tally);
  const tasks = ecs.planned.length + ecs.unplanned.size;
  const desired = new Map<string, { plan: RegisterPlan; taskArn: string; registration: Registration }>();
  for (const { plan, detail } of ecs.planned) {
    if (plan.action !== 'register') continue;
    for (const registration of plan.registrations) {
      desired.set(key(plan.namespace, registration.service, registration.instanceId), {
        plan,
        taskArn: detail.taskArn,
        registration,
      });
    }
  }

  // One write per task (all its registrations), counted per instance: missing or with a wrong address.
  const toWrite = new Map<string, { plan: RegisterPlan; taskArn: string; missing: number; wrong: number }>();
  const held = new Set<string>();
  for (const [k, want] of desired) {
    const service = serviceKey(want.plan.namespace, want.registration.service);
    const notOurs = foreign.get(service);
    if (notOurs) {
      tally.skipOnce('service-not-managed', service, notOurs, {
        namespace: want.plan.namespace,
        cloudMapService: want.registration.service,
      });
      continue;
    }
    // What the service holds is unknown this run: writing would act on a guess (and likely fail the same way).
    if (unknown.has(service) || unknown.has(serviceKey(want.plan.namespace, '*'))) {
      held.add(want.taskArn);
      continue;
    }
    const have = owned.get(k);
    if (have && sameAddress(have.instance.attributes, want.registration.attributes)) {
      counts.unchanged += 1;
      continue;
    }
    const entry = toWrite.get(want.taskArn) ?? { plan: want.plan, taskArn: want.taskArn, missing: 0, wrong: 0 };
    if (have) entry.wrong += 1;
    else entry.missing += 1;
    toWrite.set(want.taskArn, entry);
  }
  for (const taskArn of held) toWrite.delete(taskArn);
  tally.skip('listing-failed', held.size);

  // Only instances whose cluster ECS listed completely may be judged; the rest wait for a run that knows.
  const watched = new Set(clusters.map(clusterName));
  const stale: Owned[] = [];
  for (const [k, v] of owned) {
    if (desired.has(k)) continue;
    const cluster = v.instance.attributes[ATTR.cluster] ?? '';
    const taskArn = v.instance.attributes[ATTR.taskArn] ?? '';
    if (!watched.has(cluster)) tally.skip('cluster-not-watched');
    else if (ecs.missing.has(cluster)) {
      /*
       * ClusterNotFoundException says only that this account and region have no active cluster of that
       * name: deleted, or living elsewhere (events forwarded from another account or region, a wrong
       * region in the configuration). The instance records the cluster by name and cannot tell which, so
       * removing it would be a guess that can empty a live service: it stays, deferred like an empty
       * listing, until an operator confirms with --force (a deleted cluster can hold no task: ECS refuses
       * DeleteCluster while tasks are active).
       */
      if (force) stale.push(v);
      else counts.deferred += 1;
    } else if (!ecs.listed.has(cluster) || ecs.unplanned.has(taskArn)) tally.skip('listing-failed');
    else stale.push(v);
  }
  for (const cluster of ecs.missing) {
    const left = [...owned.values()].filter((v) => v.instance.attributes[ATTR.cluster] === cluster).length;
    if (left > 0 && !force) {
      logger.warn(
        `${left} instance(s) recorded for ECS cluster "${cluster}" left in place: ECS does not find the cluster; ` +
          `if it was deleted, \`registrar reconcile --cluster ${cluster} --force\` removes them`,
        { cluster, reason: 'cluster-not-found' },
      );
    }
  }

  const total = toWrite.size + stale.length;
  let done = 0;
  const progress = () => {
    done += 1;
    options.onProgress?.(done, total);
  };
  const concurrency = options.concurrency ?? 4;

  await pool([...toWrite.values()], concurrency, async ({ plan, taskArn, missing, wrong }) => {
    const item = registerItem(plan, taskArn);
    // Forced: a same-version instance with a wrong address is rewritten in place.
    const result = dryRun
      ? { value: undefined }
      : await tally.attempt(item, () => registerPlanned(plan, taskArn, deps, { force: true }));
    if (result?.value) countBlocked(tally, plan, result.value, missing + wrong);
    else if (result) {
      counts.registered += missing;
      counts.updated += wrong;
    }
    progress();
  });

  // An empty task listing beside existing instances looks like a wrong account, region or cluster list.
  const guarded = tasks === 0 && owned.size > 0 && !force;
  let deletesLeft = force ? Number.POSITIVE_INFINITY : options.maxDeletes;
  await pool(stale, concurrency, async ({ namespace, service, instance }) => {
    const taskArn = instance.attributes[ATTR.taskArn];
    const item = { action: 'deregister', taskArn, instanceId: instance.id, namespace, cloudMapService: service.name };
    await tally.attempt(item, async () => {
      // Not a guess when the task's own leaving event was recorded: the instance of a registration whose undo
      // failed after its task stopped has nothing else to remove it, and ECS may list no task for long.
      if (guarded && !(await recordedLeaving(deps, instance))) {
        counts.deferred += 1;
        return;
      }
      // A cluster ECS does not find runs no task: DescribeTasks answers it as unknown, so it is not running.
      if (await stillRunning(deps, instance)) {
        tally.skip('task-still-running');
        return;
      }
      if (deletesLeft <= 0) {
        counts.deferred += 1;
        return;
      }
      deletesLeft -= 1;
      if (!dryRun) {
        if (taskArn) await deps.versions.markLeaving(taskArn, Number(instance.attributes[ATTR.version] ?? 0));
        if ((await deregisterOwned(namespace, service.name, instance.id, deps)) === 'not-owned') {
          tally.skip('not-owned');
          return;
        }
      }
      counts.deregistered += 1;
    });
    progress();
  });
  if (!dryRun) counts.updated += (await fixHealth(deps, ecs.planned, tally)).changed;
  return { ...counts, ...tally.counts(), dryRun };
}

/** True when the version store records the instance's task as leaving (a leaving event of the task said so). */
async function recordedLeaving(deps: RegistrarDeps, instance: InstanceRecord): Promise<boolean> {
  const taskArn = instance.attributes[ATTR.taskArn];
  return taskArn !== undefined && (await deps.versions.get(taskArn))?.state === 'leaving';
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
