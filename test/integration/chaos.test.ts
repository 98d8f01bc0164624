import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateServiceCommand as CreateCloudMapServiceCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
} from '@aws-sdk/client-servicediscovery';
import { loadReconcileConfig } from '../../lib/config';
import { reconcile } from '../../lib/reconcile';
import { createRegistrarDeps } from '../../lib/registrar-runtime';
import type { FaultSettings } from '../../local/emulator';
import { fargateTaskDefinition } from '../../local/task-definitions';
import { registerPattern, startPipeline } from '../../support/pipeline';

/**
 * Chaos (issues 6 and 10): hundreds of tasks start and stop while Cloud Map throttles and fails calls,
 * goes down for a while, and events are lost for part of the run; meanwhile a Cloud Map service made by
 * another tool shares a name with an ECS service, one task's writes are always denied (a poisoned item),
 * and a watched cluster is deleted while its stop events are lost. After Lambda's retries, one DLQ replay
 * and one reconcile, Cloud Map must hold exactly the tasks ECS runs, except what can only be left alone:
 * the foreign service's tasks, the poisoned task, and the deleted cluster's instances (ECS cannot say
 * they are gone; an operator's --force removes them).
 */

/*
 * The one change to the production wiring: the register function's Cloud Map client retries in the
 * SDK's standard mode instead of adaptive. The emulator throttles a share of calls whatever their rate,
 * and adaptive mode reads every throttle as "too fast": one client shared by hundreds of concurrent
 * invocations falls to its floor of 0.5 requests/s, and the run takes many minutes (measured: 40 events
 * handled in 3 minutes). Standard mode still backs off and retries throttles, within the same retry
 * quota, so failures still reach Lambda's retries and the DLQ.
 */
jest.mock('../../lib/aws-clients', () => {
  const actual = jest.requireActual('../../lib/aws-clients') as typeof import('../../lib/aws-clients');
  const { ServiceDiscoveryClient } = jest.requireActual(
    '@aws-sdk/client-servicediscovery',
  ) as typeof import('@aws-sdk/client-servicediscovery');
  return {
    ...actual,
    createServiceDiscoveryClient: (options?: Parameters<typeof actual.createServiceDiscoveryClient>[0]) => {
      const client = actual.createServiceDiscoveryClient(options);
      const standard = new ServiceDiscoveryClient({ retryMode: 'standard', maxAttempts: options?.maxAttempts ?? 5 });
      client.config.retryStrategy = standard.config.retryStrategy;
      return client;
    },
  };
});

const CLUSTER = 'chaos';
const SERVICES = ['orders', 'payments', 'search', 'users', 'mail'] as const;
const JOBS = 'jobs';
const FAULTS = { throttleRate: 0.3, errorRate: 0.05, seed: 6 };
/** An ECS service whose Cloud Map name another tool holds (no managed-by tag). */
const FOREIGN = 'legacy';
/** A second watched cluster, deleted during the run, and its one service. */
const DOOMED_CLUSTER = 'chaos-doomed';
const RELIC = 'relic';
const RELIC_TASKS = 5;

let pipeline: Awaited<ReturnType<typeof startPipeline>>;
let started = 0;

beforeAll(async () => {
  // Straight from the rule to the handler, with Lambda's asynchronous retries and DLQ (the emulator's EventBus): this
  // test is about what the registrar makes of failures, whatever carries its events.
  pipeline = await startPipeline({ timeScale: 0.002, pattern: registerPattern() });
  const { ecs } = pipeline;
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await ecs.send(
    new RegisterTaskDefinitionCommand(
      fargateTaskDefinition('app', [
        { name: 'app', image: 'app', essential: true, portMappings: [{ containerPort: 8080 }] },
      ]),
    ),
  );
  // Another tool made this Cloud Map service for the ECS service of the same name: no managed-by tag.
  const namespaces = await pipeline.cloudMap.send(new ListNamespacesCommand({}));
  const namespaceId = namespaces.Namespaces?.find((n) => n.Name === 'kudos.local')?.Id ?? '';
  await pipeline.cloudMap.send(new CreateCloudMapServiceCommand({ Name: FOREIGN, NamespaceId: namespaceId }));
  await ecs.send(new CreateClusterCommand({ clusterName: DOOMED_CLUSTER }));
  for (const [cluster, serviceName, desiredCount] of [
    [DOOMED_CLUSTER, RELIC, RELIC_TASKS],
    [CLUSTER, FOREIGN, 3],
  ] as const) {
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName,
        taskDefinition: 'app',
        desiredCount,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-chaos'] } },
      }),
    );
  }
  for (const serviceName of SERVICES) {
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName,
        taskDefinition: 'app',
        desiredCount: 0,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-chaos'] } },
      }),
    );
  }
  await pipeline.emulator.idle();
}, 60_000);

