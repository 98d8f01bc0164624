import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { lambdaContext, v2Event } from '../unit/lookup/helpers';

/** A Lambda handler as the functions export them (middy). */
type Handler = (event: never, context: Context) => Promise<unknown>;

/** What the functions answer an HTTP API request with. */
interface HttpResult {
  statusCode: number;
  headers?: Record<string, string | number | boolean>;
  body?: string;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<Server> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

/**
 * What serverless-offline serves in the local stack, in this process and on ports the OS picks: the HTTP
 * API (each request to the lookup function as an HTTP API v2 event) and the Lambda Invoke API
 * (`POST /2015-03-31/functions/{name}/invocations`, RequestResponse) for the named functions.
 */
export async function serveFunctions(options: { lookup: Handler; functions: Record<string, Handler> }) {
  const http = await listen(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]),
    ) as Record<string, string>;
    const event = v2Event(url.pathname, url.search.slice(1), headers, request.method);
    const result = (await options.lookup(event as never, lambdaContext)) as HttpResult;
    response.writeHead(result.statusCode, result.headers as Record<string, string>);
    response.end(result.body ?? '');
  });
  const lambda = await listen(async (request, response) => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(request.url ?? '');
    const handler =
      match && request.method === 'POST' ? options.functions[decodeURIComponent(match[1] ?? '')] : undefined;
    const body = await readBody(request);
    if (!handler) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ Type: 'User', message: `Function not found: ${request.url}` }));
      return;
    }
    try {
      const result = await handler((body === '' ? {} : JSON.parse(body)) as never, lambdaContext);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(result ?? null));
    } catch (error) {
      response.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
      response.end(JSON.stringify({ errorMessage: (error as Error).message }));
    }
  });
  return {
    httpPort: portOf(http),
    lambdaPort: portOf(lambda),
    stop: async () => {
      for (const server of [http, lambda]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
