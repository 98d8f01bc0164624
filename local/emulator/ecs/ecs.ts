import { AwsError, invalidParameter } from '../aws-error';
import type { Clock } from '../clock';
import type { Ec2, Ec2Instance } from '../ec2/ec2';
import { randomDigits, randomHex, randomUUID } from '../random';
import { type Input, paginate } from '../wire';
import {
  bindPorts,
  DYNAMIC_PORT_RANGE,
  describeContainerInstance,
  fits,
  REGISTERED_CPU,
  REGISTERED_MEMORY,
  releasePorts,
} from './container-instances';
import type {
  AwsVpcNetwork,
  Cluster,
  ContainerDefinition,
  ContainerInstance,
  EcsService,
  EcsTag,
  NetworkBinding,
  Task,
  TaskDefinition,
} from './model';
import type { SubnetPool } from './network';
import { TaskLifecycle } from './task-lifecycle';
import { describeTask, taskHealth, taskStateChangeEvent } from './task-view';
import { describeService, describeTaskDefinition } from './views';

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
}

/** Subnets container instances are spread over when the caller names none (one per AZ). */
export const DEFAULT_INSTANCE_SUBNETS: readonly string[] = ['subnet-ec2-1', 'subnet-ec2-2', 'subnet-ec2-3'];

type Handler = (input: Input) => unknown;
type LaunchType = Task['launchType'];

const LIST_LIMITS = { defaultSize: 100, maxSize: 100, errorCode: 'InvalidParameterException' };
const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/;
const NAME = /^[a-zA-Z0-9_-]{1,255}$/;

/**
 * Amazon ECS (AmazonEC2ContainerServiceV20141113) in memory: clusters, task definitions, a service
 * scheduler that keeps desiredCount tasks, and tasks that walk the real lifecycle and emit events.
 */
export class Ecs {
  /** ACTIVE clusters by name; a deleted one moves to `inactiveClusters`, where only DescribeClusters sees it. */
  private readonly clusters = new Map<string, Cluster>();
  private readonly inactiveClusters = new Map<string, Cluster>();
  private readonly taskDefinitions = new Map<string, TaskDefinition>();
  private readonly services = new Map<string, EcsService>();
  private readonly tasks = new Map<string, Task>();
  private readonly containerInstances = new Map<string, ContainerInstance>();
  private readonly pool: SubnetPool;
  private readonly lifecycle: TaskLifecycle;

  constructor(private readonly options: EcsOptions) {
    this.pool = options.pool;
    this.lifecycle = new TaskLifecycle(options.clock, this.pool, {
      changed: (task) => options.emit(taskStateChangeEvent(task, options.accountId, options.region)),
      settled: (task) => this.onSettled(task),
      forget: (task) => this.tasks.delete(task.arn),
    });
  }

  readonly handlers: Record<string, Handler> = {
    CreateCluster: (input) => ({ cluster: this.clusterView(this.createCluster(input)) }),
    DeleteCluster: (input) => ({ cluster: this.clusterView(this.deleteCluster(input)) }),
    DescribeClusters: (input) => this.describeClusters(input),
    ListClusters: (input) => this.listClusters(input),
    RegisterTaskDefinition: (input) => this.registerTaskDefinition(input),
    DescribeTaskDefinition: (input) => this.describeTaskDefinitionApi(input),
    CreateService: (input) => this.createService(input),
    UpdateService: (input) => this.updateService(input),
    DeleteService: (input) => this.deleteService(input),
    DescribeServices: (input) => this.describeServices(input),
    RunTask: (input) => this.runTask(input),
    StopTask: (input) => this.stopTask(input),
    DescribeTasks: (input) => this.describeTasks(input),
    ListTasks: (input) => this.listTasks(input),
    TagResource: (input) => this.tagResource(input),
    UntagResource: (input) => this.untagResource(input),
    ListTagsForResource: (input) => ({ tags: [...this.taggable(input.resourceArn).tags] }),
    RegisterContainerInstance: (input) => this.registerContainerInstance(input),
    DescribeContainerInstances: (input) => this.describeContainerInstances(input),
    ListContainerInstances: (input) => this.listContainerInstances(input),
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
    const cluster = this.cluster(clusterRef);
    if (!Number.isInteger(count) || count < 1 || count > 100) throw new RangeError('count is 1..100');
    if (subnets.length === 0) throw new RangeError('subnets must name at least one subnet');
    const added: ContainerInstance[] = [];
    for (let i = 0; i < count; i++) {
      const offset = this.instancesOf(cluster).length;
      const subnet = subnets[offset % subnets.length] ?? 'subnet-local';
      added.push(this.enroll(cluster, this.options.ec2.launch({ subnet }), [], []));
    }
    this.placePendingServices(cluster);
    return added;
  }

  /** Every container instance, for the knob's GET. */
  allContainerInstances(): ContainerInstance[] {
    return [...this.containerInstances.values()];
  }

