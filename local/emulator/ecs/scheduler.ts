import type { Clock } from '../clock';
import { randomDigits, randomUUID } from '../random';
import { releasePorts } from './host-ports';
import type { Cluster, ContainerInstance, EcsService, Task, TaskDefinition } from './model';
import type { TaskPlacement } from './placement';
import type { EcsState } from './state';
import type { TaskLifecycle } from './task-lifecycle';
import { taskHealth } from './task-view';

/**
 * The service scheduler (Amazon ECS Developer Guide, "Service scheduler concepts"): keeps desiredCount
 * tasks of the PRIMARY deployment, replaces stopped ones, scales in by stopping the surplus, and on a
 * new deployment stops old tasks only as new ones run (minimumHealthyPercent 100, maximumPercent 200).
 */
export class ServiceScheduler {
  /** New tasks without a health check that have run long enough to count toward minimumHealthyPercent. */
  private readonly counted = new WeakSet<Task>();
  /** Tasks whose 40 s count is already scheduled: once per task, whatever settles it meanwhile. */
  private readonly counting = new WeakSet<Task>();

  /** Services waiting for Fargate's launch rate: their next try is already scheduled. */
  private readonly waitingForLaunch = new WeakSet<EcsService>();

  constructor(
    private readonly state: EcsState,
    private readonly clock: Clock,
    private readonly lifecycle: TaskLifecycle,
    private readonly placement: TaskPlacement,
    /** Fargate's task launch rate (see EcsOptions.fargateLaunchWaitMs). */
    private readonly fargateLaunchWaitMs: () => number = () => 0,
  ) {}

  /** A new PRIMARY deployment; the old ones stay ACTIVE until the scheduler has replaced their tasks. */
  deploy(service: EcsService, definition: TaskDefinition): void {
    const now = this.clock.now();
    for (const deployment of service.deployments) deployment.status = 'ACTIVE';
    service.deployments.unshift({
      id: `ecs-svc/${randomDigits(19)}`,
      status: 'PRIMARY',
      taskDefinition: definition,
      createdAt: now,
      updatedAt: now,
    });
  }

  /** Brings the service's tasks toward its desired count and deployment, as far as capacity allows. */
  reconcile(service: EcsService): void {
    if (service.status === 'INACTIVE') return;
    const [primary, ...old] = service.deployments;
    if (!primary) return;
    const live = this.state.liveTasksOf(service);
    const current = live.filter((task) => task.startedBy === primary.id);
    if (current.length < service.desiredCount) {
      for (let i = current.length; i < service.desiredCount; i++) {
        // Fargate launches at most its account rate (100 at once, then 20 a second, with the quotas on): the rest
        // of the service's tasks start as tokens come back.
        if (service.launchType === 'FARGATE' && !this.launchAllowed(service)) break;
        // Without a container instance that fits, the scheduler waits; capacity or freed ports retry it.
        if (!this.startServiceTask(service, primary.taskDefinition, primary.id)) break;
      }
    } else if (current.length > service.desiredCount) {
      // Scale in the tasks that are least far along first, then the newest.
      const order = [...current].sort(
        (a, b) => progress(a) - progress(b) || b.createdAt.getTime() - a.createdAt.getTime(),
      );
      for (const task of order.slice(0, current.length - service.desiredCount)) {
        this.lifecycle.stop(
          task,
          'ServiceSchedulerInitiated',
          `Scaling activity initiated by (deployment ${primary.id})`,
        );
      }
    }
    this.retireOldDeployments(
      service,
      primary.id,
      old.map((deployment) => deployment.id),
    );
    if (service.status === 'DRAINING' && this.state.tasksOf(service).every((task) => task.lastStatus === 'STOPPED')) {
      service.status = 'INACTIVE';
    }
  }

  /** A task reached RUNNING or STOPPED, or its health changed: free its ports, replace it if unhealthy. */
  onSettled(task: Task): void {
    const instance = task.containerInstance;
    if (instance && task.lastStatus === 'STOPPED') {
      releasePorts(instance, task);
      instance.version += 1;
      this.placePendingServices(task.cluster);
    }
    const service = this.state.serviceOf(task);
    if (!service) return;
    const checked = task.containers.some((container) => container.essential && container.hasHealthCheck);
    if (task.lastStatus === 'RUNNING' && service.deployments.length > 1 && !checked && !this.counting.has(task)) {
      // During a deployment, a new task without a health check counts 40 s after RUNNING (see countsAsHealthy).
      this.counting.add(task);
      this.clock.after(COUNTED_AFTER_RUNNING_MS, () => {
        this.counted.add(task);
        this.reconcile(service);
      });
    }
    if (task.desiredStatus === 'RUNNING' && taskHealth(task) === 'UNHEALTHY') {
      // The scheduler replaces a service task whose essential container fails its health check.
      this.lifecycle.stop(task, 'ServiceSchedulerInitiated', 'Task failed container health checks');
    }
    this.reconcile(service);
  }

