import type { Clock } from '../clock';
import type { Ec2 } from '../ec2/ec2';
import type { ContainerDefinition, Task } from '../ecs/model';
import { TaskApp } from './task-app';

/** The container environment variable that sets how long the built-in app serves after SIGTERM, in seconds. */
export const DRAIN_VARIABLE = 'LOCAL_APP_DRAIN_SECONDS';

/**
 * The stop timeout when the container definition sets none: 30 s on Fargate, and on EC2 too unless the
 * agent's ECS_CONTAINER_STOP_TIMEOUT says otherwise (Amazon ECS API Reference, ContainerDefinition
 * stopTimeout: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
 */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;

/** A live app as tests and `local:call` see it. */
export interface LiveEndpoint {
  taskArn: string;
  container: string;
  address: string;
  port: number;
  draining: boolean;
}

/** A container whose app could not listen: the container exits (code 1) with this reason. */
export interface StartFailure {
  container: string;
  reason: string;
}

export interface LiveTasksOptions {
  clock: Clock;
  ec2: Ec2;
  log: (line: string) => void;
  /** The name of the ECS service that owns the task, or null. */
  serviceName: (task: Task) => string | null;
}

/** Where one port mapping of a container is served. */
interface Endpoint {
  container: string;
  address: string;
  port: number;
}

/**
 * The running apps of live tasks, by task: started when a task is about to be RUNNING, sent SIGTERM at
 * STOPPING, closed when they have drained (or were killed at stopTimeout), and all closed with the emulator.
 */
export class LiveTasks {
  private readonly apps = new Map<string, TaskApp[]>();
  private closedValue = false;

  constructor(private readonly options: LiveTasksOptions) {}

  /** True once the emulator closed: nothing may start, and pending stops are abandoned. */
  get closed(): boolean {
    return this.closedValue;
  }

  /**
   * Starts one app per TCP port mapping of each container and resolves once all of them accept
   * connections (or failed to listen: those are returned, and logged).
   */
  async start(task: Task): Promise<StartFailure[]> {
    if (this.closedValue) return [];
    const endpoints = this.endpointsOf(task);
    if (endpoints.length === 0) return [];
    const identity = {
      taskArn: task.arn,
      taskId: task.id,
      cluster: task.cluster.name,
      service: this.options.serviceName(task),
      taskDefinition: `${task.taskDefinition.family}:${task.taskDefinition.revision}`,
    };
    const apps = endpoints.map(
      (endpoint) => new TaskApp({ ...identity, container: endpoint.container }, endpoint.address, endpoint.port),
    );
    this.apps.set(task.arn, apps);
    const results = await Promise.allSettled(apps.map((app) => app.listen()));
    const failures: StartFailure[] = [];
    results.forEach((result, index) => {
      const app = apps[index];
      if (result.status === 'fulfilled' || !app) return;
      const message = result.reason instanceof Error ? result.reason.message : String(result.reason);
      const reason = `cannot listen on ${app.address}:${app.port}: ${message}`;
      this.options.log(`live task ${task.id}: container ${app.identity.container} ${reason}`);
      failures.push({ container: app.identity.container, reason });
    });
    if (this.closedValue) await this.discard(task);
    return failures;
  }

  /**
   * "SIGTERM" to every app of the task; resolves with each container's exit code once all have closed.
   * Undefined when the task has no app (nothing listens: the lifecycle keeps its fixed timing).
   */
  sigterm(task: Task): Promise<Map<string, number>> | undefined {
    const apps = (this.apps.get(task.arn) ?? []).filter((app) => app.listening);
    if (apps.length === 0) return undefined;
    const byContainer = new Map<string, number>();
    return Promise.all(
      apps.map(async (app) => {
        const definition = task.taskDefinition.containerDefinitions.find((c) => c.name === app.identity.container);
        const code = await app.sigterm(this.drainOf(task, definition));
        byContainer.set(app.identity.container, Math.max(byContainer.get(app.identity.container) ?? 0, code));
      }),
    ).then(() => {
      this.apps.delete(task.arn);
      return byContainer;
    });
  }

