import {
  ConfigError,
  NamespaceNotFoundError,
  RegistrarError,
  RouteNotFoundError,
  ServiceNotFoundError,
  UpstreamError,
  UpstreamThrottledError,
  ValidationError,
} from '../errors';
import type { HttpResponse } from './types';

/** Headers of every answer the function produces. */
export const BASE_HEADERS = {
  'content-type': 'application/json',
  'x-content-type-options': 'nosniff',
} as const;

/** An error answer `{ error, message }`, never cached. */
export function errorResponse(
  statusCode: number,
  error: string,
  message: string,
  extra: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode,
    headers: { ...BASE_HEADERS, 'cache-control': 'no-store', ...extra },
    body: JSON.stringify({ error, message }),
  };
}

/**
 * The one mapping from an error to the HTTP answer `{ error, message }`. Client errors say what was
 * wrong; server errors keep their cause and any AWS message for the logs and answer a fixed sentence.
 */
export function toHttpResponse(error: unknown): HttpResponse {
  if (error instanceof ValidationError) return errorResponse(400, error.code, error.message);
  if (error instanceof RouteNotFoundError) return errorResponse(404, error.code, error.message);
  if (error instanceof NamespaceNotFoundError || error instanceof ServiceNotFoundError) {
    return errorResponse(404, error.code, error.message);
  }
  if (error instanceof UpstreamThrottledError) {
    return errorResponse(503, error.code, error.message, { 'retry-after': String(error.retryAfterSeconds) });
  }
  if (error instanceof UpstreamError) return errorResponse(502, error.code, error.message);
  if (error instanceof ConfigError) {
    return errorResponse(500, error.code, 'The lookup function is misconfigured; its logs name the setting');
  }
  const code = error instanceof RegistrarError ? error.code : 'internal-error';
  return errorResponse(500, code, 'The lookup failed unexpectedly; its logs hold the detail');
}
