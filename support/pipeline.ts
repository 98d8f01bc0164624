import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CreatePrivateDnsNamespaceCommand } from '@aws-sdk/client-servicediscovery';
import type { Context } from 'aws-lambda';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import { loadDeregisterConfig, loadRegistrarConfig } from '../lib/config';
import { createTaskQueueDeps } from '../lib/registrar-runtime';
import { handleTaskMessages, isSqsEvent } from '../lib/task-queue';
import { applyDelivery, type Delivery, deliveryFromConfig } from '../local/delivery';
import { createEmulator, type Emulator, type EventPattern } from '../local/emulator';
import { type PrintedConfig, printConfig } from '../local/rules';
import { startDynalite } from './dynalite';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * For the benchmarks, which have no jest global setup: resolves serverless.yml once (`osls print`, seconds) and
 * points printedConfig() at it, as test/global-setup.ts does for the tests.
 */
export async function resolveServerlessYml(): Promise<void> {
  if (process.env.TEST_PRINTED_CONFIG_FILE) return;
  const config = await printConfig('local', join(__dirname, '..'));
  const file = join(tmpdir(), `ecs-cloudmap-registrar-config-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(config));
  process.env.TEST_PRINTED_CONFIG_FILE = file;
}

/** `osls print --format json` of serverless.yml, as test/global-setup.ts wrote it for the run. */
export function printedConfig(): PrintedConfig {
  const file = process.env.TEST_PRINTED_CONFIG_FILE;
  if (!file) throw new Error('TEST_PRINTED_CONFIG_FILE is not set: run the tests with jest (test/global-setup.ts)');
  return JSON.parse(readFileSync(file, 'utf8')) as PrintedConfig;
}

/** The delivery serverless.yml declares (rules, queues, functions, event source mappings), for stage `local`. */
export function deployedDelivery(): Delivery {
  return deliveryFromConfig(printedConfig(), 'local');
}

/**
 * One pattern matching every event the deployed task-event rules take (running and leaving), for tests that hand
 * events straight to a handler: the deployment's rules, joined with `$or`.
 */
export function registerPattern(): EventPattern {
  const patterns = deployedDelivery()
    .rules.filter((rule) => 'queue' in rule.target)
    .map((rule) => rule.pattern as { source?: unknown; 'detail-type'?: unknown; detail?: Record<string, unknown> });
  const [first] = patterns;
  if (!first) throw new Error('serverless.yml has no EventBridge rule that sends task events to a queue');
  const alternatives = patterns.flatMap((p) => {
    const detail = p.detail ?? {};
    return Array.isArray(detail.$or) ? (detail.$or as Record<string, unknown>[]) : [detail];
  });
  return { source: first.source, 'detail-type': first['detail-type'], detail: { $or: alternatives } } as EventPattern;
}

const lambdaContext = {
  functionName: 'register',
  awsRequestId: 'integration',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/**
 * Points the functions' environment (read at their cold start) at the emulator and dynalite, through the standard
 * AWS_ENDPOINT_URL_* variables, with `namespace` as NAMESPACE and dummy credentials: only the local endpoints are
 * called, so real ones never leave in a signature.
 */
export function pointFunctionsAt(
  emulator: Emulator,
  dynamo: { endpoint: string; tableName: string },
  namespace: string,
  extra: Record<string, string> = {},
): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_SERVICEDISCOVERY: emulator.url,
    AWS_ENDPOINT_URL_ECS: emulator.url,
    AWS_ENDPOINT_URL_EC2: emulator.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: emulator.url,
    NAMESPACE: namespace,
    TASK_TABLE: dynamo.tableName,
    OPERATION_TIMEOUT_MS: '10000',
    ...extra,
  });
}

/**
 * The whole pipeline in one process, over real HTTP: the emulator (ECS, Cloud Map, EventBridge, SQS, Lambda's
 * concurrency), dynalite (the task table), and the real register and deregister handlers behind the delivery
 * serverless.yml declares (rules -> queues -> event source mappings, reserved concurrency), with their real SDK
 * clients pointed at them through the standard AWS_ENDPOINT_URL_* variables. With `pattern`, one rule instead hands
 * every matching event straight to the register handler (no queue).
 */
export async function startPipeline(
  options: {
    timeScale?: number;
    namespace?: string;
    containerInstancesPerCluster?: number;
    /** One rule straight to the handler, with this pattern, instead of the deployed delivery. */
    pattern?: EventPattern;
    /** Live tasks: each task's ports served on its own loopback address (see EmulatorOptions). */
    liveTasks?: boolean;
  } = {},
) {
  const dynamo = await startDynalite('registrar-tasks');
  const emulator: Emulator = await createEmulator({
    port: 0,
    timeScale: options.timeScale ?? 0.002,
    containerInstancesPerCluster: options.containerInstancesPerCluster ?? 0,
    liveTasks: options.liveTasks ?? false,
  });
  const namespace = options.namespace ?? 'kudos.local';
  const delivery = deployedDelivery();
  const register = delivery.functions.find((fn) => fn.key === 'register');
  const queueName = (logicalId: string) => delivery.queues.find((q) => q.logicalId === logicalId)?.name;
  const registerQueue = queueName('RegisterQueue');
  const leavingQueue = queueName('LeavingQueue');
  pointFunctionsAt(
    emulator,
    dynamo,
    namespace,
    registerQueue && leavingQueue && !options.pattern
      ? { REGISTER_QUEUE_NAME: registerQueue, LEAVING_QUEUE_NAME: leavingQueue }
      : {},
  );
  const cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1' });
  await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: namespace, Vpc: 'vpc-local' }));
  await emulator.idle();
  // Required only now: the handler reads its configuration at cold start.
  const { handler } = require('../functions/register') as typeof import('../functions/register');
  const outcomes: unknown[] = [];
  if (options.pattern) {
    emulator.addRule({
      name: 'register',
      pattern: options.pattern,
      target: async (event) => {
        outcomes.push(await handler(event, lambdaContext));
      },
    });
  } else {
    if (!register) throw new Error('serverless.yml has no register function');
    // The batch work of the register and deregister handlers (lib/task-queue.ts), each on its function's own
    // configuration (its own re-check queue), so each event's outcome can be kept.
    const registerDeps = createTaskQueueDeps(loadRegistrarConfig());
    const deregisterDeps = createTaskQueueDeps(loadDeregisterConfig());
    applyDelivery(emulator, delivery, async (functionName, payload) => {
      try {
        if (!isSqsEvent(payload)) throw new Error('the task-event functions are invoked by their queues here');
        const deps = functionName.endsWith('-deregister') ? deregisterDeps : registerDeps;
        const { batchItemFailures, outcomes: handled } = await handleTaskMessages(payload.Records, deps);
        for (const outcome of handled) if (!(outcome instanceof Error)) outcomes.push(outcome);
        return { ok: true, body: JSON.stringify({ batchItemFailures }) };
      } catch (error) {
        const e = error as Error;
        return { ok: false, body: JSON.stringify({ errorType: e.name, errorMessage: e.message }), error: 'Unhandled' };
      }
    });
  }
  const ecs = new ECSClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
  return {
    emulator,
    ecs,
    cloudMap,
    outcomes,
    stop: async () => {
      await emulator.close();
      await dynamo.stop();
      ecs.destroy();
      cloudMap.destroy();
    },
  };
}