  /**
   * The health knob: makes the health-checked containers of the given tasks (a task ARN or id, or every
   * live task of a service) report `status`. Returns the ARNs of the tasks it touched.
   */
  setHealth(
    target: { taskArn?: string; service?: string; cluster?: string },
    status: 'HEALTHY' | 'UNHEALTHY',
  ): string[] {
    const cluster = this.cluster(target.cluster);
    const tasks = target.taskArn
      ? [this.findTask(cluster, target.taskArn)].filter((task): task is Task => task !== undefined)
      : [...this.tasks.values()].filter(
          (task) =>
            task.cluster === cluster && task.group === `service:${target.service}` && task.desiredStatus === 'RUNNING',
        );
    for (const task of tasks) this.lifecycle.setHealth(task, status);
    return tasks.map((task) => task.arn);
  }

  // ---- clusters ----

  private createCluster(input: Input): Cluster {
    const name = typeof input.clusterName === 'string' ? input.clusterName : 'default';
    if (!NAME.test(name)) throw invalidParameter('Cluster name is invalid.');
    const existing = this.clusters.get(name);
    if (existing) return existing; // CreateCluster is idempotent for an existing cluster name.
    const cluster: Cluster = { arn: this.arn(`cluster/${name}`), name, tags: readTags(input.tags), settings: [] };
    this.clusters.set(name, cluster);
    this.inactiveClusters.delete(name);
    const perCluster = this.options.containerInstancesPerCluster ?? 0;
    if (perCluster > 0) this.addContainerInstances(name, perCluster);
    return cluster;
  }

  private cluster(ref: unknown): Cluster {
    const name = ref === undefined || ref === null ? 'default' : String(ref).split('/').pop();
    const found = name === undefined ? undefined : this.clusters.get(name);
    if (!found || (String(ref).startsWith('arn:') && found.arn !== ref)) {
      throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
    }
    return found;
  }

  /**
   * DeleteCluster (ECS API Reference): refused while the cluster has registered container instances,
   * services (ACTIVE or DRAINING) or tasks that have not stopped; otherwise the cluster turns INACTIVE,
   * stays visible to DescribeClusters, and every other call naming it answers ClusterNotFoundException.
   */
  private deleteCluster(input: Input): Cluster {
    const cluster = this.cluster(input.cluster);
    if (this.instancesOf(cluster).length > 0) {
      throw new AwsError(
        'ClusterContainsContainerInstancesException',
        'The Cluster cannot be deleted while Container Instances are active or draining.',
      );
    }
    if ([...this.services.values()].some((service) => service.cluster === cluster && service.status !== 'INACTIVE')) {
      throw new AwsError(
        'ClusterContainsServicesException',
        'The Cluster cannot be deleted while Services are active.',
      );
    }
    if ([...this.tasks.values()].some((task) => task.cluster === cluster && task.lastStatus !== 'STOPPED')) {
      throw new AwsError('ClusterContainsTasksException', 'The Cluster cannot be deleted while Tasks are active.');
    }
    this.clusters.delete(cluster.name);
    this.inactiveClusters.set(cluster.name, cluster);
    return cluster;
  }

  private clusterView(cluster: Cluster): Record<string, unknown> {
    const tasks = [...this.tasks.values()].filter((task) => task.cluster === cluster);
    return {
      clusterArn: cluster.arn,
      clusterName: cluster.name,
      status: this.clusters.get(cluster.name) === cluster ? 'ACTIVE' : 'INACTIVE',
      registeredContainerInstancesCount: this.instancesOf(cluster).length,
      runningTasksCount: tasks.filter((task) => task.lastStatus === 'RUNNING').length,
      pendingTasksCount: tasks.filter((task) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(task.lastStatus))
        .length,
      activeServicesCount: [...this.services.values()].filter((s) => s.cluster === cluster && s.status === 'ACTIVE')
        .length,
      statistics: [],
      tags: cluster.tags,
      settings: [{ name: 'containerInsights', value: 'disabled' }],
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [],
    };
  }

  private describeClusters(input: Input): unknown {
    const refs = Array.isArray(input.clusters) ? input.clusters.map(String) : ['default'];
    const clusters: unknown[] = [];
    const failures: unknown[] = [];
    for (const ref of refs) {
      const name = ref.split('/').pop() ?? '';
      const cluster = this.clusters.get(name) ?? this.inactiveClusters.get(name);
      if (cluster) clusters.push(this.clusterView(cluster));
      else failures.push({ arn: ref.startsWith('arn:') ? ref : this.arn(`cluster/${ref}`), reason: 'MISSING' });
    }
    return { clusters, failures };
  }

  private listClusters(input: Input): unknown {
    const arns = [...this.clusters.values()].map((cluster) => cluster.arn);
    const { page, nextToken } = paginate(arns, input.nextToken, input.maxResults, LIST_LIMITS);
    return { clusterArns: page, nextToken };
  }

  // ---- task definitions ----

