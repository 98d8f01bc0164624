import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { consoleResponse } from '../lib/lookup/console/assets';
import { toHttpResponse } from '../lib/lookup/http-errors';
import type { HttpResponse } from '../lib/lookup/types';
import { parseLookupRoute } from '../lib/lookup/validation';
import { isLoopbackEndpoint } from './endpoint';
import { type CliIo, parseArgs, UsageError } from './io';

export const CONSOLE_USAGE = `registrar console --url URL [--region REGION] [--port N]

Serves the discovery console on http://127.0.0.1:PORT/console and forwards its calls (GET only) to the lookup
API at URL, each signed with SigV4 (service execute-api) with your AWS credentials, as kubectl proxy does: for
lookupMode=iam, where a browser cannot sign. URL is the lookup API's base URL: the stack output HttpApiUrl, or
an endpoint \`npx osls info --stage STAGE\` prints without its route (https://ID.execute-api.REGION.amazonaws.com;
a private REST API's ends with its stage, .../STAGE); http is accepted only for a loopback URL. The region is --region, else the one in URL's host name, else
AWS_REGION (or AWS_DEFAULT_REGION). Credentials come from the standard AWS chain (environment, profile, SSO,
instance role). --port N listens on that port (default: one the system picks, printed). Only requests whose
Host is 127.0.0.1 or localhost are served (a web page elsewhere cannot use your credentials through it).
Runs until interrupted (Ctrl-C). Exit codes: 0 stopped, 1 no credentials or the port is taken, 2 usage.`;

/** What the command runs with, checked. */
export interface ConsoleOptions {
  /** The lookup API's base URL, without a trailing slash. */
  url: URL;
  region: string;
  port: number;
}

/** What tests inject: credentials (default: the SDK's chain) and a signal that stops the server. */
export interface ConsoleDeps {
  credentials?: AwsCredentialIdentityProvider;
  signal?: AbortSignal;
}

/** The response headers passed back from the API: what the console and any client read. */
const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'etag',
  'cache-control',
  'retry-after',
  'x-content-type-options',
  'content-security-policy',
  'referrer-policy',
];

/** How long an API call may take before the browser gets a 504. */
const UPSTREAM_TIMEOUT_MS = 15_000;

/** The region of an execute-api host name (`ID.execute-api.REGION.amazonaws.com`, or a VPC endpoint's). */
const EXECUTE_API_HOST = /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)(?:\.vpce)?\.amazonaws\.com(?:\.cn)?$/;

/** Checks the command line: every mistake is one UsageError line. */
export function consoleOptions(values: Record<string, string>, env: CliIo['env']): ConsoleOptions {
  if (values.url === undefined) throw new UsageError('--url URL is required: the lookup API (npx osls info shows it)');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url must be the lookup API's https URL (got "${values.url}")`);
  }
  const loopback = isLoopbackEndpoint(url.href);
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) || url.search || url.hash) {
    throw new UsageError(`--url must be the lookup API's https URL, without a query (got "${values.url}")`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  const region =
    values.region ?? EXECUTE_API_HOST.exec(url.hostname)?.[1] ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION);
  if (!region || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new UsageError(
      region
        ? `--region "${region}" is not an AWS region`
        : '--region REGION is needed (not in the URL, no AWS_REGION)',
    );
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!/^\d{1,5}$/.test(values.port ?? '0') || port > 65535) {
    throw new UsageError(`--port must be a port number, 0 to 65535 (got "${values.port}")`);
  }
  return { url, region, port };
}

/** RFC 3986 encoding, as SigV4 canonicalizes a query: the string sent is the string signed. */
function strictEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function send(response: ServerResponse, answer: HttpResponse): void {
  response.writeHead(answer.statusCode, answer.headers);
  response.end(answer.statusCode === 304 ? undefined : answer.body);
}

function problem(statusCode: number, error: string, message: string, headers: Record<string, string> = {}) {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify({ error, message }),
  };
}

/** A running console proxy. */
export interface ConsoleProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the proxy on 127.0.0.1: the console's page and files are served from this process (the same bytes
 * the lookup serves); any other GET goes to the API with its path and query, signed, and its answer (status,
 * body, ETag, caching) comes back unchanged, 304 included.
 */
