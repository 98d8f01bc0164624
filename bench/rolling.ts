import { envNumber } from '../support/bench-env';
import { registerPattern, resolveServerlessYml } from '../support/pipeline';
import {
  EXIT_AT_SIGTERM,
  type PathFigures,
  RECOMMENDED,
  type RollingRun,
  runRollingDeployment,
  TTL_60,
} from '../support/rolling';

/**
 * The rolling-deployment benchmark (issue 12): services of ROLLING_TASKS live Fargate tasks (default 50)
 * moved to a new task definition revision by UpdateService (minimumHealthyPercent 100, maximumPercent
 * 200) while callers call them through the lookup API and through DNS; in one run, one after the other on
 * the same pipeline, the recommended settings, an app that exits at SIGTERM, and a 60 s DNS TTL (one at a
 * time: see RollingOptions.sequential). See support/rolling.ts for the pipeline and how time is scaled.
 *
 * Knobs (environment): ROLLING_TASKS (tasks per service, default 50), ROLLING_TIME_SCALE (default 0.25),
 * ROLLING_RATE (requests per real second on each path, default 150), ROLLING_CALLERS (callers per path,
 * each with its own cache, default 20). `ROLLING_TASKS=10 npm run bench -- rolling` runs a small one.
 * About 100 s at the defaults.
 */

/** The `rolling` section of bench/results.json. Durations are in AWS time (real time / timeScale). */
export interface RollingBenchmark {
  /** Failed requests (refused, reset, timed out, 5xx, no address) per 10,000 through the lookup API, recommended settings (goal 0). */
  lookupFailedPer10000: number;
  /** The same through DNS (goal 0). */
  dnsFailedPer10000: number;
  /** Answers from a task already STOPPING (draining) per path, recommended settings. */
  lookupAnswersFromStoppingTasks: number;
  dnsAnswersFromStoppingTasks: number;
  /** The app exits at SIGTERM (LOCAL_APP_DRAIN_SECONDS=0). */
  exitAtSigterm: { lookupFailedPer10000: number; dnsFailedPer10000: number };
  /** DNS TTL 60 s (the old Copilot default), the app draining as recommended. */
  ttl60: { dnsFailedPer10000: number };
  /**
   * p99 over the new tasks, and over both paths, of the healthy moment (40 s after RUNNING for these tasks without a
   * container health check: when ECS counts them healthy) to the task being reachable (goal <= 1,000); see
   * PathFigures.newTaskReachableAfterHealthyMs.
   */
  newTaskReachableAfterHealthyP99Ms: number;
  /** p99 over the new tasks, and over both paths, of RUNNING to the first successful request that reached it. */
  newTaskReachableP99Ms: number;
  newTaskReachableP50Ms: number;
  /** The same split by path, and RUNNING to the registration done (the Cloud Map operation included). */
  lookupNewTaskReachableP99Ms: number;
  dnsNewTaskReachableP99Ms: number;
  newTaskRegisteredP99Ms: number;
  newTaskRegisteredP50Ms: number;
  /** The register function's real (unscaled) time on those RUNNING events: it counts 1/timeScale times over. */
  registerFunctionRealP50Ms: number;
  /** From registered to the first answer a caller fetched that lists the task: the caches alone. */
  lookupNewTaskDiscoveredAfterRegisteredP99Ms: number;
  dnsNewTaskDiscoveredAfterRegisteredP99Ms: number;
  /** How long callers kept calling an old task after its deregistration (the drain must cover it). */
  lookupLongestAnswerAfterDeregistrationMs: number;
  dnsLongestAnswerAfterDeregistrationMs: number;
  /** UpdateService to every new task RUNNING and every old one STOPPED, recommended settings. */
  deploymentSeconds: number;
  /** Requests made, all paths and variants. */
  requests: number;
  tasks: number;
  timeScale: number;
  /** Everything the run measured, per deployment and per path. */
  run: RollingRun;
}

function pathOf(run: RollingRun, variant: string, path: 'lookup' | 'dns'): PathFigures {
  const found = run.paths.find((p) => p.variant === variant && p.path === path);
  if (!found) throw new Error(`the run has no ${variant} ${path} path`);
  return found;
}

