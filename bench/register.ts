import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreatePrivateDnsNamespaceCommand,
  DiscoverInstancesCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import type { Context } from 'aws-lambda';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import { createEmulator } from '../local/emulator';
import { fargateTaskDefinition } from '../local/task-definitions';
import { startDynalite } from '../support/dynalite';
import { registerPattern, resolveServerlessYml } from '../support/pipeline';

/**
 * The register benchmark (issue 6): 1,000 tasks (one port, no health check) started and stopped on the
 * local emulator, without faults, through the real register handler and its real SDK clients. The
 * handler's calls pass through a counting proxy in front of the emulator, so every ECS read and Cloud
 * Map write it makes is counted as it leaves.
 */

/** The `register` section of bench/results.json. */
export interface RegisterBenchmark {
  tasks: number;
  /** RegisterInstance + DeregisterInstance + UpdateInstanceCustomHealthStatus per task lifecycle (goal 2). */
  cloudMapWritesPerLifecycle: number;
  /** DescribeTasks + DescribeServices + DescribeTaskDefinition + ListTasks per lifecycle (goal <= 1). */
  ecsReadsPerLifecycle: number;
  /** Every call the handler made, by operation. */
  callsByOperation: Record<string, number>;
  /** Running tasks missing from Cloud Map after the start, plus instances left after the stop (goal 0). */
  lostOrStale: number;
  /** Longest of: last scale-up command to every task registered, last scale-down command to every one gone. */
  convergenceSeconds: number;
  /** p99 of: RUNNING event delivered to the function, to DiscoverInstances showing the task. */
  eventToDiscoverableP99Ms: number;
  eventToDiscoverableP50Ms: number;
  /** The emulator's time scale (ECS transitions, Cloud Map operations): convergence includes them. */
  timeScale: number;
}

const SERVICES = 10;
const TASKS_PER_SERVICE = 100;
/** ECS's stop path (2-3 s between leaving events) and Cloud Map's 2 s operations keep their proportions. */
const TIME_SCALE = 0.05;
/** Tasks are started (and stopped) in waves, as services scale, not all in the same millisecond. */
const WAVES = 10;
const WAVE_PAUSE_MS = 800;
const NAMESPACE = 'bench.local';
const CLUSTER = 'bench';

const ECS_READS = ['DescribeTasks', 'DescribeServices', 'DescribeTaskDefinition', 'ListTasks'];
const CLOUD_MAP_WRITES = ['RegisterInstance', 'DeregisterInstance', 'UpdateInstanceCustomHealthStatus'];

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** An HTTP proxy to the emulator that counts AWS JSON calls by operation (X-Amz-Target). */
async function countingProxy(
  target: string,
): Promise<{ url: string; calls: Record<string, number>; close: () => void }> {
  const upstream = new URL(target);
  const calls: Record<string, number> = {};
  const server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1];
    if (operation) calls[operation] = (calls[operation] ?? 0) + 1;
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Scales every service to `count(wave)` in each wave, pausing between waves. */
async function scaleInWaves(ecs: ECSClient, services: string[], count: (wave: number) => number): Promise<void> {
  for (let wave = 1; wave <= WAVES; wave += 1) {
    for (const service of services) {
      await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service, desiredCount: count(wave) }));
    }
    if (wave < WAVES) await new Promise((resolve) => setTimeout(resolve, WAVE_PAUSE_MS));
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** The ids of this project's instances in Cloud Map. */
async function ownedInstances(cloudMap: ServiceDiscoveryClient): Promise<Set<string>> {
  const namespaces = await cloudMap.send(new ListNamespacesCommand({}));
  const namespaceId = namespaces.Namespaces?.find((n) => n.Name === NAMESPACE)?.Id ?? '';
  const services = await cloudMap.send(
    new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [namespaceId], Condition: 'EQ' }] }),
  );
  const ids = new Set<string>();
  for (const service of services.Services ?? []) {
    let NextToken: string | undefined;
    do {
      const page = await cloudMap.send(new ListInstancesCommand({ ServiceId: service.Id, NextToken, MaxResults: 100 }));
      NextToken = page.NextToken;
      for (const i of page.Instances ?? []) if (i.Id && i.Attributes?.REGISTRAR_OWNER) ids.add(i.Id);
    } while (NextToken);
  }
  return ids;
}

/** The ids of the tasks ECS runs in the cluster. */
async function runningTaskIds(ecs: ECSClient): Promise<Set<string>> {
  const ids = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus: 'RUNNING', nextToken }));
    nextToken = page.nextToken;
    const arns = page.taskArns ?? [];
    for (let i = 0; i < arns.length; i += 100) {
      const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns.slice(i, i + 100) }));
      for (const t of out.tasks ?? []) if (t.lastStatus === 'RUNNING') ids.add(t.taskArn?.split('/').pop() ?? '');
    }
  } while (nextToken);
  return ids;
}

