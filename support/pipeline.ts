import { readFileSync } from 'node:fs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CreatePrivateDnsNamespaceCommand } from '@aws-sdk/client-servicediscovery';
import type { Context } from 'aws-lambda';
import { createServiceDiscoveryClient } from '../lib/aws-clients';
import { createEmulator, type Emulator, type EventPattern } from '../local/emulator';
import type { FunctionRule } from '../local/rules';
import { startDynalite } from './dynalite';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The register function's EventBridge pattern as osls resolves serverless.yml (see test/global-setup.ts). */
export function registerPattern(): EventPattern {
  const file = process.env.TEST_RULES_FILE;
  if (!file) throw new Error('TEST_RULES_FILE is not set: run the tests with jest (test/global-setup.ts)');
  const rules = JSON.parse(readFileSync(file, 'utf8')) as FunctionRule[];
  const rule = rules.find((r) => r.name.startsWith('register-'));
  if (!rule) throw new Error('serverless.yml has no EventBridge rule for the register function');
  return rule.pattern;
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
    NAMESPACE: namespace,
    TASK_TABLE: dynamo.tableName,
    OPERATION_TIMEOUT_MS: '10000',
    ...extra,
  });
}

/**
 * The whole pipeline in one process, over real HTTP: the emulator (ECS, Cloud Map, EventBridge),
 * dynalite (the task table), and the real register handler as the rule's target, with its real SDK
 * clients pointed at them through the standard AWS_ENDPOINT_URL_* variables.
 */
export async function startPipeline(
  options: {
    timeScale?: number;
    namespace?: string;
    containerInstancesPerCluster?: number;
    /** The rule pattern; default: the one osls resolves (test/global-setup.ts). */
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
  pointFunctionsAt(emulator, dynamo, namespace, { HEALTH_POLL_MS: '200' });
  const cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1' });
  await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: namespace, Vpc: 'vpc-local' }));
  await emulator.idle();
  // Required only now: the handler reads its configuration at cold start.
  const { handler } = require('../functions/register') as typeof import('../functions/register');
  const outcomes: unknown[] = [];
  emulator.addRule({
    name: 'register',
    pattern: options.pattern ?? registerPattern(),
    target: async (event) => {
      outcomes.push(await handler(event, lambdaContext));
    },
  });
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
