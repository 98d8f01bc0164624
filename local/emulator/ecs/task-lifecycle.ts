import type { Clock } from '../clock';
import type { SubnetPool } from '../ec2/network';
import { randomHex } from '../random';
import type { Task, TaskStatus } from './model';

/**
 * Simulated durations of each step (before the time scale), roughly what Fargate takes. The start path
 * is PROVISIONING -> PENDING -> ACTIVATING -> RUNNING; the stop path DEACTIVATING -> STOPPING ->
 * DEPROVISIONING -> STOPPED (Amazon ECS Developer Guide, "Amazon ECS task lifecycle").
 */
export const LIFECYCLE_MS = {
  provisioning: 3000,
  pending: 8000,
  activating: 2000,
  healthCheck: 10_000,
  deactivating: 2000,
  stopping: 3000,
  deprovisioning: 3000,
  /** ECS keeps stopped tasks describable for at least an hour. */
  forgetStopped: 3_600_000,
} as const;

export interface LifecycleHooks {
  /** Called after every state change, with the task's new version; the event may still be dropped. */
  changed(task: Task): void;
  /** A task reached RUNNING or STOPPED, or its health changed: the service scheduler may act. */
  settled(task: Task): void;
  forget(task: Task): void;
}

/**
 * What runs inside tasks when they are live (the emulator's `liveTasks`): the built-in apps. The lifecycle
 * starts them before a task is RUNNING, sends them SIGTERM at STOPPING and waits for them to exit.
 */
export interface TaskRuntime {
  /** True once the emulator closed: the lifecycle abandons what it was waiting for. */
  readonly closed: boolean;
  /** Resolves once the task's apps accept connections; lists the containers whose app could not listen. */
  start(task: Task): Promise<{ container: string; reason: string }[]>;
  /** SIGTERM; resolves with each container's exit code once all apps closed. Undefined when none listens. */
  sigterm(task: Task): Promise<Map<string, number>> | undefined;
  /** Closes the task's apps at once. */
  discard(task: Task): Promise<void>;
}

/** The exit code of a container that does not trap SIGTERM (128 + 15). */
const EXIT_SIGTERM = 143;
/** A process that dies of an error at start (Node's exit code for an uncaught exception). */
const EXIT_FAILED = 1;

/** Moves tasks through the ECS lifecycle, one scaled step at a time, emitting each change. */
export class TaskLifecycle {
  constructor(
    private readonly clock: Clock,
    private readonly pool: SubnetPool,
    private readonly hooks: LifecycleHooks,
    private readonly runtime?: TaskRuntime,
  ) {}

  /** A new task is PROVISIONING (version 1); the rest of the start path is scheduled. */
  launch(task: Task): void {
    this.hooks.changed(task);
    this.clock.after(LIFECYCLE_MS.provisioning, () => this.toPending(task));
  }

  /** Flips desiredStatus to STOPPED (one change, one event), then walks the stop path. */
  stop(task: Task, stopCode: string, reason: string): void {
    if (task.desiredStatus === 'STOPPED') return;
    const now = this.clock.now();
    task.desiredStatus = 'STOPPED';
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.stoppingAt = now;
    this.change(task, task.lastStatus);
    const started = task.lastStatus === 'RUNNING' || task.lastStatus === 'ACTIVATING';
    // A task stopped before it started skips deactivation: it has nothing registered to drain.
    if (started) this.clock.after(LIFECYCLE_MS.deactivating, () => this.toDeactivating(task));
    else this.clock.after(LIFECYCLE_MS.deprovisioning, () => this.toDeprovisioning(task));
  }

  /** Sets the verdict of the health-checked containers; applied now if the task already reports health. */
  setHealth(task: Task, verdict: 'HEALTHY' | 'UNHEALTHY'): void {
    task.healthVerdict = verdict;
    if (
      task.lastStatus === 'RUNNING' &&
      task.containers.some((c) => c.hasHealthCheck && c.healthStatus !== 'UNKNOWN')
    ) {
      this.reportHealth(task);
    }
  }

  private toPending(task: Task): void {
    if (task.desiredStatus === 'STOPPED' || task.lastStatus !== 'PROVISIONING') return;
    const now = this.clock.now();
    if (task.eni) task.eni.status = 'ATTACHED';
    task.connectivityAt = now;
    task.pullStartedAt = now;
    this.change(task, 'PENDING');
    this.clock.after(LIFECYCLE_MS.pending, () => this.toActivating(task));
  }

