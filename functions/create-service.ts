import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import {
  answerCreateService,
  type CreateServiceAnswer,
  createServiceCreatorDeps,
} from '../lib/cloud-map/create-service-request';
import { loadServiceCreatorConfig } from '../lib/config';
import { logger } from '../lib/observability';

// Configuration and SDK client are built once per container.
const deps = createServiceCreatorDeps(loadServiceCreatorConfig(), createServiceDiscoveryClient());

/**
 * Invoked synchronously by the register, reconcile and health sweep functions: creates a Cloud Map service with
 * the managed-by tag (the only role that may), or says why not. An AWS failure is thrown: the caller retries.
 */
export const handler = middy<unknown, CreateServiceAnswer>()
  .use(injectLambdaContext(logger))
  .handler(async (event: unknown) => {
    const answer = await answerCreateService(event, deps);
    if ('error' in answer) logger.warn(answer.message, { reason: answer.error, action: 'create-service' });
    else logger.info(`service ${answer.service.name} ready`, { ...answer.service, action: 'create-service' });
    return answer;
  });