export async function runRegisterBenchmark(log: (line: string) => void = () => undefined): Promise<RegisterBenchmark> {
  // Every task event straight to the register handler (no queue): the events the deployed rules take.
  await resolveServerlessYml();
  const pattern = registerPattern();
  const dynamo = await startDynalite('registrar-tasks');
  const emulator = await createEmulator({ port: 0, timeScale: TIME_SCALE });
  const proxy = await countingProxy(emulator.url);
  // Only the local emulator is called: dummy credentials, so real ones never leave in a signature.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_SERVICEDISCOVERY: proxy.url,
    AWS_ENDPOINT_URL_ECS: proxy.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    NAMESPACE,
    TASK_TABLE: dynamo.tableName,
    OPERATION_TIMEOUT_MS: '30000',
  });
  const cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1' });
  const ecs = new ECSClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
  try {
    await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: NAMESPACE, Vpc: 'vpc-bench' }));
    await emulator.idle();
    // Loaded only now: the handler reads its configuration at cold start.
    const { handler } = (await import('../functions/register')) as typeof import('../functions/register');
    const context = {
      functionName: 'register',
      awsRequestId: 'bench',
      getRemainingTimeInMillis: () => 60_000,
    } as unknown as Context;
    const latencies: number[] = [];
    emulator.addRule({
      name: 'register',
      pattern,
      target: async (event) => {
        const delivered = performance.now();
        const outcome = (await handler(event, context)) as { result: string; service?: string; taskId?: string };
        if (outcome.result !== 'registered' || !outcome.service) return;
        // The task counts as discoverable once a DiscoverInstances answer lists it.
        for (;;) {
          const found = await cloudMap.send(
            new DiscoverInstancesCommand({ NamespaceName: NAMESPACE, ServiceName: outcome.service, MaxResults: 1000 }),
          );
          if (found.Instances?.some((i) => i.InstanceId === outcome.taskId)) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        latencies.push(performance.now() - delivered);
      },
    });

    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await ecs.send(
      new RegisterTaskDefinitionCommand(
        fargateTaskDefinition('bench', [
          { name: 'app', image: 'app', essential: true, portMappings: [{ containerPort: 8080 }] },
        ]),
      ),
    );
    const services = Array.from({ length: SERVICES }, (_, i) => `svc-${i}`);
    for (const serviceName of services) {
      await ecs.send(
        new CreateServiceCommand({
          cluster: CLUSTER,
          serviceName,
          taskDefinition: 'bench',
          desiredCount: 0,
          launchType: 'FARGATE',
          networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-bench'] } },
        }),
      );
    }
    await emulator.idle();
    const before = { ...proxy.calls };

    await scaleInWaves(ecs, services, (wave) => (TASKS_PER_SERVICE * wave) / WAVES);
    let started = performance.now();
    await emulator.idle();
    const upSeconds = (performance.now() - started) / 1000;
    const running = await runningTaskIds(ecs);
    const registered = await ownedInstances(cloudMap);
    const missing = [...running].filter((id) => !registered.has(id)).length;
    log(`register: ${running.size} tasks running, ${registered.size} registered in ${upSeconds.toFixed(1)} s`);

    await scaleInWaves(ecs, services, (wave) => TASKS_PER_SERVICE - (TASKS_PER_SERVICE * wave) / WAVES);
    started = performance.now();
    await emulator.idle();
    const downSeconds = (performance.now() - started) / 1000;
    const stale = (await ownedInstances(cloudMap)).size;
    log(`register: stopped, ${stale} instances left after ${downSeconds.toFixed(1)} s`);

    const calls: Record<string, number> = {};
    for (const [operation, count] of Object.entries(proxy.calls)) {
      const made = count - (before[operation] ?? 0);
      if (made > 0) calls[operation] = made;
    }
    const lifecycles = running.size || 1;
    const sum = (names: string[]) => names.reduce((n, name) => n + (calls[name] ?? 0), 0);
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      tasks: running.size,
      cloudMapWritesPerLifecycle: Number((sum(CLOUD_MAP_WRITES) / lifecycles).toFixed(3)),
      ecsReadsPerLifecycle: Number((sum(ECS_READS) / lifecycles).toFixed(3)),
      callsByOperation: calls,
      lostOrStale: missing + stale,
      convergenceSeconds: Number(Math.max(upSeconds, downSeconds).toFixed(2)),
      eventToDiscoverableP99Ms: Number(percentile(sorted, 99).toFixed(1)),
      eventToDiscoverableP50Ms: Number(percentile(sorted, 50).toFixed(1)),
      timeScale: TIME_SCALE,
    };
  } finally {
    await emulator.close();
    proxy.close();
    await dynamo.stop();
    ecs.destroy();
    cloudMap.destroy();
  }
}

export default runRegisterBenchmark;
