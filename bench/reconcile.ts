import { reconcile } from '../lib/reconcile';
import {
  callsOf,
  quotaBoundSeconds,
  readCalls,
  round,
  startAtScale,
  throttledOf,
  underAwsQuotas,
} from '../support/at-scale';

/**
 * Reconcile at 5,000 tasks (issue 13): 5,000 running Fargate tasks in 100 services over 3 clusters, all
 * registered (a backfill run does it, at time scale 0), then one steady-state reconcile run, as the
 * scheduled function makes it from a new container (every cache cold): the real `reconcile` with the
 * real SDK clients against the emulator with AWS's documented quotas on (`/_local/faults` {"quotas":
 * "aws"}) at time scale 1, so the token buckets refill in real time. The emulator counts the calls.
 */
export interface ReconcileBenchmark {
  tasks: number;
  services: number;
  clusters: number;
  ecsCallsPer1000Tasks: number;
  cloudMapCallsPer1000Tasks: number;
  /** Measured run time under the quotas, plus an allowance for AWS's call latency (see `formulas`). */
  secondsAt5000TasksAtAwsRates: number;
  /** The function's timeout (serverless.yml) and the goal: <= 25% of it. */
  timeoutSeconds: number;
  shareOfTimeout: number;
  measuredSecondsUnderQuotas: number;
  quotaBoundSeconds: number;
  quotaBoundByBucket: Record<string, number>;
  assumedAwsCallLatencyMs: number;
  assumedDynamoDbCallLatencyMs: number;
  throttledCalls: number;
  /** Calls of the task table (DynamoDB) by version-store method: not an ECS or Cloud Map quota, but time. */
  taskTableCalls: Record<string, number>;
  ecsCallsByAction: Record<string, number>;
  cloudMapCallsByAction: Record<string, number>;
  summary: { registered: number; deregistered: number; updated: number; unchanged: number; failed: number };
  backfill: { seconds: number; ecsCallsPer1000Tasks: number; cloudMapCallsPer1000Tasks: number };
  setupSeconds: number;
  formulas: Record<string, string>;
}

const TIMEOUT_SECONDS = 600;
/** A conservative figure for one ECS or Cloud Map API call from Lambda in the same Region. */
const AWS_CALL_LATENCY_MS = 50;
/** The same for one DynamoDB read or write of the task table. */
const DYNAMODB_CALL_LATENCY_MS = 10;

export default async function runReconcileBenchmark(
  log: (line: string) => void = () => undefined,
): Promise<ReconcileBenchmark> {
  const scale = await startAtScale({ log });
  try {
    const { deps, taskTableCalls } = underAwsQuotas(scale);
    const started = performance.now();
    // As the function runs it: no WATCHED_CLUSTERS, so it lists the clusters too.
    const summary = await reconcile(deps, { maxDeletes: scale.config.maxDeletes });
    const measured = (performance.now() - started) / 1000;
    const counts = readCalls(scale.emulator);
    const ecs = callsOf(counts, 'ecs');
    const cloudMap = callsOf(counts, 'cloudMap');
    const bound = quotaBoundSeconds(counts);
    const tableCalls = Object.values(taskTableCalls).reduce((sum, n) => sum + n, 0);
    const atAws =
      measured + ((ecs.total + cloudMap.total) * AWS_CALL_LATENCY_MS + tableCalls * DYNAMODB_CALL_LATENCY_MS) / 1000;
    const per1000 = (n: number) => round((n * 1000) / scale.tasks, 1);
    log(`steady run: ${summary.unchanged} unchanged, ${ecs.total} ECS and ${cloudMap.total} Cloud Map calls`);
    log(`measured ${measured.toFixed(1)} s under the quotas; ${atAws.toFixed(1)} s at AWS's latency`);
    const backfillEcs = callsOf(scale.backfill, 'ecs').total;
    const backfillCloudMap = callsOf(scale.backfill, 'cloudMap').total;
    return {
      tasks: scale.tasks,
      services: scale.services,
      clusters: scale.clusters.length,
      ecsCallsPer1000Tasks: per1000(ecs.total),
      cloudMapCallsPer1000Tasks: per1000(cloudMap.total),
      secondsAt5000TasksAtAwsRates: round(atAws, 1),
      timeoutSeconds: TIMEOUT_SECONDS,
      shareOfTimeout: round(atAws / TIMEOUT_SECONDS, 3),
      measuredSecondsUnderQuotas: round(measured, 2),
      quotaBoundSeconds: round(bound.seconds, 2),
      quotaBoundByBucket: bound.byBucket,
      assumedAwsCallLatencyMs: AWS_CALL_LATENCY_MS,
      assumedDynamoDbCallLatencyMs: DYNAMODB_CALL_LATENCY_MS,
      throttledCalls: throttledOf(counts),
      taskTableCalls,
      ecsCallsByAction: ecs.byAction,
      cloudMapCallsByAction: cloudMap.byAction,
      summary: {
        registered: summary.registered,
        deregistered: summary.deregistered,
        updated: summary.updated,
        unchanged: summary.unchanged,
        failed: summary.failed,
      },
      backfill: {
        seconds: round(scale.backfillSeconds, 1),
        ecsCallsPer1000Tasks: per1000(backfillEcs),
        cloudMapCallsPer1000Tasks: per1000(backfillCloudMap),
      },
      setupSeconds: round(scale.setupSeconds, 1),
      formulas: {
        callsPer1000Tasks: 'calls the emulator counted during the run (throttled attempts included) x 1000 / tasks',
        secondsAt5000TasksAtAwsRates:
          'measuredSecondsUnderQuotas + ((ECS calls + Cloud Map calls) x assumedAwsCallLatencyMs + task table calls x assumedDynamoDbCallLatencyMs) / 1000 (every call as if sequential, on top of the local latency already measured: an upper estimate)',
        measuredSecondsUnderQuotas:
          "wall time of reconcile() against the emulator with AWS's quotas at time scale 1 (buckets refill in real time; throttled calls wait the SDK's backoff)",
        quotaBoundSeconds:
          'sum over ECS buckets of max(0, (calls - burst) / refill rate): the least time the buckets allow; Cloud Map publishes no rate for these actions',
        shareOfTimeout: 'secondsAt5000TasksAtAwsRates / 600 s (the function timeout); goal <= 0.25',
      },
    };
  } finally {
    await scale.stop();
  }
}
