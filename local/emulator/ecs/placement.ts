import type { Clock } from '../clock';
import type { SubnetPool } from '../ec2/network';
import { randomHex, randomUUID } from '../random';
import { bindPorts, fits } from './host-ports';
import type {
  AwsVpcNetwork,
  Cluster,
  ContainerDefinition,
  ContainerInstance,
  EcsTag,
  NetworkBinding,
  Task,
  TaskDefinition,
} from './model';
import { dedupeTags, type LaunchType } from './readers';
import type { EcsState } from './state';
import type { TaskLifecycle } from './task-lifecycle';

/** What a new task is: RunTask and the service scheduler both start tasks through {@link TaskPlacement.start}. */
export interface TaskSpec {
  cluster: Cluster;
  definition: TaskDefinition;
  launchType: LaunchType;
  network?: AwsVpcNetwork;
  group: string;
  startedBy?: string;
  serviceArn?: string;
  tags: EcsTag[];
}

/** Places new tasks (a subnet, a container instance for EC2 tasks, host ports, an ENI) and starts their lifecycle. */
export class TaskPlacement {
  constructor(
    private readonly state: EcsState,
    private readonly clock: Clock,
    private readonly pool: SubnetPool,
    private readonly lifecycle: TaskLifecycle,
  ) {}

  /** Starts one task; undefined when it is an EC2 task and no container instance fits it. */
  start(spec: TaskSpec): Task | undefined {
    const subnet = spec.network ? this.pool.pickSubnet(spec.network.awsvpcConfiguration.subnets) : 'subnet-local';
    const instance =
      spec.launchType === 'EC2' ? this.place(spec.cluster, spec.definition, spec.network ? subnet : undefined) : null;
    if (instance === undefined) return undefined;
    const id = randomHex(32);
    const arn = this.state.arn(`task/${spec.cluster.name}/${id}`);
    const now = this.clock.now();
    const mode = spec.definition.networkMode;
    const task: Task = {
      arn,
      id,
      cluster: spec.cluster,
      taskDefinition: spec.definition,
      group: spec.group,
      startedBy: spec.startedBy,
      serviceArn: spec.serviceArn,
      launchType: spec.launchType,
      containerInstance: instance ?? undefined,
      // A task on an instance's network is in the instance's AZ; an awsvpc task is in its subnet's.
      availabilityZone: instance && mode !== 'awsvpc' ? instance.availabilityZone : this.pool.availabilityZone(subnet),
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      version: 1,
      createdAt: now,
      updatedAt: now,
      eni: spec.definition.networkMode === 'awsvpc' ? this.pool.allocate(subnet) : undefined,
      containers: spec.definition.containerDefinitions.map((container) =>
        containerState(spec.cluster, id, container, instance ? bindPorts(instance, container, mode) : undefined),
      ),
      tags: dedupeTags(spec.tags),
      healthVerdict: 'HEALTHY',
    };
    if (instance) instance.version += 1;
    this.state.tasks.set(arn, task);
    this.lifecycle.launch(task);
    return task;
  }

  /**
   * Picks the container instance for an EC2 task: an ACTIVE one where the task's fixed host ports are
   * free, in the awsvpc subnet's AZ when there is one, the least loaded first (close to ECS's default
   * spread). Undefined when none fits. CPU and memory are not accounted for placement.
   */
  private place(
    cluster: Cluster,
    definition: TaskDefinition,
    subnet: string | undefined,
  ): ContainerInstance | undefined {
    const fitting = this.state.instancesOf(cluster).filter((instance) => fits(instance, definition));
    const zone = subnet === undefined ? undefined : this.pool.availabilityZone(subnet);
    const sameZone = fitting.filter((instance) => instance.availabilityZone === zone);
    const candidates = sameZone.length > 0 ? sameZone : fitting;
    const load = (instance: ContainerInstance) =>
      [...this.state.tasks.values()].filter(
        (task) => task.containerInstance === instance && task.lastStatus !== 'STOPPED',
      ).length;
    return candidates.reduce<ContainerInstance | undefined>(
      (best, instance) => (best === undefined || load(instance) < load(best) ? instance : best),
      undefined,
    );
  }
}

function containerState(
  cluster: Cluster,
  taskId: string,
  container: ContainerDefinition,
  networkBindings: NetworkBinding[] | undefined,
): Task['containers'][number] {
  return {
    arn: `${cluster.arn.replace(':cluster/', ':container/')}/${taskId}/${randomUUID()}`,
    name: container.name,
    image: container.image,
    essential: container.essential !== false,
    hasHealthCheck: container.healthCheck !== undefined,
    lastStatus: 'PENDING',
    healthStatus: 'UNKNOWN',
    cpu: String(container.cpu ?? 0),
    memory: container.memory === undefined ? undefined : String(container.memory),
    networkBindings,
  };
}
