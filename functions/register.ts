import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { loadRegistrarConfig } from '../lib/config';
import { logger, metrics } from '../lib/observability';
import type { Outcome } from '../lib/registrar';
import { createRegistrarDeps, runRegistration } from '../lib/registrar-runtime';

// Configuration and SDK clients are built once per container.
const deps = createRegistrarDeps(loadRegistrarConfig());

/** EventBridge target: one ECS Task State Change in, Cloud Map kept in step. */
export const handler = middy<unknown, Outcome>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler((event: unknown) => runRegistration(event, deps));
