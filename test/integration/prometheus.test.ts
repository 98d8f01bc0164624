import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateServiceCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { createHandler } from '../../functions/lookup';
import { createServiceDiscoveryClient } from '../../lib/aws-clients';
import { createCloudMapLookupApp } from '../../lib/lookup/lookup-app';
import { fargateService, registerApp } from '../../support/ecs-setup';
import { type LocalHttpServer, startLocalHttpServer } from '../../support/http-api-server';
import { startPipeline } from '../../support/pipeline';
import { testConfig } from '../unit/lookup/helpers';

/**
 * A real Prometheus (Debian's `prometheus` package) discovers the tasks of the local stack through
 * `GET /prometheus/targets` with `http_sd_configs` (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#http_sd_config)
 * and scrapes the live tasks' `/metrics`. What it sees is read from its HTTP API, the data behind its
 * targets page (https://prometheus.io/docs/prometheus/latest/querying/api/#targets).
 */

const CLUSTER = 'kudos';
const NAMESPACE = 'kudos.local';

type Pipeline = Awaited<ReturnType<typeof startPipeline>>;
let pipeline: Pipeline;
let api: LocalHttpServer;
let prometheus: ChildProcess;
let prometheusUrl: string;
let dataDir: string;
let prometheusLog = '';

function prometheusBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('prometheus is not installed: install the Debian package `prometheus` (.ci/run does)');
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
}

async function activeTargets(): Promise<ActiveTarget[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
  const body = (await response.json()) as { data: { activeTargets: ActiveTarget[] } };
  return body.data.activeTargets;
}

/** Polls until `check` holds (Prometheus refreshes discovery and scrapes every second here). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (check(last)) return last;
    } catch {
      // Prometheus may not answer yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}\n${prometheusLog.slice(-2000)}`);
}

beforeAll(async () => {
  const binary = prometheusBinary();
  pipeline = await startPipeline({ liveTasks: true, timeScale: 0.01, namespace: NAMESPACE });
  const client = createServiceDiscoveryClient({ endpoint: pipeline.emulator.url, region: 'us-east-1' });
  const config = testConfig({ namespace: NAMESPACE, cacheIntervalMs: 200, healthMaxAgeMs: 200 });
  api = await startLocalHttpServer(createHandler(createCloudMapLookupApp(config, client)));

  await registerApp(pipeline.ecs, 'api', { portMappings: [{ containerPort: 8080 }] }, CLUSTER);
  await pipeline.ecs.send(
    new CreateServiceCommand(
      fargateService({ cluster: CLUSTER, serviceName: 'api', taskDefinition: 'api', desiredCount: 2 }),
    ),
  );

  dataDir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dataDir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 500ms',
      'scrape_configs:',
      '  - job_name: ecs',
      '    http_sd_configs:',
      `      - url: ${api.url}/prometheus/targets?service=api&health=healthy`,
      '        refresh_interval: 1s',
      '    relabel_configs:',
      '      - source_labels: [__meta_ecs_task_arn]',
      '        target_label: task_arn',
      '      - source_labels: [__meta_cloudmap_service]',
      '        target_label: service',
      '',
    ].join('\n'),
  );
  prometheus = spawn(
    binary,
    [
      `--config.file=${join(dataDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dataDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout?.on('data', (chunk) => {
    prometheusLog += String(chunk);
  });
  prometheus.stderr?.on('data', (chunk) => {
    prometheusLog += String(chunk);
  });
}, 90_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus.once('exit', resolve));
    prometheus.kill('SIGTERM');
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await api?.close();
  await pipeline?.stop();
});

describe('Prometheus http_sd against the local stack', () => {
  it("lists the service's tasks as targets and scrapes each live task's /metrics", async () => {
    const targets = await eventually(
      activeTargets,
      (found) => found.length === 2 && found.every((target) => target.health === 'up'),
      'two healthy targets',
    );

    const tasks = pipeline.emulator.liveEndpoints().map((endpoint) => endpoint.taskArn);
    expect(targets.map((target) => target.labels.task_arn).sort()).toEqual([...tasks].sort());
    for (const target of targets) {
      expect(target.scrapeUrl).toMatch(/^http:\/\/127\.\d+\.\d+\.\d+:8080\/metrics$/);
      expect(target.labels.service).toBe('api');
      expect(target.discoveredLabels).toMatchObject({
        __meta_cloudmap_namespace: NAMESPACE,
        __meta_cloudmap_health: 'HEALTHY',
        __meta_ecs_cluster: CLUSTER,
        __meta_ecs_service: 'api',
        __meta_ecs_task_definition_family: 'api',
        __meta_ecs_task_definition_revision: '1',
      });
    }
    // The scraped series come from the tasks themselves (the built-in app's metrics).
    const query = await eventually(
      async () => {
        const response = await fetch(`${prometheusUrl}/api/v1/query?query=app_up`);
        return ((await response.json()) as { data: { result: { metric: Record<string, string> }[] } }).data.result;
      },
      (result) => result.length === 2,
      'app_up from both tasks',
    );
    expect(query.map((series) => series.metric.task_arn).sort()).toEqual([...tasks].sort());
  }, 60_000);

  it('follows a scale-up and a scale-down without a restart', async () => {
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'api', desiredCount: 3 }));
    await eventually(
      activeTargets,
      (found) => found.length === 3 && found.every((target) => target.health === 'up'),
      'three healthy targets',
    );
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'api', desiredCount: 1 }));
    await eventually(activeTargets, (found) => found.length === 1, 'one target');
  }, 60_000);
});
