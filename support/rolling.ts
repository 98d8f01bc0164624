import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateServiceCommand as CreateCloudMapServiceCommand,
  CreatePrivateDnsNamespaceCommand,
  ListNamespacesCommand,
} from '@aws-sdk/client-servicediscovery';
import type { Context } from 'aws-lambda';
import { createHandler } from '../functions/lookup';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import { MANAGED_TAG_KEY } from '../lib/cloud-map/service-creator';
import type { LookupConfig } from '../lib/config';
import { createCloudMapLookupApp } from '../lib/lookup/lookup-app';
import type { Outcome } from '../lib/registrar';
import { SETTINGS } from '../lib/settings';
import { callTask } from '../local/call';
import { type BusEvent, createEmulator, type Emulator, type EventPattern } from '../local/emulator';
import { fargateTaskDefinition } from '../local/task-definitions';
import { startDynalite } from './dynalite';
import { startLocalHttpServer } from './http-api-server';
import { pointFunctionsAt } from './pipeline';
import {
  absoluteNow,
  type CallerPath,
  type CallerPlan,
  type CallerReport,
  type FailureKind,
  type PathKind,
} from './rolling-callers';

export type { FailureKind, PathKind } from './rolling-callers';

/**
 * A rolling deployment measured from the callers' side (issue 12), shared by bench/rolling.ts and
 * test/integration/rolling-deployment.test.ts. One process holds the whole pipeline: the emulator with live
 * tasks and its DNS server, dynalite, the real register function as the rule's target, and the lookup
 * function behind a local HTTP server; the callers run in a child process (support/rolling-callers.ts). Each
 * variant is an ECS service of `tasks` Fargate tasks, moved to revision 2 by UpdateService
 * (minimumHealthyPercent 100, maximumPercent 200), all at once or one after the other (`sequential`), while
 * callers call it at a steady rate through the lookup API and through DNS.
 *
 * Time. The emulator runs `timeScale` times faster than AWS, so everything a caller waits on is scaled by
 * the same factor: the DNS TTL a caller honours, the lookup's Cache-Control max-age as the caller honours
 * it, the lookup's own cache (CACHE_INTERVAL_MS, HEALTH_MAX_AGE_MS, STALE_IF_ERROR_MS), and (in the
 * emulator) the drain time and stopTimeout of the apps. The answers keep their AWS values (TTL 10, max-age
 * 1): the callers scale what they read. Durations are reported back in AWS time (real / timeScale). Only
 * the callers' request timeout stays in real time: the apps answer in real time, so a scaled timeout
 * would only measure the event loop's lag.
 */

/**
 * How long after RUNNING ECS counts a task without a container health check as healthy in a deployment
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html); the emulator's
 * scheduler waits the same (scaled) before it stops an old task.
 */
const COUNTED_HEALTHY_AFTER_RUNNING_MS = 40_000;

/** One ECS service of the run, with the app and DNS settings of what it demonstrates. */
export interface RollingVariant {
  /** The figure's name: `recommended`, `exitAtSigterm`, `ttl60`. */
  name: string;
  /** ECS service, task definition family and Cloud Map service name. */
  service: string;
  /** The app's LOCAL_APP_DRAIN_SECONDS: how long it serves after SIGTERM. */
  drainSeconds: number;
  /** The Cloud Map service's DNS TTL; absent: the registrar creates it with DNS_TTL's default (10 s). */
  dnsTtlSeconds?: number;
  /** Through which paths it is called. */
  paths: PathKind[];
}

/**
 * The README's draining advice (README "Draining: leave discovery before the task dies"): DNS_TTL 10 s,
 * the app serving DNS_TTL + 10 s after SIGTERM, stopTimeout (30 s by default) at least DNS_TTL + 15 s.
 */
export const RECOMMENDED: RollingVariant = {
  name: 'recommended',
  service: 'api',
  drainSeconds: 20,
  paths: ['lookup', 'dns'],
};

/** An app that exits at SIGTERM (drain 0), otherwise as recommended. */
export const EXIT_AT_SIGTERM: RollingVariant = {
  name: 'exitAtSigterm',
  service: 'quick',
  drainSeconds: 0,
  paths: ['lookup', 'dns'],
};

