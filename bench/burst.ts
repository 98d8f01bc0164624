import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envNumber } from '../support/bench-env';
import { type BurstRun, runBurst } from '../support/burst';

/**
 * The burst benchmark (issue 13): a rolling deployment of a health-checked ECS service of BURST_TASKS tasks
 * (default 1,000; awsvpc, an essential container with a health check, minimumHealthyPercent 100 and
 * maximumPercent 200) through the pipeline serverless.yml deploys, with the real handlers, at
 * registerMaxConcurrency as serverless.yml says (5 by default). See support/burst.ts for the pipeline and the time
 * scale, support/burst-figures.ts for the figures' definitions.
 *
 * Knobs (environment): BURST_TASKS (1000), BURST_NO_LOAD_SAMPLES (20), BURST_TIME_SCALE (1: real time is AWS time;
 * smaller runs faster but counts the one process's CPU contention 1/scale times over), BURST_QUOTAS (`aws`, the
 * emulator's AWS request quotas and Fargate's launch rate on during the deployment, or `off`), BURST_POLL_MS (lookup
 * poll period, real ms, 100: the figures' resolution; the lookup answers from its cache, and every answer that did not
 * change is a 304, so a finer poll costs Cloud Map nothing. Before issue 13's last change it was 500, which added
 * up to 500 ms to every figure and, against the 1 s cache interval, let a revision check wait for the poll after
 * the one it was due at), BURST_DEADLINE_SECONDS (real seconds the burst may take, 300; the before figures were
 * cut at 400).
 * `BURST_TASKS=100 npm run bench -- burst` runs a small one.
 *
 * The section keeps the `before` figures already in bench/results.json (the design before issue 13, measured once
 * in a copy of that tree) when it is measured again.
 */

/** The `burst` section of bench/results.json. Durations in AWS time: real time / timeScale. */
export interface BurstBenchmark {
  /** Per old task: its first leaving event (as the emulator publishes it) to its instance gone from `health=healthy` lookups, p99 (AWS ms). */
  leavingToOutP99Ms: number;
  /** The same for single tasks stopped one at a time with nothing else happening, same run (AWS ms). Goal: leavingToOutP99Ms <= 2x this. */
  leavingToOutNoLoadP99Ms: number;
  /** leavingToOutP99Ms / leavingToOutNoLoadP99Ms. */
  leavingToOutRatioToNoLoad: number;
  /** Per new task: ECS sets it HEALTHY to its instance listed in `health=healthy` lookups, p99 (AWS ms). Goal <= 5,000. */
  healthyToDiscoverableP99Ms: number;
  /** Lambda billed seconds of the task-event functions during the deployment / tasks (one start and one stop each). */
  functionSecondsPerLifecycle: number;
  /** Share of that billed time the registrar core spent sleeping (the health wait before issue 13). */
  sleepingShare: number;
  /** Share of it spent in Cloud Map's operation poll (waiting for an operation to finish). */
  operationWaitShare: number;
  /**
   * False when the deployment had not settled by BURST_DEADLINE_SECONDS: the tasks not yet out (or not yet listed)
   * count as the deadline, so the p99s are lower bounds.
   */
  complete: boolean;
  /** Old tasks out of the lookups, and new tasks listed, by the end of the run. */
  oldTasksOut: number;
  newTasksListed: number;
  invocations: number;
  throttles: number;
  /** UpdateService to every new task RUNNING and every old one STOPPED (AWS s). */
  deploymentSeconds: number;
  /** UpdateService to every new task listed and every old one out of the lookups (AWS s). */
  discoverySettledSeconds: number;
  /** RegisterInstance + DeregisterInstance + UpdateInstanceCustomHealthStatus calls during the deployment. */
  cloudMapWrites: number;
  peakConcurrentCloudMapOperations: number;
  tasks: number;
  timeScale: number;
  quotas: 'aws' | 'off';
  /** How each figure is computed. */
  formulas: string[];
  /** The tree measured: its git HEAD (and whether its working tree differed), when it is a git checkout. */
  commit: string | null;
  measuredAt: string;
  /** Everything the run measured. */
  run: BurstRun;
  /** The figures of the design before issue 13, kept from bench/results.json. */
  before?: unknown;
}

