import { promises as dns } from 'node:dns';
import { type Agent, request } from 'node:http';
import { isIP } from 'node:net';
import { type CliIo, parseArgs, UsageError } from '../cli/io';
import { assertLoopback, NonLoopbackAddressError } from './loopback';

/**
 * `npm run local:call -- URL [--count N] [--dns-port N] [--timeout-ms N]`: calls a service of the local stack
 * the way the seed's front-end does. The URL's host name is resolved through the local stack's DNS server
 * (127.0.0.1, `--dns-port`, else LOCAL_DNS_PORT, else 8053), one record is picked at random, and the URL
 * is called on that address with the original Host header. It prints which task answered.
 *
 * Which records: a URL with a port asks for A records and calls that port (awsvpc tasks: the registrar's
 * services hold A records, DNS_RECORDS); a URL without one asks for SRV records first (bridge and host
 * tasks: the SRV record carries the host port), then the SRV target's A records, and falls back to A
 * records on port 80 when the name has no SRV. Only IPv4 is asked for: the local stack's IPv6 addresses
 * are not live.
 *
 * Nothing outside 127.0.0.0/8 is ever called: such an address is refused before any connection.
 */

export const CALL_USAGE = `usage: npm run local:call -- URL [--count N] [--dns-port N] [--timeout-ms N]

  URL            http://NAME[:PORT]/PATH, NAME a service of a private DNS namespace (e.g. api.kudos.local)
  --count N      calls to make (1-10000, default 1); each resolves again and picks a random record
  --dns-port N   the local DNS server's port on 127.0.0.1 (default: LOCAL_DNS_PORT, else 8053)
  --timeout-ms N longest wait for one answer (default 2000)

Exit status: 0 when every call got an answer below 500, 1 otherwise, 2 for a usage mistake or an
address outside 127.0.0.0/8.`;

/** The local stack's DNS port when neither --dns-port nor LOCAL_DNS_PORT says otherwise (as `npm start`). */
export const DEFAULT_DNS_PORT = 8053;
const DEFAULT_TIMEOUT_MS = 2000;
const MAX_COUNT = 10_000;

/** An address and port to call, and the TTL of the record it came from (seconds). */
export interface Target {
  address: string;
  port: number;
  ttl?: number;
}

/** The DNS queries `local:call` makes; `dns.promises.Resolver` does them, tests pass a fake. */
export interface NameResolver {
  resolve4(name: string): Promise<{ address: string; ttl: number }[]>;
  resolveSrv(name: string): Promise<{ name: string; port: number }[]>;
}

/** A resolver asking only the DNS server on 127.0.0.1:`port` (no system resolver, no search list). */
export function localResolver(port: number, timeoutMs = DEFAULT_TIMEOUT_MS): NameResolver {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return {
    resolve4: (name) => resolver.resolve4(name, { ttl: true }),
    resolveSrv: (name) => resolver.resolveSrv(name),
  };
}

/** A name the DNS server answered but could not resolve, or a DNS server that did not answer. */
export class ResolveError extends Error {
  override readonly name = 'ResolveError';
}

/** One line for a DNS failure: what was asked, of which server, and what came back. */
export function describeDnsError(error: unknown, name: string, dnsPort: number): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const server = `the local DNS on 127.0.0.1:${dnsPort}`;
  if (code === 'ENOTFOUND') return `${name}: no such name (NXDOMAIN) in ${server}`;
  if (code === 'ENODATA') return `${name}: ${server} has no A record for it (no healthy instance?)`;
  if (code === 'ECONNREFUSED' || code === 'ETIMEOUT' || code === 'ECANCELLED')
    return `no answer from ${server} (${code}): is \`npm start\` running, and on that --dns-port?`;
  return `${name}: ${server} failed (${code ?? (error instanceof Error ? error.message : String(error))})`;
}

/** `http://host[:port]/path`, or a usage error naming what is wrong. */
export function parseCallUrl(value: string | undefined): URL {
  if (value === undefined) throw new UsageError('a URL is needed, such as http://api.kudos.local:8080/some-request');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`not a URL: "${value}" (such as http://api.kudos.local:8080/some-request)`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`only http:// URLs are called (the task apps speak plain HTTP)`);
  if (url.hostname === '') throw new UsageError(`the URL "${value}" has no host name`);
  return url;
}

function integerOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  return number;
}

/** The parsed command line. */
export interface CallOptions {
  url: URL;
  count: number;
  dnsPort: number;
  timeoutMs: number;
}

