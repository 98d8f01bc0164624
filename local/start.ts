import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { deliveryFromConfig, describeDelivery } from './delivery';
import { type Emulator, PortInUseError } from './emulator';
import { type FunctionSchedule, invokeFunction, loadLocalTriggers, startSchedules } from './rules';
import { type LocalAws, startLocalAws } from './stack';

/**
 * `npm start`: the whole pipeline on 127.0.0.1 with no AWS account. The emulator (ECS, Cloud Map,
 * EventBridge, EC2, SQS, and DynamoDB through dynalite behind it) on :4566, and serverless-offline running
 * the real functions from serverless.yml (HTTP API on :3000, Lambda invoke endpoint on :3002). Task
 * events reach the functions through the delivery osls resolves from serverless.yml (rules, queues, event
 * source mappings, reserved concurrency and Lambda's asynchronous queue, modelled by the emulator, which runs
 * each invocation through serverless-offline's Invoke API); serverless-offline runs no `schedule` events, so
 * this process invokes the scheduled functions itself, on their rates.
 */

const HOST = '127.0.0.1';
const STAGE = 'local';
const NAMESPACE = 'kudos.local';
const ROOT = join(__dirname, '..');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/**
 * Schedules kept on real time: the health sweep times its passes inside the invocation in real time and
 * runs for a minute, so a scaled (shorter) rate would only overlap invocations.
 */
const REAL_TIME_SCHEDULES = new Set(['healthSweep']);
/** The shortest local period of a scaled schedule (time scale 0 would otherwise invoke in a loop). */
const MIN_SCALED_INTERVAL_MS = 15_000;

interface StartOptions {
  port: number;
  timeScale: number;
  httpPort: number;
  lambdaPort: number;
  /** The local DNS server's port (UDP and TCP) for the private namespace. */
  dnsPort: number;
}

/** A startup problem worth one line to the user, not a stack trace. */
class StartError extends Error {
  override readonly name = 'StartError';
}

const USAGE =
  'usage: npm start -- [--port N (or LOCAL_AWS_PORT, default 4566)] [--time-scale X (or LOCAL_TIME_SCALE, default 0.1)]' +
  ' [--dns-port N (or LOCAL_DNS_PORT, default 8053)]';
const OPTIONS = new Set(['--port', '--time-scale', '--dns-port']);

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): StartOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === undefined || !OPTIONS.has(flag)) throw new StartError(`unknown option ${flag}\n${USAGE}`);
    if (value === undefined) throw new StartError(`${flag} needs a value\n${USAGE}`);
    flags.set(flag, value);
  }
  const port = Number(flags.get('--port') ?? env.LOCAL_AWS_PORT ?? 4566);
  const timeScale = Number(flags.get('--time-scale') ?? env.LOCAL_TIME_SCALE ?? 0.1);
  const dnsPort = Number(flags.get('--dns-port') ?? env.LOCAL_DNS_PORT ?? 8053);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StartError(`--port must be a TCP port\n${USAGE}`);
  if (!Number.isInteger(dnsPort) || dnsPort < 1 || dnsPort > 65535)
    throw new StartError(`--dns-port must be a port (1-65535)\n${USAGE}`);
  if (!Number.isFinite(timeScale) || timeScale < 0)
    throw new StartError(`--time-scale must be a number >= 0\n${USAGE}`);
  // serverless-offline's ports are fixed by serverless.yml (custom.serverless-offline).
  const taken = new Map([
    [port, '--port'],
    [3000, 'serverless-offline HTTP'],
    [3002, 'serverless-offline Lambda'],
  ]);
  const clash = taken.get(dnsPort);
  if (clash) throw new StartError(`--dns-port ${dnsPort} is also the port of ${clash}\n${USAGE}`);
  return { port, timeScale, httpPort: 3000, lambdaPort: 3002, dnsPort };
}

/** Fails fast, in one line, when a port the stack needs is taken. */
function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' ? new StartError(`port ${port} (${what}) on ${HOST} is already in use`) : error,
      ),
    );
    probe.listen(port, HOST, () => probe.close(() => resolve()));
  });
}

/** serverless-offline in its own process group, so Ctrl-C can stop it and everything it spawned. */
function spawnOffline(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn('npx', ['osls', 'offline', 'start', '--stage', STAGE, '--localEnvironment'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => console.log(`[offline] ${line}`));
  }
  return child;
}

/** Resolves once `url` answers HTTP at all; rejects if the process serving it dies or time runs out. */
async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new StartError(`serverless-offline exited (code ${child.exitCode}) before ${url} answered`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  throw new StartError(`${url} did not answer within ${timeoutMs / 1000} s`);
}

function stopGroup(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
    setTimeout(() => {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    }, 3000).unref();
  } catch {
    // The group is already gone.
  }
}

/**
 * The local period of a schedule: scaled by the time scale (reconcile every 30 s at 0.1, so the demo shows
 * a lost event repaired without a five-minute wait), except those that must keep AWS's real time.
 */
function localInterval(schedule: FunctionSchedule, timeScale: number): number {
  if (REAL_TIME_SCHEDULES.has(schedule.functionKey)) return schedule.rateMs;
  return Math.max(MIN_SCALED_INTERVAL_MS, Math.round(schedule.rateMs * timeScale));
}

