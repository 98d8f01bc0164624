import { missingForRecords } from './cloud-map/limits';
import {
  OperationFailedError,
  OperationTimeoutError,
  RegistrationInterruptedError,
  ServiceNotManagedError,
} from './errors';
import { logger } from './observability';
import {
  ATTR,
  ecsServiceName,
  isLeaving,
  isRunning,
  type PlanSettings,
  planTaskEvent,
  type RegisterPlan,
  type Registration,
  type TaskFacts,
} from './plan';
import type { InstanceRecord, Registry, ServiceInfo, TaskRecord, TaskSource, VersionStore } from './ports';
import { SETTINGS } from './settings';
import { sleep as defaultSleep } from './sleep';
import { arnTail, parseTaskEvent, type TaskDetail, type TaskStateChange } from './task-event';

/** What became of one event: for logs, metrics and tests. */
export type Outcome =
  | {
      result: 'registered';
      taskId: string;
      service: string;
      namespace: string;
      lagMs: number;
      warnings?: string[];
      /** Written without waiting for Cloud Map (`confirmLater`): what confirmRegistration needs, later. */
      confirm?: PendingConfirm;
    }
  | { result: 'confirmed'; taskId: string; service: string; namespace: string }
  | { result: 'deregistered'; taskId: string; service: string; namespace: string; lagMs: number }
  | { result: 'skipped'; reason: string; message: string; taskId?: string };

export interface RegistrarSettings extends PlanSettings {
  dnsTtl: number;
  /**
   * How long after its RUNNING event a health-checked task that is not HEALTHY yet is re-checked (lib/task-queue.ts:
   * a delayed message on the register queue; no function waits). Then the health sweep alone watches it.
   */
  healthWaitMs?: number;
  /** The delay of each re-check. */
  healthPollMs?: number;
  /** How long a registration's Cloud Map operation may stay pending before its confirmation fails (default 30 s). */
  operationTimeoutMs?: number;
  /**
   * How long a leaving mark stands before reconcile may overrule it when ECS says the task runs
   * (default LEAVING_OVERRULE_AFTER_MS). A constant, not a setting (lib/settings.ts says why); tests shorten it.
   */
  leavingOverruleAfterMs?: number;
}

/**
 * How long a leaving mark stands before reconcile may overrule it. ECS reads are eventually consistent,
 * and AWS advises polling DescribeTasks "up to five minutes" for a change to show (RunTask, API
 * reference); twice that, so that a read taken this long after the mark shows the stop behind it.
 */
export const LEAVING_OVERRULE_AFTER_MS = 10 * 60_000;

export interface RegistrarDeps {
  registry: Registry;
  tasks: TaskSource;
  versions: VersionStore;
  settings: RegistrarSettings;
  now?: () => number;
  /** Waits while another handler finishes a deregistration; injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Register without waiting for Cloud Map's operation: the registered outcome carries a PendingConfirm, and the
   * caller (lib/task-queue.ts, with a queue to send it on) runs confirmRegistration once the operation is done.
   * Unset (reconcile, the CLI, tests): the registration waits for its operation and re-reads the record itself.
   */
  confirmLater?: boolean;
}

/**
 * A registration written without waiting for its Cloud Map operation. Until the operation is done, a leaving event
 * cannot see the instance (GetInstance answers InstanceNotFound for an instance "recently registered" whose data has
 * not propagated: API Reference, DeregisterInstance), so it cannot remove it: confirmRegistration, once every
 * operation has succeeded, re-reads the task's record and undoes the registration if the task started to leave.
 */
export interface PendingConfirm {
  taskArn: string;
  namespace: string;
  /** When the writes were sent (ms since the epoch). */
  since: number;
  /** Every registration of the plan, with the operation of those written. */
  registrations: { service: string; instanceId: string; operationId?: string; ownerAccount?: string }[];
  /** How many times in a row the event was run again because an operation failed (lib/task-queue.ts bounds it). */
  attempt?: number;
}

