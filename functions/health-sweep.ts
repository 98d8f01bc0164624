import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadReconcileConfig } from '../lib/config';
import { ItemsFailedError } from '../lib/errors';
import { type HealthSweepSummary, sweepHealth } from '../lib/health-sweep';
import { totalFailures } from '../lib/item-tally';
import { logger, metrics } from '../lib/observability';
import { createRegistrarDeps } from '../lib/registrar-runtime';
import { sleep } from '../lib/sleep';

// Configuration and SDK clients are built once per container.
const config = loadReconcileConfig();
const deps = createRegistrarDeps(config);

/**
 * Scheduled every minute: sweeps health-checked tasks every HEALTH_SWEEP_INTERVAL_MS within the
 * invocation (a schedule cannot fire more often than once a minute), stopping before the next one.
 * Items that fail are counted and the passes go on; only at the end does it throw, so that the Errors
 * alarm fires.
 */
export const handler = middy<unknown, HealthSweepSummary[]>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (_event: unknown, context: Context) => {
    const passes: HealthSweepSummary[] = [];
    const clusters = config.clusters ?? (await deps.tasks.listClusters());
    const started = Date.now();
    for (;;) {
      const summary = await sweepHealth(deps, clusters, new Date());
      passes.push(summary);
      logger.info('health sweep', { ...summary, action: 'health-sweep' });
      metrics.addMetric('HealthRegistered', MetricUnit.Count, summary.registered);
      metrics.addMetric('HealthChanged', MetricUnit.Count, summary.healthChanged);
      metrics.addMetric('HealthSweepItemsFailed', MetricUnit.Count, summary.failed);
      const next = started + passes.length * config.healthSweepIntervalMs;
      // Stop when the next pass would start after the next scheduled invocation (60 s) or the timeout.
      if (next - started >= 60_000 || next - Date.now() > context.getRemainingTimeInMillis() - 5_000) break;
      await sleep(Math.max(0, next - Date.now()));
    }
    const { failed, failedByReason } = totalFailures(passes);
    if (failed > 0) throw new ItemsFailedError('health sweep', failed, failedByReason);
    return passes;
  });