  private toActivating(task: Task): void {
    if (task.desiredStatus === 'STOPPED' || task.lastStatus !== 'PENDING') return;
    task.pullStoppedAt = this.clock.now();
    for (const container of task.containers) {
      container.lastStatus = 'RUNNING';
      container.runtimeId = `${task.id}-${randomHex(10)}`;
      container.imageDigest = `sha256:${randomHex(64)}`;
    }
    this.change(task, 'ACTIVATING');
    this.clock.after(LIFECYCLE_MS.activating, () => this.toRunning(task));
  }

  /**
   * With live tasks the apps listen first, so the RUNNING event and DescribeTasks never name a task whose
   * port is still closed. An essential container whose app cannot listen exits, and stops the task.
   */
  private async toRunning(task: Task): Promise<void> {
    if (!activating(task)) return;
    if (this.runtime) {
      const failures = await this.runtime.start(task);
      if (this.runtime.closed) return;
      if (!activating(task)) {
        // Stopped while its apps were starting: a task stopped before RUNNING never serves.
        await this.runtime.discard(task);
        return;
      }
      for (const failure of failures) {
        const container = task.containers.find((candidate) => candidate.name === failure.container);
        if (!container) continue;
        container.lastStatus = 'STOPPED';
        container.exitCode = EXIT_FAILED;
        container.reason = failure.reason;
      }
      const essential = failures.some(
        (failure) => task.containers.find((container) => container.name === failure.container)?.essential,
      );
      if (essential) {
        await this.runtime.discard(task);
        this.stop(task, 'EssentialContainerExited', 'Essential container in task exited');
        return;
      }
    }
    task.startedAt = this.clock.now();
    this.change(task, 'RUNNING');
    this.hooks.settled(task);
    if (task.containers.some((container) => container.hasHealthCheck)) {
      this.clock.after(LIFECYCLE_MS.healthCheck, () => this.reportHealth(task));
    }
  }

  /**
   * Health-checked containers report the verdict. DescribeTasks shows it, and the service scheduler may
   * act on it, but no task state change event is sent and the version stays: ECS task events carry no
   * health, which is why the registrar polls for it.
   */
  private reportHealth(task: Task): void {
    if (task.desiredStatus === 'STOPPED' || task.lastStatus !== 'RUNNING') return;
    let changed = false;
    for (const container of task.containers) {
      if (!container.hasHealthCheck || container.healthStatus === task.healthVerdict) continue;
      container.healthStatus = task.healthVerdict;
      changed = true;
    }
    if (!changed) return;
    task.updatedAt = this.clock.now();
    this.hooks.settled(task);
  }

  private toDeactivating(task: Task): void {
    this.change(task, 'DEACTIVATING');
    this.clock.after(LIFECYCLE_MS.stopping, () => this.toStopping(task));
  }

  /**
   * Containers get SIGTERM at STOPPING. Live apps start draining before the STOPPING event is sent, and
   * the task leaves STOPPING when they have all exited (drained, or killed at stopTimeout); without live
   * apps STOPPING takes a fixed time.
   */
  private async toStopping(task: Task): Promise<void> {
    const exits = this.runtime?.sigterm(task);
    this.change(task, 'STOPPING');
    if (!exits) {
      this.clock.after(LIFECYCLE_MS.deprovisioning, () => this.toDeprovisioning(task));
      return;
    }
    const codes = await exits;
    if (this.runtime?.closed) return;
    this.toDeprovisioning(task, codes);
  }

  private toDeprovisioning(task: Task, exitCodes?: Map<string, number>): void {
    task.executionStoppedAt = this.clock.now();
    for (const container of task.containers) {
      // Containers that ran were sent SIGTERM: a live app reports how it exited; any other container
      // does not trap SIGTERM (143). Containers that never started have no exit code.
      if (container.lastStatus === 'RUNNING') container.exitCode = exitCodes?.get(container.name) ?? EXIT_SIGTERM;
      container.lastStatus = 'STOPPED';
    }
    this.change(task, 'DEPROVISIONING');
    this.clock.after(LIFECYCLE_MS.deprovisioning, () => this.toStopped(task));
  }

  private toStopped(task: Task): void {
    task.stoppedAt = this.clock.now();
    if (task.eni) {
      task.eni.status = 'DELETED';
      this.pool.release(task.eni);
    }
    this.change(task, 'STOPPED');
    this.hooks.settled(task);
    this.clock.background(LIFECYCLE_MS.forgetStopped, () => this.hooks.forget(task));
  }

  private change(task: Task, status: TaskStatus): void {
    task.lastStatus = status;
    task.version += 1;
    task.updatedAt = this.clock.now();
    this.hooks.changed(task);
  }
}

/** Whether the task is still on its way to RUNNING (a function, so a check after an await is not narrowed away). */
function activating(task: Task): boolean {
  return task.desiredStatus !== 'STOPPED' && task.lastStatus === 'ACTIVATING';
}
