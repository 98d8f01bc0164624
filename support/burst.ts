import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance as nodePerformance } from 'node:perf_hooks';
import { CreateServiceCommand, ECSClient, paginateListTasks, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CreatePrivateDnsNamespaceCommand } from '@aws-sdk/client-servicediscovery';
import type { Context } from 'aws-lambda';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import { type LookupConfig, loadLookupConfig, loadReconcileConfig } from '../lib/config';
import { createCloudMapLookupApp, type LookupApp } from '../lib/lookup/lookup-app';
import type { HttpResponse } from '../lib/lookup/types';
import { reconcile } from '../lib/reconcile';
import { createRegistrarDeps } from '../lib/registrar-runtime';
import { applyDelivery, type Delivery, deliveryFromConfig } from '../local/delivery';
import { type BusEvent, createEmulator, type Emulator } from '../local/emulator';
import { CloudMap } from '../local/emulator/cloud-map/cloud-map';
import type { Operation } from '../local/emulator/cloud-map/model';
import type { Task } from '../local/emulator/ecs/model';
import { TaskLifecycle } from '../local/emulator/ecs/task-lifecycle';
import type { InvokeResult, LambdaStats } from '../local/emulator/lambda/types';
import { printConfig, taskTableFromConfig } from '../local/rules';
import { type CallCounts, readCalls } from './at-scale';
import {
  type Distribution,
  distribution,
  healthyToDiscoverable,
  ListingTimeline,
  leavingToOut,
  secondsPerLifecycle,
  toAws,
} from './burst-figures';
import { startDynalite } from './dynalite';
import { fargateService, registerApp } from './ecs-setup';
import { pointFunctionsAt } from './pipeline';

/**
 * The burst benchmark's pipeline (issue 13): a rolling deployment of a large health-checked ECS service through
 * the pipeline a user deploys, in one process.
 *
 * - The delivery (EventBridge rules, SQS queues, reserved concurrency, Lambda's asynchronous queue with its
 *   throttling retries, SQS event source mappings) is built by local/delivery.ts from `osls print` of the tree's
 *   serverless.yml, so the same code measures whatever design serverless.yml declares.
 * - The functions are the real handlers (functions/*.ts), required in-process once their environment (the
 *   printed one, pointed at the emulator) is set, and run by `invoke(functionName, payload)`.
 * - The emulator (ECS with its service scheduler, Cloud Map, EventBridge, SQS, Lambda) and dynalite (the task
 *   table) serve them on loopback; the lookup app (lib/lookup, the lookup function's code) answers the polls.
 *
 * Time. The emulator runs `timeScale` times faster than AWS (ECS transitions, Cloud Map operations, SQS delays and
 * visibility, Lambda's retry waits, the request quotas' refill). So do the functions' own waits: every sleep of
 * lib/ code inside an invocation (lib/sleep.ts: the health wait before issue 13, the wait for another
 * deregistration, Cloud Map's operation poll) is shortened by the time scale (FunctionRunner.install), whatever
 * setting or constant it comes from, so nothing depends on which design serverless.yml declares. The settings stay
 * as printed; deadlines the functions compare with their clock (HEALTH_WAIT_MS, OPERATION_TIMEOUT_MS) are thereby
 * 1/timeScale times longer in AWS terms, bounds no task of this run reaches. The lookup's cache times are scaled
 * as in support/rolling.ts. A duration in AWS time is the real one divided by the time scale; so is billed time,
 * which counts the functions' own CPU time 1/timeScale times over (an upper bound; see the event loop's delay).
 */

const CLUSTER = 'burst';
/** The deployed service, and the small one the no-load samples come from. */
const BURST = 'burst';
const SOLO = 'solo';
const SUBNETS = ['subnet-burst-a', 'subnet-burst-b', 'subnet-burst-c'];
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** An essential container with a container health check: ECS reports HEALTHY 10 s (AWS) after RUNNING. */
const HEALTH_CHECKED_APP = {
  portMappings: [{ containerPort: 8080 }],
  healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost:8080/health || exit 1'], interval: 5 },
};
const LEAVING_STATUSES = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);

export interface BurstOptions {
  /** The project tree whose serverless.yml and functions are measured. */
  root: string;
  /** The stage `osls print` resolves. Default local. */
  stage?: string;
  /** Tasks of the deployed service (the desired count). */
  tasks: number;
  /** Tasks of the no-load service, stopped one at a time before the burst: the no-load samples. */
  noLoadSamples: number;
  timeScale: number;
  /** AWS's request quotas in the emulator (`/_local/faults {"quotas": "aws"}`) from the first event on. */
  quotas: boolean;
  /** Real ms between two lookup polls (each poll asks every query of the phase once). */
  pollMs: number;
  /** Real seconds the burst may take before the figures are taken from what was measured by then. */
  deadlineSeconds: number;
  log?: (line: string) => void;
}

/** What one phase cost the process: its real length and the event loop's delay (real ms). */
export interface PhaseDiagnostics {
  realSeconds: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
}

/** The timers the functions' code set that fired, summed over invocations (AWS ms, or s in the figures). */
export interface Waits {
  /** Sleeps of the registrar core (lib/registrar.ts): the health wait before issue 13, the wait for another deregistration. */
  registrar: number;
  /** Sleeps of the Cloud Map registry (lib/cloud-map/cloud-map-registry.ts): its operation poll, DuplicateRequest waits. */
  cloudMapOperation: number;
  /** Any other sleep of lib/ code. */
  other: number;
}

/** One function's accounting during the burst (the delivery model's), with AWS-scaled billed time. */
export interface FunctionFigures {
  name: string;
  reservedConcurrency?: number;
  invocations: number;
  throttles: number;
  errors: number;
  maxConcurrent: number;
  recordsHandled: number;
  asyncDiscarded: number;
  /** Billed seconds in AWS time: the model's real billed ms / timeScale / 1000. */
  billedSeconds: number;
}