/** Plan reasons that mean ECS no longer runs the task. */
const GONE = new Set(['task-no-longer-running', 'stale-event', 'task-not-found']);

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
  // The task definition also names the ports (a leaving task's named-port services) and the network mode.
  const [described, serviceTags, taskDefinition] = await Promise.all([
    tasks.describeTask(cluster, detail.taskArn),
    service ? tasks.serviceTags(cluster, service) : Promise.resolve({}),
    tasks.taskDefinition(detail.taskDefinitionArn),
  ]);
  const facts: TaskFacts = { described: described ?? null, serviceTags, taskDefinition };
  return withContainerInstance(facts, detail, tasks);
}

/** Adds the container instance's address for a running bridge or host task. */
export async function withContainerInstance(
  facts: TaskFacts,
  detail: TaskDetail,
  tasks: TaskSource,
): Promise<TaskFacts> {
  const mode = facts.taskDefinition?.networkMode;
  if (isLeaving(detail) || (mode !== 'bridge' && mode !== 'host')) return facts;
  const address = detail.containerInstanceArn
    ? await tasks.containerInstanceAddress(detail.clusterArn, detail.containerInstanceArn)
    : undefined;
  return { ...facts, containerInstance: address ?? null };
}

/**
 * Handles one input from EventBridge: validates it, plans, and makes Cloud Map match the plan.
 * Invalid or irrelevant input is skipped (never thrown: a retry would not help); AWS failures are
 * thrown so that Lambda retries and the DLQ keeps what still fails.
 *
 * Ordering: every handler records the task's newest version in the version store with a conditional
 * write before it touches Cloud Map. A leaving state always wins; a RUNNING event older than what is
 * recorded is dropped; and a registration re-reads the record after its write, undoing it if the task
 * started to leave meanwhile. So a stale RUNNING racing a STOPPED can never leave the task registered.
 * Only reconcile turns a leaving record back, when ECS contradicts a mark old enough (registerPlanned).
 */
export async function handleTaskEvent(input: unknown, deps: RegistrarDeps): Promise<Outcome> {
  const parsed = parseTaskEvent(input);
  if (!parsed.ok) return skipped(parsed.reason, parsed.message);
  const { event } = parsed;
  const { detail } = event;
  const taskId = arnTail(detail.taskArn);
  const now = deps.now ?? Date.now;
  const lagMs = () => Math.max(0, now() - Date.parse(event.time));
  if (isLeaving(detail)) return handleLeaving(event, deps, lagMs);
  if (!isRunning(detail)) {
    return skipped('not-running-yet', `task is ${detail.lastStatus} (desired ${detail.desiredStatus})`, taskId);
  }
  return handleRunning(event, deps, lagMs);
}

/**
 * Plans a RUNNING event once and applies the plan. A health-checked task that ECS does not report HEALTHY yet is
 * skipped as `health-pending`: nothing here waits for it (the queue consumer, lib/task-queue.ts, re-checks it later
 * with a delayed message; the health sweep after that).
 */
async function handleRunning(event: TaskStateChange, deps: RegistrarDeps, lagMs: () => number): Promise<Outcome> {
  const { detail } = event;
  const taskId = arnTail(detail.taskArn);
  const plan = planTaskEvent(event, await gatherFacts(event, deps.tasks), deps.settings);
  // ECS says the task is gone or going: whatever this event says, make sure it is not registered.
  // The `cleared` mark is not trusted here: this may be the retry of a registration that crashed after
  // writing, which the leaving events (already done) could not see.
  if (plan.action === 'ignore' && GONE.has(plan.reason)) return handleLeaving(event, deps, lagMs, { recheck: true });
  if (plan.action === 'ignore') return skipped(plan.reason, plan.message, taskId);
  if (plan.action === 'deregister') return handleLeaving(event, deps, lagMs);

  const done = await registerPlanned(plan, detail.taskArn, deps, { confirmLater: deps.confirmLater === true });
  if (done && 'result' in done) return done;
  return {
    result: 'registered',
    taskId,
    service: plan.registrations[0].service,
    namespace: plan.namespace,
    lagMs: lagMs(),
    ...(plan.warnings ? { warnings: plan.warnings } : {}),
    ...(done ? { confirm: done.confirm } : {}),
  };
}

/**
 * Removes what a registration racing a leaving event wrote. The record is marked not cleared first, so
 * that if this fails, the retry (or any later event of the task) still removes it.
 */