/** Records with a 60 s TTL (the old Copilot default), the app draining as recommended. Only DNS sees the TTL. */
export const TTL_60: RollingVariant = {
  name: 'ttl60',
  service: 'legacy',
  drainSeconds: 20,
  dnsTtlSeconds: 60,
  paths: ['dns'],
};

export interface RollingOptions {
  /** Tasks per service (the desired count). */
  tasks: number;
  /** The emulator's time scale; every wait of the callers is scaled alike. */
  timeScale: number;
  variants: RollingVariant[];
  /** Requests per real second on each path (variant x lookup/dns), spread over `callers`. */
  ratePerPath: number;
  /** Independent callers per path, each with its own cache (a fleet of front-ends). */
  callers: number;
  /** The register function's EventBridge pattern. */
  pattern: EventPattern;
  /**
   * Each variant in a phase of its own, one after the other on the same pipeline, rather than all at once:
   * the pipeline is one process, and every service's tasks reaching RUNNING (and later stopping) at the same
   * moment is a burst of register-function work that process takes seconds to get through.
   */
  sequential?: boolean;
  /**
   * The emulator's address octet (task addresses in 127.<octet>.0.0/16). Default: the emulator's (10, or
   * LOCAL_ADDRESS_OCTET, which the test setup sets per worker); the bench takes one of its own so that a
   * local stack or tests running at the same time on this machine never hold its addresses.
   */
  addressOctet?: number;
  /** AWS seconds of calls before the deployment starts. Default 5. */
  warmupSeconds?: number;
  log?: (line: string) => void;
}

/** Percentiles of a duration in AWS milliseconds, over the new tasks that were reached. */
export interface Spread {
  p50: number;
  p99: number;
  /** New tasks this spread covers, of `of`. */
  reached: number;
  of: number;
}

/** What the callers of one path saw. */
export interface PathFigures {
  variant: string;
  path: PathKind;
  requests: number;
  failed: number;
  failedPer10000: number;
  failures: Record<FailureKind, number>;
  /** Answers whose app was already draining: it got SIGTERM, which the emulator sends at STOPPING. */
  answersFromStoppingTasks: number;
  /** Successful answers by task definition (`family:revision`). */
  answersByTaskDefinition: Record<string, number>;
  /** Distinct tasks that answered, of the old and of the new revision. */
  oldTasksAnswered: number;
  newTasksAnswered: number;
  /** From a new task's RUNNING to its first successful answer on this path (AWS ms). */
  newTaskReachableMs: Spread;
  /**
   * The longest time (AWS ms) an old task still answered this path's callers after the register function
   * had deregistered it: how stale the callers' view gets, which the app's drain time must cover.
   */
  longestAnswerAfterDeregistrationMs: number;
  /** From a new task's RUNNING to its first appearance in an answer a caller fetched (AWS ms). */
  newTaskDiscoveredMs: Spread;
  /**
   * From a new task's healthy moment to the moment it is reachable on this path (AWS ms; 0 when it was reachable
   * before). Healthy: the moment ECS counts the task healthy in a deployment and may stop an old one for it
   * (HEALTHY; without a container health check, as here, 40 s after RUNNING: API reference,
   * DeploymentConfiguration minimumHealthyPercent). Reachable, with its app listening since RUNNING: through the
   * lookup API, in an answer a caller fetched; through DNS, registered and healthy in Cloud Map, so in the record
   * set Route 53 answers from (it returns 8 of them at random per query, so no caller can be promised one record).
   */
  newTaskReachableAfterHealthyMs: Spread;
  /**
   * From the register function's `registered` (its Cloud Map operation done: the instance is there and
   * healthy) to the task's first appearance in a caller's answer (AWS ms): the discovery path alone, the
   * lookup's caches or the DNS TTL. Slightly negative when a caller saw it before the function's last poll.
   */
  newTaskDiscoveredAfterRegisteredMs: Spread;
  /**
   * The failed calls (the first 200) counted by `kind/revision/phase`: what failed, on which revision's
   * tasks, and where each task was in its stop (running, deactivating, draining, exited).
   */
  failuresByPhase: Record<string, number>;
  /** The first five of them, each placed in its task's life. */
  failureSamples: ExplainedFailure[];
  /** Discovery answers fetched (lookup GETs or DNS queries) by the callers. */
  discoveryFetches: number;
  /** Why discovery gave a caller no address (the `noAddress` failures), with how often. */
  discoveryFailures: Record<string, number>;
}