/** Reads the arguments and LOCAL_DNS_PORT; every mistake is a UsageError. */
export function parseCallOptions(args: string[], env: CliIo['env']): CallOptions {
  const parsed = parseArgs(args, { values: ['count', 'dns-port', 'timeout-ms'], switches: [] });
  if (parsed.positional.length > 1) throw new UsageError(`one URL only (got ${parsed.positional.length})`);
  const envPort = env.LOCAL_DNS_PORT === '' ? undefined : env.LOCAL_DNS_PORT;
  const dnsPort =
    integerOption('dns-port', parsed.values['dns-port'], 1, 65_535) ??
    (envPort === undefined ? undefined : integerOption('dns-port (LOCAL_DNS_PORT)', envPort, 1, 65_535));
  return {
    url: parseCallUrl(parsed.positional[0]),
    count: integerOption('count', parsed.values.count, 1, MAX_COUNT) ?? 1,
    dnsPort: dnsPort ?? DEFAULT_DNS_PORT,
    timeoutMs: integerOption('timeout-ms', parsed.values['timeout-ms'], 1, 600_000) ?? DEFAULT_TIMEOUT_MS,
  };
}

/**
 * The addresses the URL's host stands for: an IP literal as is; with a port, the name's A records; without
 * one, its SRV records (each target's A records, on the SRV port), else its A records on port 80.
 * DNS failures are ResolveErrors worded by describeDnsError. Addresses are not checked here.
 */
export async function resolveTargets(url: URL, resolver: NameResolver, dnsPort: number): Promise<Target[]> {
  const name = url.hostname;
  const explicitPort = url.port === '' ? undefined : Number(url.port);
  if (isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0)
    return [{ address: name.replace(/^\[(.*)\]$/, '$1'), port: explicitPort ?? 80 }];
  const ask = async <T>(query: () => Promise<T>, asked: string): Promise<T> => {
    try {
      return await query();
    } catch (error) {
      throw new ResolveError(describeDnsError(error, asked, dnsPort), { cause: error });
    }
  };
  if (explicitPort !== undefined) {
    const records = await ask(() => resolver.resolve4(name), name);
    return records.map((record) => ({ address: record.address, port: explicitPort, ttl: record.ttl }));
  }
  let services: { name: string; port: number }[];
  try {
    services = await resolver.resolveSrv(name);
  } catch (error) {
    // The name exists without SRV records: an awsvpc service (A records), called on HTTP's port.
    if ((error as NodeJS.ErrnoException).code !== 'ENODATA')
      throw new ResolveError(describeDnsError(error, name, dnsPort), { cause: error });
    const records = await ask(() => resolver.resolve4(name), name);
    return records.map((record) => ({ address: record.address, port: 80, ttl: record.ttl }));
  }
  const targets: Target[] = [];
  for (const service of services) {
    const records = await ask(() => resolver.resolve4(service.name), service.name);
    for (const record of records) targets.push({ address: record.address, port: service.port, ttl: record.ttl });
  }
  return targets;
}

/** A uniformly random item; `random` in [0, 1). */
export function pickRandom<T>(items: readonly T[], random: () => number = Math.random): T | undefined {
  return items[Math.floor(random() * items.length)];
}

/** What the built-in task app says of itself (local/ live tasks): the fields `local:call` prints. */
export interface TaskAnswer {
  taskArn?: string;
  taskId?: string;
  service?: string;
  taskDefinition?: string;
  container?: string;
  draining?: boolean;
}

/** How a call to a task ended: an HTTP answer, or a failure of the connection. */
export type CallOutcome =
  | { kind: 'answered'; status: number; task?: TaskAnswer; ms: number }
  | { kind: 'refused' | 'reset' | 'timeout' | 'error'; message: string; ms: number };

/**
 * GETs `path` on `target` with the Host header `host`, guarded by assertLoopback (a NonLoopbackAddressError
 * is thrown before any socket is opened). Never rejects otherwise: connection failures are outcomes.
 */
export function callTask(
  target: Target,
  path: string,
  host: string,
  options: { timeoutMs: number; agent?: Agent },
): Promise<CallOutcome> {
  assertLoopback(target.address);
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const signal = AbortSignal.timeout(options.timeoutMs);
  return new Promise((resolve) => {
    const outgoing = request(
      {
        host: target.address,
        port: target.port,
        path,
        method: 'GET',
        headers: { host, accept: 'application/json' },
        signal,
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve(failure(error, signal.aborted, elapsed())));
        response.on('end', () => {
          resolve({
            kind: 'answered',
            status: response.statusCode ?? 0,
            task: readTaskAnswer(Buffer.concat(chunks).toString('utf8')),
            ms: elapsed(),
          });
        });
      },
    );
    outgoing.on('error', (error) => resolve(failure(error, signal.aborted, elapsed())));
    outgoing.end();
  });
}

