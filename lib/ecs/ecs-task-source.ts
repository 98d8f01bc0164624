import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  paginateListClusters,
  paginateListTasks,
  type Tag,
  type Task,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { createEc2AddressLookup, type Ec2AddressLookup, type InstanceAddress } from '../ec2/ec2-addresses';
import { ClusterNotFoundError, isAwsError } from '../errors';
import type { DescribedTask, TaskDefinitionFacts, TaskSource } from '../ports';
import { type TaskDetail, TaskDetailSchema } from '../task-event';

/** ECS tags as a plain map (keys without a value are kept with ''). */
export function tagMap(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.key) out[tag.key] = tag.value ?? '';
  return out;
}

/** A task definition reduced to what registration reads. */
export function toTaskDefinitionFacts(def: TaskDefinition): TaskDefinitionFacts {
  const mode = def.networkMode;
  return {
    arn: def.taskDefinitionArn ?? '',
    family: def.family ?? '',
    // ECS's default network mode on EC2 is bridge; Fargate always uses awsvpc and says so.
    networkMode: mode === 'awsvpc' || mode === 'host' || mode === 'none' ? mode : 'bridge',
    containers: (def.containerDefinitions ?? []).map((c) => ({
      name: c.name ?? '',
      essential: c.essential ?? true,
      hasHealthCheck: Boolean(c.healthCheck?.command?.length),
      portMappings: (c.portMappings ?? []).map((m) => ({
        ...(m.containerPort !== undefined ? { containerPort: m.containerPort } : {}),
        ...(m.hostPort !== undefined ? { hostPort: m.hostPort } : {}),
        ...(m.name ? { name: m.name } : {}),
        ...(m.protocol ? { protocol: m.protocol } : {}),
      })),
    })),
  };
}

/**
 * A described task as the detail of a task state change event (ECS publishes the task's own shape),
 * so the planner decides the same way for both; undefined when the task lacks a required field.
 */
export function taskToDetail(task: Task): TaskDetail | undefined {
  const parsed = TaskDetailSchema.safeParse({
    taskArn: task.taskArn,
    clusterArn: task.clusterArn,
    taskDefinitionArn: task.taskDefinitionArn,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    version: task.version,
    group: task.group,
    startedBy: task.startedBy,
    launchType: task.launchType,
    availabilityZone: task.availabilityZone,
    containerInstanceArn: task.containerInstanceArn,
    healthStatus: task.healthStatus,
    attachments: (task.attachments ?? []).map((a) => ({
      id: a.id,
      type: a.type ?? '',
      status: a.status,
      details: (a.details ?? []).map((d) => ({ name: d.name ?? '', value: d.value })),
    })),
    containers: (task.containers ?? []).map((c) => ({
      name: c.name ?? '',
      lastStatus: c.lastStatus,
      healthStatus: c.healthStatus,
      networkInterfaces: (c.networkInterfaces ?? []).map((n) => ({
        attachmentId: n.attachmentId,
        privateIpv4Address: n.privateIpv4Address,
        ipv6Address: n.ipv6Address,
      })),
      networkBindings: (c.networkBindings ?? []).map((b) => ({
        bindIP: b.bindIP,
        containerPort: b.containerPort,
        hostPort: b.hostPort,
        protocol: b.protocol,
      })),
    })),
  });
  return parsed.success ? parsed.data : undefined;
}

interface Cached<T> {
  value: T;
  expires: number;
}

/**
 * The ECS adapter. Task definitions are immutable per revision, so they are cached for the life of the
 * container; ECS service tags change rarely and are cached for `serviceTagsTtlMs`.
 */
export class EcsTaskSource implements TaskSource {
  private readonly definitions = new Map<string, Promise<TaskDefinitionFacts>>();
  private readonly serviceTagCache = new Map<string, Cached<Promise<Record<string, string>>>>();
  private readonly instanceAddresses = new Map<string, Promise<InstanceAddress | undefined>>();
  private readonly ec2: Ec2AddressLookup;

