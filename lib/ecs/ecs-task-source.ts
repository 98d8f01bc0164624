import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { DescribedTask, TaskDefinitionFacts, TaskSource } from '../ports';

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

  constructor(
    private readonly client: ECSClient,
    private readonly options: { serviceTagsTtlMs: number; now?: () => number } = { serviceTagsTtlMs: 60_000 },
  ) {}

  async describeTask(cluster: string, taskArn: string): Promise<DescribedTask | undefined> {
    const out = await this.client.send(new DescribeTasksCommand({ cluster, tasks: [taskArn], include: ['TAGS'] }));
    const task = out.tasks?.find((t) => t.taskArn === taskArn) ?? out.tasks?.[0];
    if (!task) return undefined;
    return {
      taskArn: task.taskArn ?? taskArn,
      lastStatus: task.lastStatus ?? 'UNKNOWN',
      desiredStatus: task.desiredStatus ?? 'UNKNOWN',
      ...(task.version !== undefined ? { version: task.version } : {}),
      ...(task.healthStatus ? { healthStatus: task.healthStatus } : {}),
      tags: tagMap(task.tags),
    };
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