function failure(error: Error, timedOut: boolean, ms: number): CallOutcome {
  const code = (error as NodeJS.ErrnoException).code;
  if (timedOut) return { kind: 'timeout', message: 'timed out', ms };
  if (code === 'ECONNREFUSED') return { kind: 'refused', message: 'connection refused', ms };
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test(error.message))
    return { kind: 'reset', message: `connection reset (${code ?? error.message})`, ms };
  return { kind: 'error', message: code ? `${code}: ${error.message}` : error.message, ms };
}

/** The app's JSON fields, or undefined for any other body (an endpoint that is not a task app). */
export function readTaskAnswer(body: string): TaskAnswer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const record = parsed as Record<string, unknown>;
  const text = (key: string) => (typeof record[key] === 'string' ? (record[key] as string) : undefined);
  const answer: TaskAnswer = {};
  for (const key of ['taskArn', 'taskId', 'service', 'taskDefinition', 'container'] as const) {
    const value = text(key);
    if (value !== undefined) answer[key] = value;
  }
  if (typeof record.draining === 'boolean') answer.draining = record.draining;
  if (answer.taskId === undefined && answer.taskArn) answer.taskId = answer.taskArn.split('/').pop();
  return Object.keys(answer).length > 0 ? answer : undefined;
}

/** `family:revision` from a task definition ARN (or the value as given). */
function definitionName(value: string): string {
  return value.includes('task-definition/') ? value.slice(value.indexOf('task-definition/') + 16) : value;
}

/** One line per call: status, task, service, task definition, address:port, time. */
export function describeOutcome(outcome: CallOutcome, target: Target): string {
  const at = `${target.address}:${target.port}`;
  if (outcome.kind !== 'answered') return `${outcome.message} at ${at} after ${outcome.ms} ms`;
  const task = outcome.task;
  if (!task?.taskId) return `${outcome.status} from ${at} (not a task app's answer), ${outcome.ms} ms`;
  const details = [
    task.service ? `service ${task.service}` : undefined,
    task.taskDefinition ? `task definition ${definitionName(task.taskDefinition)}` : undefined,
    task.draining ? 'draining' : undefined,
  ].filter(Boolean);
  return `${outcome.status} from task ${task.taskId}${details.length ? ` (${details.join(', ')})` : ''} at ${at}, ${outcome.ms} ms`;
}

/** What the command needs from outside; tests replace the resolver and the randomness. */
export interface CallDependencies {
  resolver?: (dnsPort: number, timeoutMs: number) => NameResolver;
  random?: () => number;
}

/** Runs `local:call`; returns the exit code. */
export async function localCall(args: string[], io: CliIo, deps: CallDependencies = {}): Promise<number> {
  if (args.includes('--help')) {
    io.stdout.write(`${CALL_USAGE}\n`);
    return 0;
  }
  try {
    const options = parseCallOptions(args, io.env);
    const resolver = (deps.resolver ?? localResolver)(options.dnsPort, options.timeoutMs);
    const path = `${options.url.pathname}${options.url.search}`;
    const answeredBy = new Map<string, number>();
    let failed = 0;
    for (let call = 0; call < options.count; call++) {
      let targets: Target[];
      try {
        targets = await resolveTargets(options.url, resolver, options.dnsPort);
      } catch (error) {
        if (!(error instanceof ResolveError)) throw error;
        io.stderr.write(`local:call: ${error.message}\n`);
        return 1;
      }
      const target = pickRandom(targets, deps.random);
      if (!target) {
        io.stderr.write(`local:call: ${options.url.hostname} resolved to no address\n`);
        return 1;
      }
      const outcome = await callTask(target, path, options.url.host, { timeoutMs: options.timeoutMs });
      const ok = outcome.kind === 'answered' && outcome.status < 500;
      if (!ok) failed += 1;
      (ok ? io.stdout : io.stderr).write(`${describeOutcome(outcome, target)}\n`);
      if (outcome.kind === 'answered') {
        const id = outcome.task?.taskId ?? `${target.address}:${target.port}`;
        answeredBy.set(id, (answeredBy.get(id) ?? 0) + 1);
      }
    }
    if (options.count > 1) {
      const spread = [...answeredBy].map(([id, n]) => `${id} ${n}`).join(', ');
      io.stdout.write(
        `${options.count} calls, ${options.count - failed} answered below 500, by ${answeredBy.size} task(s)${spread ? `: ${spread}` : ''}\n`,
      );
    }
    return failed === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || error instanceof NonLoopbackAddressError) {
      io.stderr.write(`local:call: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

// Run as a command only (tests import localCall).
if (require.main === module) {
  localCall(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