export interface BurstRun {
  tasks: number;
  noLoadSamples: number;
  timeScale: number;
  quotas: 'aws' | 'off';
  pollMs: number;
  /** False when the burst hit its deadline: the missing tasks count as the deadline in the percentiles. */
  complete: boolean;
  /** Per old task: first leaving event to out of `health=healthy` answers (AWS ms). */
  leavingToOutMs: Distribution;
  /** The same for the no-load service's tasks, stopped one at a time. */
  leavingToOutNoLoadMs: Distribution;
  /** Per new task: ECS's HEALTHY to listed in `health=healthy` answers (AWS ms). */
  healthyToDiscoverableMs: Distribution;
  /**
   * The same two split where Cloud Map applied the write (its operation's SUCCESS in the emulator): the registrar's
   * part (events, queues, functions, the operation) and the lookup's part (its caches and polls).
   */
  split: {
    leavingToDeregisteredMs: Distribution;
    deregisteredToOutMs: Distribution;
    healthyToRegisteredMs: Distribution;
    registeredToListedMs: Distribution;
  };
  /**
   * healthyToDiscoverable of the first 100 new tasks to turn HEALTHY (Fargate launches 100 at once, so these turn
   * HEALTHY within a moment of each other) and of the others, and how far apart (AWS ms) the first 100 turned HEALTHY.
   */
  healthyWaves: {
    first100Ms: Distribution;
    restMs: Distribution;
    first100SpreadMs: number;
    /**
     * Each wave's healthyToDiscoverable in three parts: HEALTHY to the RegisterInstance call (the registrar's
     * re-checks), the call to Cloud Map applying it (its operation), applied to listed (the lookup's caches and poll).
     */
    first100Split: WaveSplit;
    restSplit: WaveSplit;
  };
  /** Per 10 s of AWS time from UpdateService: invocations started, by function. */
  invocationsPer10Seconds: Record<string, number[]>;
  /**
   * How busy the one process was (Node's event loop utilization, 0-1): over the burst, in its busiest 250 ms, and
   * from the first new task turning HEALTHY to 3 s later. Every function, the emulator and the lookup share that loop;
   * near 1 the in-process model queues work that Lambda (a CPU per execution environment) and AWS would run at once.
   */
  eventLoop: { utilization: number; busiest250Ms: number; firstWave3s: number };
  /** The longest a lookup answer took, and the longest time between two answers of one query (real ms). */
  lookupSlowestAnswerMs: number;
  lookupLongestGapMs: number;
  /** Lookups that gave no listing (an error answer), and the first of them. */
  lookupErrors: number;
  firstLookupError: string | null;
  /** UpdateService to every new task RUNNING and every old one STOPPED (AWS s). */
  deploymentSeconds: number;
  /** UpdateService to every new task listed and every old one out of the answers (AWS s). */
  discoverySettledSeconds: number;
  /** UpdateService until the delivery was drained (no message, no queued event, no execution; AWS s). */
  drainedSeconds: number;
  /** The task-event functions during the burst, and their totals. */
  functions: FunctionFigures[];
  invocations: number;
  throttles: number;
  errors: number;
  billedSeconds: number;
  /** Billed seconds per task lifecycle (see secondsPerLifecycle: billed / tasks when the run completed). */
  functionSecondsPerLifecycle: number;
  /** The functions' sleeps during the burst in AWS seconds, and their shares of billed time. */
  waitSeconds: Waits;
  /** The registrar core's sleeps / billed time (the health wait before issue 13). */
  sleepingShare: number;
  /** Cloud Map's operation poll / billed time (waiting for an operation to finish). */
  operationWaitShare: number;
  /** What the invocations during the burst answered, counted. */
  outcomes: Record<string, number>;
  /** Calls the emulator metered during the burst, by `service.Action`. */
  calls: CallCounts;
  ecsCalls: number;
  ecsThrottled: number;
  /** RegisterInstance, DeregisterInstance and UpdateInstanceCustomHealthStatus calls during the burst. */
  cloudMapWrites: number;
  /** The most Cloud Map instance operations (register, deregister) pending at once during the burst. */
  peakConcurrentCloudMapOperations: number;
  queues: LambdaStats['queues'];
  /** Lookup answers fetched per phase. */
  lookupAnswers: { noLoad: number; burst: number };
  phases: { setup: PhaseDiagnostics; noLoad: PhaseDiagnostics; burst: PhaseDiagnostics };
  /** The five slowest old tasks: where their time went (AWS ms after the deployment started). */
  slowestLeaving: { taskId: string; leavingAtMs: number; outAtMs: number | null; stoppedAtMs: number | null }[];
  realSeconds: number;
}

/** serverless.yml's functions as `osls print` gives them, with what the in-process invoke needs. */
type FunctionsConfig = Record<
  string,
  { name?: string; handler?: string; timeout?: number; environment?: Record<string, unknown>; events?: unknown[] }
>;

/**
 * The environment of the functions the delivery invokes, as serverless.yml resolves it (they must agree), without
 * SERVICE_CREATOR_FUNCTION: missing Cloud Map services are created in-process, as in the local stack's tests. No
 * setting is scaled: their waits are (see FunctionRunner.install), and the deadlines they set against their clock
 * (HEALTH_WAIT_MS, OPERATION_TIMEOUT_MS) stay real, 1/timeScale times longer than at AWS: generous bounds.
 */
export function functionEnvironment(functions: FunctionsConfig, keys: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of keys) {
    for (const [name, value] of Object.entries(functions[key]?.environment ?? {})) {
      if (typeof value !== 'string') continue;
      if (env[name] !== undefined && env[name] !== value) {
        throw new Error(`the functions ${keys.join(', ')} disagree on ${name}: one process cannot run both`);
      }
      env[name] = value;
    }
  }
  delete env.SERVICE_CREATOR_FUNCTION;
  return env;
}