  /** True when Fargate's launch rate lets one more task of the service start now; else tries again when it does. */
  private launchAllowed(service: EcsService): boolean {
    if (this.waitingForLaunch.has(service)) return false;
    const waitMs = this.fargateLaunchWaitMs();
    if (waitMs === 0) return true;
    if (!Number.isFinite(waitMs)) return false;
    this.waitingForLaunch.add(service);
    this.clock.after(waitMs, () => {
      this.waitingForLaunch.delete(service);
      this.reconcile(service);
    });
    return false;
  }

  /** New capacity or freed ports: services short of tasks in the cluster try to place them again. */
  placePendingServices(cluster: Cluster): void {
    for (const service of this.state.services.values()) {
      if (service.cluster === cluster && service.status === 'ACTIVE') this.reconcile(service);
    }
  }

  private retireOldDeployments(service: EcsService, primaryId: string, oldIds: string[]): void {
    const live = this.state.liveTasksOf(service);
    const running = live.filter((task) => task.startedBy === primaryId && this.countsAsHealthy(task)).length;
    const oldTasks = live.filter((task) => oldIds.includes(task.startedBy ?? ''));
    const keep = Math.max(0, service.desiredCount - running);
    for (const task of oldTasks.slice(keep)) {
      this.lifecycle.stop(
        task,
        'ServiceSchedulerInitiated',
        `Scaling activity initiated by (deployment ${task.startedBy})`,
      );
    }
    service.deployments = service.deployments.filter(
      (deployment) =>
        deployment.id === primaryId ||
        live.some((task) => task.startedBy === deployment.id && task.desiredStatus === 'RUNNING'),
    );
  }

  /**
   * Whether a new task counts toward minimumHealthyPercent, so an old one may stop: with an essential
   * container health check once HEALTHY, without one 40 s after RUNNING (API Reference,
   * DeploymentConfiguration minimumHealthyPercent, services without a load balancer).
   */
  private countsAsHealthy(task: Task): boolean {
    if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') return false;
    const checked = task.containers.some((container) => container.essential && container.hasHealthCheck);
    return checked ? taskHealth(task) === 'HEALTHY' : this.counted.has(task);
  }

  /** Starts one task of the service; false (and a service event) when no container instance can take it. */
  private startServiceTask(service: EcsService, definition: TaskDefinition, deploymentId: string): boolean {
    const tags = [
      ...(service.enableECSManagedTags
        ? [
            { key: 'aws:ecs:clusterName', value: service.cluster.name },
            { key: 'aws:ecs:serviceName', value: service.name },
          ]
        : []),
      ...(service.propagateTags === 'SERVICE' ? service.tags : []),
      ...(service.propagateTags === 'TASK_DEFINITION' ? definition.tags : []),
    ];
    const started = this.placement.start({
      cluster: service.cluster,
      definition,
      launchType: service.launchType,
      network: service.networkConfiguration,
      group: `service:${service.name}`,
      startedBy: deploymentId,
      serviceArn: service.arn,
      tags,
    });
    if (started) return true;
    this.serviceEvent(service, unplacedMessage(service.name, this.state.instancesOf(service.cluster)));
    return false;
  }

  /** Adds to the service's event log, newest first, without repeating the newest message. */
  private serviceEvent(service: EcsService, message: string): void {
    if (service.events[0]?.message === message) return;
    service.events.unshift({ id: randomUUID(), createdAt: this.clock.now(), message });
    service.events.length = Math.min(service.events.length, 100);
  }
}

/**
 * How long after RUNNING a task without a container health check counts as healthy in a deployment
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html).
 */
const COUNTED_AFTER_RUNNING_MS = 40_000;

function progress(task: Task): number {
  return ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING'].indexOf(task.lastStatus);
}

/** The service event ECS logs when it cannot place a task (Amazon ECS Developer Guide, service event messages). */
function unplacedMessage(service: string, instances: ContainerInstance[]): string {
  const reason =
    instances.length === 0
      ? 'Reason: No Container Instances were found in your cluster.'
      : `The closest matching container-instance ${instances[0]?.id} is already using a port required by your task.`;
  return `(service ${service}) was unable to place a task because no container instance met all of its requirements. ${reason}`;
}
