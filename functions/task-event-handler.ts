import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse } from 'aws-lambda';
import type { RegistrarConfig } from '../lib/config';
import { logger, metrics } from '../lib/observability';
import type { Outcome } from '../lib/registrar';
import { createTaskQueueDeps } from '../lib/registrar-runtime';
import { runTaskInput } from '../lib/task-queue';

/**
 * The handler of a task-event function (register, deregister): the adapters built once per container from its
 * configuration; an SQS batch from its queue, or one task event invoked directly.
 */
export function taskEventHandler(config: RegistrarConfig) {
  const deps = createTaskQueueDeps(config);
  return middy<unknown, SQSBatchResponse | Outcome>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .handler((event: unknown) => runTaskInput(event, deps));
}