export async function runRollingBenchmark(log: (line: string) => void = () => undefined): Promise<RollingBenchmark> {
  // Every task event straight to the register handler (no queue): the events the deployed rules take.
  await resolveServerlessYml();
  const pattern = registerPattern();
  const tasks = Math.round(envNumber('ROLLING_TASKS', 50));
  const timeScale = envNumber('ROLLING_TIME_SCALE', 0.25);
  const run = await runRollingDeployment({
    tasks,
    timeScale,
    variants: [RECOMMENDED, EXIT_AT_SIGTERM, TTL_60],
    ratePerPath: envNumber('ROLLING_RATE', 150),
    callers: Math.round(envNumber('ROLLING_CALLERS', 20)),
    sequential: true,
    // Away from `npm start` (10) and the test workers (10 and up): their tasks would hold the same addresses.
    addressOctet: 200,
    pattern,
    log,
  });
  for (const p of run.paths) {
    log(
      `${p.variant} ${p.path}: ${p.requests} requests, ${p.failed} failed (${JSON.stringify(p.failures)}), ` +
        `${p.answersFromStoppingTasks} from STOPPING tasks, new task reachable p99 ${p.newTaskReachableMs.p99} ms`,
    );
  }
  log(`time scale ${timeScale}: TTLs, max-age, lookup caches, drain and stopTimeout scaled alike; figures in AWS time`);
  const lookup = pathOf(run, RECOMMENDED.name, 'lookup');
  const dnsPath = pathOf(run, RECOMMENDED.name, 'dns');
  const recommended = run.deployments.find((d) => d.variant === RECOMMENDED.name);
  const reachable = [lookup.newTaskReachableMs, dnsPath.newTaskReachableMs];
  const afterHealthy = [lookup.newTaskReachableAfterHealthyMs, dnsPath.newTaskReachableAfterHealthyMs];
  return {
    lookupFailedPer10000: lookup.failedPer10000,
    dnsFailedPer10000: dnsPath.failedPer10000,
    lookupAnswersFromStoppingTasks: lookup.answersFromStoppingTasks,
    dnsAnswersFromStoppingTasks: dnsPath.answersFromStoppingTasks,
    exitAtSigterm: {
      lookupFailedPer10000: pathOf(run, EXIT_AT_SIGTERM.name, 'lookup').failedPer10000,
      dnsFailedPer10000: pathOf(run, EXIT_AT_SIGTERM.name, 'dns').failedPer10000,
    },
    ttl60: { dnsFailedPer10000: pathOf(run, TTL_60.name, 'dns').failedPer10000 },
    newTaskReachableAfterHealthyP99Ms: Math.max(...afterHealthy.map((s) => s.p99)),
    newTaskReachableP99Ms: Math.max(...reachable.map((s) => s.p99)),
    newTaskReachableP50Ms: Math.max(...reachable.map((s) => s.p50)),
    lookupNewTaskReachableP99Ms: lookup.newTaskReachableMs.p99,
    dnsNewTaskReachableP99Ms: dnsPath.newTaskReachableMs.p99,
    newTaskRegisteredP99Ms: recommended?.runningToRegisteredMs.p99 ?? Number.NaN,
    newTaskRegisteredP50Ms: recommended?.runningToRegisteredMs.p50 ?? Number.NaN,
    registerFunctionRealP50Ms: recommended?.registerHandlerRealMs.p50 ?? Number.NaN,
    lookupNewTaskDiscoveredAfterRegisteredP99Ms: lookup.newTaskDiscoveredAfterRegisteredMs.p99,
    dnsNewTaskDiscoveredAfterRegisteredP99Ms: dnsPath.newTaskDiscoveredAfterRegisteredMs.p99,
    lookupLongestAnswerAfterDeregistrationMs: lookup.longestAnswerAfterDeregistrationMs,
    dnsLongestAnswerAfterDeregistrationMs: dnsPath.longestAnswerAfterDeregistrationMs,
    deploymentSeconds: Number(((recommended?.durationMs ?? Number.NaN) / 1000).toFixed(1)),
    requests: run.paths.reduce((n, p) => n + p.requests, 0),
    tasks,
    timeScale,
    run,
  };
}

export default runRollingBenchmark;
