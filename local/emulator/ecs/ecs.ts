import { type LiveEndpoint, LiveTasks } from '../apps/live-tasks';
import type { Clock } from '../clock';
import type { Ec2 } from '../ec2/ec2';
import type { SubnetPool } from '../ec2/network';
import type { Input } from '../wire';
import { createCluster, deleteCluster, describeClusters, listClusters } from './api/clusters';
import {
  addContainerInstances,
  DEFAULT_INSTANCE_SUBNETS,
  describeContainerInstances,
  listContainerInstances,
  registerContainerInstance,
} from './api/container-instances';
import { createService, deleteService, describeServices, updateService } from './api/services';
import { listTagsForResource, tagResource, untagResource } from './api/tags';
import { describeTaskDefinitionOperation, registerTaskDefinition } from './api/task-definitions';
import { describeTasks, listTasks, runTask, setTaskHealth, stopTask } from './api/tasks';
import type { EcsContext } from './context';
import type { ContainerInstance } from './model';
import { TaskPlacement } from './placement';
import { ServiceScheduler } from './scheduler';
import { EcsState } from './state';
import { TaskLifecycle } from './task-lifecycle';
import { taskStateChangeEvent } from './task-view';

export { DEFAULT_INSTANCE_SUBNETS } from './api/container-instances';

export interface EcsOptions {
  clock: Clock;
  region: string;
  accountId: string;
  /** Receives every "ECS Task State Change" event; the emulator decides whether it is delivered. */
  emit: (event: Record<string, unknown>) => void;
  /** Addresses for task ENIs; shared with EC2 so instances and tasks never share an address. */
  pool: SubnetPool;
  /** Launches the EC2 instances behind container instances. */
  ec2: Ec2;
  /** Container instances every new cluster starts with. Default 0. */
  containerInstancesPerCluster?: number;
  /** Serve each RUNNING task's port mappings with the built-in app (see EmulatorOptions.liveTasks). Default false. */
  liveTasks?: boolean;
  /** Where live apps report what went wrong (listen errors, IPv6-only tasks). */
  log?: (line: string) => void;
  /**
   * Fargate's task launch rate: 0 when the service scheduler may start a Fargate task now, else the simulated ms
   * until it may (the quotas of /_local/faults). Default: always now.
   */
  fargateLaunchWaitMs?: () => number;
}

type Handler = (input: Input) => unknown;

/**
 * Amazon ECS (AmazonEC2ContainerServiceV20141113) in memory: clusters, task definitions, a service
 * scheduler that keeps desiredCount tasks, and tasks that walk the real lifecycle and emit events.
 * This class is the API table and the knobs; the operations live in `api/`, one file per resource,
 * over the state (`state.ts`), the service scheduler (`scheduler.ts`) and task placement (`placement.ts`).
 */
export class Ecs {
  private readonly ctx: EcsContext;
  private readonly live: LiveTasks | undefined;

  constructor(options: EcsOptions) {
    const state = new EcsState(options.region, options.accountId);
    this.live = options.liveTasks
      ? new LiveTasks({
          clock: options.clock,
          ec2: options.ec2,
          log: options.log ?? (() => undefined),
          serviceName: (task) => state.serviceOf(task)?.name ?? null,
        })
      : undefined;
    const lifecycle = new TaskLifecycle(
      options.clock,
      options.pool,
      {
        changed: (task) => options.emit(taskStateChangeEvent(task, options.accountId, options.region)),
        settled: (task) => scheduler.onSettled(task),
        forget: (task) => state.tasks.delete(task.arn),
      },
      this.live,
    );
    const placement = new TaskPlacement(state, options.clock, options.pool, lifecycle);
    const scheduler = new ServiceScheduler(state, options.clock, lifecycle, placement, options.fargateLaunchWaitMs);
    this.ctx = {
      state,
      clock: options.clock,
      lifecycle,
      placement,
      scheduler,
      ec2: options.ec2,
      containerInstancesPerCluster: options.containerInstancesPerCluster ?? 0,
    };
  }

  /** Every operation the emulator answers, by the name in `X-Amz-Target`. */
  readonly handlers: Record<string, Handler> = {
    CreateCluster: (input) => createCluster(this.ctx, input),
    DeleteCluster: (input) => deleteCluster(this.ctx, input),
    DescribeClusters: (input) => describeClusters(this.ctx, input),
    ListClusters: (input) => listClusters(this.ctx, input),
    RegisterTaskDefinition: (input) => registerTaskDefinition(this.ctx, input),
    DescribeTaskDefinition: (input) => describeTaskDefinitionOperation(this.ctx, input),
    CreateService: (input) => createService(this.ctx, input),
    UpdateService: (input) => updateService(this.ctx, input),
    DeleteService: (input) => deleteService(this.ctx, input),
    DescribeServices: (input) => describeServices(this.ctx, input),
    RunTask: (input) => runTask(this.ctx, input),
    StopTask: (input) => stopTask(this.ctx, input),
    DescribeTasks: (input) => describeTasks(this.ctx, input),
    ListTasks: (input) => listTasks(this.ctx, input),
    TagResource: (input) => tagResource(this.ctx, input),
    UntagResource: (input) => untagResource(this.ctx, input),
    ListTagsForResource: (input) => listTagsForResource(this.ctx, input),
    RegisterContainerInstance: (input) => registerContainerInstance(this.ctx, input),
    DescribeContainerInstances: (input) => describeContainerInstances(this.ctx, input),
    ListContainerInstances: (input) => listContainerInstances(this.ctx, input),
  };

  /**
   * The container-instances knob: launches `count` EC2 instances spread over `subnets` and registers
   * each in the cluster as its ECS agent would; services waiting for capacity are placed at once.
   */
  addContainerInstances(
    clusterRef: string | undefined,
    count: number,
    subnets: readonly string[] = DEFAULT_INSTANCE_SUBNETS,
  ): ContainerInstance[] {
    return addContainerInstances(this.ctx, clusterRef, count, subnets);
  }

  /** Every container instance, for the knob's GET. */
  allContainerInstances(): ContainerInstance[] {
    return [...this.ctx.state.containerInstances.values()];
  }

  /** The live tasks' apps that accept connections (none without liveTasks). */
  liveEndpoints(): LiveEndpoint[] {
    return this.live?.endpoints() ?? [];
  }

  /** Closes every live app (the emulator is closing). */
  closeLiveTasks(): Promise<void> {
    return this.live?.close() ?? Promise.resolve();
  }

  /**
   * The health knob: makes the health-checked containers of the given tasks (a task ARN or id, or every
   * live task of a service) report `status`. Returns the ARNs of the tasks it touched.
   */
  setHealth(
    target: { taskArn?: string; service?: string; cluster?: string },
    status: 'HEALTHY' | 'UNHEALTHY',
  ): string[] {
    return setTaskHealth(this.ctx, target, status);
  }
}