function banner(options: StartOptions, emulator: Emulator, taskTable: string): string {
  return [
    '',
    'Ready. The local stack answers on 127.0.0.1 (no AWS account involved):',
    `  AWS endpoint (ECS, Cloud Map, EventBridge, EC2, SQS, DynamoDB)  ${emulator.url}`,
    `  Lookup API                                                      http://${HOST}:${options.httpPort}`,
    `  Lambda invoke endpoint                                          http://${HOST}:${options.lambdaPort}`,
    `  Cloud Map namespace                                             ${NAMESPACE}`,
    `  DNS for the namespace (UDP and TCP)                             ${HOST}:${emulator.dnsPort}`,
    `  DynamoDB task table                                             ${taskTable}`,
    '',
    'Try next:',
    '  npm run local:create-service -- api        # a cluster, a task definition and an ECS service of 2 tasks',
    `  curl http://${HOST}:${options.httpPort}/services/api`,
    `${`  dig @${HOST} -p ${emulator.dnsPort} api.${NAMESPACE}`.padEnd(45)}# the tasks' addresses, from the local DNS`,
    `${`  npm run local:call -- http://api.${NAMESPACE}:8080/some-request`.padEnd(45)}  # resolve, call a task, name it${
      emulator.dnsPort === 8053 ? '' : ` (LOCAL_DNS_PORT=${emulator.dnsPort})`
    }`,
    `  open http://${HOST}:${options.httpPort}/console          # the discovery console`,
    '  npm run local:create-service -- api --count 0   # scale it to 0, then curl again',
    `  npx registrar reconcile --endpoint ${emulator.url} --namespace ${NAMESPACE} --stage ${STAGE}`,
    '',
    `Knobs: curl ${emulator.url}/_local/events | /_local/faults | /_local/calls | /_local/dlq | /_local/time | /_local/health | /_local/shared-namespaces | /_local/lambda`,
    `Time scale ${options.timeScale} (ECS transitions, SQS delays, Lambda retries and the reconcile schedule run that much faster than in AWS).`,
    'Scheduled functions are invoked by this process ([schedule] lines); the health sweep every real minute.',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  await assertPortFree(options.httpPort, 'serverless-offline HTTP');
  await assertPortFree(options.lambdaPort, 'serverless-offline Lambda');
  const { schedules, unsupported, taskTable, config } = await loadLocalTriggers(STAGE, ROOT);
  const delivery = deliveryFromConfig(config, STAGE);
  const lambdaEndpoint = `http://${HOST}:${options.lambdaPort}`;
  const aws: LocalAws = await startLocalAws({
    port: options.port,
    timeScale: options.timeScale,
    dnsPort: options.dnsPort,
    namespace: NAMESPACE,
    taskTable,
    log: (line) => console.log(`[aws] ${line}`),
    // Each invocation goes to serverless-offline (RequestResponse); the emulator decides when, as Lambda would.
    delivery: { delivery, invoke: (functionName, payload) => invokeFunction(lambdaEndpoint, functionName, payload) },
  });
  const { emulator } = aws;
  let offline: ChildProcess | undefined;
  let stopSchedules: (() => void) | undefined;
  const shutdown = async (code: number) => {
    stopSchedules?.();
    stopGroup(offline);
    await aws.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  try {
    offline = spawnOffline({
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      // One endpoint for every AWS call of the functions; TASK_TABLE comes from serverless.yml itself.
      AWS_ENDPOINT_URL_SERVICEDISCOVERY: emulator.url,
      AWS_ENDPOINT_URL_ECS: emulator.url,
      AWS_ENDPOINT_URL_EC2: emulator.url,
      AWS_ENDPOINT_URL_DYNAMODB: emulator.url,
      // The register function re-checks health-pending tasks through a delayed SQS message.
      AWS_ENDPOINT_URL_SQS: emulator.url,
      // The writers create missing services by invoking the createService function (SERVICE_CREATOR_FUNCTION).
      AWS_ENDPOINT_URL_LAMBDA: lambdaEndpoint,
      // This process runs the schedules (startSchedules); serverless/offline-schedules.js hides them from offline.
      REGISTRAR_LOCAL_SCHEDULES: 'external',
      SLS_TELEMETRY_DISABLED: '1',
    });
    offline.once('exit', (code) => {
      console.error(`serverless-offline exited (code ${code}); stopping the local stack`);
      void shutdown(code || 1);
    });
    await waitForHttp(`http://${HOST}:${options.httpPort}/services`, offline);
    await waitForHttp(lambdaEndpoint, offline);
    for (const line of describeDelivery(delivery)) console.log(`[aws] ${line}`);
    for (const line of unsupported) console.log(`[schedule] ${line}: not run locally (only rate expressions are)`);
    for (const schedule of schedules) {
      const seconds = localInterval(schedule, options.timeScale) / 1000;
      console.log(
        `[schedule] ${schedule.name} -> ${schedule.functionName}: ${schedule.expression}, here every ${seconds} s`,
      );
    }
    console.log(banner(options, emulator, taskTable));
    stopSchedules = startSchedules(schedules, {
      invoke: (functionName, payload) => invokeFunction(lambdaEndpoint, functionName, payload),
      intervalMs: (schedule) => localInterval(schedule, options.timeScale),
      log: (line) => console.log(`[schedule] ${line}`),
    });
  } catch (error) {
    console.error(error instanceof StartError || error instanceof PortInUseError ? error.message : error);
    await shutdown(1);
  }
}

main().catch((error: unknown) => {
  // Startup errors the user can act on get one line; anything else keeps its stack for a bug report.
  console.error(error instanceof StartError || error instanceof PortInUseError ? error.message : error);
  process.exit(1);
});
