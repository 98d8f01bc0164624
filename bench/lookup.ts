import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createHandler } from '../functions/lookup';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import type { LookupConfig } from '../lib/config';
import type { AnswerStore, InstancesEntry } from '../lib/lookup/lookup-app';
import { createCloudMapLookupApp } from '../lib/lookup/lookup-app';
import { type HttpApiHandler, startLocalHttpServer } from '../support/http-api-server';

/**
 * The lookup benchmark (issue 4): the cached lookup against a naive one that calls DiscoverInstances on
 * every request, both with the real SDK against the local emulator. The emulator and the load tool
 * run in their own processes, so neither takes CPU from the handler being measured.
 */

/** The `lookup` section of bench/results.json. */
export interface LookupBenchmark {
  /** DiscoverInstances + DiscoverInstancesRevision per 1,000 lookups of one key at a steady 500 req/s (goal <= 2). */
  upstreamCallsPer1000: number;
  naiveUpstreamCallsPer1000: number;
  /** p99 of an in-process handler call answered from memory (goal <= 0.2). */
  cacheHitP99Ms: number;
  cacheHitP50Ms: number;
  /** Requests/s of the cached handler over those of the naive one, same HTTP server and load (goal >= 5). */
  httpThroughputRatioVsNaive: number;
  cachedHttpRequestsPerSecond: number;
  naiveHttpRequestsPerSecond: number;
  steadyRatePerSecond: number;
  steadyLookups: number;
  steadyNaiveLookups: number;
  cacheHitSamples: number;
  httpConnections: number;
  httpDurationSeconds: number;
  /** Non-2xx answers during the HTTP runs: a throughput figure only counts with zero here. */
  httpErrors: number;
  instancesPerAnswer: number;
  config: Pick<LookupConfig, 'cacheIntervalMs' | 'healthMaxAgeMs'>;
}

const STEADY_RATE = 500;
const STEADY_LOOKUPS = 5000;
const NAIVE_LOOKUPS = 1000;
const HIT_SAMPLES = 20_000;
const HTTP_CONNECTIONS = 50;
const HTTP_SECONDS = 5;
const INSTANCES = 5;
const PATH = '/services/api';

const CONFIG: LookupConfig = {
  namespace: 'bench.local',
  cacheIntervalMs: 1000,
  cacheMaxEntries: 1000,
  healthMaxAgeMs: 5000,
  cacheControlMaxAgeSeconds: 1,
  staleIfErrorMs: 30_000,
};

const CONTEXT = {
  functionName: 'lookup-bench',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 10_000,
} as Context;

function event(): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: PATH,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench',
      domainPrefix: 'bench',
      requestId: 'bench',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      http: { method: 'GET', path: PATH, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    },
  };
}

