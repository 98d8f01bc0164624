import { DescribeTasksCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import { createHandler } from '../functions/lookup';
import { loadLookupConfig, loadReconcileConfig } from '../lib/config';
import { sweepHealth } from '../lib/health-sweep';
import { createCloudMapLookupApp } from '../lib/lookup/lookup-app';
import { createRegistrarDeps } from '../lib/registrar-runtime';
import { namedFargateTask, registerApp } from '../support/ecs-setup';
import { resolveServerlessYml, startPipeline } from '../support/pipeline';

/**
 * Health-gated membership, measured on the local pipeline in real time (issue 6 targets): how long from
 * ECS reporting a task HEALTHY until a lookup shows it (goal <= 15 s), and from ECS reporting it
 * UNHEALTHY until it is out of `health=healthy` answers (goal <= 60 s). The register function runs behind its
 * queue with its default re-check delay; the health sweep runs every HEALTH_SWEEP_INTERVAL_MS (20 s) as the
 * healthSweep function does, and the task turns UNHEALTHY just after a pass (the worst phase). The
 * emulator applies custom health at once; AWS applies it about 30 s later (see the README).
 */
export interface HealthBenchmark {
  healthyToDiscoverableMs: number;
  unhealthyToOutOfHealthyAnswersMs: number;
  sweepIntervalMs: number;
  healthPollMs: number;
  lookupHealthMaxAgeMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const context = {
  functionName: 'lookup',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

export default async function runHealthBenchmark(
  log: (line: string) => void = () => undefined,
): Promise<HealthBenchmark> {
  // The delivery serverless.yml declares: the running rule, the register queue and its re-checks.
  await resolveServerlessYml();
  // Half speed: the emulator's 10 s first health verdict takes 5 s; Cloud Map operations and re-check delays
  // take half their time.
  const pipeline = await startPipeline({ timeScale: 0.5 });
  const { ecs, emulator } = pipeline;
  try {
    await registerApp(
      ecs,
      'checked',
      { portMappings: [{ containerPort: 8080 }], healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5 } },
      'health',
    );
    const lookupConfig = loadLookupConfig({ ...process.env, NAMESPACE: 'kudos.local' });
    const lookup = createHandler(createCloudMapLookupApp(lookupConfig, pipeline.cloudMap));
    const shown = async (): Promise<boolean> => {
      const answer = await lookup(
        {
          version: '2.0',
          rawPath: '/services/checked',
          rawQueryString: 'health=healthy',
          headers: {},
          requestContext: { http: { method: 'GET', path: '/services/checked' } },
        } as never,
        context,
      );
      return answer.statusCode === 200 && JSON.parse(String(answer.body)).instances.length === 1;
    };
    const run = await ecs.send(new RunTaskCommand(namedFargateTask('health', 'checked', 'checked')));
    const taskArn = run.tasks?.[0]?.taskArn ?? '';
    let healthyAt = 0;
    while (!healthyAt) {
      const task = (await ecs.send(new DescribeTasksCommand({ cluster: 'health', tasks: [taskArn] }))).tasks?.[0];
      if (task?.healthStatus === 'HEALTHY') healthyAt = Date.now();
      else await sleep(50);
    }
    while (!(await shown())) await sleep(50);
    const healthyToDiscoverableMs = Date.now() - healthyAt;
    log(`HEALTHY -> discoverable in ${healthyToDiscoverableMs} ms`);

    const deps = createRegistrarDeps(loadReconcileConfig());
    const interval = loadReconcileConfig().healthSweepIntervalMs;
    let sweeping = true;
    const sweeps = (async () => {
      while (sweeping) {
        await sweepHealth(deps, ['health'], new Date());
        await sleep(interval);
      }
    })();
    await sleep(1000);
    emulator.setTaskHealth({ taskArn, cluster: 'health' }, 'UNHEALTHY');
    const unhealthyAt = Date.now();
    while (await shown()) await sleep(200);
    const unhealthyToOutOfHealthyAnswersMs = Date.now() - unhealthyAt;
    log(`UNHEALTHY -> out of health=healthy answers in ${unhealthyToOutOfHealthyAnswersMs} ms`);
    sweeping = false;
    await sweeps;
    return {
      healthyToDiscoverableMs,
      unhealthyToOutOfHealthyAnswersMs,
      sweepIntervalMs: interval,
      healthPollMs: loadReconcileConfig().healthPollMs,
      lookupHealthMaxAgeMs: lookupConfig.healthMaxAgeMs,
    };
  } finally {
    await pipeline.stop();
  }
}