async function undoRegistrations(
  namespace: string,
  registrations: { service: string; instanceId: string }[],
  taskArn: string,
  deps: RegistrarDeps,
): Promise<void> {
  await deps.versions.setCleared(taskArn, false);
  for (const r of registrations) await deregisterOwned(namespace, r.service, r.instanceId, deps);
  await deps.versions.setCleared(taskArn, true);
}

/**
 * Applies a registration plan in order with other handlers: claims the version, writes, and re-reads
 * the record after the write, undoing it when the task started to leave meanwhile. Returns the skip
 * outcome when something stopped it, undefined when the instance is registered; with `confirmLater`, the
 * writes are not waited for and the re-read is left to confirmRegistration (returned as `confirm`).
 */
export async function registerPlanned(
  plan: RegisterPlan,
  taskArn: string,
  deps: RegistrarDeps,
  options?: { force?: boolean; confirmLater?: false },
): Promise<Outcome | undefined>;
export async function registerPlanned(
  plan: RegisterPlan,
  taskArn: string,
  deps: RegistrarDeps,
  options: { force?: boolean; confirmLater: boolean },
): Promise<Outcome | { confirm: PendingConfirm } | undefined>;
export async function registerPlanned(
  plan: RegisterPlan,
  taskArn: string,
  deps: RegistrarDeps,
  /**
   * `force`: the plan comes from reconcile's listing of ECS. It rewrites an instance of the same version,
   * and overrules a leaving mark that ECS contradicts (see overruleContradictedLeaving).
   */
  options: { force?: boolean; confirmLater?: boolean } = {},
): Promise<Outcome | { confirm: PendingConfirm } | undefined> {
  const { registrations } = plan;
  const taskId = registrations[0].instanceId;
  const target = { namespace: plan.namespace, services: registrations.map((r) => r.service) };
  const claim = await deps.versions.claimRunning(taskArn, plan.version, target);
  const overruled =
    !claim.claimed &&
    options.force === true &&
    claim.record?.state === 'leaving' &&
    (await overruleContradictedLeaving(plan, taskArn, claim.record, target, deps));
  if (!claim.claimed && !overruled) {
    const leaving = claim.record?.state === 'leaving';
    // A retry of a registration whose undo failed (or never ran) lands here: finish the undo. It reads
    // first, so it writes only when an instance is really there.
    if (leaving) await undoRegistrations(plan.namespace, registrations, taskArn, deps);
    return skipped(
      leaving ? 'task-leaving' : 'stale-event',
      leaving
        ? `the task is already recorded as leaving (version ${claim.record?.version}); event version ${plan.version}`
        : `version ${claim.record?.version} is already recorded; event version ${plan.version}`,
      taskId,
    );
  }
  // Each registration on its own: a named port whose service is refused does not hold back the others.
  const blocked: Outcome[] = [];
  const wait = options.confirmLater !== true;
  const confirm: PendingConfirm = {
    taskArn,
    namespace: plan.namespace,
    since: (deps.now ?? Date.now)(),
    registrations: [],
  };
  for (const registration of registrations) {
    let applied: Awaited<ReturnType<typeof applyRegister>>;
    try {
      applied = await applyRegister(plan, registration, deps, { force: options.force ?? false, wait });
    } catch (error) {
      // Writes already sent are pending: they need their confirmation whatever happens to the rest.
      if (!wait && confirm.registrations.some((r) => r.operationId))
        throw new RegistrationInterruptedError(confirm, error);
      throw error;
    }
    if ('result' in applied) blocked.push(applied);
    confirm.registrations.push({
      service: registration.service,
      instanceId: registration.instanceId,
      ...('operationId' in applied && applied.operationId ? { operationId: applied.operationId } : {}),
      ...('ownerAccount' in applied && applied.ownerAccount ? { ownerAccount: applied.ownerAccount } : {}),
    });
  }
  if (blocked.length === registrations.length) return blocked[0];
  if (!wait) return { confirm };
  // A leaving event may have been handled while this write was in flight: undo the write if so.
  return undoIfLeaving(plan.namespace, registrations, taskArn, deps);
}

/**
 * The re-read after a registration's writes have settled: when a leaving event was handled meanwhile (it could not
 * see a write still in flight), undoes them and returns the skip outcome; undefined when the task still runs.
 */
