import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { HttpResponse } from '../lib/lookup/types';

/** A Lambda handler of HTTP API v2 events, as `functions/lookup.ts` exports it. */
export type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpResponse>;

/** A running local server, and the URL to reach it. */
export interface LocalHttpServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

let requestCounter = 0;

/** The parts of a Lambda context the handler's middlewares read. */
function localContext(): Context {
  requestCounter += 1;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'lookup-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:lookup-local',
    memoryLimitInMB: '256',
    awsRequestId: `local-${requestCounter}`,
    logGroupName: '/local/lookup',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Builds the v2 event API Gateway's HTTP API would send for this request (routeKey `$default`): the
 * raw path and query string as they arrived, headers with lower-case names, repeated ones joined.
 */
export function toHttpApiEvent(request: IncomingMessage): APIGatewayProxyEventV2 {
  const url = request.url ?? '/';
  const mark = url.indexOf('?');
  const rawPath = mark === -1 ? url : url.slice(0, mark);
  const rawQueryString = mark === -1 ? '' : url.slice(mark + 1);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      requestId: `local-${now}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
      http: {
        method: request.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
    },
  };
}

/**
 * Serves an HTTP API handler on 127.0.0.1 the way API Gateway would call it, for the integration tests
 * and the benchmark. A handler that throws gets API Gateway's bare 500, so a test
 * can tell our answers from an escaped error.
 */
export async function startLocalHttpServer(handler: HttpApiHandler, port = 0): Promise<LocalHttpServer> {
  const server = createServer((request, response) => {
    // The request body is never read by lookups; drain it so keep-alive connections stay usable.
    request.resume();
    handler(toHttpApiEvent(request), localContext()).then(
      (result) => {
        response.writeHead(result.statusCode, result.headers);
        response.end(result.body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end('{"message":"Internal Server Error"}');
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
