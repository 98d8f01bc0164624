import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
import { createCloudMapLookupApp, createLookupApp } from '../lib/lookup/lookup-app';
import type { LookupInstance } from '../lib/lookup/types';
import { SETTINGS } from '../lib/settings';
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
  /** Heap held by one cached answer of 100 instances, each with every attribute the registrar writes (KB). */
  heapPerCachedAnswer100InstancesKb: number;
  /** Heap held by a full cache: cacheMaxEntries (1,000) such answers (MB; goal <= 25% of the function's 256 MB). */
  fullCacheHeapMb: number;
  /** The same with every instance at Cloud Map's attribute limit (5,000 characters each): the worst case (MB). */
  fullCacheHeapMbAtAttributeLimit: number;
  /** What a full cache of such answers would hold by count alone (1,000 of them), without the memory budget (MB). */
  fullCacheHeapMbWithoutBudget: number;
  /** Heap bytes an answer takes per character the cache's budget counts for it. */
  heapBytesPerCountedCharacter: number;
  /** The memory budget of the run (CACHE_MAX_MB's default). */
  cacheMaxMb: number;
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
  // Memory first, in a quiet heap: nothing else of the benchmark is allocated yet.
  const memory = await lookupMemory(log);
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
      ...memory,
    };
  } finally {
    admin.destroy();
    child.kill();
  }
}

/** `global.gc`, without restarting Node with --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** An instance as the registrar registers it: every attribute it writes, four custom ones, `padding` more characters. */
function registeredInstance(service: number, task: number, padding = 0): LookupInstance {
  const id = `${service.toString(16).padStart(8, '0')}${task.toString(16).padStart(24, '0')}`;
  const attributes: Record<string, string> = {
    AWS_INSTANCE_IPV4: `10.0.${task >> 8}.${task & 255}`,
    AWS_INSTANCE_PORT: '8080',
    AVAILABILITY_ZONE: 'us-east-1a',
    REGION: 'us-east-1',
    ECS_CLUSTER_NAME: 'production',
    ECS_SERVICE_NAME: `service-${service}`,
    ECS_TASK_DEFINITION_FAMILY: `service-${service}`,
    ECS_TASK_DEFINITION_REVISION: '42',
    ECS_DEPLOYMENT_ID: 'ecs-svc/1234567890123456789',
    ECS_TASK_ARN: `arn:aws:ecs:us-east-1:123456789012:task/production/${id}`,
    ECS_LAUNCH_TYPE: 'FARGATE',
    ECS_TASK_VERSION: '5',
    REGISTRAR_OWNER: 'ecs-cloudmap-registrar',
    REGISTRAR_REGISTERED_AT: '2026-11-29T12:00:00Z',
    team: 'payments',
    tier: 'backend',
    version: '1.42.0',
    commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  };
  if (padding > 0) attributes.padding = 'x'.repeat(padding);
  return {
    id,
    ipv4: attributes.AWS_INSTANCE_IPV4,
    port: 8080,
    health: 'HEALTHY',
    attributes,
  };
}

/**
 * The heap the lookup's cache holds: fills a lookup's cache with `entries` answers of 100 instances (one
 * service each, from a Discovery in memory that builds fresh instances per read, as the SDK does) and reads
 * the heap after a full collection before and after; also the characters the cache counted for them.
 */
async function cachedHeap(entries: number, padding: number, config: LookupConfig) {
  const gc = collector();
  const discovery = {
    discoverInstances: async ({ serviceName }: { serviceName: string }) => {
      const service = Number(serviceName.slice('svc'.length));
      return { revision: 1, instances: Array.from({ length: 100 }, (_, i) => registeredInstance(service, i, padding)) };
    },
    instancesRevision: async () => 1,
    listServices: async () => [],
  };
  const namespace = {
    id: 'ns-abcdefghijklmnop',
    name: config.namespace,
    type: 'HTTP' as const,
    httpName: config.namespace,
  };
  const app = createLookupApp(config, { discovery, namespaces: { resolve: async () => namespace } });
  // The first answer builds the namespace cache, schemas and code paths: outside the measurement.
  const first = await app.answer({ method: 'GET', path: '/services/svc0', query: [], headers: {} });
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 1; i <= entries; i++) {
    await app.answer({ method: 'GET', path: `/services/svc${i}`, query: [], headers: {} });
  }
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  // Keeps the app (and so its cache) alive until after the second reading.
  await app.answer({ method: 'GET', path: '/services/svc1', query: [], headers: {} });
  // The characters one answer holds: its instances serialised (the answer's `size`), close to the body's length.
  return { bytes, charactersPerAnswer: first.body.length };
}

/**
 * Lookup memory against the function's 256 MB: the heap of one cached answer of 100 instances (a cache without a
 * memory budget, so nothing is evicted), and the heap of a full cache with the defaults (cacheMaxEntries 1,000
 * answers within the cacheMaxMb budget), typical and at Cloud Map's attribute limit.
 */
export async function lookupMemory(log: (line: string) => void) {
  const unbounded = await cachedHeap(200, 0, { ...CONFIG, cacheMaxMb: 10_240 });
  const perAnswer = unbounded.bytes / 200;
  // cacheMaxEntries - 1 new answers beside the warm-up one: as many as the cache may keep by count.
  const full = await cachedHeap(CONFIG.cacheMaxEntries - 1, 0, CONFIG);
  const worst = await cachedHeap(CONFIG.cacheMaxEntries - 1, 5000 - 700, CONFIG);
  const figures = {
    heapPerCachedAnswer100InstancesKb: round(perAnswer / 1024, 1),
    heapBytesPerCountedCharacter: round(perAnswer / unbounded.charactersPerAnswer, 2),
    fullCacheHeapMb: round(full.bytes / 1024 / 1024, 1),
    fullCacheHeapMbAtAttributeLimit: round(worst.bytes / 1024 / 1024, 1),
    fullCacheHeapMbWithoutBudget: round((perAnswer * CONFIG.cacheMaxEntries) / 1024 / 1024, 1),
    cacheMaxMb: SETTINGS.cacheMaxMb.default,
  };
  log(
    `lookup: ${figures.heapPerCachedAnswer100InstancesKb} KB per cached answer of 100 instances ` +
      `(${figures.heapBytesPerCountedCharacter} heap bytes per counted character); full cache ${figures.fullCacheHeapMb} MB ` +
      `(${figures.fullCacheHeapMbAtAttributeLimit} MB at the attribute limit; ${figures.fullCacheHeapMbWithoutBudget} MB without the budget)`,
  );
  return figures;
}

export default runLookupBenchmark;
