import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { LookupConfig } from '../../../lib/config';

/** A v2 (HTTP API) event as API Gateway sends it; `rawQueryString` is the query without `?`. */
export function v2Event(
  rawPath: string,
  rawQueryString = '',
  headers: Record<string, string> = {},
  method = 'GET',
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      requestId: 'request',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2025:00:00:00 +0000',
      timeEpoch: 0,
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
    },
  };
}

/** A v1 (REST API) proxy event; repeated query names go in `multiValueQueryStringParameters`. */
export function v1Event(
  path: string,
  query: [string, string][] = [],
  headers: Record<string, string> = {},
  method = 'GET',
): APIGatewayProxyEvent {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of query) multi[name] = [...(multi[name] ?? []), value];
  const single = Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values.at(-1) ?? '']));
  return {
    httpMethod: method,
    path,
    resource: '/{proxy+}',
    body: null,
    isBase64Encoded: false,
    headers,
    multiValueHeaders: {},
    pathParameters: null,
    queryStringParameters: query.length ? single : null,
    multiValueQueryStringParameters: query.length ? multi : null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

/** The Lambda context the Powertools logger middleware reads. */
export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'lookup',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:lookup',
  memoryLimitInMB: '256',
  awsRequestId: 'request',
  logGroupName: '/aws/lambda/lookup',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/** The lookup configuration of the unit tests, with the defaults of `loadLookupConfig`. */
export function testConfig(overrides: Partial<LookupConfig> = {}): LookupConfig {
  return {
    namespace: 'kudos.local',
    cacheIntervalMs: 1000,
    cacheMaxEntries: 1000,
    healthMaxAgeMs: 5000,
    cacheControlMaxAgeSeconds: 1,
    staleIfErrorMs: 30_000,
    ...overrides,
  };
}

/** A settable clock for the cache and the app. */
export function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
