import { AwsError } from '../aws-error';
import type { Cluster, ContainerInstance, EcsService, EcsTag, Task, TaskDefinition } from './model';

/**
 * What ECS holds, and how a request's reference (a name, an id or an ARN) resolves to it: a lookup that
 * finds nothing answers the error ECS answers. Every other part of the emulated ECS reads and changes
 * these maps; none keeps state of its own.
 */
export class EcsState {
  /** ACTIVE clusters by name; a deleted one moves to `inactiveClusters`, where only DescribeClusters sees it. */
  readonly clusters = new Map<string, Cluster>();
  readonly inactiveClusters = new Map<string, Cluster>();
  readonly taskDefinitions = new Map<string, TaskDefinition>();
  /** By `cluster/service` name. */
  readonly services = new Map<string, EcsService>();
  readonly tasks = new Map<string, Task>();
  readonly containerInstances = new Map<string, ContainerInstance>();

  constructor(
    readonly region: string,
    readonly accountId: string,
  ) {}

  arn(resource: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:${resource}`;
  }

  /** An ACTIVE cluster by name or ARN (`default` when the request names none). */
  cluster(ref: unknown): Cluster {
    const name = ref === undefined || ref === null ? 'default' : String(ref).split('/').pop();
    const found = name === undefined ? undefined : this.clusters.get(name);
    if (!found || (String(ref).startsWith('arn:') && found.arn !== ref)) {
      throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
    }
    return found;
  }

  /** Resolves `family`, `family:revision` or an ARN (the latest ACTIVE revision for a bare family). */
  taskDefinition(ref: unknown): TaskDefinition {
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

  service(clusterRef: unknown, ref: unknown): EcsService {
    const cluster = this.cluster(clusterRef);
    const name =
      String(ref ?? '')
        .split('/')
        .pop() ?? '';
    const found = this.services.get(`${cluster.name}/${name}`);
    if (!found) throw new AwsError('ServiceNotFoundException', 'Service not found.');
    return found;
  }

  /** The service that owns the task, if any. */
  serviceOf(task: Task): EcsService | undefined {
    return [...this.services.values()].find((candidate) => candidate.arn === task.serviceArn);
  }

  findTask(cluster: Cluster, ref: string): Task | undefined {
    const id = ref.split('/').pop() ?? '';
    const task = this.tasks.get(this.arn(`task/${cluster.name}/${id}`));
    return task && (!ref.startsWith('arn:') || task.arn === ref) ? task : undefined;
  }

  findContainerInstance(cluster: Cluster, ref: string): ContainerInstance | undefined {
    const id = ref.split('/').pop() ?? '';
    const found = this.containerInstances.get(this.arn(`container-instance/${cluster.name}/${id}`));
    return found && (!ref.startsWith('arn:') || found.arn === ref) ? found : undefined;
  }

  /** Container instances of the cluster that are registered (ACTIVE or DRAINING). */
  instancesOf(cluster: Cluster): ContainerInstance[] {
    return [...this.containerInstances.values()].filter(
      (instance) => instance.cluster === cluster && instance.status !== 'INACTIVE',
    );
  }

  tasksOf(service: EcsService): Task[] {
    return [...this.tasks.values()].filter((task) => task.serviceArn === service.arn);
  }

  liveTasksOf(service: EcsService): Task[] {
    return this.tasksOf(service).filter((task) => task.desiredStatus === 'RUNNING');
  }

  /** The resource TagResource, UntagResource and ListTagsForResource name by ARN. */
  taggable(arn: unknown): { tags: EcsTag[] } {
    const ref = String(arn ?? '');
    const found =
      [...this.clusters.values()].find((cluster) => cluster.arn === ref) ??
      [...this.services.values()].find((service) => service.arn === ref && service.status !== 'INACTIVE') ??
      this.tasks.get(ref) ??
      this.taskDefinitions.get(ref);
    if (!found) throw new AwsError('ResourceNotFoundException', 'The specified resource is not found.');
    return found;
  }
}