  private registerTaskDefinition(input: Input): unknown {
    const family = input.family;
    if (typeof family !== 'string' || !FAMILY.test(family)) throw new AwsError('ClientException', 'Family is invalid.');
    const containers = readContainers(input.containerDefinitions);
    const networkMode = (input.networkMode ?? 'bridge') as TaskDefinition['networkMode'];
    if (!['awsvpc', 'bridge', 'host', 'none'].includes(networkMode)) throw invalidParameter('Invalid networkMode.');
    if (networkMode === 'awsvpc' || networkMode === 'host') checkSamePorts(containers, networkMode);
    const requires = Array.isArray(input.requiresCompatibilities)
      ? input.requiresCompatibilities.map(String)
      : undefined;
    const cpu = input.cpu === undefined ? undefined : String(input.cpu);
    const memory = input.memory === undefined ? undefined : String(input.memory);
    const fargateReady = networkMode === 'awsvpc' && cpu !== undefined && memory !== undefined;
    if (requires?.includes('FARGATE') && !fargateReady) {
      throw new AwsError('ClientException', 'Fargate requires networkMode awsvpc and task-level cpu and memory.');
    }
    const revision = [...this.taskDefinitions.values()].filter((td) => td.family === family).length + 1;
    const {
      family: _f,
      containerDefinitions: _c,
      networkMode: _n,
      requiresCompatibilities: _r,
      cpu: _cpu,
      memory: _m,
      tags: _t,
      ...extra
    } = input;
    const definition: TaskDefinition = {
      arn: this.arn(`task-definition/${family}:${revision}`),
      family,
      revision,
      networkMode,
      containerDefinitions: containers.map((container) => withDefaults(container, networkMode)),
      compatibilities: fargateReady ? ['EC2', 'FARGATE'] : ['EC2'],
      requiresCompatibilities: requires,
      cpu,
      memory,
      status: 'ACTIVE',
      registeredAt: this.options.clock.now(),
      extra,
      tags: readTags(input.tags),
    };
    this.taskDefinitions.set(definition.arn, definition);
    return { taskDefinition: describeTaskDefinition(definition, this.options.accountId), tags: definition.tags };
  }

  /** Resolves `family`, `family:revision` or an ARN (the latest ACTIVE revision for a bare family). */
  private taskDefinition(ref: unknown): TaskDefinition {
    const text = String(ref ?? '');
    const short = text.startsWith('arn:') ? (text.split('task-definition/')[1] ?? '') : text;
    const [family, revision] = short.split(':');
    const candidates = [...this.taskDefinitions.values()].filter((td) => td.family === family);
    const found = revision
      ? candidates.find((td) => String(td.revision) === revision)
      : candidates.filter((td) => td.status === 'ACTIVE').pop();
    if (!found) throw new AwsError('ClientException', 'Unable to describe task definition.');
    return found;
  }

  private describeTaskDefinitionApi(input: Input): unknown {
    const definition = this.taskDefinition(input.taskDefinition);
    const body: Record<string, unknown> = {
      taskDefinition: describeTaskDefinition(definition, this.options.accountId),
    };
    if (includesTags(input)) body.tags = definition.tags;
    return body;
  }

  // ---- services ----

  private createService(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const name = input.serviceName;
    if (typeof name !== 'string' || !NAME.test(name)) throw invalidParameter('serviceName is invalid.');
    const existing = this.services.get(`${cluster.name}/${name}`);
    if (existing && existing.status !== 'INACTIVE') {
      if (existing.status === 'DRAINING') throw invalidParameter('Unable to Start a service that is still Draining.');
      if (input.clientToken && existing.clientToken === input.clientToken)
        return { service: this.serviceView(existing, false) };
      throw invalidParameter('Creation of service was not idempotent.');
    }
    const definition = this.taskDefinition(input.taskDefinition);
    const launchType = readLaunchType(input.launchType);
    const network = this.checkNetwork(definition, launchType, input.networkConfiguration);
    const desiredCount = readCount(input.desiredCount ?? 0, 'desiredCount');
    const now = this.options.clock.now();
    const {
      cluster: _c,
      serviceName: _s,
      taskDefinition: _t,
      desiredCount: _d,
      launchType: _l,
      networkConfiguration: _n,
      tags: _tags,
      propagateTags: _p,
      enableECSManagedTags: _e,
      clientToken: _ct,
      ...extra
    } = input;
    const service: EcsService = {
      arn: this.arn(`service/${cluster.name}/${name}`),
      name,
      cluster,
      desiredCount,
      launchType,
      networkConfiguration: network,
      propagateTags: readPropagate(input.propagateTags),
      enableECSManagedTags: input.enableECSManagedTags === true,
      tags: readTags(input.tags),
      status: 'ACTIVE',
      createdAt: now,
      deployments: [
        {
          id: `ecs-svc/${randomDigits(19)}`,
          status: 'PRIMARY',
          taskDefinition: definition,
          createdAt: now,
          updatedAt: now,
        },
      ],
      clientToken: typeof input.clientToken === 'string' ? input.clientToken : undefined,
      events: [],
      extra,
    };
    this.services.set(`${cluster.name}/${name}`, service);
    this.reconcile(service);
    return { service: this.serviceView(service, false) };
  }

  private service(clusterRef: unknown, ref: unknown): EcsService {
    const cluster = this.cluster(clusterRef);
    const name =
      String(ref ?? '')
        .split('/')
        .pop() ?? '';
    const found = this.services.get(`${cluster.name}/${name}`);
    if (!found) throw new AwsError('ServiceNotFoundException', 'Service not found.');
    return found;
  }

