import { arnPrefix, sub } from '../cfn';
import type { DeploySettings } from '../params';
import type { Statement } from './role';

/** The watched clusters' condition on ECS reads (none when every cluster is watched). */
function clusterCondition(s: DeploySettings): Pick<Statement, 'Condition'> {
  return s.clusters.length ? { Condition: { ArnEquals: { 'ecs:cluster': s.clusters.map((c) => c.arn) } } } : {};
}

/**
 * What the registrar reads of a task: the task, its service's tags, its task definition, and for bridge and host
 * tasks the address of its container instance (ECS, then EC2).
 */
export function ecsReadStatements(s: DeploySettings): Statement[] {
  const ecsResources = (kind: string) =>
    s.clusters.length
      ? s.clusters.map((c) => sub(`${arnPrefix('ecs')}:${kind}/${c.name}/*`))
      : [sub(`${arnPrefix('ecs')}:${kind}/*`)];
  return [
    {
      Sid: 'DescribeTasksOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeTasks'],
      Resource: ecsResources('task'),
      ...clusterCondition(s),
    },
    {
      Sid: 'ReadServiceTagsOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices'],
      Resource: ecsResources('service'),
      ...clusterCondition(s),
    },
    {
      // DescribeTaskDefinition has no resource type and no condition key.
      Sid: 'ReadTaskDefinitions',
      Effect: 'Allow',
      Action: ['ecs:DescribeTaskDefinition'],
      Resource: '*',
    },
    {
      // Bridge and host tasks are registered at their container instance's address (lib/ecs/ecs-task-source.ts).
      Sid: 'DescribeContainerInstancesOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeContainerInstances'],
      Resource: ecsResources('container-instance'),
      ...clusterCondition(s),
    },
    {
      // DescribeInstances has no resource type and no condition key of its own: limited to the stack's region.
      Sid: 'ReadContainerInstanceAddresses',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } },
    },
  ];
}

/** What the scheduled functions add to list running tasks (lib/running-tasks.ts, EcsTaskSource). */
export function ecsListStatements(s: DeploySettings): Statement[] {
  return [
    // With watched clusters the functions list only those; ListClusters is needed only to find them all.
    ...(s.clusters.length
      ? []
      : [
          {
            // ListClusters has no resource type and no condition key.
            Sid: 'ListClusters',
            Effect: 'Allow' as const,
            Action: ['ecs:ListClusters'],
            Resource: '*' as const,
          },
        ]),
    {
      // ListTasks is authorized on container instances (Fargate tasks have none): "*" and the ecs:cluster key.
      Sid: 'ListTasksOfWatchedClusters',
      Effect: 'Allow',
      Action: ['ecs:ListTasks'],
      Resource: '*',
      ...clusterCondition(s),
    },
  ];
}