/** The lookup function's configuration from its printed environment, its cache times scaled as support/rolling.ts does. */
function scaledLookupConfig(functions: FunctionsConfig, timeScale: number): LookupConfig {
  const printed = Object.values(functions).find((fn) => fn.handler?.startsWith('functions/lookup.'));
  const env = Object.fromEntries(
    Object.entries(printed?.environment ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  const config = loadLookupConfig(env);
  return {
    ...config,
    cacheIntervalMs: Math.round(config.cacheIntervalMs * timeScale),
    healthMaxAgeMs: Math.round(config.healthMaxAgeMs * timeScale),
    staleIfErrorMs: Math.round(config.staleIfErrorMs * timeScale),
  };
}

/**
 * Runs the functions in-process for the delivery model: `invoke` maps a deployed function name to its handler
 * (required at the first call, after the environment is set), and every timer an invocation sets is attributed to
 * what set it (a stack frame of lib/registrar, of the Cloud Map registry, of the SDK), counted when it fires.
 */
class FunctionRunner {
  readonly waits: Waits = { registrar: 0, cloudMapOperation: 0, other: 0 };
  /** What the invocations answered, counted: `result/reason` of a registrar outcome, `batch/N failed` of an SQS batch. */
  readonly outcomes: Record<string, number> = {};
  /** When each invocation started (real ms), by function name. */
  readonly starts = new Map<string, number[]>();
  private readonly context = new AsyncLocalStorage<true>();
  private readonly handlers = new Map<string, (event: unknown, context: Context) => Promise<unknown>>();
  private readonly byName = new Map<string, { handler: string; timeoutMs: number }>();
  private restore: (() => void) | undefined;

  constructor(
    private readonly root: string,
    functions: FunctionsConfig,
    names: ReadonlyMap<string, string>,
    private readonly scale: number,
  ) {
    for (const [key, name] of names) {
      const handler = functions[key]?.handler;
      if (!handler) throw new Error(`serverless.yml's function ${key} has no handler`);
      this.byName.set(name, { handler, timeoutMs: (functions[key]?.timeout ?? 6) * 1000 });
    }
  }

  /**
   * Patches the global setTimeout for the timers set inside invocations (undone by `uninstall`): a sleep of the
   * functions' code (lib/sleep.ts, every wait of lib/ goes through it) runs `timeScale` times faster, as every AWS
   * delay of the emulator does, and is tallied in AWS ms by what slept (the registrar core, the Cloud Map registry).
   * Any other timer (the SDK's socket and retry timers) is left alone.
   */
  install(): void {
    const original = globalThis.setTimeout;
    const { waits, scale } = this;
    const inside = this.context;
    const patched = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      if (!inside.getStore() || !(typeof ms === 'number' && ms > 0)) return original(callback, ms, ...args);
      // File names only, from V8's call sites: no source-mapped stack to format (tsx's would cost ms per timer).
      const limit = Error.stackTraceLimit;
      const prepare = Error.prepareStackTrace;
      Error.stackTraceLimit = 30;
      Error.prepareStackTrace = (_error, sites) => sites.map((site) => site.getFileName() ?? '').join('\n');
      const stack = String(new Error().stack ?? '');
      Error.stackTraceLimit = limit;
      Error.prepareStackTrace = prepare;
      const sleep = /[/\\]lib[/\\]sleep\.ts/.exec(stack);
      if (!sleep) return original(callback, ms, ...args);
      // The innermost caller that names one of them decides (async frames of its callers follow it).
      const caller = /[/\\]lib[/\\]registrar\.ts|cloud-map-registry/.exec(stack.slice(sleep.index))?.[0] ?? '';
      const kind: keyof Waits = caller.endsWith('registrar.ts')
        ? 'registrar'
        : caller === 'cloud-map-registry'
          ? 'cloudMapOperation'
          : 'other';
      return original(() => {
        waits[kind] += ms;
        callback(...args);
      }, ms * scale);
    }) as typeof setTimeout;
    Object.assign(patched, original);
    globalThis.setTimeout = patched;
    this.restore = () => {
      globalThis.setTimeout = original;
    };
  }

  uninstall(): void {
    this.restore?.();
  }

  /** Starts the wait and outcome tallies again (at the burst). */
  reset(): void {
    for (const kind of Object.keys(this.waits) as (keyof Waits)[]) this.waits[kind] = 0;
    for (const key of Object.keys(this.outcomes)) delete this.outcomes[key];
    this.starts.clear();
  }

  private count(result: unknown): void {
    const r = (result ?? {}) as { result?: unknown; reason?: unknown; batchItemFailures?: unknown[] };
    const key =
      typeof r.result === 'string'
        ? `${r.result}${typeof r.reason === 'string' ? `/${r.reason}` : ''}`
        : Array.isArray(r.batchItemFailures)
          ? `batch/${r.batchItemFailures.length} failed`
          : 'other';
    this.outcomes[key] = (this.outcomes[key] ?? 0) + 1;
  }

  /** Lambda's Invoke for the delivery model: the handler's result, or its error as Lambda reports an unhandled one. */
  readonly invoke = async (functionName: string, payload: unknown): Promise<InvokeResult> => {
    const spec = this.byName.get(functionName);
    if (!spec) return { ok: false, error: 'HTTP 404', body: `{"message":"Function not found: ${functionName}"}` };
    let handler = this.handlers.get(functionName);
    if (!handler) {
      const [file, exported] = spec.handler.split('.') as [string, string];
      handler = (require(join(this.root, file)) as Record<string, typeof handler>)[exported];
      if (typeof handler !== 'function') throw new Error(`${spec.handler} is not a function`);
      this.handlers.set(functionName, handler);
    }
    const deadline = Date.now() + spec.timeoutMs;
    const context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
      memoryLimitInMB: '256',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'burst',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    } as unknown as Context;
    const run = handler;
    const starts = this.starts.get(functionName) ?? [];
    starts.push(performance.now());
    this.starts.set(functionName, starts);
    try {
      const result = await this.context.run(true, () => run(payload, context));
      this.count(result);
      return { ok: true, body: JSON.stringify(result ?? null) };
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      this.outcomes[`error/${e.name}`] = (this.outcomes[`error/${e.name}`] ?? 0) + 1;
      return { ok: false, error: 'Unhandled', body: JSON.stringify({ errorType: e.name, errorMessage: e.message }) };
    }
  };
}