  private updateService(input: Input): unknown {
    const service = this.service(input.cluster, input.service);
    if (service.status !== 'ACTIVE') throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    if (input.desiredCount !== undefined) service.desiredCount = readCount(input.desiredCount, 'desiredCount');
    if (input.networkConfiguration !== undefined) {
      const primary = service.deployments[0]?.taskDefinition;
      if (primary)
        service.networkConfiguration = this.checkNetwork(primary, service.launchType, input.networkConfiguration);
    }
    if (input.taskDefinition !== undefined || input.forceNewDeployment === true) {
      const current = service.deployments[0]?.taskDefinition;
      const definition = input.taskDefinition !== undefined ? this.taskDefinition(input.taskDefinition) : current;
      if (definition && (definition !== current || input.forceNewDeployment === true)) this.deploy(service, definition);
    }
    this.reconcile(service);
    return { service: this.serviceView(service, false) };
  }

  /** A new PRIMARY deployment; the old ones stay ACTIVE until the scheduler has replaced their tasks. */
  private deploy(service: EcsService, definition: TaskDefinition): void {
    const now = this.options.clock.now();
    for (const deployment of service.deployments) deployment.status = 'ACTIVE';
    service.deployments.unshift({
      id: `ecs-svc/${randomDigits(19)}`,
      status: 'PRIMARY',
      taskDefinition: definition,
      createdAt: now,
      updatedAt: now,
    });
  }

  private deleteService(input: Input): unknown {
    const service = this.service(input.cluster, input.service);
    if (service.status !== 'ACTIVE') throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    if (service.desiredCount > 0 && input.force !== true) {
      throw invalidParameter('The service cannot be stopped while it is scaled above 0.');
    }
    service.desiredCount = 0;
    service.status = 'DRAINING';
    this.reconcile(service);
    return { service: this.serviceView(service, false) };
  }

  private describeServices(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const refs = Array.isArray(input.services) ? input.services.map(String) : [];
    if (refs.length === 0 || refs.length > 10) throw invalidParameter('services must name 1 to 10 services.');
    const services: unknown[] = [];
    const failures: unknown[] = [];
    for (const ref of refs) {
      const found = this.services.get(`${cluster.name}/${ref.split('/').pop()}`);
      if (found) services.push(this.serviceView(found, includesTags(input)));
      else
        failures.push({
          arn: ref.startsWith('arn:') ? ref : this.arn(`service/${cluster.name}/${ref}`),
          reason: 'MISSING',
        });
    }
    return { services, failures };
  }

  private serviceView(service: EcsService, includeTags: boolean): Record<string, unknown> {
    const tasks = this.liveTasksOf(service);
    return describeService(service, tasks, includeTags);
  }

