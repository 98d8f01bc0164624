import { ClusterNotFoundError } from '../../../lib/errors';
import { sweepHealth } from '../../../lib/health-sweep';
import { logger } from '../../../lib/observability';
import { isHealthGated, type PlanSettings, planTaskEvent } from '../../../lib/plan';
import type { DescribedTask } from '../../../lib/ports';
import { handleTaskEvent, type RegistrarDeps } from '../../../lib/registrar';
import { parseTaskEvent, type TaskDetail, type TaskStateChange } from '../../../lib/task-event';
import { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } from '../../../support/memory-adapters';
import { HEALTH_CHECKED_07, loadEvent } from '../../helpers/fixtures';
import { planPrinted } from '../../helpers/printed-plan';

const TASK_ARN = 'arn:aws:ecs:eu-west-2:332499610595:task/dev-ecs-public/f8bec92bed774ee4b27711702a862de5';
const TASK_ID = 'f8bec92bed774ee4b27711702a862de5';
const TASK_DEF = 'arn:aws:ecs:eu-west-2:332499610595:task-definition/cdp-demo-test-15:1';
const SERVICE = { id: '', name: 'cdp-demo-test-15', namespaceId: '' };
const settings: PlanSettings = {
  namespace: 'kudos.local',
  defaultPort: 80,
  dnsRecords: 'A',
  ownerId: 'ecs-cloudmap-registrar',
};

const gatedDefinition = HEALTH_CHECKED_07;

