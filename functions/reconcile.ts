import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { loadReconcileConfig } from '../lib/config';
import { ItemsFailedError } from '../lib/errors';
import { logger, metrics } from '../lib/observability';
import { type ReconcileSummary, reconcile } from '../lib/reconcile';
import { createRegistrarDeps } from '../lib/registrar-runtime';

// Configuration and SDK clients are built once per container.
const config = loadReconcileConfig();
const deps = createRegistrarDeps(config);

/**
 * Scheduled: makes Cloud Map equal to what ECS runs (backfill, lost events, drift). Items that fail are
 * counted and the run goes on; only at the end does it throw, so that the Errors alarm fires.
 */
export const handler = middy<unknown, ReconcileSummary>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async () => {
    const summary = await reconcile(deps, {
      maxDeletes: config.maxDeletes,
      ...(config.clusters ? { clusters: config.clusters } : {}),
    });
    logger.info('reconciled', { ...summary, action: 'reconcile' });
    metrics.addMetric('ReconcileRegistered', MetricUnit.Count, summary.registered);
    metrics.addMetric('ReconcileDeregistered', MetricUnit.Count, summary.deregistered);
    metrics.addMetric('ReconcileUpdated', MetricUnit.Count, summary.updated);
    metrics.addMetric('ReconcileDeferred', MetricUnit.Count, summary.deferred);
    metrics.addMetric('ReconcileItemsFailed', MetricUnit.Count, summary.failed);
    if (summary.failed > 0) throw new ItemsFailedError('reconcile', summary.failed, summary.failedByReason);
    return summary;
  });
