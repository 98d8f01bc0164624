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

/** Moves tasks through the ECS lifecycle, one scaled step at a time, emitting each change. */
export class TaskLifecycle {
  constructor(
    private readonly clock: Clock,
    private readonly pool: SubnetPool,
    private readonly hooks: LifecycleHooks,
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

  private toRunning(task: Task): void {
    if (task.desiredStatus === 'STOPPED' || task.lastStatus !== 'ACTIVATING') return;
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

  private toStopping(task: Task): void {
    this.change(task, 'STOPPING');
    this.clock.after(LIFECYCLE_MS.deprovisioning, () => this.toDeprovisioning(task));
  }

  private toDeprovisioning(task: Task): void {
    task.executionStoppedAt = this.clock.now();
    for (const container of task.containers) {
      // Containers that ran were sent SIGTERM (exit 143 if they do not trap it); others never started.
      if (container.lastStatus === 'RUNNING') container.exitCode = 143;
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
