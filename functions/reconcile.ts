import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { loadReconcileConfig } from '../lib/config';
import { logger, metrics } from '../lib/observability';
import { type ReconcileSummary, reconcile } from '../lib/reconcile';
import { createRegistrarDeps } from '../lib/registrar-runtime';

// Configuration and SDK clients are built once per container.
const config = loadReconcileConfig();
const deps = createRegistrarDeps(config);

/** Scheduled: makes Cloud Map equal to what ECS runs (backfill, lost events, drift). */
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
    return summary;
  });