/** Samples Node's event loop utilization every `everyMs` (real ms) until stopped. */
function sampleEventLoop(everyMs: number) {
  const samples: { at: number; idle: number; active: number }[] = [];
  let last = nodePerformance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = nodePerformance.eventLoopUtilization();
    const delta = nodePerformance.eventLoopUtilization(now, last);
    last = now;
    samples.push({ at: performance.now(), idle: delta.idle, active: delta.active });
  }, everyMs);
  timer.unref();
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    stop: () => clearInterval(timer),
    /** Utilization of the samples that ended within [from, to + everyMs). */
    between: (from: number, to: number) => {
      const within = samples.filter((sample) => sample.at > from && sample.at <= to + everyMs);
      const active = within.reduce((sum, sample) => sum + sample.active, 0);
      const idle = within.reduce((sum, sample) => sum + sample.idle, 0);
      return active + idle > 0 ? round(active / (active + idle)) : 0;
    },
    busiest: () =>
      round(Math.max(0, ...samples.map((s) => (s.active + s.idle > 0 ? s.active / (s.active + s.idle) : 0)))),
  };
}

/** healthyToDiscoverable of some new tasks cut where the registrar called RegisterInstance and where Cloud Map applied it. */
export interface WaveSplit {
  healthyToRequestedMs: Distribution;
  requestedToRegisteredMs: Distribution;
  registeredToListedMs: Distribution;
}

/**
 * In-process hooks on the emulator's classes (nothing in its API tells these moments): when ECS sets a task's
 * health-checked containers HEALTHY (TaskLifecycle.reportHealth; no ECS event exists for it), and how many Cloud Map
 * instance operations are pending and when each was applied (CloudMap.startOperation / finishOperation).
 */
function hookEmulator() {
  const healthyAt = new Map<string, number>();
  const operations = { pending: 0, peak: 0 };
  /** When Cloud Map applied an instance's first registration and deregistration (the operation's SUCCESS). */
  const applied = new Map<string, { requestedAt?: number; registeredAt?: number; deregisteredAt?: number }>();
  const lifecycle = TaskLifecycle.prototype as unknown as { reportHealth(task: Task): void };
  const cloudMap = CloudMap.prototype as unknown as {
    startOperation(type: Operation['Type'], ...rest: unknown[]): string;
    finishOperation(operation: Operation, ...rest: unknown[]): void;
  };
  const original = {
    reportHealth: lifecycle.reportHealth,
    startOperation: cloudMap.startOperation,
    finishOperation: cloudMap.finishOperation,
  };
  const instanceOperation = (type: string) => type === 'REGISTER_INSTANCE' || type === 'DEREGISTER_INSTANCE';
  lifecycle.reportHealth = function (this: unknown, task: Task) {
    original.reportHealth.call(this, task);
    const healthy = task.containers.some((c) => c.hasHealthCheck && c.healthStatus === 'HEALTHY');
    if (healthy && !healthyAt.has(task.arn)) healthyAt.set(task.arn, performance.now());
  };
  cloudMap.startOperation = function (this: unknown, type: Operation['Type'], ...rest: unknown[]) {
    if (instanceOperation(type)) {
      operations.pending += 1;
      operations.peak = Math.max(operations.peak, operations.pending);
      const instance = (rest[0] as Operation['Targets'] | undefined)?.INSTANCE;
      if (type === 'REGISTER_INSTANCE' && instance) {
        const moments = applied.get(instance) ?? {};
        moments.requestedAt ??= performance.now();
        applied.set(instance, moments);
      }
    }
    return original.startOperation.call(this, type, ...rest);
  };
  cloudMap.finishOperation = function (this: unknown, operation: Operation, ...rest: unknown[]) {
    if (!instanceOperation(operation.Type)) return original.finishOperation.call(this, operation, ...rest);
    operations.pending -= 1;
    original.finishOperation.call(this, operation, ...rest);
    const instance = operation.Targets.INSTANCE;
    if (operation.Status !== 'SUCCESS' || !instance) return;
    const moments = applied.get(instance) ?? {};
    if (operation.Type === 'REGISTER_INSTANCE') moments.registeredAt ??= performance.now();
    else moments.deregisteredAt ??= performance.now();
    applied.set(instance, moments);
  };
  return {
    healthyAt,
    operations,
    applied,
    undo: () => {
      Object.assign(lifecycle, { reportHealth: original.reportHealth });
      Object.assign(cloudMap, { startOperation: original.startOperation, finishOperation: original.finishOperation });
    },
  };
}

/** What the ECS events say of one task: the first leaving event, RUNNING, STOPPED (real ms). */
interface TaskTrack {
  family: string;
  revision: number;
  runningAt?: number;
  leavingAt?: number;
  stoppedAt?: number;
}

/** One lookup query the poller asks: the route, and the timeline of what its answers listed. */
interface LookupQuery {
  path: string;
  query: [string, string][];
  timeline: ListingTimeline;
  etag?: string;
  listed: string[];
  onAnswer?: (listed: ReadonlySet<string>, startedAt: number) => void;
}

/**
 * Asks the lookup app every query of the current phase, then again `pollMs` after the previous round began
 * (rounds never overlap). A 304 (If-None-Match) lists what the previous answer listed.
 */