  constructor(
    private readonly client: ECSClient,
    private readonly options: { serviceTagsTtlMs: number; now?: () => number; ec2?: Ec2AddressLookup } = {
      serviceTagsTtlMs: 60_000,
    },
  ) {
    this.ec2 = options.ec2 ?? createEc2AddressLookup();
  }

  /**
   * The private address of a container instance: DescribeContainerInstances gives its EC2 instance, EC2
   * its address. Cached per container instance (its address does not change while it lives).
   */
  containerInstanceAddress(cluster: string, containerInstanceArn: string): Promise<InstanceAddress | undefined> {
    let found = this.instanceAddresses.get(containerInstanceArn);
    if (!found) {
      found = this.client
        .send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [containerInstanceArn] }))
        .then((out) => {
          const instanceId = out.containerInstances?.[0]?.ec2InstanceId;
          return instanceId ? this.ec2(instanceId) : undefined;
        });
      if (this.instanceAddresses.size >= 1000) this.instanceAddresses.clear();
      this.instanceAddresses.set(containerInstanceArn, found);
      // A failure or an unknown instance is not cached: the next task asks again.
      found.then(
        (address) => address ?? this.instanceAddresses.delete(containerInstanceArn),
        () => this.instanceAddresses.delete(containerInstanceArn),
      );
    }
    return found;
  }

  async listClusters(): Promise<string[]> {
    const clusters: string[] = [];
    for await (const page of paginateListClusters({ client: this.client }, { maxResults: 100 })) {
      clusters.push(...(page.clusterArns ?? []));
    }
    return clusters;
  }

  /** Throws ClusterNotFoundError when ECS does not find the cluster (ListTasks or DescribeTasks). */
  async listRunningTasks(cluster: string): Promise<{ detail: TaskDetail; tags: Record<string, string> }[]> {
    try {
      return await this.listRunningTaskPages(cluster);
    } catch (error) {
      if (isAwsError(error, 'ClusterNotFoundException')) throw new ClusterNotFoundError(cluster, { cause: error });
      throw error;
    }
  }

  private async listRunningTaskPages(cluster: string): Promise<{ detail: TaskDetail; tags: Record<string, string> }[]> {
    const result: { detail: TaskDetail; tags: Record<string, string> }[] = [];
    const described: Task[] = [];
    const pages = paginateListTasks({ client: this.client }, { cluster, desiredStatus: 'RUNNING', maxResults: 100 });
    for await (const page of pages) {
      const arns = page.taskArns ?? [];
      if (arns.length > 0) {
        // DescribeTasks takes at most 100 tasks per call: one call per page.
        const out = await this.client.send(new DescribeTasksCommand({ cluster, tasks: arns, include: ['TAGS'] }));
        for (const task of out.tasks ?? []) {
          const detail = taskToDetail(task);
          if (detail) result.push({ detail, tags: tagMap(task.tags) });
          described.push(task);
        }
      }
    }
    // Once the cluster is listed: its services in the fewest batches (the tasks are planned after this returns).
    this.prefetchServiceTags(described);
    return result;
  }

  /**
   * Undefined also when the cluster is gone (ClusterNotFoundException): a deleted cluster runs no task.
   * Calls made in the same turn of the event loop for one cluster share a DescribeTasks call (up to 100 tasks, its
   * most): a batch of task events handled side by side reads ECS once, not once per event.
   */
  describeTask(cluster: string, taskArn: string): Promise<DescribedTask | undefined> {
    return new Promise((resolve, reject) => {
      let pending = this.pendingDescribes.get(cluster);
      if (!pending) {
        pending = [];
        this.pendingDescribes.set(cluster, pending);
        setImmediate(() => this.flushDescribes(cluster));
      }
      pending.push({ taskArn, resolve, reject });
    });
  }

  private readonly pendingDescribes = new Map<string, PendingDescribe[]>();

  /** Sends the cluster's waiting describeTask calls, 100 tasks a DescribeTasks call. */
  private flushDescribes(cluster: string): void {
    const pending = this.pendingDescribes.get(cluster) ?? [];
    this.pendingDescribes.delete(cluster);
    for (let i = 0; i < pending.length; i += 100) {
      const calls = pending.slice(i, i + 100);
      const arns = [...new Set(calls.map((c) => c.taskArn))];
      this.client.send(new DescribeTasksCommand({ cluster, tasks: arns, include: ['TAGS'] })).then(
        (out) => {
          for (const call of calls) {
            const task =
              out.tasks?.find((t) => t.taskArn === call.taskArn) ?? (arns.length === 1 ? out.tasks?.[0] : undefined);
            call.resolve(task ? describedOf(task, call.taskArn) : undefined);
          }
        },
        (error: unknown) => {
          for (const call of calls) {
            if (isAwsError(error, 'ClusterNotFoundException')) call.resolve(undefined);
            else call.reject(error);
          }
        },
      );
    }
  }

  /**
   * Reads the tags of the listed tasks' services that are not cached, ten a call (DescribeServices' most),
   * into the cache `serviceTags` reads: a listing of 5,000 tasks in 100 services asks 10 times, not 100
   * (ECS's "Service read actions" bucket refills 20 a second). A failed read leaves nothing cached, so
   * `serviceTags` asks for that service alone.
   */
  private prefetchServiceTags(tasks: Task[]): void {
    const now = (this.options.now ?? Date.now)();
    const wanted = new Map<string, Set<string>>();
    for (const task of tasks) {
      const service = task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined;
      if (!service || !task.clusterArn) continue;
      const hit = this.serviceTagCache.get(`${task.clusterArn}\n${service}`);
      if (hit && hit.expires > now) continue;
      const names = wanted.get(task.clusterArn) ?? new Set<string>();
      names.add(service);
      wanted.set(task.clusterArn, names);
    }
    for (const [cluster, names] of wanted) {
      const all = [...names];
      for (let i = 0; i < all.length; i += 10) {
        const batch = all.slice(i, i + 10);
        const answer = this.client.send(new DescribeServicesCommand({ cluster, services: batch, include: ['TAGS'] }));
        for (const serviceName of batch) {
          const key = `${cluster}\n${serviceName}`;
          const value = answer.then((out) => tagMap(out.services?.find((s) => s.serviceName === serviceName)?.tags));
          this.serviceTagCache.set(key, { value, expires: now + this.options.serviceTagsTtlMs });
          value.catch(() => this.serviceTagCache.delete(key));
        }
      }
    }
  }

  serviceTags(cluster: string, serviceName: string): Promise<Record<string, string>> {
    const key = `${cluster}\n${serviceName}`;
    const now = (this.options.now ?? Date.now)();
    const hit = this.serviceTagCache.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = this.client
      .send(new DescribeServicesCommand({ cluster, services: [serviceName], include: ['TAGS'] }))
      .then((out) => tagMap(out.services?.find((s) => s.serviceName === serviceName)?.tags));
    this.serviceTagCache.set(key, { value, expires: now + this.options.serviceTagsTtlMs });
    value.catch(() => this.serviceTagCache.delete(key));
    return value;
  }

  taskDefinition(arn: string): Promise<TaskDefinitionFacts> {
    let found = this.definitions.get(arn);
    if (!found) {
      found = this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })).then((out) => {
        if (!out.taskDefinition) throw new Error(`ECS returned no task definition for ${arn}`);
        return toTaskDefinitionFacts(out.taskDefinition);
      });
      this.definitions.set(arn, found);
      found.catch(() => this.definitions.delete(arn));
    }
    return found;
  }
}

interface PendingDescribe {
  taskArn: string;
  resolve: (task: DescribedTask | undefined) => void;
  reject: (error: unknown) => void;
}

/** A described task as the registrar reads it. */
function describedOf(task: Task, taskArn: string): DescribedTask {
  return {
    taskArn: task.taskArn ?? taskArn,
    lastStatus: task.lastStatus ?? 'UNKNOWN',
    desiredStatus: task.desiredStatus ?? 'UNKNOWN',
    ...(task.version !== undefined ? { version: task.version } : {}),
    ...(task.healthStatus ? { healthStatus: task.healthStatus } : {}),
    tags: tagMap(task.tags),
  };
}
