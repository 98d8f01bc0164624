/** ECS state, shaped close to the API so DescribeTasks answers and task events are projections. */

import type { NetworkInterface } from '../ec2/network';

export interface EcsTag {
  key: string;
  value: string;
}

export type TaskStatus =
  | 'PROVISIONING'
  | 'PENDING'
  | 'ACTIVATING'
  | 'RUNNING'
  | 'DEACTIVATING'
  | 'STOPPING'
  | 'DEPROVISIONING'
  | 'STOPPED';

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

export interface Cluster {
  arn: string;
  name: string;
  tags: EcsTag[];
  settings: unknown[];
}

export interface ContainerDefinition {
  name: string;
  image: string;
  essential?: boolean;
  cpu?: number;
  memory?: number;
  portMappings?: {
    containerPort?: number;
    hostPort?: number;
    protocol?: string;
    name?: string;
    appProtocol?: string;
  }[];
  healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; startPeriod?: number };
  [key: string]: unknown;
}

export interface TaskDefinition {
  arn: string;
  family: string;
  revision: number;
  networkMode: 'awsvpc' | 'bridge' | 'host' | 'none';
  containerDefinitions: ContainerDefinition[];
  compatibilities: string[];
  requiresCompatibilities?: string[];
  cpu?: string;
  memory?: string;
  status: 'ACTIVE' | 'INACTIVE';
  registeredAt: Date;
  extra: Record<string, unknown>;
  tags: EcsTag[];
}

/** A host port binding as DescribeTasks reports it (Amazon ECS API Reference, NetworkBinding). */
export interface NetworkBinding {
  bindIP: string;
  containerPort: number;
  hostPort: number;
  protocol: string;
}

/** An ECS container instance: an emulated EC2 instance whose agent registered it into a cluster. */
export interface ContainerInstance {
  arn: string;
  id: string;
  cluster: Cluster;
  ec2InstanceId: string;
  availabilityZone: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  agentConnected: boolean;
  registeredAt: Date;
  /** ECS's per-instance counter, +1 on every change of the instance's state or resources. */
  version: number;
  attributes: { name: string; value?: string }[];
  tags: EcsTag[];
  /** CPU units and MiB the agent registered. */
  cpu: number;
  memory: number;
  /** Host ports in use, by protocol: static ones the scheduler reserved and dynamic ones the agent picked. */
  usedPorts: { tcp: Set<number>; udp: Set<number> };
  /** The agent hands dynamic ports out in order, wrapping at the top of the range. */
  lastDynamicPort: number;
}

export interface ContainerState {
  arn: string;
  name: string;
  image: string;
  essential: boolean;
  hasHealthCheck: boolean;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  healthStatus: HealthStatus;
  exitCode?: number;
  /** Why the container stopped, when it did on its own (Amazon ECS API Reference, Container reason). */
  reason?: string;
  runtimeId?: string;
  imageDigest?: string;
  cpu: string;
  memory?: string;
  /** The host ports this container holds on its container instance (bridge and host network modes). */
  networkBindings?: NetworkBinding[];
}

export interface Task {
  arn: string;
  id: string;
  cluster: Cluster;
  taskDefinition: TaskDefinition;
  group: string;
  startedBy?: string;
  /** The ECS service that owns the task, if any. */
  serviceArn?: string;
  launchType: 'FARGATE' | 'EC2' | 'EXTERNAL';
  /** The container instance an EC2 task was placed on. */
  containerInstance?: ContainerInstance;
  availabilityZone: string;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  /** ECS's per-task counter: +1 on every state change, delivered or not. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  connectivityAt?: Date;
  pullStartedAt?: Date;
  pullStoppedAt?: Date;
  startedAt?: Date;
  stoppingAt?: Date;
  executionStoppedAt?: Date;
  stoppedAt?: Date;
  stopCode?: string;
  stoppedReason?: string;
  eni?: NetworkInterface;
  containers: ContainerState[];
  tags: EcsTag[];
  /** Health the containers with a health check will report (the health knob); HEALTHY by default. */
  healthVerdict: 'HEALTHY' | 'UNHEALTHY';
}

export interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: TaskDefinition;
  createdAt: Date;
  updatedAt: Date;
}

export interface EcsService {
  arn: string;
  name: string;
  cluster: Cluster;
  desiredCount: number;
  launchType: 'FARGATE' | 'EC2' | 'EXTERNAL';
  networkConfiguration?: AwsVpcNetwork;
  propagateTags: 'SERVICE' | 'TASK_DEFINITION' | 'NONE';
  enableECSManagedTags: boolean;
  tags: EcsTag[];
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  createdAt: Date;
  deployments: Deployment[];
  clientToken?: string;
  /** The service's event log, newest first (DescribeServices `events`). */
  events: { id: string; createdAt: Date; message: string }[];
  extra: Record<string, unknown>;
}

export interface AwsVpcNetwork {
  awsvpcConfiguration: { subnets: string[]; securityGroups?: string[]; assignPublicIp?: string };
}
