import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import { loadLookupConfig } from '../lib/config';
import { type LookupEvent, parseLookupEvent } from '../lib/lookup/http-event';
import { createCloudMapLookupApp, type LookupApp } from '../lib/lookup/lookup-app';
import { httpErrorResponder } from '../lib/lookup/middleware';
import type { HttpResponse } from '../lib/lookup/types';
import { logger } from '../lib/observability';

/**
 * GET /services, /services/{service}, /namespaces/{namespace}/services/{service}, /resolve/{name}:
 * cached Cloud Map discovery over HTTP (API Gateway HTTP API payload v2, or REST API payload v1).
 */

/** Wires the middlewares around one lookup; an Error in place of the app is what every request answers. */
export function createHandler(app: LookupApp | Error) {
  return middy<LookupEvent, HttpResponse>()
    .use(httpErrorResponder({ logger }))
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      if (app instanceof Error) throw app;
      return app.answer(parseLookupEvent(event));
    });
}

/** Cold start: config and client once per container. A bad environment is logged and answered as a 500. */
function coldStart(): LookupApp | Error {
  try {
    // Fewer attempts than the register function: a lookup caller is waiting, and a stale answer may serve.
    return createCloudMapLookupApp(loadLookupConfig(), createServiceDiscoveryClient({ maxAttempts: 3 }));
  } catch (error) {
    logger.error('lookup cold start failed', { error });
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The Lambda entry point (serverless.yml: functions/lookup.handler). */
export const handler = createHandler(coldStart());