async function undoIfLeaving(
  namespace: string,
  registrations: { service: string; instanceId: string }[],
  taskArn: string,
  deps: RegistrarDeps,
): Promise<Outcome | undefined> {
  const after = await deps.versions.get(taskArn);
  if (after?.state !== 'leaving') return undefined;
  await undoRegistrations(namespace, registrations, taskArn, deps);
  return skipped(
    'task-leaving',
    `the task started to leave (version ${after.version}) while it was being registered; registration undone`,
    arnTail(taskArn),
  );
}

/**
 * Reconcile's repair of a leaving mark that ECS contradicts (a forged or mis-routed leaving event). ECS
 * never moves a task from desired STOPPED back to RUNNING, so a task that DescribeTasks shows desired
 * and last RUNNING never left, provided the read was taken long enough after the mark for ECS's eventual
 * consistency to show a real stop: the mark must have stood `leavingOverruleAfterMs` before the read.
 * Every leaving event sets the mark anew, so a real one arriving meanwhile defeats the conditional write
 * (still leaving, same version, mark old enough). True when the record is running again.
 */
async function overruleContradictedLeaving(
  plan: RegisterPlan,
  taskArn: string,
  record: TaskRecord,
  target: { namespace: string; services: string[] },
  deps: RegistrarDeps,
): Promise<boolean> {
  const now = deps.now ?? Date.now;
  // Taken before the read: the read shows at least what ECS knew this long before this moment.
  const markedBefore = now() - (deps.settings.leavingOverruleAfterMs ?? LEAVING_OVERRULE_AFTER_MS);
  // Too young for any read to contradict it (a mark without a time is left to the store's condition).
  if (record.leavingMarkedAt !== undefined && record.leavingMarkedAt > markedBefore) return false;
  const { instanceId, attributes } = plan.registrations[0];
  const described = await deps.tasks.describeTask(attributes[ATTR.cluster] ?? '', taskArn);
  if (!described || !isRunning(described)) return false;
  const overruled = await deps.versions.overruleLeaving(
    taskArn,
    { version: record.version, markedBefore },
    { version: plan.version, ...target },
  );
  if (overruled) {
    logger.warn(`leaving mark overruled: ECS runs task ${instanceId}, which a leaving event said was stopping`, {
      taskArn,
      markVersion: record.version,
      ...(record.leavingMarkedAt !== undefined ? { markedAt: new Date(record.leavingMarkedAt).toISOString() } : {}),
      ecsVersion: described.version,
      action: 'overrule-leaving',
    });
  }
  return overruled;
}

/**
 * Records the task as leaving, then deregisters it wherever it was registered. Where that is comes from
 * the version store (no ECS read); a task registered before the store knew it falls back to the plan.
 */
async function handleLeaving(
  event: TaskStateChange,
  deps: RegistrarDeps,
  lagMs: () => number,
  options: { recheck?: boolean } = {},
): Promise<Outcome> {
  const { detail } = event;
  const taskId = arnTail(detail.taskArn);
  const previous = await deps.versions.markLeaving(detail.taskArn, detail.version);
  // An earlier leaving event already removed every instance, or is removing them: nothing to write (ECS
  // sends several leaving events, often within one Cloud Map operation of each other).
  if (previous?.state === 'leaving' && !options.recheck && (await clearedByAnother(detail.taskArn, previous, deps))) {
    return skipped(
      'already-deregistered',
      `an earlier event (version ${previous.version}) deregistered the task`,
      taskId,
    );
  }
  let namespace: string;
  let services: string[];
  if (previous?.namespace && previous.services.length > 0) {
    namespace = previous.namespace;
    services = previous.services;
  } else {
    // Plan as if the event said the task is leaving (it may be a RUNNING event ECS contradicts).
    const leaving = isLeaving(detail) ? event : { ...event, detail: { ...detail, desiredStatus: 'STOPPED' } };
    const plan = planTaskEvent(leaving, await gatherFacts(leaving, deps.tasks), deps.settings);
    if (plan.action === 'ignore') return skipped(plan.reason, plan.message, taskId);
    namespace = plan.namespace;
    services = plan.registrations.map((r) => r.service);
  }
  const refused: string[] = [];
  for (const service of services) {
    // Not waiting for the operation: the mark above already keeps every registration of the task from standing,
    // and the instance leaves answers when Cloud Map applies the write, whoever waits for it. A failed operation
    // (rare) is repaired by the next reconcile run, which sees the instance of a task ECS no longer runs.
    const result = await deregisterOwned(namespace, service, taskId, deps, { wait: false });
    if (result === 'not-owned') refused.push(service);
  }
  await deps.versions.setCleared(detail.taskArn, true);
  if (refused.length === services.length) {
    return skipped(
      'not-owned',
      `instance ${taskId} in ${refused.join(', ')} was not created by ${deps.settings.ownerId}; left untouched`,
      taskId,
    );
  }
  return { result: 'deregistered', taskId, service: services.join(','), namespace, lagMs: lagMs() };
}