function event(): TaskStateChange {
  const parsed = parseTaskEvent(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.event;
}

const described = (healthStatus?: string): DescribedTask => ({
  taskArn: TASK_ARN,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  version: 5,
  tags: {},
  ...(healthStatus ? { healthStatus } : {}),
});

describe('health-gated membership in the plan', () => {
  it('gates a task whose essential container defines a health check', () => {
    expect(isHealthGated(gatedDefinition)).toBe(true);
    const notEssential = {
      ...gatedDefinition,
      containers: gatedDefinition.containers.map((c) => ({ ...c, essential: c.name !== 'app' })),
    };
    expect(isHealthGated(notEssential)).toBe(false);
  });

  it.each([
    ['UNKNOWN', 'health-pending'],
    [undefined, 'health-pending'],
    ['UNHEALTHY', 'unhealthy'],
  ])('does not register a health-checked task that ECS reports %s', (health, reason) => {
    const plan = planTaskEvent(event(), { described: described(health), taskDefinition: gatedDefinition }, settings);
    expect(plan).toMatchObject({ action: 'ignore', reason });
  });

  it('registers a health-checked task once ECS reports it HEALTHY', () => {
    const plan = planPrinted(event(), { described: described('HEALTHY'), taskDefinition: gatedDefinition }, settings);
    expect(plan).toMatchObject({ action: 'register', attributes: { AWS_INSTANCE_PORT: '8085' } });
  });
});

function setup(healthSequence: string[]) {
  const registry = new MemoryRegistry();
  const tasks = new MemoryTaskSource();
  const versions = new MemoryVersionStore();
  tasks.definitions.set(TASK_DEF, gatedDefinition);
  let polls = 0;
  tasks.describeTask = async () => {
    tasks.reads += 1;
    const health = healthSequence[Math.min(polls, healthSequence.length - 1)];
    polls += 1;
    return described(health);
  };
  let clock = 0;
  const deps: RegistrarDeps = {
    registry,
    tasks,
    versions,
    settings: { ...settings, dnsTtl: 10, healthWaitMs: 10_000, healthPollMs: 2_000 },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  };
  return { registry, tasks, versions, deps };
}

describe('a RUNNING event for a health-checked task', () => {
  it('is planned once, without waiting: no write, no sleep, skipped as health-pending (the queue re-checks it)', async () => {
    const { registry, tasks, deps } = setup(['UNKNOWN', 'HEALTHY']);
    const slept: number[] = [];
    deps.sleep = async (ms) => {
      slept.push(ms);
    };
    await expect(handleTaskEvent(event(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'health-pending',
    });
    expect(tasks.reads).toBe(1);
    expect(slept).toEqual([]);
    expect(registry.writes).toEqual([]);
  });

  it('is registered when handled again once ECS reports HEALTHY', async () => {
    const { registry, deps } = setup(['UNKNOWN', 'HEALTHY']);
    await handleTaskEvent(event(), deps);
    await expect(handleTaskEvent(event(), deps)).resolves.toMatchObject({ result: 'registered' });
    expect(registry.writes).toEqual([`register cdp-demo-test-15/${TASK_ID}`]);
  });

  it('is not registered when ECS reports it UNHEALTHY', async () => {
    const { registry, deps } = setup(['UNHEALTHY']);
    await expect(handleTaskEvent(event(), deps)).resolves.toMatchObject({ result: 'skipped', reason: 'unhealthy' });
    expect(registry.writes).toEqual([]);
  });
});

describe('the health sweep', () => {
  function listing(health: string) {
    const detail = event().detail as TaskDetail;
    return [{ detail: { ...detail, healthStatus: health }, tags: {} }];
  }

  it('registers a pending task once ECS reports it HEALTHY, and only once', async () => {
    const { registry, tasks, deps } = setup(['UNKNOWN']);
    await handleTaskEvent(event(), deps);
    tasks.listRunningTasks = async () => listing('HEALTHY');
    const nothingElse = { failed: 0, failedByReason: {}, skipped: 0, skippedByReason: {} };
    await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toEqual({
      registered: 1,
      healthChanged: 0,
      pending: 0,
      ...nothingElse,
    });
    await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toEqual({
      registered: 0,
      healthChanged: 0,
      pending: 0,
      ...nothingElse,
    });
    expect(registry.writes).toEqual([`register cdp-demo-test-15/${TASK_ID}`]);
  });

  it('counts tasks still waiting for a health verdict', async () => {
    const { tasks, deps } = setup(['UNKNOWN']);
    tasks.listRunningTasks = async () => listing('UNKNOWN');
    await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toMatchObject({
      pending: 1,
      registered: 0,
    });
  });

  it('marks a registered task UNHEALTHY when ECS does, and HEALTHY again when it recovers', async () => {
    const { registry, tasks, deps } = setup(['HEALTHY']);
    await handleTaskEvent(event(), deps);
    tasks.listRunningTasks = async () => listing('UNHEALTHY');
    await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toMatchObject({ healthChanged: 1 });
    await expect(registry.getHealth(SERVICE)).resolves.toEqual({ [TASK_ID]: 'UNHEALTHY' });
    await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toMatchObject({ healthChanged: 0 });
    tasks.listRunningTasks = async () => listing('HEALTHY');
    await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toMatchObject({ healthChanged: 1 });
    await expect(registry.getHealth(SERVICE)).resolves.toEqual({ [TASK_ID]: 'HEALTHY' });
  });

  describe('each item fails alone', () => {
    const OTHER_ARN = TASK_ARN.replace(TASK_ID, '0123456789abcdef0123456789abcdef');
    const OTHER_ID = '0123456789abcdef0123456789abcdef';
    const denied = () => Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });

    /** The fixture's RUNNING event for another task of the same service. */
    function otherEvent(): TaskStateChange {
      const first = event();
      return { ...first, resources: [OTHER_ARN], detail: { ...first.detail, taskArn: OTHER_ARN } };
    }

    function bothListed(health: string) {
      return [...listing(health), { detail: { ...otherEvent().detail, healthStatus: health }, tags: {} }];
    }

    let error: jest.SpyInstance;
    beforeEach(() => {
      error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    });
    afterEach(() => error.mockRestore());

    it('counts a health update that fails for one task, and still makes the other follow ECS', async () => {
      const { registry, tasks, deps } = setup(['HEALTHY']);
      await handleTaskEvent(event(), deps);
      await handleTaskEvent(otherEvent(), deps);
      registry.failingInstances.set(TASK_ID, denied());
      tasks.listRunningTasks = async () => bothListed('UNHEALTHY');

      await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toMatchObject({
        healthChanged: 1,
        failed: 1,
        failedByReason: { AccessDeniedException: 1 },
      });
      await expect(registry.getHealth(SERVICE)).resolves.toEqual({ [TASK_ID]: 'HEALTHY', [OTHER_ID]: 'UNHEALTHY' });
      expect(error).toHaveBeenCalledWith(
        'set-health failed: not authorized',
        expect.objectContaining({ taskArn: TASK_ARN, cloudMapService: SERVICE.name, reason: 'AccessDeniedException' }),
      );
    });

    it('counts a registration that fails for one task, still registers the other, and retries it on the next pass', async () => {
      const { registry, tasks, deps } = setup(['UNKNOWN']);
      registry.failingInstances.set(TASK_ID, denied());
      tasks.listRunningTasks = async () => bothListed('HEALTHY');

      await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toMatchObject({
        registered: 1,
        failed: 1,
        failedByReason: { AccessDeniedException: 1 },
      });
      expect(registry.writes).toEqual([`register cdp-demo-test-15/${OTHER_ID}`]);

      // The failed registration was claimed in the task table: Cloud Map, not the table, says it is missing.
      registry.failingInstances.clear();
      await expect(sweepHealth(deps, ['dev-ecs-public'], new Date())).resolves.toMatchObject({
        registered: 1,
        failed: 0,
      });
      expect(registry.writes).toContain(`register cdp-demo-test-15/${TASK_ID}`);
    });

    it('skips a cluster ECS does not find with one warning, and sweeps the others', async () => {
      const { registry, tasks, deps } = setup(['UNKNOWN']);
      tasks.listRunningTasks = async (cluster) => {
        if (cluster === 'deleted') throw new ClusterNotFoundError(cluster);
        return listing('HEALTHY');
      };
      const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
      try {
        await expect(sweepHealth(deps, ['deleted', 'dev-ecs-public'], new Date())).resolves.toMatchObject({
          registered: 1,
          failed: 0,
          skippedByReason: { 'cluster-not-found': 1 },
        });
        expect(warn).toHaveBeenCalledWith(
          expect.stringContaining('"deleted"'),
          expect.objectContaining({ cluster: 'deleted', reason: 'cluster-not-found' }),
        );
      } finally {
        warn.mockRestore();
      }
      expect(registry.writes).toEqual([`register cdp-demo-test-15/${TASK_ID}`]);
    });
  });
});
