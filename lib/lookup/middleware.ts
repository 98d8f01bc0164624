import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import { toHttpResponse } from './http-errors';
import type { HttpResponse } from './types';

/** Options of `httpErrorResponder`. */
export interface HttpErrorResponderOptions {
  logger: Pick<Logger, 'warn' | 'error' | 'debug'>;
}

/**
 * Turns any error of the handler or of an earlier middleware into the JSON answer of
 * `toHttpResponse`, so nothing escapes to API Gateway (whose own answer would be a bare 502).
 * Register it first: middy runs `onError` in reverse order, so it then runs last.
 */
export function httpErrorResponder(options: HttpErrorResponderOptions): MiddlewareObj<unknown, HttpResponse> {
  if (!options?.logger) throw new TypeError('httpErrorResponder needs a logger');
  const { logger } = options;
  return {
    name: 'httpErrorResponder',
    onError: (request) => {
      const response = toHttpResponse(request.error);
      // A 500 is our bug; a 502 or 503 is Cloud Map's weather; a 4xx is the caller's.
      if (response.statusCode === 500) logger.error('lookup failed', { error: request.error });
      else if (response.statusCode >= 500) logger.warn('lookup upstream failure', { error: request.error });
      else logger.debug('lookup refused', { statusCode: response.statusCode, error: request.error });
      return response;
    },
  };
}
