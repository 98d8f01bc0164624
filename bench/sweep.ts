import { sweepHealth } from '../lib/health-sweep';
import { AWS_QUOTAS } from '../local/emulator/quotas';
import {
  type CallCounts,
  callsOf,
  readCalls,
  resetCalls,
  round,
  startAtScale,
  throttledOf,
  underAwsQuotas,
} from '../support/at-scale';

/**
 * The health sweep at 5,000 tasks (issue 13): the fleet of bench/reconcile.ts (5,000 registered tasks,
 * half of them health-checked, 100 services, 3 clusters), then the real `sweepHealth` passes as the
 * healthSweep function runs them, with the real SDK clients against the emulator with AWS's quotas on at
 * time scale 1. Pass 1 runs in a new container (caches cold); pass 2 is the steady state (task
 * definitions cached; service tags cached for SERVICE_TAGS_TTL_MS, 60 s, so they are read again once a
 * minute, i.e. every third pass at the default 20 s interval).
 */
export interface SweepBenchmark {
  tasks: number;
  /** Steady-state DescribeTasks calls a second of the sweep / ECS's sustained DescribeTasks rate (20/s). */
  describeTasksShareOfQuota: number;
  describeTasksPerPass: number;
  describeTasksPerSecond: number;
  /** DescribeTasks shares its bucket ("Cluster resource read actions") with ListTasks: the bucket's share. */
  clusterResourceReadShareOfQuota: number;
  /** The same with the reconcile function's listing every RECONCILE_RATE (5 minutes) added. */
  clusterResourceReadShareWithReconcile: number;
  listTasksPerPass: number;
  intervalSeconds: number;
  sustainedRatePerSecond: number;
  passSeconds: { cold: number; steady: number };
  ecsCallsPerPass: { cold: Record<string, number>; steady: Record<string, number> };
  cloudMapCallsPerPass: { cold: Record<string, number>; steady: Record<string, number> };
  taskTableCallsPerPass: Record<string, number>;
  throttledCalls: number;
  formulas: Record<string, string>;
}

const RECONCILE_RATE_SECONDS = 300;

export default async function runSweepBenchmark(
  log: (line: string) => void = () => undefined,
): Promise<SweepBenchmark> {
  const scale = await startAtScale({ log });
  try {
    const { deps, taskTableCalls } = underAwsQuotas(scale);
    const clusters = await deps.tasks.listClusters();
    const pass = async (): Promise<{ seconds: number; counts: CallCounts; table: Record<string, number> }> => {
      resetCalls(scale.emulator);
      for (const key of Object.keys(taskTableCalls)) delete taskTableCalls[key];
      const started = performance.now();
      const summary = await sweepHealth(deps, clusters, new Date());
      const seconds = (performance.now() - started) / 1000;
      if (summary.failed > 0) throw new Error(`the sweep pass failed ${summary.failed} item(s)`);
      return { seconds, counts: readCalls(scale.emulator), table: { ...taskTableCalls } };
    };
    const cold = await pass();
    const steady = await pass();
    const steadyEcs = callsOf(steady.counts, 'ecs').byAction;
    const describeTasks = steadyEcs.DescribeTasks ?? 0;
    const listTasks = steadyEcs.ListTasks ?? 0;
    const interval = scale.config.healthSweepIntervalMs / 1000;
    const bucket = AWS_QUOTAS.find((b) => b.actions.includes('DescribeTasks'));
    if (!bucket) throw new Error('no DescribeTasks bucket in AWS_QUOTAS');
    const perSecond = describeTasks / interval;
    const bucketPerSecond = (describeTasks + listTasks) / interval;
    // The reconcile function lists the same tasks the same way (planRunningTasks) once per run.
    const withReconcile = bucketPerSecond + (describeTasks + listTasks) / RECONCILE_RATE_SECONDS;
    log(`steady pass: ${describeTasks} DescribeTasks, ${listTasks} ListTasks in ${steady.seconds.toFixed(1)} s`);
    return {
      tasks: scale.tasks,
      describeTasksShareOfQuota: round(perSecond / bucket.rate, 3),
      describeTasksPerPass: describeTasks,
      describeTasksPerSecond: round(perSecond, 2),
      clusterResourceReadShareOfQuota: round(bucketPerSecond / bucket.rate, 3),
      clusterResourceReadShareWithReconcile: round(withReconcile / bucket.rate, 3),
      listTasksPerPass: listTasks,
      intervalSeconds: interval,
      sustainedRatePerSecond: bucket.rate,
      passSeconds: { cold: round(cold.seconds, 2), steady: round(steady.seconds, 2) },
      ecsCallsPerPass: { cold: callsOf(cold.counts, 'ecs').byAction, steady: steadyEcs },
      cloudMapCallsPerPass: {
        cold: callsOf(cold.counts, 'cloudMap').byAction,
        steady: callsOf(steady.counts, 'cloudMap').byAction,
      },
      taskTableCallsPerPass: steady.table,
      throttledCalls: throttledOf(cold.counts) + throttledOf(steady.counts),
      formulas: {
        describeTasksShareOfQuota:
          'DescribeTasks calls of a steady-state pass / HEALTH_SWEEP_INTERVAL_MS (20 s) / 20 a second (ECS "Cluster resource read actions" refill rate); goal <= 0.25',
        clusterResourceReadShareOfQuota: '(DescribeTasks + ListTasks of a steady pass) / 20 s / 20 a second',
        clusterResourceReadShareWithReconcile:
          'the same plus (DescribeTasks + ListTasks) / 300 s: the reconcile run lists the same tasks every 5 minutes',
      },
    };
  } finally {
    await scale.stop();
  }
}