  /** Closes the task's apps at once (a task stopped before it ran, or one that failed to start). */
  async discard(task: Task): Promise<void> {
    const apps = this.apps.get(task.arn) ?? [];
    this.apps.delete(task.arn);
    await Promise.all(apps.map((app) => app.close()));
  }

  /** Every app that accepts connections. */
  endpoints(): LiveEndpoint[] {
    return [...this.apps.values()].flat().flatMap((app) =>
      app.listening
        ? [
            {
              taskArn: app.identity.taskArn,
              container: app.identity.container,
              address: app.address,
              port: app.port,
              draining: app.draining,
            },
          ]
        : [],
    );
  }

  /** Closes every app (the emulator is closing). */
  async close(): Promise<void> {
    this.closedValue = true;
    const apps = [...this.apps.values()].flat();
    this.apps.clear();
    await Promise.all(apps.map((app) => app.close()));
  }

  /**
   * awsvpc: the task's own IPv4 at each containerPort; bridge and host: the container instance's IPv4 at
   * the host port ECS bound. UDP mappings have no HTTP app; IPv6-only tasks have none at all.
   */
  private endpointsOf(task: Task): Endpoint[] {
    const mode = task.taskDefinition.networkMode;
    if (mode === 'none') return [];
    const instance = task.containerInstance && this.options.ec2.get(task.containerInstance.ec2InstanceId);
    const address = mode === 'awsvpc' ? task.eni?.privateIPv4Address : instance?.eni.privateIPv4Address;
    const endpoints = task.containers.flatMap((container) => {
      if (mode === 'awsvpc') {
        const definition = task.taskDefinition.containerDefinitions.find((c) => c.name === container.name);
        return (definition?.portMappings ?? [])
          .filter((mapping) => mapping.protocol !== 'udp' && (mapping.containerPort ?? 0) > 0)
          .map((mapping) => ({ container: container.name, port: mapping.containerPort ?? 0 }));
      }
      return (container.networkBindings ?? [])
        .filter((binding) => binding.protocol !== 'udp')
        .map((binding) => ({ container: container.name, port: binding.hostPort }));
    });
    if (endpoints.length === 0) return [];
    if (address === undefined) {
      this.options.log(`live task ${task.id}: IPv6-only, so no app listens (IPv6 addresses are not live)`);
      return [];
    }
    return endpoints.map((endpoint) => ({ ...endpoint, address }));
  }

  /** The container's drain and stop timeout, scaled: serve until stopTimeout unless the drain variable says less. */
  private drainOf(
    task: Task,
    definition: ContainerDefinition | undefined,
  ): { drainMs?: number; stopTimeoutMs: number } {
    const stopTimeout =
      typeof definition?.stopTimeout === 'number' && definition.stopTimeout >= 0
        ? definition.stopTimeout
        : DEFAULT_STOP_TIMEOUT_SECONDS;
    const raw = environmentOf(definition)[DRAIN_VARIABLE];
    const drain = raw === undefined || raw.trim() === '' ? undefined : Number(raw);
    if (drain !== undefined && !(Number.isFinite(drain) && drain >= 0)) {
      this.options.log(
        `live task ${task.id}: ${DRAIN_VARIABLE}=${raw} is not a number >= 0; serving until stopTimeout`,
      );
    }
    const valid = drain !== undefined && Number.isFinite(drain) && drain >= 0 && drain < stopTimeout;
    return {
      drainMs: valid ? this.options.clock.scaled(drain * 1000) : undefined,
      stopTimeoutMs: this.options.clock.scaled(stopTimeout * 1000),
    };
  }
}

function environmentOf(definition: ContainerDefinition | undefined): Record<string, string> {
  const environment = Array.isArray(definition?.environment) ? (definition.environment as unknown[]) : [];
  const result: Record<string, string> = {};
  for (const entry of environment) {
    const { name, value } = (entry ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name === 'string' && typeof value === 'string') result[name] = value;
  }
  return result;
}
