import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse } from 'aws-lambda';
import { loadRegistrarConfig } from '../lib/config';
import { logger, metrics } from '../lib/observability';
import type { Outcome } from '../lib/registrar';
import { createTaskQueueDeps } from '../lib/registrar-runtime';
import { runTaskInput } from '../lib/task-queue';

// Configuration and SDK clients are built once per container.
const deps = createTaskQueueDeps(loadRegistrarConfig());

/**
 * The register queue's consumer: running tasks (the running rule) and their health re-checks, in batches; also a
 * task event invoked directly (`registrar replay-dlq`).
 */
export const handler = middy<unknown, SQSBatchResponse | Outcome>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler((event: unknown) => runTaskInput(event, deps));