afterAll(() => pipeline.stop());

const desired = new Map<string, number>();
/** The poisoned task's id: every Cloud Map write naming it is denied, whatever else the weather does. */
let poisoned = '';

/** Sets the weather, keeping the poisoned task's writes denied. */
function setFaults(settings: FaultSettings): void {
  pipeline.emulator.setFaults({ ...settings, denyInstanceIds: poisoned ? [poisoned] : [] });
}

/** Sets the desired counts of services; scale-ups count as started tasks. */
async function scale(counts: Partial<Record<(typeof SERVICES)[number], number>>): Promise<void> {
  for (const [service, count] of Object.entries(counts)) {
    started += Math.max(0, count - (desired.get(service) ?? 0));
    desired.set(service, count);
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service, desiredCount: count }));
  }
}

/** Starts standalone tasks tagged with a discovery name; returns their ARNs. */
async function runJobs(count: number): Promise<string[]> {
  const arns: string[] = [];
  for (let left = count; left > 0; left -= 10) {
    const out = await pipeline.ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'app',
        launchType: 'FARGATE',
        count: Math.min(10, left),
        tags: [{ key: 'discovery:name', value: JOBS }],
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-chaos'] } },
      }),
    );
    arns.push(...(out.tasks ?? []).map((t) => t.taskArn ?? ''));
  }
  started += arns.length;
  return arns;
}

async function stopTasks(arns: string[]): Promise<void> {
  for (const task of arns) await pipeline.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task }));
}

/** What ECS runs now, as `cloudMapService/taskId`. */
async function ecsRunning(): Promise<string[]> {
  const { ecs } = pipeline;
  const running: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus: 'RUNNING', nextToken }));
    nextToken = page.nextToken;
    const arns = page.taskArns ?? [];
    for (let i = 0; i < arns.length; i += 100) {
      const out = await ecs.send(
        new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns.slice(i, i + 100), include: ['TAGS'] }),
      );
      for (const task of out.tasks ?? []) {
        if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') continue;
        const name = task.group?.startsWith('service:') ? task.group.slice('service:'.length) : JOBS;
        running.push(`${name}/${task.taskArn?.split('/').pop()}`);
      }
    }
  } while (nextToken);
  return running.sort();
}

/** What Cloud Map holds of this project's instances, as `service/instanceId`. */
async function cloudMapOwned(): Promise<string[]> {
  const { cloudMap } = pipeline;
  const namespaces = await cloudMap.send(new ListNamespacesCommand({}));
  const namespaceId = namespaces.Namespaces?.find((n) => n.Name === 'kudos.local')?.Id ?? '';
  const services = await cloudMap.send(
    new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [namespaceId], Condition: 'EQ' }] }),
  );
  const owned: string[] = [];
  for (const service of services.Services ?? []) {
    let NextToken: string | undefined;
    do {
      const page = await cloudMap.send(new ListInstancesCommand({ ServiceId: service.Id, NextToken }));
      NextToken = page.NextToken;
      for (const instance of page.Instances ?? []) {
        if (instance.Attributes?.REGISTRAR_OWNER) owned.push(`${service.Name}/${instance.Id}`);
      }
    } while (NextToken);
  }
  return owned.sort();
}

const difference = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));

