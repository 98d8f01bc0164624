import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { awsEndpointConfig } from '../lib/aws-clients';
import { isAwsError } from '../lib/errors';
import { consoleResponse } from '../lib/lookup/console/assets';
import { errorResponse, toHttpResponse } from '../lib/lookup/http-errors';
import type { HttpResponse } from '../lib/lookup/types';
import { parseLookupRoute } from '../lib/lookup/validation';
import { isLoopbackEndpoint } from './endpoint';
import { type CliIo, parseArgs, UsageError } from './io';

export const CONSOLE_USAGE = `registrar console --stage STAGE | --url URL [--region REGION] [--port N]

Serves the discovery console on http://127.0.0.1:PORT/console and forwards its calls (GET only) to the lookup
API, each signed with SigV4 (service execute-api) with your AWS credentials, as kubectl proxy does: for
lookupMode=iam, where a browser cannot sign. --stage STAGE finds the API of the stack ecs-cloudmap-registrar-STAGE
(its CloudFormation output HttpApiUrl, or ServiceEndpoint for the private REST API). --url URL names it instead:
the lookup API's base URL (https://ID.execute-api.REGION.amazonaws.com; a private REST API's ends with its stage,
.../STAGE); http is accepted only for a loopback URL. The region is --region, else the one in URL's host name,
else AWS_REGION (or AWS_DEFAULT_REGION). Credentials come from the standard AWS chain (environment, profile, SSO,
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

/** The command line, checked: the API by URL, or by the stage whose stack names it (read before starting). */
export type ConsoleArguments = Omit<ConsoleOptions, 'url'> & ({ url: URL } | { stage: string });

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

/** The osls stage names (`--stage`): letters, digits and hyphens, as CloudFormation stack names allow. */
const STAGE = /^[a-zA-Z0-9-]{1,64}$/;

/** Checks the command line: every mistake is one UsageError line. */
export function consoleOptions(values: Record<string, string>, env: CliIo['env']): ConsoleArguments {
  if (values.url !== undefined && values.stage !== undefined) throw new UsageError('give --stage or --url, not both');
  if (values.stage !== undefined) {
    if (!STAGE.test(values.stage)) throw new UsageError(`--stage "${values.stage}" is not a stage name`);
    return {
      stage: values.stage,
      region: regionOf(values.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION)),
      port: portOf(values.port),
    };
  }
  if (values.url === undefined) {
    throw new UsageError('--stage STAGE or --url URL is required: the deployed lookup API (see --help)');
  }
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
  return { url, region: regionOf(region), port: portOf(values.port) };
}

function regionOf(region: string | undefined): string {
  if (!region || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new UsageError(
      region
        ? `--region "${region}" is not an AWS region`
        : '--region REGION is needed (not in the URL, no AWS_REGION)',
    );
  }
  return region;
}

function portOf(given: string | undefined): number {
  const port = given === undefined ? 0 : Number(given);
  if (!/^\d{1,5}$/.test(given ?? '0') || port > 65535) {
    throw new UsageError(`--port must be a port number, 0 to 65535 (got "${given}")`);
  }
  return port;
}

/** The stack `npx osls deploy --stage STAGE` makes (osls names it `<service>-<stage>`). */
export const stackName = (stage: string): string => `ecs-cloudmap-registrar-${stage}`;

/** The stack cannot tell the lookup API's URL: no such stack, or no API output. */
export class StackApiNotFoundError extends Error {
  override readonly name = 'StackApiNotFoundError';
}

/**
 * The lookup API's base URL from the stack's outputs: osls writes `HttpApiUrl` for the HTTP API (lookupMode=iam)
 * and `ServiceEndpoint` for the REST API (lookupMode=private, the stage included).
 */
export async function stackApiUrl(client: CloudFormationClient, stage: string): Promise<URL> {
  const name = stackName(stage);
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: name }));
    outputs = Stacks[0]?.Outputs ?? [];
  } catch (error) {
    // CloudFormation answers a missing stack with ValidationError "Stack with id ... does not exist".
    if (isAwsError(error, 'ValidationError')) {
      throw new StackApiNotFoundError(`no stack ${name} (deployed with npx osls deploy --stage ${stage}?)`, {
        cause: error,
      });
    }
    throw error;
  }
  const value = ['HttpApiUrl', 'ServiceEndpoint']
    .map((key) => outputs.find((output) => output.OutputKey === key)?.OutputValue)
    .find((found) => found !== undefined);
  if (value === undefined)
    throw new StackApiNotFoundError(`the stack ${name} has no HttpApiUrl or ServiceEndpoint output`);
  const url = new URL(value);
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** What tests inject beside ConsoleDeps: the CloudFormation client `--stage` reads the stack with. */
export interface ConsoleStackDeps {
  cloudFormation?: CloudFormationClient;
}

/** RFC 3986 encoding, as SigV4 canonicalizes a query: the string sent is the string signed. */
function strictEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function send(response: ServerResponse, answer: HttpResponse): void {
  response.writeHead(answer.statusCode, answer.headers);
  response.end(answer.statusCode === 304 ? undefined : answer.body);
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
  // A URL object cannot hold an empty path (https://host has pathname "/"): the API's path prefix, without its slash.
  const basePath = base.pathname.replace(/\/+$/, '');
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
    const path = `${basePath}${pathname}`;
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
          upstream.on('error', () =>
            resolve(errorResponse(502, 'upstream-unreachable', 'The lookup API answer was cut')),
          );
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
            ? errorResponse(
                504,
                'upstream-timeout',
                `The lookup API did not answer within ${UPSTREAM_TIMEOUT_MS / 1000} s`,
              )
            : errorResponse(502, 'upstream-unreachable', `The lookup API could not be reached: ${error.message}`),
        ),
      );
      call.end();
    });
  }

  async function handle(request: IncomingMessage): Promise<HttpResponse> {
    // Another site's page could make the browser call this port (DNS rebinding): only loopback names are served.
    const host = (request.headers.host ?? '').toLowerCase();
    // A browser leaves the default port out of Host: on port 80 it sends the bare name.
    const names = port === 80 ? ['127.0.0.1', 'localhost', '127.0.0.1:80', 'localhost:80'] : [];
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}` && !names.includes(host)) {
      return errorResponse(
        403,
        'forbidden-host',
        `Only http://127.0.0.1:${port} and http://localhost:${port} are served`,
      );
    }
    if (request.method !== 'GET') {
      return errorResponse(405, 'method-not-allowed', 'The console proxy forwards GET requests only', { allow: 'GET' });
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
        send(response, errorResponse(502, 'signing-failed', `Could not sign the request: ${String(error)}`)),
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
export async function consoleCommand(
  args: string[],
  io: CliIo,
  deps: ConsoleDeps & ConsoleStackDeps = {},
): Promise<number> {
  const { positional, values, switches } = parseArgs(args, {
    values: ['url', 'stage', 'region', 'port'],
    switches: ['help'],
  });
  if (switches.has('help')) {
    io.stdout.write(`${CONSOLE_USAGE}\n`);
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}" (see --help)`);
  const given = consoleOptions(values, io.env);
  const credentials = deps.credentials ?? defaultProvider();
  try {
    // Once now, so that missing credentials fail here rather than on the first page load.
    await credentials();
  } catch (error) {
    io.stderr.write(`registrar console: no AWS credentials: ${(error as Error).message}\n`);
    return 1;
  }
  let options: ConsoleOptions;
  if ('stage' in given) {
    const client =
      deps.cloudFormation ??
      new CloudFormationClient({ ...awsEndpointConfig('CLOUDFORMATION', { region: given.region }), credentials });
    try {
      options = { ...given, url: await stackApiUrl(client, given.stage) };
    } catch (error) {
      io.stderr.write(`registrar console: ${(error as Error).message}\n`);
      return 1;
    } finally {
      if (!deps.cloudFormation) client.destroy();
    }
  } else {
    options = given;
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
