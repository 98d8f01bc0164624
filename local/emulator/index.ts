import type { AddressInfo } from 'node:net';
import type { LiveEndpoint } from './apps/live-tasks';
import { Clock } from './clock';
import { CloudMap, type SharedNamespaceRequest } from './cloud-map/cloud-map';
import { dnsNamespaces, startDnsServer } from './dns/server';
import { EC2_VERSION, EC2_XMLNS, Ec2 } from './ec2/ec2';
import { SubnetPool } from './ec2/network';
import { DEFAULT_INSTANCE_SUBNETS, Ecs } from './ecs/ecs';
import type { ContainerInstance } from './ecs/model';
import { type BusEvent, type DeadLetter, EventBus, type EventRule } from './events/event-bus';
import { putEvents } from './events/put-events';
import { type FaultSettings, Faults } from './faults';
import { LambdaModel } from './lambda/model';
import type { EventSourceMappingSpec, FunctionSpec, LambdaStats, QueueInfo, QueueOptions } from './lambda/types';
import { createEndpoint, type KnobHandler } from './server';

export type { LiveEndpoint } from './apps/live-tasks';
export type { SubnetKind } from './ec2/network';
export { subnetKind } from './ec2/network';
export { DEFAULT_INSTANCE_SUBNETS } from './ecs/ecs';
export type { BusEvent, DeadLetter, EventRule, EventTarget } from './events/event-bus';
export type { EventPattern } from './events/event-pattern';
export { InvalidEventPatternError, matchesEventPattern, validateEventPattern } from './events/event-pattern';
export type { FaultSettings } from './faults';
export type { InvocationRecord } from './lambda/async-invoker';
export {
  nextAsyncStep,
  RETRY_DELAYS_MS,
  THROTTLE_MAX_RETRY_MS,
  throttleRetryDelayMs,
} from './lambda/backoff';
export { messagesToKeep, type SqsEventRecord, sqsEvent } from './lambda/sqs-batch';
export type {
  EventSourceMappingSpec,
  FunctionCode,
  FunctionSpec,
  FunctionStats,
  InvokeResult,
  LambdaStats,
  QueueInfo,
  QueueOptions,
  QueueStats,
  ResourceTarget,
} from './lambda/types';

export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one (tests). Default 4566. */
  port?: number;
  /** Region in ARNs and events. Default us-east-1. */
  region?: string;
  /** Account id in ARNs and events. Default 000000000000. */
  accountId?: string;
  /** Rules on the default event bus; ECS task events and PutEvents entries are matched against them. */
  rules?: EventRule[];
  /** Multiplies every simulated delay (ECS transitions, Cloud Map operations, Lambda retries). Default 1. */
  timeScale?: number;
  /** Where the emulator reports retries, DLQ entries and dropped events. Default: nowhere. */
  log?: (line: string) => void;
  /**
   * Container instances (each on an emulated EC2 instance, spread over DEFAULT_INSTANCE_SUBNETS) that
   * every cluster gets when it is created, so EC2-launch-type tasks have somewhere to run. Default 0.
   */
  containerInstancesPerCluster?: number;
  /** Characters after `ns-` and `srv-` in Cloud Map ids. Default 16, as AWS; other endpoints hand out 20. */
  cloudMapIdLength?: number;
  /**
   * A DynamoDB endpoint (dynalite) to which DynamoDB calls (`X-Amz-Target: DynamoDB_20120810.*`) are
   * passed on, so one endpoint serves the task table too. Without it DynamoDB calls are unknown operations.
   */
  dynamoDbEndpoint?: string;
  /**
   * Live tasks: while a task is RUNNING, each TCP port mapping of its containers is served by a small
   * built-in HTTP app on the task's loopback address (awsvpc: the ENI's 127.x address at containerPort;
   * bridge and host: the container instance's address at the host port). The app starts draining at
   * STOPPING (SIGTERM), serves for the container's LOCAL_APP_DRAIN_SECONDS (default: until stopTimeout)
   * and exits; the task leaves STOPPING when its apps have. Default false (the local stack turns it on).
   */
  liveTasks?: boolean;
  /**
   * The second octet of task and EC2 instance addresses: 127.<addressOctet>.0.0/16 for the first 16
   * subnets. Default: LOCAL_ADDRESS_OCTET, else 10. Emulators with live tasks that run at the same time
   * (parallel test workers: test/setup-env.ts gives each its own) need different ones, or their tasks may
   * want the same address and port.
   */
  addressOctet?: number;
  /**
   * UDP and TCP port on 127.0.0.1 of a DNS server answering for every private DNS namespace, as Route 53 does
   * for the namespace's private hosted zone; 0 picks a free one (tests). Absent: no DNS server.
   */
  dnsPort?: number;
}

