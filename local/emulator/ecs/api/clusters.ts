import { AwsError, invalidParameter } from '../../aws-error';
import { type Input, paginate } from '../../wire';
import type { EcsContext } from '../context';
import type { Cluster } from '../model';
import { LIST_LIMITS, NAME, readTags } from '../readers';
import type { EcsState } from '../state';
import { addContainerInstances } from './container-instances';

// CreateCluster, DeleteCluster, DescribeClusters, ListClusters (Amazon ECS API Reference).

/** CreateCluster: idempotent for an existing name; the new cluster gets the configured container instances. */
export function createCluster(ctx: EcsContext, input: Input): unknown {
  const { state } = ctx;
  const name = typeof input.clusterName === 'string' ? input.clusterName : 'default';
  if (!NAME.test(name)) throw invalidParameter('Cluster name is invalid.');
  const existing = state.clusters.get(name);
  if (existing) return { cluster: clusterView(state, existing) }; // Idempotent for an existing cluster name.
  const cluster: Cluster = { arn: state.arn(`cluster/${name}`), name, tags: readTags(input.tags), settings: [] };
  state.clusters.set(name, cluster);
  state.inactiveClusters.delete(name);
  if (ctx.containerInstancesPerCluster > 0) addContainerInstances(ctx, name, ctx.containerInstancesPerCluster);
  return { cluster: clusterView(state, cluster) };
}

/**
 * DeleteCluster (ECS API Reference): refused while the cluster has registered container instances,
 * services (ACTIVE or DRAINING) or tasks that have not stopped; otherwise the cluster turns INACTIVE,
 * stays visible to DescribeClusters, and every other call naming it answers ClusterNotFoundException.
 */
export function deleteCluster(ctx: EcsContext, input: Input): unknown {
  const { state } = ctx;
  const cluster = state.cluster(input.cluster);
  if (state.instancesOf(cluster).length > 0) {
    throw new AwsError(
      'ClusterContainsContainerInstancesException',
      'The Cluster cannot be deleted while Container Instances are active or draining.',
    );
  }
  if ([...state.services.values()].some((service) => service.cluster === cluster && service.status !== 'INACTIVE')) {
    throw new AwsError('ClusterContainsServicesException', 'The Cluster cannot be deleted while Services are active.');
  }
  if ([...state.tasks.values()].some((task) => task.cluster === cluster && task.lastStatus !== 'STOPPED')) {
    throw new AwsError('ClusterContainsTasksException', 'The Cluster cannot be deleted while Tasks are active.');
  }
  state.clusters.delete(cluster.name);
  state.inactiveClusters.set(cluster.name, cluster);
  return { cluster: clusterView(state, cluster) };
}

/** DescribeClusters' element (Amazon ECS API Reference, Cluster); counts come from the cluster's tasks. */
function clusterView(state: EcsState, cluster: Cluster): Record<string, unknown> {
  const tasks = [...state.tasks.values()].filter((task) => task.cluster === cluster);
  return {
    clusterArn: cluster.arn,
    clusterName: cluster.name,
    status: state.clusters.get(cluster.name) === cluster ? 'ACTIVE' : 'INACTIVE',
    registeredContainerInstancesCount: state.instancesOf(cluster).length,
    runningTasksCount: tasks.filter((task) => task.lastStatus === 'RUNNING').length,
    pendingTasksCount: tasks.filter((task) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(task.lastStatus))
      .length,
    activeServicesCount: [...state.services.values()].filter((s) => s.cluster === cluster && s.status === 'ACTIVE')
      .length,
    statistics: [],
    tags: cluster.tags,
    settings: [{ name: 'containerInsights', value: 'disabled' }],
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    defaultCapacityProviderStrategy: [],
  };
}

export function describeClusters(ctx: EcsContext, input: Input): unknown {
  const { state } = ctx;
  const refs = Array.isArray(input.clusters) ? input.clusters.map(String) : ['default'];
  const clusters: unknown[] = [];
  const failures: unknown[] = [];
  for (const ref of refs) {
    const name = ref.split('/').pop() ?? '';
    const cluster = state.clusters.get(name) ?? state.inactiveClusters.get(name);
    if (cluster) clusters.push(clusterView(state, cluster));
    else failures.push({ arn: ref.startsWith('arn:') ? ref : state.arn(`cluster/${ref}`), reason: 'MISSING' });
  }
  return { clusters, failures };
}

export function listClusters(ctx: EcsContext, input: Input): unknown {
  const { state } = ctx;
  const arns = [...state.clusters.values()].map((cluster) => cluster.arn);
  const { page, nextToken } = paginate(arns, input.nextToken, input.maxResults, LIST_LIMITS);
  return { clusterArns: page, nextToken };
}