/** How often, and how many times, a later leaving event looks whether the first one has finished. */
const LEAVING_POLL_MS = 250;
const LEAVING_POLLS = 40;

/**
 * True when another handler has deregistered the task (the `cleared` mark), waiting a bounded time
 * (10 s) for a deregistration in flight: a second write would only be refused as a DuplicateRequest. If
 * the first handler died, the wait runs out and this one does the work.
 */
async function clearedByAnother(taskArn: string, previous: TaskRecord, deps: RegistrarDeps): Promise<boolean> {
  if (previous.cleared) return true;
  const sleep = deps.sleep ?? defaultSleep;
  for (let poll = 0; poll < LEAVING_POLLS; poll += 1) {
    await sleep(LEAVING_POLL_MS);
    if ((await deps.versions.get(taskArn))?.cleared) return true;
  }
  return false;
}

/**
 * Registers one registration unless something blocks it; returns the skip outcome when something does, else the
 * write's operation (waited for unless `wait` is false).
 */
async function applyRegister(
  plan: RegisterPlan,
  registration: Registration,
  deps: RegistrarDeps,
  { force, wait }: { force: boolean; wait: boolean },
): Promise<Outcome | { operationId?: string; ownerAccount?: string }> {
  const { registry, settings } = deps;
  const namespace = await registry.resolveNamespace(plan.namespace);
  const dnsRecords = namespace.type === 'HTTP' ? 'none' : plan.dnsRecords;
  const missing = missingForRecords(dnsRecords, registration.attributes);
  if (missing) {
    return skipped(
      'address-unavailable',
      `${registration.service}: ${missing}${dnsRecords === 'A' && registration.attributes[ATTR.ipv6] ? ' (IPv6-only tasks need DNS_RECORDS=AAAA)' : ''}`,
      registration.instanceId,
    );
  }
  let service: ServiceInfo;
  try {
    service = await registry.ensureService(namespace, {
      name: registration.service,
      dnsRecords,
      ttlSeconds: settings.dnsTtl,
    });
  } catch (error) {
    // Another tool's service: never written, never retried (a retry meets the same service).
    if (error instanceof ServiceNotManagedError) return skipped(error.code, error.message, registration.instanceId);
    throw error;
  }
  // The task's own instance (another tool's of the same id, or a newer version) and the service's instances up to
  // the first of another task with a holder: a service holds the tasks of one ECS service (registrationBlocker keeps
  // it so), so that one names it; instances without a holder (standalone tasks, other tools) are read past. Listing
  // every page would cost a call per 100 instances at each registration: a rolling deployment of 1,000 tasks would
  // list 2,000 instances 1,000 times.
  const [own, page] = await Promise.all([
    registry.getInstance(service, registration.instanceId),
    registry.listInstances(service, {
      until: (i) => i.id !== registration.instanceId && holder(i.attributes) !== undefined,
    }),
  ]);
  const instances = own ? [own, ...page.filter((i) => i.id !== own.id)] : page;
  const blocked = registrationBlocker(plan, registration, instances, settings.ownerId, force);
  if (blocked) return skipped(blocked.reason, blocked.message, registration.instanceId);
  const operationId = await registry.register(service, registration.instanceId, registration.attributes, { wait });
  return {
    ...(operationId ? { operationId } : {}),
    ...(service.ownerAccount ? { ownerAccount: service.ownerAccount } : {}),
  };
}

