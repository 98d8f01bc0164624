import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { ValidationError } from '../errors';
import type { LookupHttpRequest } from './types';

/** An API Gateway proxy event: HTTP API payload v2, or REST API payload v1 (the private REST API mode). */
export type LookupEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

// Checked by hand rather than with zod: zod's record() skips a `__proto__` key (it neither checks nor keeps
// it), and a query may hold one. Every field is read as unknown, so no shape of event can throw a TypeError.

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The answer to any event API Gateway would not send: names the field (ours), never echoes its value. */
function refuse(problem: string): never {
  throw new ValidationError('invalid-request', `The event is not an API Gateway HTTP request: ${problem}`);
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') refuse(`${field} is not a string`);
  return value;
}

function optionalText(value: unknown, field: string): string | undefined {
  return value === undefined || value === null ? undefined : text(value, field);
}

/** Own entries of a map (headers, query parameters); API Gateway sends null, or leaves it out, for none. */
function entries(value: unknown, field: string): [string, unknown][] {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) refuse(`${field} is not an object`);
  return Object.entries(value);
}

function stringEntries(value: unknown, field: string): [string, string][] {
  const out = entries(value, field);
  if (out.some(([, v]) => typeof v !== 'string')) refuse(`${field} holds a value that is not a string`);
  return out as [string, string][];
}

/** Header names in lower case; Object.fromEntries keeps a header named `__proto__` as an own key. */
function lowerCaseHeaders(value: unknown, field: string): Record<string, string> {
  return Object.fromEntries(stringEntries(value, field).map(([name, v]) => [name.toLowerCase(), v]));
}

/** An HTTP API with a named stage puts the stage in rawPath; routes are matched without it. */
function withoutStage(rawPath: string, stage: string | undefined): string {
  if (!stage || stage === '$default') return rawPath;
  const prefix = `/${stage}`;
  if (rawPath === prefix) return '/';
  return rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : rawPath;
}

function parseV2(event: Fields): LookupHttpRequest {
  const context = event.requestContext;
  if (!isObject(context)) refuse('requestContext is not an object');
  if (!isObject(context.http)) refuse('requestContext.http is not an object');
  const rawPath = text(event.rawPath, 'rawPath');
  return {
    method: text(context.http.method, 'requestContext.http.method'),
    path: withoutStage(rawPath, optionalText(context.stage, 'requestContext.stage')),
    query: [...new URLSearchParams(optionalText(event.rawQueryString, 'rawQueryString') ?? '')],
    headers: lowerCaseHeaders(event.headers, 'headers'),
  };
}

function parseV1(event: Fields): LookupHttpRequest {
  const multi = entries(event.multiValueQueryStringParameters, 'multiValueQueryStringParameters');
  const single = stringEntries(event.queryStringParameters, 'queryStringParameters');
  const query: [string, string][] = [];
  for (const [name, values] of multi) {
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
      refuse('multiValueQueryStringParameters holds a value that is not a list of strings');
    }
    for (const value of values as string[]) query.push([name, value]);
  }
  // Without the multi-value map (a test console, an older integration), the single values are all there is.
  if (!isObject(event.multiValueQueryStringParameters)) query.push(...single);
  return {
    method: text(event.httpMethod, 'httpMethod'),
    path: text(event.path, 'path'),
    query,
    headers: lowerCaseHeaders(event.headers, 'headers'),
  };
}

/**
 * Parses either API Gateway payload into one request shape; any other shape is a ValidationError
 * (`invalid-request`, a 400), whatever JSON value any field holds.
 *
 * The v2 query is read from `rawQueryString`, not `queryStringParameters`: the latter joins repeated
 * names with commas, so `a=1&a=2` and `a=1,2` would look alike. v1 keeps repetitions in
 * `multiValueQueryStringParameters`.
 */
export function parseLookupEvent(event: LookupEvent): LookupHttpRequest {
  const fields: unknown = event;
  if (!isObject(fields)) refuse('not an object');
  if (fields.version === '2.0') return parseV2(fields);
  if ('httpMethod' in fields || 'path' in fields) return parseV1(fields);
  refuse('neither payload version 2.0 nor a REST API event');
}