/** Starts the emulator in a child process (tsx) and resolves with its URL. */
async function startEmulatorProcess(): Promise<{ url: string; child: ChildProcess }> {
  const script = `import('./local/emulator/index.ts').then(async (m) => {
    const create = m.createEmulator ?? m.default.createEmulator;
    const emulator = await create({ port: 0, timeScale: 0.001 });
    process.stdout.write(emulator.url + '\\n');
  });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: `${__dirname}/..`,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return { url, child };
}

async function waitForOperation(client: ServiceDiscoveryClient, operationId: string | undefined): Promise<void> {
  if (!operationId) return;
  for (let i = 0; i < 200; i++) {
    const out = await client.send(new GetOperationCommand({ OperationId: operationId }));
    if (out.Operation?.Status === 'SUCCESS') return;
    if (out.Operation?.Status === 'FAIL') throw new Error(`operation ${operationId} failed`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

/** One namespace, one service `api` with a few instances. */
async function seed(client: ServiceDiscoveryClient): Promise<void> {
  const ns = await client.send(new CreateHttpNamespaceCommand({ Name: CONFIG.namespace }));
  const op = await client.send(new GetOperationCommand({ OperationId: ns.OperationId }));
  await waitForOperation(client, ns.OperationId);
  const namespaceId = op.Operation?.Targets?.NAMESPACE ?? (await waitedNamespaceId(client, ns.OperationId));
  const service = await client.send(new CreateServiceCommand({ Name: 'api', NamespaceId: namespaceId }));
  for (let i = 1; i <= INSTANCES; i++) {
    const out = await client.send(
      new RegisterInstanceCommand({
        ServiceId: service.Service?.Id,
        InstanceId: `task-${i}`,
        Attributes: { AWS_INSTANCE_IPV4: `10.0.0.${i}`, AWS_INSTANCE_PORT: '8080', version: 'v1' },
      }),
    );
    await waitForOperation(client, out.OperationId);
  }
}

async function waitedNamespaceId(client: ServiceDiscoveryClient, operationId: string | undefined): Promise<string> {
  const op = await client.send(new GetOperationCommand({ OperationId: operationId }));
  const id = op.Operation?.Targets?.NAMESPACE;
  if (!id) throw new Error('the namespace operation named no namespace');
  return id;
}

/** An SDK client counting the discovery calls that leave for the emulator. */
function countingClient(url: string) {
  const client = createServiceDiscoveryClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1 });
  let discoveryCalls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (
        context.commandName === 'DiscoverInstancesCommand' ||
        context.commandName === 'DiscoverInstancesRevisionCommand'
      )
        discoveryCalls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countDiscoveryCalls' },
  );
  return { client, calls: () => discoveryCalls };
}

/** A stand-in for the answer cache that reads through on every request: the naive lookup. */
const readThrough: AnswerStore<InstancesEntry> = {
  get: async (_key, source) => (await source.load()).value,
};

type Handler = ReturnType<typeof createHandler>;

function buildLookup(url: string, cached: boolean) {
  const counting = countingClient(url);
  const app = createCloudMapLookupApp(CONFIG, counting.client, cached ? {} : { cache: readThrough });
  return { ...counting, handler: createHandler(app) };
}

/** Sends `count` lookups at `rate` per second on a drift-free schedule; resolves when all are answered. */
async function steadyLoad(handler: Handler, count: number, rate: number): Promise<void> {
  const spacingMs = 1000 / rate;
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor((performance.now() - start) / spacingMs) + 1);
    for (; sent < due; sent++) {
      pending.push(
        handler(event(), CONTEXT).then((r) => {
          if (r.statusCode !== 200) throw new Error(`lookup answered ${r.statusCode}: ${r.body}`);
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Times in-process handler calls one after another, keeping only those that made no upstream call. */
async function cacheHitLatencies(lookup: ReturnType<typeof buildLookup>): Promise<number[]> {
  for (let i = 0; i < 2000; i++) await lookup.handler(event(), CONTEXT);
  const hits: number[] = [];
  while (hits.length < HIT_SAMPLES) {
    const calls = lookup.calls();
    const t0 = process.hrtime.bigint();
    await lookup.handler(event(), CONTEXT);
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    if (lookup.calls() === calls) hits.push(elapsed);
  }
  return hits.sort((a, b) => a - b);
}

interface AutocannonResult {
  requests: { average: number };
  non2xx?: number;
  errors?: number;
}

/** Runs autocannon in its own process against `url` and returns its JSON result. */
async function autocannon(url: string): Promise<AutocannonResult> {
  const child = spawn(
    process.execPath,
    [
      require.resolve('autocannon/autocannon.js'),
      '-c',
      String(HTTP_CONNECTIONS),
      '-d',
      String(HTTP_SECONDS),
      '-j',
      '-n',
      url,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  return JSON.parse(out) as AutocannonResult;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** Runs the lookup benchmark end to end (about 30 s) and returns the `lookup` section. */
export async function runLookupBenchmark(log: (line: string) => void = () => undefined): Promise<LookupBenchmark> {
  // Only the local emulator is called: dummy credentials, so real ones never leave in a signature.
  process.env.AWS_ACCESS_KEY_ID = 'bench';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  const { url, child } = await startEmulatorProcess();
  const admin = createServiceDiscoveryClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1 });
  try {
    await seed(admin);
    log(`lookup: emulator at ${url}, ${INSTANCES} instances`);

    const cached = buildLookup(url, true);
    await cached.handler(event(), CONTEXT);
    const before = cached.calls();
    await steadyLoad(cached.handler, STEADY_LOOKUPS, STEADY_RATE);
    const upstreamCallsPer1000 = ((cached.calls() - before) / STEADY_LOOKUPS) * 1000;
    log(`lookup: cached, ${cached.calls() - before} upstream calls for ${STEADY_LOOKUPS} lookups at ${STEADY_RATE}/s`);

    const naive = buildLookup(url, false);
    await naive.handler(event(), CONTEXT);
    const naiveBefore = naive.calls();
    await steadyLoad(naive.handler, NAIVE_LOOKUPS, STEADY_RATE);
    const naiveUpstreamCallsPer1000 = ((naive.calls() - naiveBefore) / NAIVE_LOOKUPS) * 1000;

    const hits = await cacheHitLatencies(cached);
    log(`lookup: cache hit p50 ${percentile(hits, 50).toFixed(4)} ms, p99 ${percentile(hits, 99).toFixed(4)} ms`);

    // One server for both runs; only the handler behind it changes.
    let current: Handler = cached.handler;
    const server = await startLocalHttpServer(((e, c) => current(e, c)) as HttpApiHandler);
    let cachedRun: AutocannonResult;
    let naiveRun: AutocannonResult;
    try {
      cachedRun = await autocannon(`${server.url}${PATH}`);
      current = naive.handler;
      naiveRun = await autocannon(`${server.url}${PATH}`);
    } finally {
      await server.close();
    }
    log(`lookup: HTTP ${cachedRun.requests.average} req/s cached, ${naiveRun.requests.average} req/s naive`);

    cached.client.destroy();
    naive.client.destroy();
    return {
      upstreamCallsPer1000: round(upstreamCallsPer1000, 2),
      naiveUpstreamCallsPer1000: round(naiveUpstreamCallsPer1000, 2),
      cacheHitP99Ms: round(percentile(hits, 99), 4),
      cacheHitP50Ms: round(percentile(hits, 50), 4),
      httpThroughputRatioVsNaive: round(cachedRun.requests.average / naiveRun.requests.average, 2),
      cachedHttpRequestsPerSecond: round(cachedRun.requests.average, 0),
      naiveHttpRequestsPerSecond: round(naiveRun.requests.average, 0),
      steadyRatePerSecond: STEADY_RATE,
      steadyLookups: STEADY_LOOKUPS,
      steadyNaiveLookups: NAIVE_LOOKUPS,
      cacheHitSamples: HIT_SAMPLES,
      httpConnections: HTTP_CONNECTIONS,
      httpDurationSeconds: HTTP_SECONDS,
      httpErrors: (cachedRun.non2xx ?? 0) + (naiveRun.non2xx ?? 0) + (cachedRun.errors ?? 0) + (naiveRun.errors ?? 0),
      instancesPerAnswer: INSTANCES,
      config: { cacheIntervalMs: CONFIG.cacheIntervalMs, healthMaxAgeMs: CONFIG.healthMaxAgeMs },
    };
  } finally {
    admin.destroy();
    child.kill();
  }
}

export default runLookupBenchmark;