class LookupPoller {
  queries: LookupQuery[] = [];
  answers = 0;
  /** The longest answer, and the longest time between two answers of one query (real ms). */
  slowestMs = 0;
  longestGapMs = 0;
  /** Why a lookup gave no listing (an error answer), in order. */
  readonly errors: string[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly app: LookupApp,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const round = performance.now();
        await Promise.all(this.queries.map((q) => this.ask(q)));
        const wait = this.pollMs - (performance.now() - round);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async ask(q: LookupQuery): Promise<void> {
    const startedAt = performance.now();
    let response: HttpResponse;
    try {
      response = await this.app.answer({
        method: 'GET',
        path: q.path,
        query: q.query,
        headers: q.etag ? { 'if-none-match': q.etag } : {},
      });
    } catch (error) {
      // An answer the function would give as an error (Cloud Map throttled, say): no listing from it.
      this.errors.push(error instanceof Error ? error.message : String(error));
      return;
    }
    const receivedAt = performance.now();
    if (response.statusCode === 200) {
      q.etag = response.headers.etag;
      q.listed = (JSON.parse(response.body) as { instances: { id: string }[] }).instances.map((i) => i.id);
    } else if (response.statusCode !== 304) {
      this.errors.push(`${response.statusCode}: ${response.body.slice(0, 200)}`);
      return;
    }
    this.answers += 1;
    this.slowestMs = Math.max(this.slowestMs, receivedAt - startedAt);
    const previous = q.timeline.answers[q.timeline.answers.length - 1];
    if (previous) this.longestGapMs = Math.max(this.longestGapMs, receivedAt - previous.receivedAt);
    q.timeline.record({ startedAt, receivedAt }, q.listed);
    q.onAnswer?.(new Set(q.listed), startedAt);
  }
}

/** Resolves when `done()` holds, checking every `everyMs`; false once `timeoutMs` (real) has passed. */
async function until(done: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}

/** Nothing left in the delivery: no message in a queue or in flight, no queued async event, no execution. */
function drained(stats: LambdaStats): boolean {
  return (
    stats.queues.every((q) => q.visible + q.inFlight + q.delayed === 0) &&
    stats.functions.every((f) => f.concurrentNow === 0 && f.asyncQueued === 0)
  );
}

/** Measures the event loop's delay over one phase. */
function phaseMonitor() {
  const started = performance.now();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  return (): PhaseDiagnostics => {
    delay.disable();
    return {
      realSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
      eventLoopDelayMaxMs: Number((delay.max / 1e6).toFixed(1)),
    };
  };
}

const taskIdOf = (taskArn: string) => taskArn.split('/').pop() ?? taskArn;

/**
 * Runs the burst end to end and returns its figures. Everything it started (emulator, dynalite, patches) is
 * stopped or undone before it returns, also when it throws.
 */
export async function runBurst(options: BurstOptions): Promise<BurstRun> {
  const log = options.log ?? (() => undefined);
  const scale = options.timeScale;
  const stage = options.stage ?? 'local';
  const realStart = performance.now();
  const closers: (() => Promise<void> | void)[] = [];
  try {
    let phase = phaseMonitor();
    const config = await printConfig(stage, options.root);
    const functions = (config.functions ?? {}) as FunctionsConfig;
    const delivery: Delivery = deliveryFromConfig(config, stage);
    // The task-event functions: the rules' function targets and the queues' consumers.
    const invoked = new Set([
      ...delivery.rules.flatMap((rule) => ('function' in rule.target ? [rule.target.function] : [])),
      ...delivery.eventSourceMappings.map((mapping) => mapping.functionName),
    ]);
    const names = new Map(delivery.functions.filter((f) => invoked.has(f.name)).map((f) => [f.key, f.name]));
    const env = functionEnvironment(functions, [...names.keys()]);
    log(
      `burst: functions ${[...names.values()].join(', ')}; ${delivery.rules.length} rule(s), ` +
        `${delivery.queues.length} queue(s), ${delivery.eventSourceMappings.length} event source mapping(s); ` +
        `HEALTH_WAIT_MS ${env.HEALTH_WAIT_MS}, HEALTH_POLL_MS ${env.HEALTH_POLL_MS}`,
    );

    const dynamo = await startDynalite(taskTableFromConfig(config));
    closers.push(() => dynamo.stop());
    const hooks = hookEmulator();
    closers.push(() => hooks.undo());
    const emulatorLog: string[] = [];
    const em: Emulator = await createEmulator({
      port: 0,
      timeScale: 0,
      log: (line) => {
        if (emulatorLog.length < 200) emulatorLog.push(line);
      },
    });
    closers.unshift(() => em.close());
    const namespace = env.NAMESPACE ?? 'kudos.local';
    pointFunctionsAt(em, dynamo, namespace, { ...env, AWS_ENDPOINT_URL_SQS: em.url });
    const ecs = new ECSClient({ endpoint: em.url, region: 'us-east-1', credentials });
    const cloudMap = createServiceDiscoveryClient({ endpoint: em.url, region: 'us-east-1', credentials });
    closers.push(
      () => ecs.destroy(),
      () => cloudMap.destroy(),
    );

    // Setup at time scale 0 with ECS events off: both services' tasks running and HEALTHY at once, registered by one
    // backfill reconcile run (as the reconcile bench builds its fleet) rather than by 1,000 events.
    await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: namespace, Vpc: 'vpc-local' }));
    em.setEventDelivery(false);
    await registerApp(ecs, SOLO, HEALTH_CHECKED_APP, CLUSTER);
    await registerApp(ecs, BURST, HEALTH_CHECKED_APP);
    const deploymentConfiguration = { minimumHealthyPercent: 100, maximumPercent: 200 };
    for (const [service, count] of [
      [SOLO, options.noLoadSamples],
      [BURST, options.tasks],
    ] as const) {
      await ecs.send(
        new CreateServiceCommand(
          fargateService({
            cluster: CLUSTER,
            serviceName: service,
            taskDefinition: service,
            desiredCount: count,
            networkConfiguration: { awsvpcConfiguration: { subnets: SUBNETS } },
            deploymentConfiguration,
          }),
        ),
      );
    }
    await em.idle();
    log(
      `burst: ${options.tasks + options.noLoadSamples} tasks running after ${((performance.now() - realStart) / 1000).toFixed(1)} s`,
    );
    const reconcileConfig = loadReconcileConfig();
    const backfill = await reconcile(createRegistrarDeps(reconcileConfig), {
      maxDeletes: reconcileConfig.maxDeletes,
      clusters: [CLUSTER],
      concurrency: 32,
    });
    if (backfill.registered !== options.tasks + options.noLoadSamples || backfill.failed > 0) {
      throw new Error(`the backfill registered ${backfill.registered} tasks (${backfill.failed} failed)`);
    }
    const oldTasks: string[] = [];
    for await (const page of paginateListTasks({ client: ecs }, { cluster: CLUSTER, serviceName: BURST })) {
      oldTasks.push(...(page.taskArns ?? []));
    }

    // The pipeline: the tracker first (so it sees each event as it is published), then the delivery.
    const tracks = new Map<string, TaskTrack>();
    em.addRule({
      name: 'burst-tracker',
      pattern: { source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'] },
      target: async (event: BusEvent) => {
        const now = performance.now();
        const detail = event.detail as Record<string, string>;
        const arn = detail.taskArn ?? '';
        let track = tracks.get(arn);
        if (!track) {
          const definition = detail.taskDefinitionArn ?? '';
          track = {
            family: definition.split('/').pop()?.split(':')[0] ?? '',
            revision: Number(definition.split(':').pop()),
          };
          tracks.set(arn, track);
        }
        if (detail.desiredStatus === 'STOPPED' || LEAVING_STATUSES.has(detail.lastStatus ?? ''))
          track.leavingAt ??= now;
        if (detail.lastStatus === 'RUNNING') track.runningAt ??= now;
        if (detail.lastStatus === 'STOPPED') track.stoppedAt ??= now;
      },
    });
    const runner = new FunctionRunner(options.root, functions, names, scale);
    runner.install();
    closers.push(() => runner.uninstall());
    em.setTimeScale(scale);
    if (options.quotas) em.setFaults({ quotas: 'aws' });
    em.setEventDelivery(true);
    applyDelivery(em, delivery, runner.invoke);

    const lookupClient = createServiceDiscoveryClient({ endpoint: em.url, region: 'us-east-1', maxAttempts: 3 });
    closers.push(() => lookupClient.destroy());
    const app = createCloudMapLookupApp(scaledLookupConfig(functions, scale), lookupClient);
    const poller = new LookupPoller(app, options.pollMs);
    const healthy: [string, string] = ['health', 'healthy'];
    const revisionQuery = (revision: number): LookupQuery => ({
      path: `/services/${BURST}`,
      // One query per revision: DiscoverInstances answers 1,000 instances at most, and both revisions are up to 1,000.
      query: [healthy, ['attr.ECS_TASK_DEFINITION_REVISION', String(revision)]],
      timeline: new ListingTimeline(),
      listed: [],
    });
    const solo: LookupQuery = {
      path: `/services/${SOLO}`,
      query: [healthy],
      timeline: new ListingTimeline(),
      listed: [],
    };
    poller.queries = [solo];
    poller.start();
    closers.unshift(() => poller.stop());
    const setup = phase();
    log(
      `burst: setup (${options.tasks} + ${options.noLoadSamples} tasks registered by a backfill) in ${setup.realSeconds} s`,
    );

    // No load: the small service scaled in one task at a time, each stop once the previous one has settled.
    phase = phaseMonitor();
    const noLoadAnswersFrom = poller.answers;
    const soloTracks = () => [...tracks.entries()].filter(([, t]) => t.family === SOLO);
    const sampled: { instanceId: string; leavingAt?: number }[] = [];
    for (let left = options.noLoadSamples - 1; left >= 0; left -= 1) {
      const seen = new Set(sampled.map((s) => s.instanceId));
      await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SOLO, desiredCount: left }));
      let leaving: [string, TaskTrack] | undefined;
      const settled = await until(() => {
        leaving ??= soloTracks().find(([arn, t]) => t.leavingAt !== undefined && !seen.has(taskIdOf(arn)));
        if (!leaving) return false;
        const [arn, t] = leaving;
        return (
          t.stoppedAt !== undefined &&
          solo.timeline.outAfter(taskIdOf(arn), t.leavingAt as number) !== undefined &&
          drained(em.lambdaStats())
        );
      }, 60_000);
      if (!leaving) throw new Error('a scaled-in task of the no-load service never left');
      sampled.push({ instanceId: taskIdOf(leaving[0]), leavingAt: leaving[1].leavingAt });
      if (!settled) log(`burst: no-load sample ${sampled.length} did not settle within 60 s`);
    }
    const noLoadAnswers = poller.answers - noLoadAnswersFrom;
    const noLoad = phase();
    const noLoadValues = leavingToOut(sampled, solo.timeline, scale);
    log(`burst: ${sampled.length} no-load samples in ${noLoad.realSeconds} s`);

    // The burst: revision 2 of the big service, UpdateService, both revisions polled until every new task is listed
    // and every old one is out (or the deadline).
    phase = phaseMonitor();
    const oldQuery = revisionQuery(1);
    const newQuery = revisionQuery(2);
    const oldIds = new Set(oldTasks.map(taskIdOf));
    const oldArnById = new Map(oldTasks.map((arn) => [taskIdOf(arn), arn]));
    const oldPending = new Set(oldIds);
    let newListed = 0;
    const newSeen = new Set<string>();
    oldQuery.onAnswer = (listed, startedAt) => {
      for (const id of oldPending) {
        const leavingAt = tracks.get(oldArnById.get(id) ?? '')?.leavingAt;
        if (leavingAt !== undefined && startedAt >= leavingAt && !listed.has(id)) oldPending.delete(id);
      }
    };
    newQuery.onAnswer = (listed) => {
      for (const id of listed) {
        if (!newSeen.has(id)) {
          newSeen.add(id);
          newListed += 1;
        }
      }
    };
    poller.queries = [oldQuery, newQuery];
    const burstAnswersFrom = poller.answers;
    await until(() => oldQuery.timeline.answers.length > 0 && newQuery.timeline.answers.length > 0, 10_000);
    const listedBefore = oldQuery.listed.length;
    if (listedBefore !== options.tasks) log(`burst: ${listedBefore} of ${options.tasks} old tasks listed before`);
    em.resetLambdaStats();
    em.knob('calls', { reset: true });
    runner.reset();
    poller.slowestMs = 0;
    poller.longestGapMs = 0;
    hooks.operations.peak = hooks.operations.pending;
    await registerApp(ecs, BURST, HEALTH_CHECKED_APP);
    const deployedAt = performance.now();
    const loop = sampleEventLoop(250);
    closers.push(() => loop.stop());
    await ecs.send(
      new UpdateServiceCommand({ cluster: CLUSTER, service: BURST, taskDefinition: BURST, deploymentConfiguration }),
    );
    const newTracks = () => [...tracks.entries()].filter(([, t]) => t.family === BURST && t.revision === 2);
    let ecsDoneAt: number | undefined;
    let discoveredAt: number | undefined;
    let lastReport = performance.now();
    const complete = await until(
      () => {
        const now = performance.now();
        const report = now - lastReport > 15_000;
        if (ecsDoneAt === undefined || report) {
          const running = newTracks().filter(([, t]) => t.runningAt !== undefined).length;
          const stopped = oldTasks.filter((arn) => tracks.get(arn)?.stoppedAt !== undefined).length;
          if (ecsDoneAt === undefined && running >= options.tasks && stopped === oldTasks.length) ecsDoneAt = now;
          if (report) {
            lastReport = now;
            const stats = em.lambdaStats();
            log(
              `burst: ${((now - deployedAt) / 1000).toFixed(0)} s real: ${running} new RUNNING, ${newListed} listed; ` +
                `${stopped} old STOPPED, ${oldIds.size - oldPending.size} out; ` +
                stats.functions
                  .filter((f) => f.invocations + f.throttles > 0)
                  .map((f) => `${f.name}: ${f.invocations} invocations, ${f.throttles} throttled`)
                  .join('; '),
            );
          }
        }
        if (discoveredAt === undefined && newListed >= options.tasks && oldPending.size === 0) discoveredAt = now;
        return ecsDoneAt !== undefined && discoveredAt !== undefined;
      },
      options.deadlineSeconds * 1000,
      100,
    );
    const deadlineAt = performance.now();
    await until(() => drained(em.lambdaStats()), complete ? 60_000 : 1000, 100);
    const drainedAt = performance.now();
    loop.stop();
    const stats = em.lambdaStats();
    const calls = readCalls(em);
    const burstAnswers = poller.answers - burstAnswersFrom;
    await poller.stop();
    const burst = phase();

    // The figures.
    const aws = (realMs: number) => toAws(realMs, scale);
    const missing = aws(deadlineAt - deployedAt);
    const oldRecords = oldTasks.map((arn) => ({ instanceId: taskIdOf(arn), leavingAt: tracks.get(arn)?.leavingAt }));
    const leavingValues = leavingToOut(oldRecords, oldQuery.timeline, scale);
    const fresh = newTracks().map(([arn]) => ({ instanceId: taskIdOf(arn), healthyAt: hooks.healthyAt.get(arn) }));
    const healthyValues = healthyToDiscoverable(fresh, newQuery.timeline, scale);
    const between = (
      ids: readonly string[],
      from: (id: string) => number | undefined,
      to: (id: string) => number | undefined,
    ) =>
      distribution(
        ids.flatMap((id) => {
          const a = from(id);
          const b = to(id);
          return a === undefined || b === undefined ? [] : [aws(b - a)];
        }),
        ids.length,
      );
    const oldIdList = oldRecords.map((r) => r.instanceId);
    const newIdList = fresh.map((r) => r.instanceId);
    const leavingOf = (id: string) => tracks.get(oldArnById.get(id) ?? '')?.leavingAt;
    const newArnById = new Map(newTracks().map(([arn]) => [taskIdOf(arn), arn]));
    // Each task's moments (real ms), as the hooks and the lookups saw them.
    const healthyOf = (id: string) => hooks.healthyAt.get(newArnById.get(id) ?? '');
    const requestedOf = (id: string) => hooks.applied.get(id)?.requestedAt;
    const registeredOf = (id: string) => hooks.applied.get(id)?.registeredAt;
    const deregisteredOf = (id: string) => hooks.applied.get(id)?.deregisteredAt;
    const listedOf = (id: string) => newQuery.timeline.firstListed(id);
    const split = {
      leavingToDeregisteredMs: between(oldIdList, leavingOf, deregisteredOf),
      deregisteredToOutMs: between(oldIdList, deregisteredOf, (id) => {
        const leavingAt = leavingOf(id);
        return leavingAt === undefined ? undefined : oldQuery.timeline.outAfter(id, leavingAt);
      }),
      healthyToRegisteredMs: between(newIdList, healthyOf, registeredOf),
      registeredToListedMs: between(newIdList, registeredOf, listedOf),
    };
    const byHealthy = fresh
      .filter((t): t is { instanceId: string; healthyAt: number } => t.healthyAt !== undefined)
      .sort((a, b) => a.healthyAt - b.healthyAt);
    const firstWave = byHealthy.slice(0, 100);
    const waveSplit = (wave: readonly { instanceId: string }[]): WaveSplit => {
      const ids = wave.map((t) => t.instanceId);
      return {
        healthyToRequestedMs: between(ids, healthyOf, requestedOf),
        requestedToRegisteredMs: between(ids, requestedOf, registeredOf),
        registeredToListedMs: between(ids, registeredOf, listedOf),
      };
    };
    const healthyWaves = {
      first100Ms: distribution(healthyToDiscoverable(firstWave, newQuery.timeline, scale), firstWave.length),
      restMs: distribution(
        healthyToDiscoverable(byHealthy.slice(100), newQuery.timeline, scale),
        byHealthy.length - firstWave.length,
      ),
      first100SpreadMs: firstWave.length ? aws((firstWave.at(-1)?.healthyAt ?? 0) - (firstWave[0]?.healthyAt ?? 0)) : 0,
      first100Split: waveSplit(firstWave),
      restSplit: waveSplit(byHealthy.slice(100)),
    };
    const invocationsPer10Seconds = Object.fromEntries(
      [...runner.starts].map(([name, starts]) => {
        const buckets: number[] = [];
        for (const at of starts) {
          const bucket = Math.max(0, Math.floor(aws(at - deployedAt) / 10_000));
          while (buckets.length <= bucket) buckets.push(0);
          buckets[bucket] = (buckets[bucket] ?? 0) + 1;
        }
        return [name, buckets];
      }),
    );
    const functionFigures: FunctionFigures[] = stats.functions
      .filter((f) => f.invocations + f.throttles > 0)
      .map((f) => ({
        name: f.name,
        ...(f.reservedConcurrency !== undefined ? { reservedConcurrency: f.reservedConcurrency } : {}),
        invocations: f.invocations,
        throttles: f.throttles,
        errors: f.errors,
        maxConcurrent: f.maxConcurrent,
        recordsHandled: f.recordsHandled,
        asyncDiscarded: f.asyncDiscarded,
        billedSeconds: Number((aws(f.billedMs) / 1000).toFixed(1)),
      }));
    const billedRealMs = stats.functions.reduce((sum, f) => sum + f.billedMs, 0);
    const sum = (pick: (f: FunctionFigures) => number) => functionFigures.reduce((n, f) => n + pick(f), 0);
    const count = (match: (key: string) => boolean) =>
      Object.entries(calls)
        .filter(([key]) => match(key))
        .reduce((n, [, c]) => ({ calls: n.calls + c.calls, throttled: n.throttled + c.throttled }), {
          calls: 0,
          throttled: 0,
        });
    const ecsCalls = count((key) => key.startsWith('ecs.'));
    const writes = count((key) =>
      ['RegisterInstance', 'DeregisterInstance', 'UpdateInstanceCustomHealthStatus'].some(
        (action) => key === `cloudMap.${action}`,
      ),
    );
    const slowestLeaving = oldRecords
      .map((r) => {
        const out = r.leavingAt === undefined ? undefined : oldQuery.timeline.outAfter(r.instanceId, r.leavingAt);
        const stopped = tracks.get(oldArnById.get(r.instanceId) ?? '')?.stoppedAt;
        const since = (at: number | undefined) => (at === undefined ? null : Math.round(aws(at - deployedAt)));
        return {
          taskId: r.instanceId,
          leavingAtMs: since(r.leavingAt) ?? -1,
          outAtMs: since(out),
          stoppedAtMs: since(stopped),
          took: out === undefined || r.leavingAt === undefined ? Number.POSITIVE_INFINITY : out - r.leavingAt,
        };
      })
      .sort((a, b) => b.took - a.took)
      .slice(0, 5)
      .map(({ took: _took, ...rest }) => rest);
    const waitSeconds = Object.fromEntries(
      Object.entries(runner.waits).map(([kind, ms]) => [kind, Number((ms / 1000).toFixed(1))]),
    ) as unknown as Waits;
    if (emulatorLog.length > 0) log(`burst: emulator said (first of ${emulatorLog.length}): ${emulatorLog[0]}`);
    return {
      tasks: options.tasks,
      noLoadSamples: options.noLoadSamples,
      timeScale: scale,
      quotas: options.quotas ? 'aws' : 'off',
      pollMs: options.pollMs,
      complete,
      leavingToOutMs: distribution(leavingValues, oldRecords.length, missing),
      leavingToOutNoLoadMs: distribution(noLoadValues, sampled.length),
      healthyToDiscoverableMs: distribution(healthyValues, options.tasks, missing),
      split,
      healthyWaves,
      invocationsPer10Seconds,
      eventLoop: {
        utilization: loop.between(deployedAt, drainedAt),
        busiest250Ms: loop.busiest(),
        firstWave3s: firstWave[0] ? loop.between(firstWave[0].healthyAt, firstWave[0].healthyAt + 3000 * scale) : 0,
      },
      lookupSlowestAnswerMs: Math.round(poller.slowestMs),
      lookupLongestGapMs: Math.round(poller.longestGapMs),
      lookupErrors: poller.errors.length,
      firstLookupError: poller.errors[0] ?? null,
      deploymentSeconds: Number((aws((ecsDoneAt ?? deadlineAt) - deployedAt) / 1000).toFixed(1)),
      discoverySettledSeconds: Number((aws((discoveredAt ?? deadlineAt) - deployedAt) / 1000).toFixed(1)),
      drainedSeconds: Number((aws(drainedAt - deployedAt) / 1000).toFixed(1)),
      functions: functionFigures,
      invocations: sum((f) => f.invocations),
      throttles: sum((f) => f.throttles),
      errors: sum((f) => f.errors),
      billedSeconds: Number((aws(billedRealMs) / 1000).toFixed(1)),
      functionSecondsPerLifecycle: Number(
        secondsPerLifecycle(
          aws(billedRealMs) / 1000,
          newIdList.filter((id) => hooks.applied.get(id)?.registeredAt !== undefined).length,
          oldIdList.filter((id) => hooks.applied.get(id)?.deregisteredAt !== undefined).length,
        ).toFixed(3),
      ),
      waitSeconds,
      sleepingShare: billedRealMs === 0 ? 0 : Number((runner.waits.registrar / aws(billedRealMs)).toFixed(3)),
      operationWaitShare:
        billedRealMs === 0 ? 0 : Number((runner.waits.cloudMapOperation / aws(billedRealMs)).toFixed(3)),
      outcomes: { ...runner.outcomes },
      calls,
      ecsCalls: ecsCalls.calls,
      ecsThrottled: ecsCalls.throttled,
      cloudMapWrites: writes.calls,
      peakConcurrentCloudMapOperations: hooks.operations.peak,
      queues: stats.queues,
      lookupAnswers: { noLoad: noLoadAnswers, burst: burstAnswers },
      phases: { setup, noLoad, burst },
      slowestLeaving,
      realSeconds: Number(((performance.now() - realStart) / 1000).toFixed(1)),
    };
  } finally {
    for (const close of closers) await close();
  }
}