const FORMULAS = [
  "AWS ms = real ms / timeScale (the emulator, the functions' sleeps and the lookup caches all run timeScale times faster)",
  "leavingToOut = receive time of the first health=healthy lookup answer asked at or after the task's first leaving event (desiredStatus STOPPED or a status past RUNNING, at the moment the emulator publishes it) that no longer lists the instance, after the last answer that listed it, minus that event's moment; p99 by nearest rank over the old tasks (a task not out by the deadline counts as the deadline)",
  "healthyToDiscoverable = receive time of the first health=healthy answer listing the new task's instance minus the moment the emulator set its health-checked container HEALTHY; p99 over the new tasks",
  'lookups: the lookup app (lib/lookup) with the printed lookup settings, cache times x timeScale, asked every BURST_POLL_MS real ms, one query per task definition revision (attr.ECS_TASK_DEFINITION_REVISION) as DiscoverInstances answers 1,000 instances at most',
  "functionSecondsPerLifecycle = billed seconds of the task-event functions (the emulator Lambda model: each execution rounded up to 1 ms; / timeScale) from UpdateService until the delivery is drained (or the deadline) / lifecycles, a lifecycle being one registration and one deregistration Cloud Map applied ((registrations + deregistrations) / 2, = tasks when complete); an upper bound: the functions' own CPU time is counted 1/timeScale times over",
  "run.healthyWaves: the new tasks ordered by the moment the emulator set them HEALTHY; first100Ms is healthyToDiscoverable of the first 100 (Fargate's launch burst), restMs of the others, first100SpreadMs the AWS ms between the first and the 100th turning HEALTHY",
  "sleepingShare = sleeps of lib/registrar.ts that ran inside invocations (its health wait, its wait for another deregistration), in AWS ms / billed AWS ms; operationWaitShare the same for Cloud Map's operation poll (lib/cloud-map/cloud-map-registry.ts)",
];

function commitOf(root: string): string | null {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const head = git(['rev-parse', 'HEAD']).trim();
    const dirty = git(['status', '--porcelain', '--untracked-files=no']);
    return dirty.trim() === '' ? head : `${head} (working tree changed)`;
  } catch {
    return null;
  }
}

/** The `before` figures bench/results.json already holds, kept across measurements of the section. */
function keptBefore(): unknown {
  const file = join(__dirname, 'results.json');
  if (!existsSync(file)) return undefined;
  const results = JSON.parse(readFileSync(file, 'utf8')) as { burst?: { before?: unknown } };
  return results.burst?.before;
}

export async function runBurstBenchmark(log: (line: string) => void = () => undefined): Promise<BurstBenchmark> {
  const root = join(__dirname, '..');
  const quotas = process.env.BURST_QUOTAS ?? 'aws';
  if (quotas !== 'aws' && quotas !== 'off') throw new Error(`BURST_QUOTAS is aws or off (got "${quotas}")`);
  const run = await runBurst({
    root,
    tasks: Math.round(envNumber('BURST_TASKS', 1000)),
    noLoadSamples: Math.round(envNumber('BURST_NO_LOAD_SAMPLES', 20)),
    timeScale: envNumber('BURST_TIME_SCALE', 1),
    quotas: quotas === 'aws',
    pollMs: envNumber('BURST_POLL_MS', 100),
    deadlineSeconds: envNumber('BURST_DEADLINE_SECONDS', 300),
    log,
  });
  log(
    `leaving to out p99 ${run.leavingToOutMs.p99} ms (no load ${run.leavingToOutNoLoadMs.p99} ms); ` +
      `healthy to discoverable p99 ${run.healthyToDiscoverableMs.p99} ms; ` +
      `${run.functionSecondsPerLifecycle} function s per lifecycle; deployment ${run.deploymentSeconds} s (AWS time)` +
      `${run.complete ? '' : '; INCOMPLETE: the deadline came first'}`,
  );
  const before = keptBefore();
  return {
    leavingToOutP99Ms: run.leavingToOutMs.p99,
    leavingToOutNoLoadP99Ms: run.leavingToOutNoLoadMs.p99,
    leavingToOutRatioToNoLoad: Number((run.leavingToOutMs.p99 / run.leavingToOutNoLoadMs.p99).toFixed(2)),
    healthyToDiscoverableP99Ms: run.healthyToDiscoverableMs.p99,
    functionSecondsPerLifecycle: run.functionSecondsPerLifecycle,
    sleepingShare: run.sleepingShare,
    operationWaitShare: run.operationWaitShare,
    complete: run.complete,
    oldTasksOut: run.leavingToOutMs.measured,
    newTasksListed: run.healthyToDiscoverableMs.measured,
    invocations: run.invocations,
    throttles: run.throttles,
    deploymentSeconds: run.deploymentSeconds,
    discoverySettledSeconds: run.discoverySettledSeconds,
    cloudMapWrites: run.cloudMapWrites,
    peakConcurrentCloudMapOperations: run.peakConcurrentCloudMapOperations,
    tasks: run.tasks,
    timeScale: run.timeScale,
    quotas: run.quotas,
    formulas: FORMULAS,
    commit: commitOf(root),
    measuredAt: new Date().toISOString(),
    run,
    ...(before !== undefined ? { before } : {}),
  };
}

export default runBurstBenchmark;