/**
 * The second half of a registration written with `confirmLater`: once no operation is pending any more, re-reads the
 * task's record and undoes the registration if the task started to leave meanwhile (the re-read registerPlanned
 * makes after waiting). `pending` while an operation is still pending (ask again later); throws
 * OperationTimeoutError for one pending longer than `operationTimeoutMs` (ask again, later still), and, once the
 * others are settled and the task still runs, OperationFailedError for a failed one, so that the caller runs the
 * task's event again (every write is ordered by the version store).
 */
export async function confirmRegistration(confirm: PendingConfirm, deps: RegistrarDeps): Promise<Outcome | 'pending'> {
  const taskId = arnTail(confirm.taskArn);
  const written = confirm.registrations.filter((r) => r.operationId !== undefined);
  // Each operation on its own: one that failed must not hide another still pending.
  const states = await Promise.all(
    written.map(async (r) => {
      try {
        return await deps.registry.operationState(r.operationId as string, r.ownerAccount);
      } catch (error) {
        if (error instanceof OperationFailedError) return error;
        throw error;
      }
    }),
  );
  const pending = written.find((_, i) => states[i] === 'pending');
  if (pending) {
    const waited = (deps.now ?? Date.now)() - confirm.since;
    const timeout = deps.settings.operationTimeoutMs ?? SETTINGS.operationTimeoutMs.default;
    if (waited > timeout) throw new OperationTimeoutError(pending.operationId as string, waited);
    return 'pending';
  }
  const undone = await undoIfLeaving(confirm.namespace, confirm.registrations, confirm.taskArn, deps);
  if (undone) return undone;
  const failed = states.find((s): s is OperationFailedError => s instanceof OperationFailedError);
  if (failed) throw failed;
  return {
    result: 'confirmed',
    taskId,
    service: confirm.registrations.map((r) => r.service).join(','),
    namespace: confirm.namespace,
  };
}

/**
 * Why the instances already in the service forbid this registration: an instance with the same id that
 * another system made, a newer (or the same) version of this task, or a name held by another ECS service.
 */
export function registrationBlocker(
  plan: RegisterPlan,
  registration: Registration,
  instances: InstanceRecord[],
  ownerId: string,
  /** Rewrite an instance of the same version (the reconciler fixing a wrong address or port). */
  rewriteSameVersion = false,
): { reason: string; message: string } | undefined {
  const existing = instances.find((i) => i.id === registration.instanceId);
  if (existing) {
    if (existing.attributes[ATTR.owner] !== ownerId) {
      return {
        reason: 'not-owned',
        message: `instance ${registration.instanceId} in ${registration.service} was not created by ${ownerId}; left untouched`,
      };
    }
    const known = Number(existing.attributes[ATTR.version]);
    if (Number.isFinite(known) && (known > plan.version || (known === plan.version && !rewriteSameVersion))) {
      return {
        reason: known === plan.version ? 'duplicate-event' : 'stale-event',
        message: `instance already registered from version ${known}; event version ${plan.version}`,
      };
    }
  }
  const mine = holder(registration.attributes);
  const other = instances.find(
    (i) => i.id !== registration.instanceId && holder(i.attributes) && holder(i.attributes) !== mine,
  );
  if (other) {
    return {
      reason: 'name-taken',
      message: `Cloud Map service "${registration.service}" is held by tasks of ECS service ${holder(other.attributes)}; refusing ${mine ?? 'a standalone task'}`,
    };
  }
  return undefined;
}

/** Deregisters an instance this project owns; a missing service or instance is success. */
export async function deregisterOwned(
  namespaceRef: string,
  serviceName: string,
  instanceId: string,
  deps: RegistrarDeps,
  /** `wait: false`: done once Cloud Map has taken the write, not once its operation has succeeded. */
  options: { wait?: boolean } = {},
): Promise<'done' | 'not-owned'> {
  const { registry, settings } = deps;
  const namespace = await registry.resolveNamespace(namespaceRef);
  const service = await registry.findService(namespace, serviceName);
  if (!service) return 'done';
  // Another tool's service holds nothing of ours (we never write there), and its reads may be denied.
  if (!(await registry.isManaged(service))) return 'not-owned';
  const existing = await registry.getInstance(service, instanceId);
  if (!existing) return 'done';
  if (existing.attributes[ATTR.owner] !== settings.ownerId) return 'not-owned';
  await registry.deregister(service, instanceId, options);
  return 'done';
}
