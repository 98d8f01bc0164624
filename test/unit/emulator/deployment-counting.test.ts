import {
  CreateClusterCommand,
  CreateServiceCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { BusEvent } from '../../../local/emulator';
import { fargateTaskDefinition } from '../../../local/task-definitions';
import { type Harness, startHarness, stopHarness } from './emulator-harness';

/**
 * A rolling deployment (minimumHealthyPercent 100, maximumPercent 200) of a service without a load balancer:
 * ECS counts a new task toward the minimum healthy percent only once it is healthy, which for a task
 * without a container health check is 40 s after it reaches RUNNING, and only then stops an old one
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html,
 * minimumHealthyPercent). Until then old and new tasks run side by side, so discovery never runs dry.
 */
const SCALE = 0.005;
let h: Harness;
const events: { at: number; detail: Record<string, string> }[] = [];

beforeEach(async () => {
  h = await startHarness({ timeScale: SCALE });
  events.length = 0;
  h.emulator.addRule({
    name: 'all-task-events',
    pattern: { source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'] },
    target: async (event: BusEvent) => {
      events.push({ at: performance.now(), detail: event.detail as Record<string, string> });
    },
  });
});
afterEach(() => stopHarness(h));

async function registerRevision(withHealthCheck: boolean): Promise<void> {
  await h.ecs.send(
    new RegisterTaskDefinitionCommand(
      fargateTaskDefinition('api', [
        {
          name: 'app',
          image: 'app',
          essential: true,
          ...(withHealthCheck ? { healthCheck: { command: ['CMD-SHELL', 'true'] } } : {}),
        },
      ]),
    ),
  );
}

async function rollTwoTasks(withHealthCheck: boolean): Promise<{ newRunning: number; oldStopDecided: number }> {
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'default' }));
  await registerRevision(withHealthCheck);
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'default',
      serviceName: 'api',
      taskDefinition: 'api',
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
    }),
  );
  await h.emulator.idle();
  await registerRevision(withHealthCheck);
  events.length = 0;
  await h.ecs.send(new UpdateServiceCommand({ cluster: 'default', service: 'api', taskDefinition: 'api' }));
  await h.emulator.idle();
  const isNew = (e: (typeof events)[number]) => e.detail.taskDefinitionArn?.endsWith(':2');
  // The first new task to run is the first that can count, so the first old task to stop follows it.
  const newRunning = Math.min(...events.filter((e) => isNew(e) && e.detail.lastStatus === 'RUNNING').map((e) => e.at));
  const oldStopDecided = Math.min(
    ...events.filter((e) => !isNew(e) && e.detail.desiredStatus === 'STOPPED').map((e) => e.at),
  );
  return { newRunning, oldStopDecided };
}

describe('a rolling deployment with minimumHealthyPercent 100', () => {
  it('stops no old task until the new ones have run 40 s (no health check)', async () => {
    const { newRunning, oldStopDecided } = await rollTwoTasks(false);
    expect(oldStopDecided - newRunning).toBeGreaterThanOrEqual(40_000 * SCALE - 5);
  });

  it('stops old tasks once the new ones are HEALTHY (container health check: 10 s here), not 40 s', async () => {
    const { newRunning, oldStopDecided } = await rollTwoTasks(true);
    const waited = oldStopDecided - newRunning;
    expect(waited).toBeGreaterThanOrEqual(10_000 * SCALE - 5);
    expect(waited).toBeLessThan(40_000 * SCALE);
  });
});