/** A failed call, placed in its task's life (AWS ms after the deployment started; phase of the task then). */
export interface ExplainedFailure {
  kind: FailureKind;
  atMs: number;
  revision: number | null;
  phase: 'running' | 'deactivating' | 'draining' | 'exited' | 'unknown';
  /** From the register function's `deregistered` to the failure, and to the last answer naming the address. */
  afterDeregisteredMs: number | null;
  lastSeenAfterDeregisteredMs: number | null;
}

/** One service's deployment, from the ECS events (AWS ms). */
export interface DeploymentFigures {
  variant: string;
  /** UpdateService to every new task RUNNING and every old one STOPPED. */
  durationMs: number;
  /** New task RUNNING to the register function's answer `registered` (the Cloud Map operation done). */
  runningToRegisteredMs: Spread;
  /**
   * Real (unscaled) ms the register function took on a RUNNING event, the wait for its Cloud Map operation
   * included: at a time scale below 1 its own work counts 1/timeScale times over in the AWS figures.
   */
  registerHandlerRealMs: Spread;
  /** New tasks whose app did not accept a connection when their RUNNING event arrived. */
  notListeningAtRunning: number;
  /** desiredStatus STOPPED (the deregistration's trigger) to SIGTERM (STOPPING). */
  stopDecisionToSigtermMs: Spread;
  /** desiredStatus STOPPED to the register function's `deregistered` (its Cloud Map operation done). */
  stopDecisionToDeregisteredMs: Spread;
  /**
   * The fewest of the service's tasks registered in Cloud Map at any moment of the deployment, and for
   * how long (AWS ms) none was, by the register function's answers (each after its operation finished).
   */
  fewestRegistered: number;
  noneRegisteredMs: number;
}

export interface RollingRun {
  tasks: number;
  timeScale: number;
  callersPerPath: number;
  ratePerPath: number;
  /** AWS seconds the callers called. */
  callingSeconds: number;
  realSeconds: number;
  /**
   * p99 of the event loop's delay while the callers ran (real ms), in the pipeline's process (apps, lookup,
   * emulator, register function) and in the callers' process: how far the timing can be trusted.
   */
  eventLoopDelayP99Ms: number;
  callersEventLoopDelayP99Ms: number;
  dnsTtlSeconds: number;
  cacheControlMaxAgeSeconds: number;
  deployments: DeploymentFigures[];
  paths: PathFigures[];
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const NAMESPACE = 'kudos.local';
const CLUSTER = 'rolling';
const CONTAINER_PORT = 8080;
/**
 * Real ms: a loopback call that takes longer than this is a hung app, whatever the time scale. Generous, as
 * the apps share their process with the emulator and the register function, whose bursts of work (every
 * new task's RUNNING event at once) delay their answers by up to a few hundred ms.
 */
const REQUEST_TIMEOUT_MS = 5000;
const lambdaContext = {
  functionName: 'register',
  awsRequestId: 'rolling',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** The AWS lookup settings (lib/settings.ts defaults), scaled for the emulator's time. */
function lookupConfig(timeScale: number): LookupConfig {
  return {
    namespace: NAMESPACE,
    cacheIntervalMs: Math.round(SETTINGS.cacheIntervalMs.default * timeScale),
    cacheMaxEntries: SETTINGS.cacheMaxEntries.default,
    healthMaxAgeMs: Math.round(SETTINGS.healthMaxAgeMs.default * timeScale),
    cacheControlMaxAgeSeconds: SETTINGS.cacheControlMaxAge.default,
    staleIfErrorMs: Math.round(SETTINGS.staleIfErrorMs.default * timeScale),
  };
}

/** What the ECS events say of one task. */
interface TaskTrack {
  variant: string;
  revision: number;
  address?: string;
  runningAt?: number;
  registeredAt?: number;
  /** Real ms the register function took on the RUNNING event (its Cloud Map operation wait included). */
  registerHandlerMs?: number;
  /** When the register function answered `deregistered` (its Cloud Map operation done). */
  deregisteredAt?: number;
  desiredStoppedAt?: number;
  stoppingAt?: number;
  /** DEPROVISIONING: with live tasks, the moment the apps had exited. */
  exitedAt?: number;
  stoppedAt?: number;
  listeningAtRunning?: boolean;
}

/** The fewest tasks registered after `from`, and how long none was, from the register function's answers. */
function registeredOverTime(tasks: TaskTrack[], from: number): { fewest: number; noneMs: number } {
  const changes = tasks.flatMap((t) => [
    ...(t.registeredAt !== undefined ? [{ at: t.registeredAt, delta: 1 }] : []),
    ...(t.deregisteredAt !== undefined ? [{ at: t.deregisteredAt, delta: -1 }] : []),
  ]);
  changes.sort((a, b) => a.at - b.at);
  let count = 0;
  let fewest = Number.POSITIVE_INFINITY;
  let noneSince: number | undefined;
  let noneMs = 0;
  for (const change of changes) {
    count += change.delta;
    if (change.at < from) continue;
    fewest = Math.min(fewest, count);
    if (count === 0) noneSince ??= change.at;
    else if (noneSince !== undefined) {
      noneMs += change.at - noneSince;
      noneSince = undefined;
    }
  }
  return { fewest: Number.isFinite(fewest) ? fewest : count, noneMs };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

function spread(values: number[], of: number): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(sorted, 50)),
    p99: Math.round(percentile(sorted, 99)),
    reached: sorted.length,
    of,
  };
}