export async function startConsoleProxy(
  options: ConsoleOptions,
  credentials: AwsCredentialIdentityProvider,
): Promise<ConsoleProxy> {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const base = options.url;
  let port = options.port;

  async function forward(pathname: string, params: URLSearchParams, request: IncomingMessage): Promise<HttpResponse> {
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of params) {
      const held = query[name];
      query[name] = held === undefined ? value : [...(Array.isArray(held) ? held : [held]), value];
    }
    const headers: Record<string, string> = { host: base.host, accept: 'application/json' };
    const ifNoneMatch = request.headers['if-none-match'];
    if (typeof ifNoneMatch === 'string') headers['if-none-match'] = ifNoneMatch;
    const path = `${base.pathname}${pathname}`;
    const signed = await signer.sign({
      method: 'GET',
      protocol: base.protocol,
      hostname: base.hostname,
      ...(base.port ? { port: Number(base.port) } : {}),
      path,
      query,
      headers,
    });
    const search = [...params].map(([name, value]) => `${strictEncode(name)}=${strictEncode(value)}`).join('&');
    const target = new URL(`${base.origin}${path}${search ? `?${search}` : ''}`);
    return new Promise<HttpResponse>((resolve) => {
      const call = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
        target,
        { method: 'GET', headers: signed.headers, signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) },
        (upstream) => {
          const chunks: Buffer[] = [];
          upstream.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstream.on('error', () => resolve(problem(502, 'upstream-unreachable', 'The lookup API answer was cut')));
          upstream.on('end', () => {
            const forwarded: Record<string, string> = {};
            for (const name of FORWARDED_RESPONSE_HEADERS) {
              const value = upstream.headers[name];
              if (typeof value === 'string') forwarded[name] = value;
            }
            resolve({
              statusCode: upstream.statusCode ?? 502,
              headers: forwarded,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      call.on('error', (error) =>
        resolve(
          error.name === 'AbortError' || error.name === 'TimeoutError'
            ? problem(504, 'upstream-timeout', `The lookup API did not answer within ${UPSTREAM_TIMEOUT_MS / 1000} s`)
            : problem(502, 'upstream-unreachable', `The lookup API could not be reached: ${error.message}`),
        ),
      );
      call.end();
    });
  }

  async function handle(request: IncomingMessage): Promise<HttpResponse> {
    // Another site's page could make the browser call this port (DNS rebinding): only loopback names are served.
    const host = (request.headers.host ?? '').toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return problem(403, 'forbidden-host', `Only http://127.0.0.1:${port} and http://localhost:${port} are served`);
    }
    if (request.method !== 'GET') {
      return problem(405, 'method-not-allowed', 'The console proxy forwards GET requests only', { allow: 'GET' });
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/console' || url.pathname.startsWith('/console/')) {
      try {
        const route = parseLookupRoute(
          { method: 'GET', path: url.pathname, query: [...url.searchParams], headers: {} },
          'unused',
        );
        if (route.kind === 'console') {
          const ifNoneMatch = request.headers['if-none-match'];
          return consoleResponse(route.file, typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined);
        }
      } catch (error) {
        return toHttpResponse(error);
      }
    }
    return forward(url.pathname, url.searchParams, request);
  }

  const server = createServer((request, response) => {
    request.resume();
    handle(request).then(
      (answer) => send(response, answer),
      (error: unknown) =>
        send(response, problem(502, 'signing-failed', `Could not sign the request: ${String(error)}`)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolves when the signal aborts, or on Ctrl-C / SIGTERM when no signal is given. */
function stopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal) {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `registrar console`: the discovery console for a lookup API that needs SigV4. */
export async function consoleCommand(args: string[], io: CliIo, deps: ConsoleDeps = {}): Promise<number> {
  const { positional, values, switches } = parseArgs(args, {
    values: ['url', 'region', 'port'],
    switches: ['help'],
  });
  if (switches.has('help')) {
    io.stdout.write(`${CONSOLE_USAGE}\n`);
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}" (see --help)`);
  const options = consoleOptions(values, io.env);
  const credentials = deps.credentials ?? defaultProvider();
  try {
    // Once now, so that missing credentials fail here rather than on the first page load.
    await credentials();
  } catch (error) {
    io.stderr.write(`registrar console: no AWS credentials: ${(error as Error).message}\n`);
    return 1;
  }
  let proxy: ConsoleProxy;
  try {
    proxy = await startConsoleProxy(options, credentials);
  } catch (error) {
    io.stderr.write(`registrar console: cannot listen on 127.0.0.1:${options.port}: ${(error as Error).message}\n`);
    return 1;
  }
  io.stdout.write(
    `${proxy.url}/console  (forwarding GET to ${options.url.href.replace(/\/$/, '')}, signed with your AWS credentials for execute-api in ${options.region}; Ctrl-C stops)\n`,
  );

  await stopped(deps.signal);
  await proxy.close();
  return 0;
}
