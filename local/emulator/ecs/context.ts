import type { Clock } from '../clock';
import type { Ec2 } from '../ec2/ec2';
import type { TaskPlacement } from './placement';
import type { ServiceScheduler } from './scheduler';
import type { EcsState } from './state';
import type { TaskLifecycle } from './task-lifecycle';

/** What every ECS operation works with: the state, and the parts that act on it. */
export interface EcsContext {
  state: EcsState;
  clock: Clock;
  lifecycle: TaskLifecycle;
  placement: TaskPlacement;
  scheduler: ServiceScheduler;
  /** Launches the EC2 instances behind container instances. */
  ec2: Ec2;
  /** Container instances every new cluster starts with. */
  containerInstancesPerCluster: number;
}
