import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { AwsError } from './aws-error';
import { parseQueryBody, type QueryInput, queryErrorXml, queryResponseXml } from './query-protocol';
import { randomUUID } from './random';
import { type Input, toWire } from './wire';

/** One AWS service behind the endpoint: its X-Amz-Target prefix and its operations. */
export interface ServiceRoute {
  prefix: string;
  handlers: Record<string, (input: Input) => unknown>;
  /** Runs before every call of this service, given its operation (the faults knob and the quotas hook in here). */
  before?: (operation: string) => Promise<void> | void;
  /** The answers' content type: AWS JSON 1.1 unless the service speaks 1.0 (SQS). */
  contentType?: string;
}

/** One AWS service speaking the Query protocol (EC2): its API version, XML namespace and actions. */
export interface QueryServiceRoute {
  name: string;
  version: string;
  xmlns: string;
  handlers: Record<string, (input: QueryInput) => Record<string, unknown>>;
}

/**
 * An AWS service served by another local process (dynalite for DynamoDB): its X-Amz-Target prefix and the
 * URL its calls are passed on to, unchanged (headers and body), with the answer passed back unchanged.
 */
export interface ForwardRoute {
  prefix: string;
  url: string;
}

/** A knob answers GET with its state and POST (with a JSON body) by replacing it. */
export type KnobHandler = (body: Record<string, unknown> | undefined) => unknown;

const JSON_11 = 'application/x-amz-json-1.1';
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The HTTP face of the emulator: AWS JSON 1.1 and 1.0 (`POST /` with `X-Amz-Target: <Prefix>.<Operation>`),
 * the Query protocol (a form-encoded `POST /` without X-Amz-Target, routed by its `Version`), the
 * `/_local/*` knobs, and `GET /` as a health check.
 */
export function createEndpoint(
  routes: ServiceRoute[],
  knobs: Record<string, KnobHandler>,
  log: (line: string) => void,
  queryRoutes: QueryServiceRoute[] = [],
  forwardRoutes: ForwardRoute[] = [],
): Server {
  return createServer((request, response) => {
    void handle(request, response, routes, knobs, queryRoutes, forwardRoutes).catch((error: unknown) => {
      log(`unexpected error: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) sendJson(response, 500, { __type: 'InternalFailure', message: 'Internal failure.' });
    });
  });
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  routes: ServiceRoute[],
  knobs: Record<string, KnobHandler>,
  queryRoutes: QueryServiceRoute[],
  forwardRoutes: ForwardRoute[],
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  if (path.startsWith('/_local/')) return handleKnob(request, response, knobs[path.slice('/_local/'.length)]);
  if (request.method !== 'POST') {
    const services = [
      ...routes.map((route) => route.prefix),
      ...forwardRoutes.map((route) => route.prefix),
      ...queryRoutes.map((route) => route.name),
    ];
    sendJson(response, 200, { status: 'running', services }, 'application/json');
    return;
  }
  const target = String(request.headers['x-amz-target'] ?? '');
  const contentType = String(request.headers['content-type'] ?? '');
  // JSON services always send X-Amz-Target; a form body without one is a Query protocol call (EC2).
  if (target === '' && contentType.startsWith('application/x-www-form-urlencoded')) {
    return handleQuery(request, response, queryRoutes);
  }
  const [prefix, operation] = target.split('.');
  const forward = forwardRoutes.find((candidate) => candidate.prefix === prefix);
  if (forward) return forwardRequest(request, response, forward.url);
  const route = routes.find((candidate) => candidate.prefix === prefix);
  const handler = operation === undefined ? undefined : route?.handlers[operation];
  try {
    const body = await readBody(request);
    if (!route || !handler)
      throw new AwsError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}.`);
    await route.before?.(operation as string);
    const input = parseInput(body);
    sendJson(response, 200, toWire(await handler(input)), route.contentType);
  } catch (error) {
    sendError(response, error, route?.contentType);
  }
}

/**
 * Passes a call on to the process that serves its service and its answer back, both as they are (the
 * signature is not checked here or there). A target that does not answer is a 503, as AWS answers a
 * service that is unavailable, so the SDK retries it.
 */
function forwardRequest(request: IncomingMessage, response: ServerResponse, url: string): Promise<void> {
  const { host: _host, ...headers } = request.headers;
  return new Promise((resolve) => {
    const upstream = httpRequest(url, { method: request.method, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
      answer.once('end', resolve);
      answer.once('error', () => {
        response.destroy();
        resolve();
      });
    });
    upstream.once('error', (error) => {
      if (!response.headersSent) {
        sendJson(response, 503, { __type: 'ServiceUnavailable', message: `${url} does not answer: ${error.message}` });
      } else response.destroy();
      resolve();
    });
    request.pipe(upstream);
  });
}

async function handleQuery(
  request: IncomingMessage,
  response: ServerResponse,
  queryRoutes: QueryServiceRoute[],
): Promise<void> {
  const requestId = randomUUID();
  try {
    const input = parseQueryBody(await readBody(request));
    const action = input.get('Action') ?? '';
    const version = input.get('Version') ?? '';
    const route = queryRoutes.find((candidate) => candidate.version === version);
    if (!route) throw new AwsError('NoSuchVersion', `The requested version (${version}) of service does not exist.`);
    const handler = route.handlers[action];
    if (!handler) throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
    sendXml(response, 200, queryResponseXml(action, route.xmlns, requestId, handler(input)), requestId);
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    sendXml(response, error.status, queryErrorXml(error.code, error.message, requestId), requestId);
  }
}

function sendXml(response: ServerResponse, status: number, text: string, requestId: string): void {
  response.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
  });
  response.end(text);
}

async function handleKnob(
  request: IncomingMessage,
  response: ServerResponse,
  knob: KnobHandler | undefined,
): Promise<void> {
  if (!knob) {
    sendJson(response, 404, { error: 'no such knob' }, 'application/json');
    return;
  }
  try {
    if (request.method === 'GET') {
      sendJson(response, 200, knob(undefined), 'application/json');
      return;
    }
    if (request.method !== 'POST') {
      sendJson(response, 405, { error: 'GET reads a knob, POST replaces it' }, 'application/json');
      return;
    }
    const text = await readBody(request);
    const body = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new RangeError('the body is a JSON object');
    sendJson(response, 200, knob(body as Record<string, unknown>), 'application/json');
  } catch (error) {
    sendJson(response, 400, { error: error instanceof Error ? error.message : String(error) }, 'application/json');
  }
}

function parseInput(body: string): Input {
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsError('SerializationException', 'The request body must be a JSON object.');
  }
  return parsed as Input;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new AwsError('SerializationException', 'Request body too large.', 413));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendError(response: ServerResponse, error: unknown, contentType = JSON_11): void {
  if (error instanceof AwsError) {
    response.setHeader('x-amzn-ErrorType', error.code);
    for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
    sendJson(response, error.status, error.toBody(), contentType);
    return;
  }
  if (error instanceof RangeError) {
    // Knob and state checks throw RangeError; a bad value is the caller's fault.
    sendJson(response, 400, { __type: 'ValidationException', message: error.message }, contentType);
    return;
  }
  throw error;
}

function sendJson(response: ServerResponse, status: number, body: unknown, contentType = JSON_11): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(text);
}