  /**
   * The service scheduler (Amazon ECS Developer Guide, "Service scheduler concepts"): keeps desiredCount
   * tasks of the PRIMARY deployment, replaces stopped ones, scales in by stopping the surplus, and on a
   * new deployment stops old tasks only as new ones run (minimumHealthyPercent 100, maximumPercent 200).
   */
  private reconcile(service: EcsService): void {
    if (service.status === 'INACTIVE') return;
    const [primary, ...old] = service.deployments;
    if (!primary) return;
    const live = this.liveTasksOf(service);
    const current = live.filter((task) => task.startedBy === primary.id);
    if (current.length < service.desiredCount) {
      for (let i = current.length; i < service.desiredCount; i++) {
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
    if (service.status === 'DRAINING' && this.tasksOf(service).every((task) => task.lastStatus === 'STOPPED')) {
      service.status = 'INACTIVE';
    }
  }

  private retireOldDeployments(service: EcsService, primaryId: string, oldIds: string[]): void {
    const live = this.liveTasksOf(service);
    const running = live.filter((task) => task.startedBy === primaryId && task.lastStatus === 'RUNNING').length;
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

  private onSettled(task: Task): void {
    const instance = task.containerInstance;
    if (instance && task.lastStatus === 'STOPPED') {
      releasePorts(instance, task);
      instance.version += 1;
      this.placePendingServices(task.cluster);
    }
    const service = [...this.services.values()].find((candidate) => candidate.arn === task.serviceArn);
    if (!service) return;
    if (task.desiredStatus === 'RUNNING' && taskHealth(task) === 'UNHEALTHY') {
      // The scheduler replaces a service task whose essential container fails its health check.
      this.lifecycle.stop(task, 'ServiceSchedulerInitiated', 'Task failed container health checks');
    }
    this.reconcile(service);
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
    const started = this.startTask({
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
    this.serviceEvent(service, unplacedMessage(service.name, this.instancesOf(service.cluster)));
    return false;
  }

  /** Adds to the service's event log, newest first, without repeating the newest message. */
  private serviceEvent(service: EcsService, message: string): void {
    if (service.events[0]?.message === message) return;
    service.events.unshift({ id: randomUUID(), createdAt: this.options.clock.now(), message });
    service.events.length = Math.min(service.events.length, 100);
  }

  /** New capacity or freed ports: services short of tasks in the cluster try to place them again. */
  private placePendingServices(cluster: Cluster): void {
    for (const service of this.services.values()) {
      if (service.cluster === cluster && service.status === 'ACTIVE') this.reconcile(service);
    }
  }

  private tasksOf(service: EcsService): Task[] {
    return [...this.tasks.values()].filter((task) => task.serviceArn === service.arn);
  }

  private liveTasksOf(service: EcsService): Task[] {
    return this.tasksOf(service).filter((task) => task.desiredStatus === 'RUNNING');
  }

  // ---- tasks ----

  private runTask(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const definition = this.taskDefinition(input.taskDefinition);
    const launchType = readLaunchType(input.launchType);
    const network = this.checkNetwork(definition, launchType, input.networkConfiguration);
    const count = readCount(input.count ?? 1, 'count');
    if (count < 1 || count > 10) throw invalidParameter('count must be between 1 and 10.');
    const startedBy = typeof input.startedBy === 'string' ? input.startedBy : undefined;
    const tags = [...readTags(input.tags), ...(input.propagateTags === 'TASK_DEFINITION' ? definition.tags : [])];
    if (launchType === 'EC2' && this.instancesOf(cluster).length === 0) {
      throw invalidParameter('No Container Instances were found in your cluster.');
    }
    const tasks: unknown[] = [];
    const failures = new Map<string, { arn: string; reason: string }>();
    for (let i = 0; i < count; i++) {
      const task = this.startTask({
        cluster,
        definition,
        launchType,
        network,
        group: typeof input.group === 'string' ? input.group : `family:${definition.family}`,
        startedBy,
        tags,
      });
      if (task) {
        tasks.push(describeTask(task, false));
        continue;
      }
      // ECS reports each container instance it could not use (Amazon ECS Developer Guide, API failure reasons).
      for (const instance of this.instancesOf(cluster)) {
        failures.set(instance.arn, { arn: instance.arn, reason: 'RESOURCE:PORTS' });
      }
    }
    return { tasks, failures: [...failures.values()] };
  }

  private startTask(spec: {
    cluster: Cluster;
    definition: TaskDefinition;
    launchType: LaunchType;
    network?: AwsVpcNetwork;
    group: string;
    startedBy?: string;
    serviceArn?: string;
    tags: EcsTag[];
  }): Task | undefined {
    const subnet = spec.network ? this.pool.pickSubnet(spec.network.awsvpcConfiguration.subnets) : 'subnet-local';
    const instance =
      spec.launchType === 'EC2' ? this.place(spec.cluster, spec.definition, spec.network ? subnet : undefined) : null;
    if (instance === undefined) return undefined;
    const id = randomHex(32);
    const arn = this.arn(`task/${spec.cluster.name}/${id}`);
    const now = this.options.clock.now();
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
    this.tasks.set(arn, task);
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
    const fitting = this.instancesOf(cluster).filter((instance) => fits(instance, definition));
    const zone = subnet === undefined ? undefined : this.pool.availabilityZone(subnet);
    const sameZone = fitting.filter((instance) => instance.availabilityZone === zone);
    const candidates = sameZone.length > 0 ? sameZone : fitting;
    const load = (instance: ContainerInstance) =>
      [...this.tasks.values()].filter((task) => task.containerInstance === instance && task.lastStatus !== 'STOPPED')
        .length;
    return candidates.reduce<ContainerInstance | undefined>(
      (best, instance) => (best === undefined || load(instance) < load(best) ? instance : best),
      undefined,
    );
  }

  // ---- container instances ----

  /** Container instances of the cluster that are registered (ACTIVE or DRAINING). */
  private instancesOf(cluster: Cluster): ContainerInstance[] {
    return [...this.containerInstances.values()].filter(
      (instance) => instance.cluster === cluster && instance.status !== 'INACTIVE',
    );
  }

  /** Registers an EC2 instance in the cluster, with the attributes its agent reports. */
  private enroll(
    cluster: Cluster,
    ec2: Ec2Instance,
    custom: { name: string; value?: string }[],
    tags: EcsTag[],
  ): ContainerInstance {
    const id = randomHex(32);
    const builtIn = [
      { name: 'ecs.availability-zone', value: ec2.availabilityZone },
      { name: 'ecs.instance-type', value: ec2.instanceType },
      { name: 'ecs.ami-id', value: ec2.imageId },
      { name: 'ecs.os-type', value: 'linux' },
      { name: 'ecs.os-family', value: 'LINUX' },
      { name: 'ecs.cpu-architecture', value: 'x86_64' },
      { name: 'ecs.subnet-id', value: ec2.subnetId },
      { name: 'ecs.capability.task-eni' },
      { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.44' },
    ];
    const customNames = new Set(custom.map((attribute) => attribute.name));
    const instance: ContainerInstance = {
      arn: this.arn(`container-instance/${cluster.name}/${id}`),
      id,
      cluster,
      ec2InstanceId: ec2.instanceId,
      availabilityZone: ec2.availabilityZone,
      status: 'ACTIVE',
      agentConnected: true,
      registeredAt: this.options.clock.now(),
      version: 1,
      attributes: [...builtIn.filter((attribute) => !customNames.has(attribute.name)), ...custom],
      tags,
      cpu: REGISTERED_CPU,
      memory: REGISTERED_MEMORY,
      usedPorts: { tcp: new Set(), udp: new Set() },
      lastDynamicPort: DYNAMIC_PORT_RANGE.last,
    };
    this.containerInstances.set(instance.arn, instance);
    return instance;
  }

  private findContainerInstance(cluster: Cluster, ref: string): ContainerInstance | undefined {
    const id = ref.split('/').pop() ?? '';
    const found = this.containerInstances.get(this.arn(`container-instance/${cluster.name}/${id}`));
    return found && (!ref.startsWith('arn:') || found.arn === ref) ? found : undefined;
  }

  /**
   * RegisterContainerInstance, as the ECS agent calls it on boot (Amazon ECS API Reference): the
   * instance identity document names the EC2 instance (adopted into the emulated EC2 if unknown, with
   * its privateIp and availabilityZone); without one the emulator launches a fresh instance. An EC2
   * instance already registered in the cluster, or a known containerInstanceArn, answers the same
   * container instance with its attributes updated.
   */
  private registerContainerInstance(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const custom = readAttributes(input.attributes);
    const tags = readTags(input.tags);
    const document = readIdentityDocument(input.instanceIdentityDocument);
    const existing =
      typeof input.containerInstanceArn === 'string'
        ? this.findContainerInstance(cluster, input.containerInstanceArn)
        : this.instancesOf(cluster).find((instance) => instance.ec2InstanceId === document.instanceId);
    if (typeof input.containerInstanceArn === 'string' && !existing) {
      throw invalidParameter('The referenced container instance was not found.');
    }
    if (existing) {
      const names = new Set(custom.map((attribute) => attribute.name));
      existing.attributes = [...existing.attributes.filter((attribute) => !names.has(attribute.name)), ...custom];
      existing.tags = dedupeTags([...existing.tags, ...tags]);
      existing.agentConnected = true;
      existing.version += 1;
      return { containerInstance: describeContainerInstance(existing, [...this.tasks.values()], true) };
    }
    const subnet = DEFAULT_INSTANCE_SUBNETS[this.instancesOf(cluster).length % DEFAULT_INSTANCE_SUBNETS.length];
    const ec2 = this.options.ec2.launch({ subnet: subnet ?? 'subnet-local', ...document });
    const instance = this.enroll(cluster, ec2, custom, tags);
    this.placePendingServices(cluster);
    return { containerInstance: describeContainerInstance(instance, [...this.tasks.values()], true) };
  }

  private describeContainerInstances(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const refs = Array.isArray(input.containerInstances) ? input.containerInstances.map(String) : [];
    if (refs.length === 0 || refs.length > 100) {
      throw invalidParameter('containerInstances must name 1 to 100 container instances.');
    }
    const containerInstances: unknown[] = [];
    const failures: unknown[] = [];
    const tasks = [...this.tasks.values()];
    for (const ref of refs) {
      const instance = this.findContainerInstance(cluster, ref);
      if (instance) containerInstances.push(describeContainerInstance(instance, tasks, includesTags(input)));
      else
        failures.push({
          arn: ref.startsWith('arn:') ? ref : this.arn(`container-instance/${cluster.name}/${ref}`),
          reason: 'MISSING',
        });
    }
    return { containerInstances, failures };
  }

  /**
   * ListContainerInstances: every state but INACTIVE unless `status` says otherwise; `filter` takes the
   * cluster query language's attribute clauses (`attribute:NAME == VALUE`, `attribute:NAME exists`,
   * joined by `and`), the only ones the emulator evaluates.
   */
  private listContainerInstances(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const status = input.status === undefined ? undefined : String(input.status);
    if (
      status !== undefined &&
      !['ACTIVE', 'DRAINING', 'REGISTERING', 'DEREGISTERING', 'REGISTRATION_FAILED'].includes(status)
    ) {
      throw invalidParameter('Invalid status.');
    }
    const matches = readInstanceFilter(input.filter);
    const arns = [...this.containerInstances.values()]
      .filter((instance) => instance.cluster === cluster)
      .filter((instance) => (status === undefined ? instance.status !== 'INACTIVE' : instance.status === status))
      .filter(matches)
      .map((instance) => instance.arn);
    const { page, nextToken } = paginate(arns, input.nextToken, input.maxResults, LIST_LIMITS);
    return { containerInstanceArns: page, nextToken };
  }

  private findTask(cluster: Cluster, ref: string): Task | undefined {
    const id = ref.split('/').pop() ?? '';
    const task = this.tasks.get(this.arn(`task/${cluster.name}/${id}`));
    return task && (!ref.startsWith('arn:') || task.arn === ref) ? task : undefined;
  }

  private stopTask(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const task = this.findTask(cluster, String(input.task ?? ''));
    if (!task) throw invalidParameter('The referenced task was not found.');
    const reason = typeof input.reason === 'string' && input.reason ? input.reason : 'Task stopped by user';
    this.lifecycle.stop(task, 'UserInitiated', reason);
    const service = [...this.services.values()].find((candidate) => candidate.arn === task.serviceArn);
    if (service) this.reconcile(service);
    return { task: describeTask(task, false) };
  }

  private describeTasks(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const refs = Array.isArray(input.tasks) ? input.tasks.map(String) : [];
    if (refs.length === 0 || refs.length > 100) throw invalidParameter('tasks must name 1 to 100 tasks.');
    const tasks: unknown[] = [];
    const failures: unknown[] = [];
    for (const ref of refs) {
      const task = this.findTask(cluster, ref);
      if (task) tasks.push(describeTask(task, includesTags(input)));
      else
        failures.push({
          arn: ref.startsWith('arn:') ? ref : this.arn(`task/${cluster.name}/${ref}`),
          reason: 'MISSING',
        });
    }
    return { tasks, failures };
  }

  private listTasks(input: Input): unknown {
    const cluster = this.cluster(input.cluster);
    const desired = input.desiredStatus ?? 'RUNNING';
    if (!['RUNNING', 'PENDING', 'STOPPED'].includes(String(desired))) throw invalidParameter('Invalid desiredStatus.');
    if (input.serviceName !== undefined && input.family !== undefined) {
      throw invalidParameter('family and serviceName cannot be specified together.');
    }
    const serviceArn = input.serviceName === undefined ? undefined : this.service(input.cluster, input.serviceName).arn;
    const arns = [...this.tasks.values()]
      .filter((task) => task.cluster === cluster && task.desiredStatus === desired)
      .filter((task) => serviceArn === undefined || task.serviceArn === serviceArn)
      .filter((task) => input.family === undefined || task.taskDefinition.family === input.family)
      .filter((task) => input.startedBy === undefined || task.startedBy === input.startedBy)
      .filter((task) => input.launchType === undefined || task.launchType === input.launchType)
      .map((task) => task.arn);
    const { page, nextToken } = paginate(arns, input.nextToken, input.maxResults, LIST_LIMITS);
    return { taskArns: page, nextToken };
  }

  private checkNetwork(definition: TaskDefinition, launchType: LaunchType, raw: unknown): AwsVpcNetwork | undefined {
    if (launchType === 'FARGATE' && !definition.compatibilities.includes('FARGATE')) {
      throw invalidParameter('Task definition does not support launch_type FARGATE.');
    }
    if (definition.networkMode !== 'awsvpc') {
      if (raw !== undefined) {
        throw invalidParameter('Network Configuration is not valid for the given networkMode of this task definition.');
      }
      return undefined;
    }
    const subnets = (raw as AwsVpcNetwork | undefined)?.awsvpcConfiguration?.subnets;
    if (!Array.isArray(subnets) || subnets.length === 0) {
      throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    }
    return raw as AwsVpcNetwork;
  }

  // ---- tags ----

  private taggable(arn: unknown): { tags: EcsTag[] } {
    const ref = String(arn ?? '');
    const found =
      [...this.clusters.values()].find((cluster) => cluster.arn === ref) ??
      [...this.services.values()].find((service) => service.arn === ref && service.status !== 'INACTIVE') ??
      this.tasks.get(ref) ??
      this.taskDefinitions.get(ref);
    if (!found) throw new AwsError('ResourceNotFoundException', 'The specified resource is not found.');
    return found;
  }

  private tagResource(input: Input): Record<string, never> {
    const resource = this.taggable(input.resourceArn);
    resource.tags = dedupeTags([...resource.tags, ...readTags(input.tags)]);
    if (resource.tags.length > 50) throw invalidParameter('A resource can have at most 50 tags.');
    return {};
  }

  private untagResource(input: Input): Record<string, never> {
    const resource = this.taggable(input.resourceArn);
    const keys = Array.isArray(input.tagKeys) ? input.tagKeys.map(String) : [];
    resource.tags = resource.tags.filter((tag) => !keys.includes(tag.key));
    return {};
  }

  private arn(resource: string): string {
    return `arn:aws:ecs:${this.options.region}:${this.options.accountId}:${resource}`;
  }
}

function progress(task: Task): number {
  return ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING'].indexOf(task.lastStatus);
}

function includesTags(input: Input): boolean {
  return Array.isArray(input.include) && input.include.includes('TAGS');
}

function readTags(raw: unknown): EcsTag[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParameter('tags must be a list.');
  return raw.map((item) => {
    const tag = item as Partial<EcsTag>;
    if (typeof tag.key !== 'string' || tag.key.length < 1 || tag.key.length > 128)
      throw invalidParameter('Tag key is invalid.');
    if (tag.value !== undefined && (typeof tag.value !== 'string' || tag.value.length > 256)) {
      throw invalidParameter('Tag value is invalid.');
    }
    return { key: tag.key, value: tag.value ?? '' };
  });
}

function dedupeTags(tags: EcsTag[]): EcsTag[] {
  return [...new Map(tags.map((tag) => [tag.key, tag.value])).entries()].map(([key, value]) => ({ key, value }));
}

function readLaunchType(raw: unknown): LaunchType {
  // Without a launch type or capacity provider, ECS uses EC2 (Amazon ECS API Reference, RunTask launchType).
  const value = raw ?? 'EC2';
  if (value !== 'FARGATE' && value !== 'EC2' && value !== 'EXTERNAL') throw invalidParameter('Invalid launchType.');
  return value;
}

function readPropagate(raw: unknown): EcsService['propagateTags'] {
  const value = raw ?? 'NONE';
  if (value !== 'SERVICE' && value !== 'TASK_DEFINITION' && value !== 'NONE')
    throw invalidParameter('Invalid propagateTags.');
  return value;
}

function readCount(raw: unknown, name: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0)
    throw invalidParameter(`${name} must be a non-negative integer.`);
  return raw;
}

function readContainers(raw: unknown): ContainerDefinition[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new AwsError('ClientException', 'Container definitions are required.');
  const containers = raw.map((item) => {
    const container = item as Partial<ContainerDefinition>;
    if (typeof container.name !== 'string' || !NAME.test(container.name))
      throw new AwsError('ClientException', 'Container name is invalid.');
    if (typeof container.image !== 'string' || container.image === '')
      throw new AwsError('ClientException', 'Container image is required.');
    return container as ContainerDefinition;
  });
  if (!containers.some((container) => container.essential !== false)) {
    throw new AwsError('ClientException', 'Task definition must have at least one essential container.');
  }
  return containers;
}

/** What ECS fills in on registration: essential true, cpu 0, tcp mappings, hostPort = containerPort in awsvpc. */
function withDefaults(container: ContainerDefinition, networkMode: TaskDefinition['networkMode']): ContainerDefinition {
  return {
    ...container,
    cpu: container.cpu ?? 0,
    essential: container.essential ?? true,
    portMappings: (container.portMappings ?? []).map((mapping) => ({
      ...mapping,
      protocol: mapping.protocol ?? 'tcp',
      hostPort:
        networkMode === 'awsvpc' || networkMode === 'host'
          ? mapping.hostPort || mapping.containerPort
          : (mapping.hostPort ?? 0),
    })),
    environment: container.environment ?? [],
    mountPoints: container.mountPoints ?? [],
    volumesFrom: container.volumesFrom ?? [],
  };
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

/** awsvpc and host tasks use the container's own port on the host (Amazon ECS API Reference, PortMapping hostPort). */
function checkSamePorts(containers: ContainerDefinition[], networkMode: 'awsvpc' | 'host'): void {
  for (const container of containers) {
    for (const mapping of container.portMappings ?? []) {
      if (mapping.hostPort && mapping.hostPort !== mapping.containerPort) {
        throw new AwsError(
          'ClientException',
          `When networkMode=${networkMode}, the host ports and container ports in port mappings must match.`,
        );
      }
    }
  }
}

/** The service event ECS logs when it cannot place a task (Amazon ECS Developer Guide, service event messages). */
function unplacedMessage(service: string, instances: ContainerInstance[]): string {
  const reason =
    instances.length === 0
      ? 'Reason: No Container Instances were found in your cluster.'
      : `The closest matching container-instance ${instances[0]?.id} is already using a port required by your task.`;
  return `(service ${service}) was unable to place a task because no container instance met all of its requirements. ${reason}`;
}

function readAttributes(raw: unknown): { name: string; value?: string }[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParameter('attributes must be a list.');
  return raw.map((item) => {
    const attribute = item as { name?: unknown; value?: unknown };
    if (typeof attribute.name !== 'string' || attribute.name === '')
      throw invalidParameter('Attribute name is invalid.');
    return typeof attribute.value === 'string'
      ? { name: attribute.name, value: attribute.value }
      : { name: attribute.name };
  });
}

/** The fields of an EC2 instance identity document the emulator uses (the agent sends it as a JSON string). */
function readIdentityDocument(raw: unknown): {
  instanceId?: string;
  privateIp?: string;
  availabilityZone?: string;
  instanceType?: string;
} {
  if (raw === undefined || raw === null || raw === '') return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(String(raw)) as Record<string, unknown>;
  } catch {
    throw new AwsError('ClientException', 'instanceIdentityDocument is not a valid identity document.');
  }
  const text = (key: string) => (typeof parsed[key] === 'string' ? (parsed[key] as string) : undefined);
  const instanceId = text('instanceId');
  if (instanceId !== undefined && !/^i-[0-9a-f]{8,17}$/.test(instanceId)) {
    throw new AwsError('ClientException', 'instanceIdentityDocument names an invalid instanceId.');
  }
  return {
    instanceId,
    privateIp: text('privateIp'),
    availabilityZone: text('availabilityZone'),
    instanceType: text('instanceType'),
  };
}

/** ListContainerInstances' `filter`, limited to attribute clauses joined by `and`. */
function readInstanceFilter(raw: unknown): (instance: ContainerInstance) => boolean {
  if (raw === undefined || raw === null || raw === '') return () => true;
  const clauses = String(raw)
    .split(/\s+and\s+/i)
    .map((clause) => {
      const equals = /^attribute:(\S+)\s*==\s*(\S+)$/.exec(clause.trim());
      if (equals) return { name: equals[1] ?? '', value: equals[2] };
      const exists = /^attribute:(\S+)\s+exists$/.exec(clause.trim());
      if (exists) return { name: exists[1] ?? '', value: undefined };
      throw invalidParameter(`The emulator does not evaluate this filter expression: ${clause}`);
    });
  return (instance) =>
    clauses.every((clause) =>
      instance.attributes.some(
        (attribute) =>
          attribute.name === clause.name && (clause.value === undefined || attribute.value === clause.value),
      ),
    );
}
