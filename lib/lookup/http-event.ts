import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { ValidationError } from '../errors';
import type { LookupHttpRequest } from './types';

/** An API Gateway proxy event: HTTP API payload v2, or REST API payload v1 (the private REST API mode). */
export type LookupEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

function isV2(event: LookupEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === '2.0' && typeof event.requestContext === 'object';
}

function isV1(event: LookupEvent): event is APIGatewayProxyEvent {
  const v1 = event as APIGatewayProxyEvent;
  return typeof v1.httpMethod === 'string' && typeof v1.path === 'string';
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | null | undefined) {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/** An HTTP API with a named stage puts the stage in rawPath; routes are matched without it. */
function withoutStage(rawPath: string, stage: string | undefined): string {
  if (!stage || stage === '$default') return rawPath;
  const prefix = `/${stage}`;
  if (rawPath === prefix) return '/';
  return rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : rawPath;
}

/**
 * Parses either API Gateway payload into one request shape.
 *
 * The v2 query is read from `rawQueryString`, not `queryStringParameters`: the latter joins repeated
 * names with commas, so `a=1&a=2` and `a=1,2` would look alike. v1 keeps repetitions in
 * `multiValueQueryStringParameters`.
 */
export function parseLookupEvent(event: LookupEvent): LookupHttpRequest {
  if (event && isV2(event)) {
    return {
      method: event.requestContext.http?.method ?? '',
      path: withoutStage(event.rawPath ?? '', event.requestContext.stage),
      query: [...new URLSearchParams(event.rawQueryString ?? '')],
      headers: lowerCaseHeaders(event.headers),
    };
  }
  if (event && isV1(event)) {
    const query: [string, string][] = [];
    const multi = event.multiValueQueryStringParameters ?? {};
    for (const [name, values] of Object.entries(multi)) for (const value of values ?? []) query.push([name, value]);
    if (!event.multiValueQueryStringParameters) {
      for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) query.push([name, value ?? '']);
    }
    return { method: event.httpMethod, path: event.path, query, headers: lowerCaseHeaders(event.headers) };
  }
  throw new ValidationError('invalid-request', 'The event is not an API Gateway HTTP request');
}