describe('chaos on the local emulator', () => {
  it('ends with Cloud Map equal to the tasks ECS runs after throttling, failures, an outage and lost events, once retries, the DLQ replay and one reconcile have run', async () => {
    const { emulator } = pipeline;

    // Busy hours under a flaky Cloud Map: 30% throttled, 5% failed. One job is poisoned: denied from the
    // start (its RUNNING event is handled well after RunTask answers).
    const [poisonedArn = ''] = await runJobs(1);
    poisoned = poisonedArn.split('/').pop() ?? '';
    setFaults(FAULTS);
    await scale({ orders: 30, payments: 25, search: 20, users: 15, mail: 10 });
    const firstJobs = await runJobs(30);
    await emulator.idle();
    const relics = (await cloudMapOwned()).filter((instance) => instance.startsWith(`${RELIC}/`));

    // An outage in the middle: every Cloud Map call fails while services scale and jobs stop.
    setFaults({ ...FAULTS, errorRate: 1 });
    await scale({ orders: 10, payments: 35, search: 5 });
    await stopTasks(firstJobs.slice(0, 10));
    await emulator.idle();
    setFaults(FAULTS);

    // Event delivery paused: these changes are lost for the register function. The doomed cluster is
    // emptied and deleted (ECS refuses to delete a cluster with services or active tasks).
    emulator.setEventDelivery(false);
    await scale({ users: 30, mail: 0, search: 12 });
    await stopTasks(firstJobs.slice(10, 20));
    const lostJobs = await runJobs(10);
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster: DOOMED_CLUSTER, service: RELIC, desiredCount: 0 }));
    await pipeline.ecs.send(new DeleteServiceCommand({ cluster: DOOMED_CLUSTER, service: RELIC }));
    await emulator.idle();
    await pipeline.ecs.send(new DeleteClusterCommand({ cluster: DOOMED_CLUSTER }));
    emulator.setEventDelivery(true);

    // More churn, still flaky.
    await scale({ orders: 25, payments: 20, mail: 15 });
    await stopTasks(lostJobs.slice(0, 5));
    await runJobs(10);
    await emulator.idle();

    // The weather clears (the poisoned task stays denied): retries finish, the DLQ is replayed, and one
    // reconcile runs over both watched clusters.
    setFaults({});
    await emulator.idle();
    const deadLetters = emulator.deadLetters().length;
    emulator.replayDeadLetters();
    await emulator.idle();
    // Only the poisoned task's events are still dead: the others succeeded on replay.
    const stillDead = new Set(emulator.deadLetters().map((letter) => String(letter.event.detail.taskArn)));
    expect([...stillDead]).toEqual([poisonedArn]);
    const repaired = await reconcile(createRegistrarDeps(loadReconcileConfig()), {
      clusters: [CLUSTER, DOOMED_CLUSTER],
      maxDeletes: 10_000,
    });

    const running = await ecsRunning();
    const registered = await cloudMapOwned();
    expect(started).toBeGreaterThanOrEqual(200);
    // The outage must have pushed events to the DLQ, or the replay proves nothing.
    expect(deadLetters).toBeGreaterThan(0);
    // Everything else is equal; what is left is exactly what must be left alone.
    const foreign = running.filter((task) => task.startsWith(`${FOREIGN}/`));
    expect(foreign).toHaveLength(3);
    expect(relics).toHaveLength(RELIC_TASKS);
    expect({ missing: difference(running, registered), stale: difference(registered, running) }).toEqual({
      missing: [...foreign, `${JOBS}/${poisoned}`].sort(),
      stale: relics,
    });
    expect(running.length).toBeGreaterThan(100);
    // Each left-alone item counted once, for its reason; the poisoned task is the run's only failure.
    expect(repaired).toMatchObject({
      failed: 1,
      failedByReason: { AccessDeniedException: 1 },
      deferred: RELIC_TASKS,
      skippedByReason: expect.objectContaining({ 'service-not-managed': 1, 'cluster-not-found': 1 }),
    });
    // Lost events leave work that only the reconcile can do: it must have done some.
    expect(repaired.registered + repaired.deregistered).toBeGreaterThan(0);
  }, 240_000);
});
