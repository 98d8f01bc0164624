import { CreateClusterCommand, CreateServiceCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CreatePrivateDnsNamespaceCommand } from '@aws-sdk/client-servicediscovery';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import { loadReconcileConfig, type ReconcileConfig } from '../lib/config';
import { reconcile } from '../lib/reconcile';
import type { RegistrarDeps } from '../lib/registrar';
import { createRegistrarDeps } from '../lib/registrar-runtime';
import { createEmulator, type Emulator } from '../local/emulator';
import { AWS_QUOTAS } from '../local/emulator/quotas';
import { startDynalite } from './dynalite';
import { fargateService, registerApp } from './ecs-setup';
import { pointFunctionsAt } from './pipeline';

/**
 * The at-scale fleet of the reconcile and sweep benchmarks (issue 13): `tasks` running Fargate tasks in
 * `services` ECS services spread over `clusters` clusters, every other service health-checked, all
 * registered in Cloud Map by one backfill reconcile run. Built at time scale 0 (every simulated delay
 * instant) and without quotas; `measure` then turns on AWS's quotas at time scale 1, where the token
 * buckets refill in real time, as at AWS.
 */
export interface AtScale {
  emulator: Emulator;
  config: ReconcileConfig;
  clusters: string[];
  tasks: number;
  services: number;
  /** Calls the backfill run made, by `service.Action`. */
  backfill: CallCounts;
  backfillSeconds: number;
  setupSeconds: number;
  stop: () => Promise<void>;
}

/** Calls by `service.Action` (the emulator's `/_local/calls` knob). */
export type CallCounts = Record<string, { calls: number; throttled: number }>;

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const SUBNETS = ['subnet-scale-a', 'subnet-scale-b', 'subnet-scale-c', 'subnet-scale-d'];

export async function startAtScale(
  options: { tasks?: number; services?: number; clusters?: number; log?: (line: string) => void } = {},
): Promise<AtScale> {
  const log = options.log ?? (() => undefined);
  const tasks = options.tasks ?? 5000;
  const services = options.services ?? 100;
  const clusterCount = options.clusters ?? 3;
  const started = Date.now();
  const dynamo = await startDynalite('registrar-tasks');
  const emulator = await createEmulator({ port: 0, timeScale: 0 });
  pointFunctionsAt(emulator, dynamo, 'scale.local');
  const ecs = new ECSClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
  const cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
  try {
    await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: 'scale.local', Vpc: 'vpc-local' }));
    const clusters = Array.from({ length: clusterCount }, (_, i) => `scale-${i + 1}`);
    for (const cluster of clusters) await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const perService = Math.floor(tasks / services);
    for (let i = 0; i < services; i++) {
      const family = `svc-${String(i).padStart(3, '0')}`;
      const checked = i % 2 === 0;
      await registerApp(ecs, family, {
        portMappings: [{ containerPort: 8080 }],
        ...(checked ? { healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5 } } : {}),
      });
      await ecs.send(
        new CreateServiceCommand(
          fargateService({
            cluster: clusters[i % clusterCount],
            serviceName: family,
            taskDefinition: family,
            desiredCount: perService + (i < tasks - perService * services ? 1 : 0),
            networkConfiguration: { awsvpcConfiguration: { subnets: SUBNETS } },
          }),
        ),
      );
    }
    await emulator.idle();
    const setupSeconds = (Date.now() - started) / 1000;
    log(`${tasks} tasks in ${services} services over ${clusterCount} clusters in ${setupSeconds.toFixed(1)} s`);

    const config = loadReconcileConfig();
    resetCalls(emulator);
    const backfillStarted = Date.now();
    const summary = await reconcile(createRegistrarDeps(config), {
      maxDeletes: config.maxDeletes,
      clusters,
      concurrency: 32,
    });
    const backfillSeconds = (Date.now() - backfillStarted) / 1000;
    if (summary.registered !== tasks || summary.failed > 0) {
      throw new Error(`the backfill registered ${summary.registered} of ${tasks} tasks (${summary.failed} failed)`);
    }
    log(`backfill: ${summary.registered} registered in ${backfillSeconds.toFixed(1)} s`);
    return {
      emulator,
      config,
      clusters,
      tasks,
      services,
      backfill: readCalls(emulator),
      backfillSeconds,
      setupSeconds,
      stop: async () => {
        await emulator.close();
        await dynamo.stop();
      },
    };
  } catch (error) {
    await emulator.close();
    await dynamo.stop();
    throw error;
  } finally {
    ecs.destroy();
    cloudMap.destroy();
  }
}

export function readCalls(emulator: Emulator): CallCounts {
  return (emulator.knob('calls') as { calls: CallCounts }).calls;
}

export function resetCalls(emulator: Emulator): void {
  emulator.knob('calls', {});
}

/**
 * AWS's quotas on, at time scale 1 (buckets refill in real time), call counts reset, and new adapters
 * (a new Lambda container: every cache cold).
 */
export function underAwsQuotas(scale: AtScale): { deps: RegistrarDeps; taskTableCalls: Record<string, number> } {
  scale.emulator.setTimeScale(1);
  scale.emulator.setFaults({ quotas: 'aws' });
  resetCalls(scale.emulator);
  const deps = createRegistrarDeps(scale.config);
  // The task table is DynamoDB (dynalite here, not metered by the emulator): its calls are counted by method.
  const taskTableCalls: Record<string, number> = {};
  const versions = deps.versions;
  const counted = new Proxy(versions, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        taskTableCalls[key] = (taskTableCalls[key] ?? 0) + 1;
        return value.apply(target, args);
      };
    },
  });
  return { deps: { ...deps, versions: counted }, taskTableCalls };
}

/** Calls of one service (`ecs` or `cloudMap`), and of its actions. */
export function callsOf(
  counts: CallCounts,
  service: 'ecs' | 'cloudMap',
): { total: number; byAction: Record<string, number> } {
  const byAction: Record<string, number> = {};
  let total = 0;
  for (const [key, { calls }] of Object.entries(counts)) {
    const [of, action = ''] = key.split('.');
    if (of !== service) continue;
    byAction[action] = calls;
    total += calls;
  }
  return { total, byAction };
}

export function throttledOf(counts: CallCounts): number {
  return Object.values(counts).reduce((sum, { throttled }) => sum + throttled, 0);
}

/**
 * The least time AWS's buckets allow for these calls, made as fast as the client can: a bucket of
 * capacity B refilling r tokens a second admits N calls in max(0, (N - B) / r) seconds at the earliest.
 * Summed over the buckets (the runs call them one after another, mostly). Cloud Map publishes no rate for
 * the actions the registrar calls (only DiscoverInstances), so they add nothing here.
 */
export function quotaBoundSeconds(counts: CallCounts): { seconds: number; byBucket: Record<string, number> } {
  const byBucket: Record<string, number> = {};
  let seconds = 0;
  for (const bucket of AWS_QUOTAS) {
    const n = bucket.actions.reduce((sum, action) => sum + (counts[`${bucket.service}.${action}`]?.calls ?? 0), 0);
    if (n === 0) continue;
    const wait = Math.max(0, (n - bucket.burst) / bucket.rate);
    byBucket[`${bucket.name} (${n} calls, burst ${bucket.burst}, ${bucket.rate}/s)`] = round(wait, 2);
    seconds += wait;
  }
  return { seconds, byBucket };
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
