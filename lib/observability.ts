import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The project's name: the owner attribute's value, the metrics namespace and the service tag. */
export const PROJECT = 'ecs-cloudmap-registrar';

/** One structured JSON logger per container (Powertools). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? PROJECT });

function createMetrics(): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EcsCloudMapRegistrar',
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? PROJECT,
  });
}

/**
 * One EMF metrics emitter per container (Powertools). Built by a call marked pure so that a bundle which
 * never uses it (the lookup function's) drops it, and the Metrics class, at build time.
 */
export const metrics = /* @__PURE__ */ createMetrics();