/** The task definition's family:revision from its ARN. */
function revisionOf(taskDefinitionArn: string): number {
  return Number(taskDefinitionArn.split(':').pop());
}

function eniAddress(detail: Record<string, unknown>): string | undefined {
  const attachments = (detail.attachments ?? []) as { details?: { name?: string; value?: string }[] }[];
  for (const attachment of attachments) {
    const found = attachment.details?.find((d) => d.name === 'privateIPv4Address')?.value;
    if (found) return found;
  }
  return undefined;
}

/** Resolves when `done()` holds, checking every few ms; rejects after `timeoutMs` real ms naming `what`. */
async function until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The callers' process (support/rolling-callers.ts under tsx), started with `plan`. */
async function startCallerProcess(plan: CallerPlan): Promise<{ stop(): Promise<CallerReport>; kill(): void }> {
  const child: ChildProcess = fork(require.resolve('./rolling-callers.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(key: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message[key] as T);
      };
      const onExit = (code: number | null) => reject(new Error(`the callers' process exited (${code}) before ${key}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  await next('ready');
  child.send({ plan });
  await next('started');
  return {
    stop: async () => {
      const report = next<CallerReport>('report');
      child.send({ stop: true });
      const result = await report;
      if (child.exitCode === null) await once(child, 'exit');
      return result;
    },
    kill: () => {
      if (child.exitCode === null) child.kill();
    },
  };
}

/**
 * Runs the rolling deployment end to end and returns what the callers saw. The emulator, dynalite and the
 * servers are stopped before it returns, also when it throws.
 */
export async function runRollingDeployment(options: RollingOptions): Promise<RollingRun> {
  const log = options.log ?? (() => undefined);
  const scale = options.timeScale;
  const realStart = absoluteNow();
  const dynamo = await startDynalite('registrar-tasks');
  let emulator: Emulator | undefined;
  const closers: (() => Promise<void> | void)[] = [() => dynamo.stop()];
  try {
    emulator = await createEmulator({
      port: 0,
      timeScale: scale,
      liveTasks: true,
      dnsPort: 0,
      log,
      ...(options.addressOctet !== undefined ? { addressOctet: options.addressOctet } : {}),
    });
    const em = emulator;
    closers.unshift(() => em.close());
    const dnsPort = em.dnsPort;
    if (dnsPort === undefined) throw new Error('the emulator started no DNS server');
    pointFunctionsAt(em, dynamo, NAMESPACE, { OPERATION_TIMEOUT_MS: '30000' });
    const cloudMap = createServiceDiscoveryClient({ endpoint: em.url, region: 'us-east-1' });
    const ecs = new ECSClient({ endpoint: em.url, region: 'us-east-1', credentials });
    closers.push(
      () => cloudMap.destroy(),
      () => ecs.destroy(),
    );
    await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: NAMESPACE, Vpc: 'vpc-local' }));
    await em.idle();

    // The ECS events, as they are emitted: when each task ran, was told to stop, got SIGTERM, stopped.
    const tracks = new Map<string, TaskTrack>();
    const variantOf = new Map(options.variants.map((v) => [`service:${v.service}`, v.name]));
    const probes = new Set<Promise<void>>();
    em.addRule({
      name: 'rolling-tracker',
      pattern: { source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'] },
      target: async (event: BusEvent) => {
        const detail = event.detail as Record<string, string>;
        const variant = variantOf.get(detail.group ?? '');
        if (!variant) return;
        const now = absoluteNow();
        let track = tracks.get(detail.taskArn ?? '');
        if (!track) {
          track = { variant, revision: revisionOf(detail.taskDefinitionArn ?? '') };
          tracks.set(detail.taskArn ?? '', track);
        }
        track.address ??= eniAddress(event.detail);
        if (detail.desiredStatus === 'STOPPED') track.desiredStoppedAt ??= now;
        if (detail.lastStatus === 'STOPPING') track.stoppingAt ??= now;
        if (detail.lastStatus === 'DEPROVISIONING') track.exitedAt ??= now;
        if (detail.lastStatus === 'STOPPED') track.stoppedAt ??= now;
        if (detail.lastStatus === 'RUNNING' && detail.desiredStatus === 'RUNNING' && track.runningAt === undefined) {
          track.runningAt = now;
          const current = track;
          const address = track.address;
          if (address) {
            // Is the app listening when ECS says RUNNING? One direct call to its health path tells.
            const probe = callTask({ address, port: CONTAINER_PORT }, '/health', 'probe', {
              timeoutMs: REQUEST_TIMEOUT_MS,
            }).then((outcome) => {
              current.listeningAtRunning = outcome.kind === 'answered';
            });
            probes.add(probe);
            void probe.finally(() => probes.delete(probe));
          }
        }
      },
    });
    // Loaded only now: the handler reads its configuration at cold start.
    const { handler } = require('../functions/register') as typeof import('../functions/register');
    em.addRule({
      name: 'register',
      pattern: options.pattern,
      target: async (event) => {
        const delivered = absoluteNow();
        const outcome = (await handler(event, lambdaContext)) as Outcome;
        const track = tracks.get(String((event.detail as Record<string, unknown>).taskArn));
        if (outcome.result === 'deregistered' && track) track.deregisteredAt ??= absoluteNow();
        if (outcome.result !== 'registered') return;
        if (track && track.registeredAt === undefined) {
          track.registeredAt = absoluteNow();
          track.registerHandlerMs = track.registeredAt - delivered;
        }
      },
    });

    const lookupClient = createServiceDiscoveryClient({ endpoint: em.url, region: 'us-east-1', maxAttempts: 3 });
    closers.push(() => lookupClient.destroy());
    const config = lookupConfig(scale);
    const lookup = await startLocalHttpServer(createHandler(createCloudMapLookupApp(config, lookupClient)));
    closers.unshift(() => lookup.close());

    // The services: revision 1 of each family, and the 60 s TTL service created first, as Copilot would have.
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const namespaceId = (await cloudMap.send(new ListNamespacesCommand({}))).Namespaces?.find(
      (n) => n.Name === NAMESPACE,
    )?.Id;
    const registerRevision = (variant: RollingVariant, revision: number) =>
      ecs.send(
        new RegisterTaskDefinitionCommand(
          fargateTaskDefinition(variant.service, [
            {
              name: 'app',
              image: 'app',
              essential: true,
              portMappings: [{ containerPort: CONTAINER_PORT, protocol: 'tcp' }],
              environment: [
                { name: 'LOCAL_APP_DRAIN_SECONDS', value: String(variant.drainSeconds) },
                { name: 'APP_VERSION', value: String(revision) },
              ],
            },
          ]),
        ),
      );
    const ofVariant = (name: string, revision: number) =>
      [...tracks.values()].filter((t) => t.variant === name && t.revision === revision);
    const aws = (realMs: number) => realMs / scale;
    const phases = options.sequential ? options.variants.map((v) => [v]) : [options.variants];
    const deployments: DeploymentFigures[] = [];
    const paths: PathFigures[] = [];
    let callingSeconds = 0;
    let eventLoopDelayP99Ms = 0;
    let callersEventLoopDelayP99Ms = 0;
    for (const variants of phases) {
      const phase = await runPhase(variants);
      deployments.push(...phase.deployments);
      paths.push(...phase.paths);
      callingSeconds += phase.callingSeconds;
      eventLoopDelayP99Ms = Math.max(eventLoopDelayP99Ms, phase.eventLoopDelayP99Ms);
      callersEventLoopDelayP99Ms = Math.max(callersEventLoopDelayP99Ms, phase.callersEventLoopDelayP99Ms);
    }

    /** One phase: its services created, registered, called, deployed and called until every cache expired. */
    async function runPhase(variants: RollingVariant[]) {
      for (const variant of variants) {
        await registerRevision(variant, 1);
        if (variant.dnsTtlSeconds !== undefined) {
          await cloudMap.send(
            new CreateCloudMapServiceCommand({
              Name: variant.service,
              NamespaceId: namespaceId,
              DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: variant.dnsTtlSeconds }] },
              HealthCheckCustomConfig: { FailureThreshold: 1 },
              Tags: [{ Key: MANAGED_TAG_KEY, Value: SETTINGS.ownerId.default }],
            }),
          );
        }
        await ecs.send(
          new CreateServiceCommand({
            cluster: CLUSTER,
            serviceName: variant.service,
            taskDefinition: variant.service,
            desiredCount: options.tasks,
            launchType: 'FARGATE',
            networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
            deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
          }),
        );
      }
      await until(
        () =>
          variants.every(
            (v) => ofVariant(v.name, 1).filter((t) => t.registeredAt !== undefined).length === options.tasks,
          ),
        'every task of revision 1 registered',
        120_000 + 60_000 * scale,
      );
      log(`rolling: ${variants.length} service(s) of ${options.tasks} tasks registered; calling`);

      // The callers, in a process of their own: `callers` per path, each with its own cache, at a steady rate.
      const plan: CallerPlan = {
        paths: variants.flatMap((variant) =>
          variant.paths.map(
            (kind): CallerPath => ({
              kind,
              ...(kind === 'lookup'
                ? { lookupUrl: `${lookup.url}/services/${variant.service}?health=healthy` }
                : { dnsName: `${variant.service}.${NAMESPACE}`, dnsPort }),
              port: CONTAINER_PORT,
              host: `${variant.service}.${NAMESPACE}:${CONTAINER_PORT}`,
            }),
          ),
        ),
        timeScale: scale,
        rate: options.ratePerPath,
        callers: options.callers,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      };
      const pathVariants = variants.flatMap((variant) => variant.paths.map((kind) => ({ variant, kind })));
      const callers = await startCallerProcess(plan);
      closers.unshift(() => callers.kill());
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const callingStart = absoluteNow();
      await new Promise((resolve) => setTimeout(resolve, (options.warmupSeconds ?? 5) * 1000 * scale));

      // The deployment: revision 2 of every family, UpdateService all at once.
      for (const variant of variants) await registerRevision(variant, 2);
      const deployedAt = absoluteNow();
      for (const variant of variants) {
        await ecs.send(
          new UpdateServiceCommand({
            cluster: CLUSTER,
            service: variant.service,
            taskDefinition: variant.service,
            deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
          }),
        );
      }
      const doneAt = new Map<string, number>();
      const deployed = (v: RollingVariant) =>
        ofVariant(v.name, 2).filter((t) => t.runningAt !== undefined).length === options.tasks &&
        ofVariant(v.name, 1).every((t) => t.stoppedAt !== undefined);
      await until(
        () => {
          for (const v of variants) if (!doneAt.has(v.name) && deployed(v)) doneAt.set(v.name, absoluteNow());
          return doneAt.size === variants.length;
        },
        'the deployments to finish',
        300_000 * scale + 120_000,
      );
      // Keep calling until every caller's cache of an old address has expired (the longest TTL, and 5 s more).
      const longestTtl = Math.max(
        SETTINGS.dnsTtl.default,
        ...variants.map((v) => v.dnsTtlSeconds ?? SETTINGS.dnsTtl.default),
      );
      const lastStop = Math.max(...[...tracks.values()].map((t) => t.desiredStoppedAt ?? 0));
      const stopCallingAt = Math.max(absoluteNow(), lastStop + (longestTtl + 5) * 1000 * scale);
      await new Promise((resolve) => setTimeout(resolve, stopCallingAt - absoluteNow()));
      const report = await callers.stop();
      delay.disable();
      await Promise.all([...probes]);
      const calledSeconds = (absoluteNow() - callingStart) / 1000 / scale;
      log(`rolling: ${variants.map((v) => v.name).join(', ')} called for ${calledSeconds.toFixed(1)} s (AWS time)`);

      const phaseDeployments: DeploymentFigures[] = variants.map((v) => {
        const fresh = ofVariant(v.name, 2);
        const old = ofVariant(v.name, 1);
        const registered = registeredOverTime([...fresh, ...old], deployedAt);
        return {
          variant: v.name,
          durationMs: Math.round(aws((doneAt.get(v.name) ?? Number.NaN) - deployedAt)),
          runningToRegisteredMs: spread(
            fresh.flatMap((t) =>
              t.runningAt !== undefined && t.registeredAt !== undefined ? [aws(t.registeredAt - t.runningAt)] : [],
            ),
            fresh.length,
          ),
          registerHandlerRealMs: spread(
            fresh.flatMap((t) => (t.registerHandlerMs === undefined ? [] : [t.registerHandlerMs])),
            fresh.length,
          ),
          notListeningAtRunning: fresh.filter((t) => t.listeningAtRunning === false).length,
          stopDecisionToSigtermMs: spread(
            old.flatMap((t) =>
              t.desiredStoppedAt !== undefined && t.stoppingAt !== undefined
                ? [aws(t.stoppingAt - t.desiredStoppedAt)]
                : [],
            ),
            old.length,
          ),
          stopDecisionToDeregisteredMs: spread(
            old.flatMap((t) =>
              t.desiredStoppedAt !== undefined && t.deregisteredAt !== undefined
                ? [aws(t.deregisteredAt - t.desiredStoppedAt)]
                : [],
            ),
            old.length,
          ),
          fewestRegistered: registered.fewest,
          noneRegisteredMs: Math.round(aws(registered.noneMs)),
        };
      });
      const phasePaths: PathFigures[] = report.paths.map((record, index) => {
        const { variant, kind } = pathVariants[index] as { variant: RollingVariant; kind: PathKind };
        const firstAnswer = new Map(record.firstAnswer);
        const lastAnswer = new Map(record.lastAnswer);
        const firstSeen = new Map(record.firstSeen);
        const ofThis = [...tracks.entries()].filter(([, t]) => t.variant === variant.name);
        const fresh = ofThis.filter(([, t]) => t.revision === 2);
        const answered = (revision: number) =>
          [...firstAnswer.keys()].filter((arn) => tracks.get(arn)?.revision === revision).length;
        const reachable = fresh.flatMap(([arn, t]) => {
          const first = firstAnswer.get(arn);
          return first !== undefined && t.runningAt !== undefined ? [aws(first - t.runningAt)] : [];
        });
        const discovered = fresh.flatMap(([arn, t]) => {
          const key = kind === 'lookup' ? arn.split('/').pop() : t.address;
          const first = key === undefined ? undefined : firstSeen.get(key);
          return first !== undefined && t.runningAt !== undefined ? [aws(first - t.runningAt)] : [];
        });
        const reachableAfterHealthy = fresh.flatMap(([arn, t]) => {
          if (t.runningAt === undefined || !t.listeningAtRunning) return [];
          const healthyAt = t.runningAt + COUNTED_HEALTHY_AFTER_RUNNING_MS * scale;
          const key = kind === 'lookup' ? arn.split('/').pop() : undefined;
          const reachableAt = kind === 'lookup' ? (key === undefined ? undefined : firstSeen.get(key)) : t.registeredAt;
          return reachableAt === undefined ? [] : [aws(Math.max(0, reachableAt - healthyAt))];
        });
        const discoveredAfterRegistered = fresh.flatMap(([arn, t]) => {
          const key = kind === 'lookup' ? arn.split('/').pop() : t.address;
          const first = key === undefined ? undefined : firstSeen.get(key);
          return first !== undefined && t.registeredAt !== undefined ? [aws(first - t.registeredAt)] : [];
        });
        const byAddress = new Map(ofThis.map(([, t]) => [t.address, t]));
        const lastSeen = new Map(record.lastSeen);
        const failureSamples = record.failureSamples.map((sample): ExplainedFailure => {
          const t = byAddress.get(sample.address);
          const phase = !t
            ? 'unknown'
            : t.exitedAt !== undefined && sample.at >= t.exitedAt
              ? 'exited'
              : t.stoppingAt !== undefined && sample.at >= t.stoppingAt
                ? 'draining'
                : t.desiredStoppedAt !== undefined && sample.at >= t.desiredStoppedAt
                  ? 'deactivating'
                  : 'running';
          const seen =
            kind === 'dns'
              ? lastSeen.get(sample.address)
              : lastSeen.get(
                  [...tracks]
                    .find(([, x]) => x === t)?.[0]
                    .split('/')
                    .pop() ?? '',
                );
          const since = (at: number | undefined) =>
            at === undefined || t?.deregisteredAt === undefined ? null : Math.round(aws(at - t.deregisteredAt));
          return {
            kind: sample.kind,
            atMs: Math.round(aws(sample.at - deployedAt)),
            revision: t?.revision ?? null,
            phase,
            afterDeregisteredMs: since(sample.at),
            lastSeenAfterDeregisteredMs: since(seen),
          };
        });
        const stale = ofThis.flatMap(([arn, t]) => {
          const last = lastAnswer.get(arn);
          return t.revision === 1 && last !== undefined && t.deregisteredAt !== undefined
            ? [aws(last - t.deregisteredAt)]
            : [];
        });
        const failed = Object.values(record.failures).reduce((a, b) => a + b, 0);
        return {
          variant: variant.name,
          path: kind,
          requests: record.requests,
          failed,
          failedPer10000: record.requests === 0 ? Number.NaN : Number(((failed / record.requests) * 10_000).toFixed(1)),
          failures: record.failures,
          answersFromStoppingTasks: record.answersFromStoppingTasks,
          answersByTaskDefinition: record.answersByTaskDefinition,
          oldTasksAnswered: answered(1),
          newTasksAnswered: answered(2),
          longestAnswerAfterDeregistrationMs: Math.round(Math.max(0, ...stale)),
          newTaskReachableMs: spread(reachable, fresh.length),
          newTaskDiscoveredMs: spread(discovered, fresh.length),
          newTaskReachableAfterHealthyMs: spread(reachableAfterHealthy, fresh.length),
          newTaskDiscoveredAfterRegisteredMs: spread(discoveredAfterRegistered, fresh.length),
          failuresByPhase: countBy(failureSamples, (f) => `${f.kind}/${f.revision ?? '?'}/${f.phase}`),
          failureSamples: failureSamples.slice(0, 5),
          discoveryFetches: record.discoveryFetches,
          discoveryFailures: record.discoveryFailures,
        };
      });
      callers.kill();
      return {
        deployments: phaseDeployments,
        paths: phasePaths,
        callingSeconds: calledSeconds,
        eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
        callersEventLoopDelayP99Ms: report.eventLoopDelayP99Ms,
      };
    }

    return {
      tasks: options.tasks,
      timeScale: scale,
      callersPerPath: options.callers,
      ratePerPath: options.ratePerPath,
      callingSeconds: Number(callingSeconds.toFixed(1)),
      realSeconds: Number(((absoluteNow() - realStart) / 1000).toFixed(1)),
      eventLoopDelayP99Ms,
      callersEventLoopDelayP99Ms,
      dnsTtlSeconds: SETTINGS.dnsTtl.default,
      cacheControlMaxAgeSeconds: config.cacheControlMaxAgeSeconds,
      deployments,
      paths,
    };
  } finally {
    for (const close of closers) await close();
  }
}