/** A container instance and the EC2 instance behind it, as the container-instances knob reports them. */
export interface ContainerInstanceInfo {
  cluster: string;
  containerInstanceArn: string;
  ec2InstanceId: string;
  /** Absent for an instance in an IPv6-only subnet. */
  privateIpAddress?: string;
  /** Present for an instance in a dual-stack or IPv6-only subnet. */
  ipv6Address?: string;
  availabilityZone: string;
  subnetId: string;
  status: string;
}

/** The container-instances knob's POST body: `count` new instances in `cluster`, over `subnets`. */
export interface AddContainerInstances {
  cluster?: string;
  count?: number;
  subnets?: string[];
}

/** The health knob's body: a task (ARN or id) or every live task of a service, in a cluster. */
export interface HealthTarget {
  taskArn?: string;
  service?: string;
  cluster?: string;
}

/** A running emulator. Every `/_local/*` knob has a method here doing the same thing. */
export interface Emulator {
  /** `http://127.0.0.1:<port>`, the endpoint to give the SDK clients. */
  readonly url: string;
  readonly port: number;
  /** The DNS server's port (UDP and TCP on 127.0.0.1), when `dnsPort` was given. */
  readonly dnsPort: number | undefined;
  /**
   * Adds a rule to the default bus (throws InvalidEventPatternError for a pattern EventBridge refuses). Its
   * target is an in-process handler (Lambda-like retries, no concurrency), an emulated function (`{function}`:
   * its asynchronous queue, reserved concurrency and throttling) or an emulated queue (`{queue}`: the event
   * JSON as the message body).
   */
  addRule(rule: EventRule): void;
  /** Creates an SQS queue (as CreateQueue: the same name and settings answer the same queue). */
  addQueue(name: string, options?: QueueOptions): QueueInfo;
  /** Adds a Lambda function: rules, event source mappings and invokeAsync run it by name. */
  addFunction(spec: FunctionSpec): void;
  /** Adds an SQS event source mapping (the queue and the function must exist); returns its UUID. */
  addEventSourceMapping(spec: EventSourceMappingSpec): string;
  /** Invokes a function asynchronously (InvocationType Event): through its async queue, with Lambda's retries. */
  invokeAsync(functionName: string, payload: unknown): void;
  /** `/_local/lambda` GET: accounting per function, queue and event source mapping. */
  lambdaStats(): LambdaStats;
  /** `/_local/lambda` POST {"reset": true}: zeroes the counters (messages and running executions stay). */
  resetLambdaStats(): void;
  /** Puts a complete event on the default bus, as an AWS service would; returns the matched rule names. */
  publish(event: BusEvent): string[];
  /** `/_local/events`: whether ECS task events are delivered; while false they are dropped (lost). */
  setEventDelivery(deliver: boolean): void;
  /** `/_local/faults`: replaces the fault settings; `{}` clears them. */
  setFaults(settings: FaultSettings): FaultSettings;
  /** `/_local/dlq` GET: events whose deliveries all failed. */
  deadLetters(): DeadLetter[];
  /** `/_local/dlq` POST {"replay": true}: delivers the DLQ's events again; returns how many. */
  replayDeadLetters(): number;
  /** `/_local/time`: the time scale of simulated delays. */
  setTimeScale(scale: number): void;
  /** `/_local/health`: health-checked containers of the target report `status` from now on. */
  setTaskHealth(target: HealthTarget, status: 'HEALTHY' | 'UNHEALTHY'): string[];
  /**
   * `/_local/container-instances` POST: launches EC2 instances and registers them in the cluster as
   * container instances (default: 1, in the `default` cluster, over DEFAULT_INSTANCE_SUBNETS).
   */
  addContainerInstances(request: AddContainerInstances): ContainerInstanceInfo[];
  /** `/_local/container-instances` GET: every container instance, with its EC2 instance's addresses. */
  containerInstances(): ContainerInstanceInfo[];
  /** The live tasks' apps that accept connections now (empty without `liveTasks`). */
  liveEndpoints(): LiveEndpoint[];
  /**
   * `/_local/shared-namespaces` POST: a Cloud Map namespace of another account shared with this one (AWS RAM
   * accepted); GET lists them. Returns its id and ARN (the ARN carries the owner's account).
   */
  shareNamespace(request: SharedNamespaceRequest): { Id: string; Arn: string; Name: string; ResourceOwner: string };
  /** The same knobs by name, with the HTTP semantics: no body reads, a body replaces. */
  knob(name: string, body?: Record<string, unknown>): unknown;
  /** Resolves when no transition, operation, delivery or retry is pending. */
  idle(): Promise<void>;
  /** Stops the server and every pending timer. */
  close(): Promise<void>;
}

/**
 * Starts an in-memory AWS endpoint (Cloud Map, ECS, EventBridge PutEvents, EC2 DescribeInstances, SQS, and
 * DynamoDB when `dynamoDbEndpoint` is given) on 127.0.0.1. ECS task events go through the rules to their
 * targets: in-process handlers with Lambda's asynchronous retry semantics, or emulated functions (reserved
 * concurrency, the async queue, throttling) and queues, which event source mappings drain into functions.
 */
export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const log = options.log ?? (() => undefined);
  const clock = new Clock(options.timeScale ?? 1);
  const faults = new Faults({ realNow: () => performance.now(), scale: () => clock.scale });
  let endpointUrl = '';
  const lambda = new LambdaModel({
    clock,
    region,
    accountId,
    log,
    endpoint: () => endpointUrl,
    keepDeadLetter: (letter) => bus.addDeadLetter(letter),
  });
  const bus = new EventBus(clock, log, lambda);
  for (const rule of options.rules ?? []) bus.addRule(rule);
  let deliver = true;
  let dropped = 0;
  const pool = new SubnetPool(region, options.addressOctet ?? addressOctetFromEnvironment());
  const ec2 = new Ec2({ clock, pool, region, accountId });
  const ecs = new Ecs({
    clock,
    region,
    accountId,
    pool,
    ec2,
    containerInstancesPerCluster: options.containerInstancesPerCluster,
    liveTasks: options.liveTasks ?? false,
    log,
    fargateLaunchWaitMs: () => faults.fargateLaunchWaitMs(),
    emit: (event) => {
      if (deliver) bus.publish(event as unknown as BusEvent);
      else dropped += 1;
    },
  });
  const info = (instance: ContainerInstance): ContainerInstanceInfo => {
    const host = ec2.get(instance.ec2InstanceId);
    return {
      cluster: instance.cluster.name,
      containerInstanceArn: instance.arn,
      ec2InstanceId: instance.ec2InstanceId,
      privateIpAddress: host?.eni.privateIPv4Address,
      ipv6Address: host?.eni.ipv6Address,
      availabilityZone: instance.availabilityZone,
      subnetId: host?.subnetId ?? '',
      status: instance.status,
    };
  };
  const addContainerInstances = (request: AddContainerInstances): ContainerInstanceInfo[] => {
    const subnets = request.subnets ?? DEFAULT_INSTANCE_SUBNETS;
    if (!Array.isArray(subnets) || !subnets.every((subnet) => typeof subnet === 'string' && subnet !== '')) {
      throw new RangeError('subnets is a list of subnet ids');
    }
    return ecs.addContainerInstances(request.cluster, request.count ?? 1, subnets).map(info);
  };
  const cloudMap = new CloudMap({
    clock,
    region,
    accountId,
    failOperation: () => faults.failOperation(),
    idLength: options.cloudMapIdLength,
  });

  const knobs: Record<string, KnobHandler> = {
    events: (body) => {
      if (body) deliver = readBoolean(body, 'deliver');
      return { deliver, dropped };
    },
    faults: (body) => (body ? faults.replace(body as FaultSettings) : faults.settings),
    // Calls by `service.Action` since the last reset (POST resets), throttled ones included.
    calls: (body) => {
      if (body) faults.resetCalls();
      return { calls: faults.calls() };
    },
    dlq: (body) => {
      let replayed = 0;
      if (body?.replay === true) replayed = bus.replayDeadLetters();
      if (body?.clear === true) bus.clearDeadLetters();
      return { replayed, entries: bus.listDeadLetters() };
    },
    time: (body) => {
      if (body) clock.scale = Number(body.scale);
      return { scale: clock.scale };
    },
    health: (body) => {
      if (!body) return { statuses: ['HEALTHY', 'UNHEALTHY'] };
      const status = body.status;
      if (status !== 'HEALTHY' && status !== 'UNHEALTHY') throw new RangeError('status is HEALTHY or UNHEALTHY');
      return { status, tasks: ecs.setHealth(body as HealthTarget, status) };
    },
    'shared-namespaces': (body) => {
      if (body) return { shared: cloudMap.shareNamespace(body as unknown as SharedNamespaceRequest) };
      return { namespaces: cloudMap.sharedNamespaces() };
    },
    'container-instances': (body) => {
      if (body) return { added: addContainerInstances(body as AddContainerInstances) };
      return { containerInstances: ecs.allContainerInstances().map(info) };
    },
    // Functions (invocations, throttles, concurrency, billed ms), queues and mappings; POST {"reset": true} zeroes.
    lambda: (body) => {
      if (body?.reset === true) lambda.resetStats();
      return lambda.stats();
    },
  };

  const server = createEndpoint(
    [
      {
        prefix: 'Route53AutoNaming_v20170314',
        handlers: faults.guardInstanceWrites(cloudMap.handlers),
        before: (operation) => {
          faults.admit('cloudMap', operation);
          return faults.apply();
        },
      },
      {
        prefix: 'AmazonEC2ContainerServiceV20141113',
        handlers: ecs.handlers,
        before: (operation) => faults.admit('ecs', operation),
      },
      { prefix: 'AWSEvents', handlers: { PutEvents: (input) => putEvents(input, { bus, region, accountId }) } },
      { prefix: 'AmazonSQS', handlers: lambda.sqs.handlers, contentType: 'application/x-amz-json-1.0' },
    ],
    knobs,
    log,
    [{ name: 'ec2', version: EC2_VERSION, xmlns: EC2_XMLNS, handlers: ec2.handlers }],
    options.dynamoDbEndpoint ? [{ prefix: 'DynamoDB_20120810', url: options.dynamoDbEndpoint }] : [],
  );
  await listen(server, options.port ?? 4566);
  const port = (server.address() as AddressInfo).port;
  endpointUrl = `http://127.0.0.1:${port}`;
  let dns: Awaited<ReturnType<typeof startDnsServer>> | undefined;
  if (options.dnsPort !== undefined) {
    try {
      dns = await startDnsServer({ port: options.dnsPort, namespaces: () => dnsNamespaces(cloudMap), log });
    } catch (error) {
      clock.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const busy = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw busy ? new PortInUseError(options.dnsPort, 'DNS, UDP and TCP') : error;
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dnsPort: dns?.port,
    addRule: (rule) => bus.addRule(rule),
    addQueue: (name, queueOptions) => lambda.addQueue(name, queueOptions),
    addFunction: (spec) => lambda.addFunction(spec),
    addEventSourceMapping: (spec) => lambda.addEventSourceMapping(spec),
    invokeAsync: (functionName, payload) => lambda.invokeAsync(functionName, payload),
    lambdaStats: () => lambda.stats(),
    resetLambdaStats: () => lambda.resetStats(),
    publish: (event) => bus.publish(event),
    setEventDelivery: (on) => {
      knobs.events?.({ deliver: on });
    },
    setFaults: (settings) => faults.replace(settings),
    deadLetters: () => bus.listDeadLetters(),
    replayDeadLetters: () => bus.replayDeadLetters(),
    setTimeScale: (scale) => {
      clock.scale = scale;
    },
    setTaskHealth: (target, status) => ecs.setHealth(target, status),
    addContainerInstances,
    containerInstances: () => ecs.allContainerInstances().map(info),
    liveEndpoints: () => ecs.liveEndpoints(),
    shareNamespace: (request) => cloudMap.shareNamespace(request),
    knob: (name, body) => {
      const handler = knobs[name];
      if (!handler) throw new RangeError(`no such knob: ${name}`);
      return handler(body);
    },
    idle: () => clock.idle(),
    close: async () => {
      lambda.dispose();
      clock.dispose();
      await ecs.closeLiveTasks();
      await dns?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** LOCAL_ADDRESS_OCTET, when set: a whole number the pool accepts (it checks the range); else the default. */
function addressOctetFromEnvironment(): number | undefined {
  const given = process.env.LOCAL_ADDRESS_OCTET;
  return given ? Number(given) : undefined;
}

function readBoolean(body: Record<string, unknown>, key: string): boolean {
  const value = body[key];
  if (typeof value !== 'boolean') throw new RangeError(`${key} is true or false`);
  return value;
}

/** Listens on loopback only; a busy port rejects with a one-line message naming it. */
function listen(server: ReturnType<typeof createEndpoint>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error);
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/** The port the emulator should listen on is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';

  constructor(
    readonly port: number,
    what?: string,
  ) {
    super(`port ${port}${what ? ` (${what})` : ''} on 127.0.0.1 is already in use (another local stack running?)`);
  }
}
