import { logger } from '../../../lib/observability';
import { reconcile } from '../../../lib/reconcile';
import { handleTaskEvent, LEAVING_OVERRULE_AFTER_MS, type RegistrarDeps } from '../../../lib/registrar';
import type { TaskDetail } from '../../../lib/task-event';
import { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } from '../../../support/memory-adapters';
import { loadEvent, withDetail } from '../../helpers/fixtures';

const TASK_ARN = 'arn:aws:ecs:eu-west-2:332499610595:task/dev-ecs-public/f8bec92bed774ee4b27711702a862de5';
const TASK_ID = 'f8bec92bed774ee4b27711702a862de5';
const TASK_DEF = 'arn:aws:ecs:eu-west-2:332499610595:task-definition/cdp-demo-test-15:1';
const OWNER = 'ecs-cloudmap-registrar';

function setup() {
  const registry = new MemoryRegistry();
  const tasks = new MemoryTaskSource();
  tasks.tasks.set(TASK_ARN, {
    taskArn: TASK_ARN,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    version: 5,
    tags: {},
  });
  tasks.definitions.set(TASK_DEF, {
    arn: TASK_DEF,
    family: 'cdp-demo-test-15',
    networkMode: 'awsvpc',
    containers: [{ name: 'app', essential: true, portMappings: [{ containerPort: 8085 }], hasHealthCheck: false }],
  });
  const versions = new MemoryVersionStore();
  const deps: RegistrarDeps = {
    registry,
    tasks,
    versions,
    settings: { namespace: 'kudos.local', defaultPort: 80, dnsRecords: 'A', ownerId: OWNER, dnsTtl: 10 },
    now: () => Date.parse('2023-11-24T11:09:24Z'),
  };
  return { registry, tasks, versions, deps };
}

const runningEvent = () => loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json');
const stoppingEvent = () =>
  withDetail(runningEvent(), { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', version: 6 });

describe('handleTaskEvent', () => {
  it('registers a RUNNING service task in the Cloud Map service named after the ECS service', async () => {
    const { registry, deps } = setup();
    const outcome = await handleTaskEvent(runningEvent(), deps);
    expect(outcome).toEqual({
      result: 'registered',
      taskId: TASK_ID,
      service: 'cdp-demo-test-15',
      namespace: 'kudos.local',
      lagMs: 1000,
    });
    const instance = await registry.getInstance({ id: '', name: 'cdp-demo-test-15', namespaceId: '' }, TASK_ID);
    expect(instance?.attributes).toMatchObject({
      AWS_INSTANCE_IPV4: '10.249.47.254',
      AWS_INSTANCE_PORT: '8085',
      REGISTRAR_OWNER: OWNER,
    });
    expect(registry.services.get('cdp-demo-test-15')?.spec).toEqual({
      name: 'cdp-demo-test-15',
      dnsRecords: 'A',
      ttlSeconds: 10,
    });
  });

  it('deregisters when the task is DEACTIVATING', async () => {
    const { registry, deps } = setup();
    await handleTaskEvent(runningEvent(), deps);
    const outcome = await handleTaskEvent(stoppingEvent(), deps);
    expect(outcome).toMatchObject({ result: 'deregistered', taskId: TASK_ID });
    expect(registry.writes).toEqual([`register cdp-demo-test-15/${TASK_ID}`, `deregister cdp-demo-test-15/${TASK_ID}`]);
  });

  it('treats a deregistration of an instance that is already gone as done, without a write', async () => {
    const { registry, deps } = setup();
    await expect(handleTaskEvent(stoppingEvent(), deps)).resolves.toMatchObject({ result: 'deregistered' });
    expect(registry.writes).toEqual([]);
  });

  it('makes a duplicate RUNNING event harmless: no second write', async () => {
    const { registry, deps } = setup();
    await handleTaskEvent(runningEvent(), deps);
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'duplicate-event',
    });
    expect(registry.writes).toHaveLength(1);
  });

  it('does not let an older RUNNING event overwrite a newer registration recorded in Cloud Map', async () => {
    const { registry, deps } = setup();
    registry.seed('cdp-demo-test-15', TASK_ID, {
      REGISTRAR_OWNER: OWNER,
      ECS_TASK_VERSION: '9',
      ECS_SERVICE_NAME: 'cdp-demo-test-15',
    });
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'stale-event',
    });
    expect(registry.writes).toEqual([]);
  });

  it('never resurrects a task that ECS says has stopped', async () => {
    const { registry, tasks, deps } = setup();
    tasks.tasks.set(TASK_ARN, {
      taskArn: TASK_ARN,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      version: 8,
      tags: {},
    });
    // Nothing is registered; the event is handled as the stop ECS reports (nothing to remove here).
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({ result: 'deregistered' });
    expect(registry.writes).toEqual([]);
  });

  it('removes a stale instance when a late RUNNING event meets a task ECS says has stopped', async () => {
    const { registry, tasks, deps } = setup();
    registry.seed('cdp-demo-test-15', TASK_ID, {
      REGISTRAR_OWNER: OWNER,
      ECS_TASK_VERSION: '5',
      ECS_SERVICE_NAME: 'cdp-demo-test-15',
    });
    tasks.tasks.set(TASK_ARN, {
      taskArn: TASK_ARN,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      version: 8,
      tags: {},
    });
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({ result: 'deregistered' });
    expect(registry.writes).toEqual([`deregister cdp-demo-test-15/${TASK_ID}`]);
  });

  it('writes nothing for later leaving events once the task is deregistered', async () => {
    const { registry, deps } = setup();
    await handleTaskEvent(runningEvent(), deps);
    await handleTaskEvent(stoppingEvent(), deps);
    const stopped = withDetail(runningEvent(), { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 9 });
    await expect(handleTaskEvent(stopped, deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'already-deregistered',
    });
    expect(registry.writes).toHaveLength(2);
  });

  it('lets a leaving event that arrives during the first deregistration wait for it instead of writing again', async () => {
    const { registry, versions, deps } = setup();
    await handleTaskEvent(runningEvent(), deps);
    const deregister = registry.deregister.bind(registry);
    let second: Promise<unknown> | undefined;
    registry.deregister = async (service, id) => {
      // While the first deregistration is in flight, ECS's next leaving event arrives.
      second ??= handleTaskEvent(
        withDetail(runningEvent(), { lastStatus: 'STOPPING', desiredStatus: 'STOPPED', version: 7 }),
        {
          ...deps,
          sleep: async () => undefined,
        },
      );
      await deregister(service, id);
    };
    await expect(handleTaskEvent(stoppingEvent(), deps)).resolves.toMatchObject({ result: 'deregistered' });
    await expect(second).resolves.toMatchObject({ result: 'skipped', reason: 'already-deregistered' });
    expect(registry.writes.filter((w) => w.startsWith('deregister'))).toHaveLength(1);
    await expect(versions.get(TASK_ARN)).resolves.toMatchObject({ state: 'leaving', cleared: true });
  });

  it('deregisters itself when the first leaving handler never finishes', async () => {
    const { registry, versions, deps } = setup();
    await handleTaskEvent(runningEvent(), deps);
    // A first handler marked the task leaving, then died before its deregistration.
    await versions.markLeaving(TASK_ARN, 6);
    const stopped = withDetail(runningEvent(), { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 9 });
    await expect(handleTaskEvent(stopped, { ...deps, sleep: async () => undefined })).resolves.toMatchObject({
      result: 'deregistered',
    });
    expect(registry.writes).toEqual([`register cdp-demo-test-15/${TASK_ID}`, `deregister cdp-demo-test-15/${TASK_ID}`]);
  });

  it('finishes an undo that failed when the RUNNING event is retried', async () => {
    const { registry, deps } = setup();
    const register = registry.register.bind(registry);
    registry.register = async (service, id, attributes) => {
      await handleTaskEvent(stoppingEvent(), deps);
      const operationId = await register(service, id, attributes);
      // The undo's deregistration fails (throttled): the handler throws and Lambda retries the event.
      registry.failNextWrite = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return operationId;
    };
    await expect(handleTaskEvent(runningEvent(), deps)).rejects.toThrow('Rate exceeded');
    registry.register = register;
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'task-leaving',
    });
    expect(await registry.listInstances({ id: '', name: 'cdp-demo-test-15', namespaceId: '' })).toEqual([]);
  });

  it('never overwrites an instance another system registered under the same task id', async () => {
    const { registry, deps } = setup();
    registry.seed('cdp-demo-test-15', TASK_ID, {
      AWS_INSTANCE_IPV4: '10.249.47.254',
      ECS_SERVICE_NAME: 'cdp-demo-test-15',
    });
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'not-owned',
    });
    expect(registry.writes).toEqual([]);
  });

  it('never deletes an instance another system registered under the same task id', async () => {
    const { registry, deps } = setup();
    registry.seed('cdp-demo-test-15', TASK_ID, { AWS_INSTANCE_IPV4: '10.249.47.254' });
    await expect(handleTaskEvent(stoppingEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'not-owned',
    });
    expect(registry.writes).toEqual([]);
  });

  it('refuses a discovery:name held by another ECS service', async () => {
    const { registry, tasks, deps } = setup();
    registry.seed('api', 'other-task', {
      REGISTRAR_OWNER: OWNER,
      ECS_CLUSTER_NAME: 'dev-ecs-public',
      ECS_SERVICE_NAME: 'real-api',
    });
    tasks.serviceTagMap.set('cdp-demo-test-15', { 'discovery:name': 'api' });
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'name-taken',
    });
    expect(registry.writes).toEqual([]);
  });

  it('lets a discovery:name join the service when only its own ECS service holds it', async () => {
    const { registry, tasks, deps } = setup();
    registry.seed('api', 'sibling', {
      REGISTRAR_OWNER: OWNER,
      ECS_CLUSTER_NAME: 'dev-ecs-public',
      ECS_SERVICE_NAME: 'cdp-demo-test-15',
    });
    tasks.serviceTagMap.set('cdp-demo-test-15', { 'discovery:name': 'api' });
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'registered',
      service: 'api',
    });
  });

  it('skips events that are not ECS task state changes, with the reason and no AWS call', async () => {
    const { registry, tasks, deps } = setup();
    const cases: [unknown, string][] = [
      [loadEvent('30-deployment-state-change-failed-docs.json'), 'not-a-task-state-change'],
      [loadEvent('32-service-action-steady-state-docs.json'), 'not-a-task-state-change'],
      [{ hello: 'world' }, 'not-an-eventbridge-event'],
      [null, 'not-an-eventbridge-event'],
      ['a string', 'not-an-eventbridge-event'],
      [withDetail(runningEvent(), { taskArn: 'not-an-arn' }), 'malformed-detail'],
      [withDetail(runningEvent(), { version: 'five' }), 'malformed-detail'],
      [withDetail(runningEvent(), { lastStatus: 'PENDING' }), 'not-running-yet'],
    ];
    for (const [input, reason] of cases) {
      await expect(handleTaskEvent(input, deps)).resolves.toMatchObject({ result: 'skipped', reason });
    }
    expect(tasks.reads).toBe(0);
    expect(registry.writes).toEqual([]);
  });

  it('drops a RUNNING event older than the version already recorded', async () => {
    const { registry, versions, deps } = setup();
    await versions.claimRunning(TASK_ARN, 9, { namespace: 'kudos.local', services: ['cdp-demo-test-15'] });
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'stale-event',
    });
    expect(registry.writes).toEqual([]);
  });

  it('drops a late RUNNING event once the STOPPED event was handled', async () => {
    const { registry, deps } = setup();
    await handleTaskEvent(stoppingEvent(), deps);
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'task-leaving',
    });
    expect(registry.writes).toEqual([]);
  });

  it('undoes a registration when the task started to leave while it was being written', async () => {
    const { registry, deps } = setup();
    // The leaving event is handled while the RUNNING handler's write is in flight.
    const register = registry.register.bind(registry);
    registry.register = async (service, id, attributes) => {
      await handleTaskEvent(stoppingEvent(), deps);
      return register(service, id, attributes);
    };
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'task-leaving',
    });
    expect(await registry.listInstances({ id: '', name: 'cdp-demo-test-15', namespaceId: '' })).toEqual([]);
  });

  it('deregisters from where the task was registered, without reading ECS', async () => {
    const { registry, tasks, deps } = setup();
    tasks.serviceTagMap.set('cdp-demo-test-15', { 'discovery:name': 'api' });
    await handleTaskEvent(runningEvent(), deps);
    tasks.serviceTagMap.clear();
    const reads = tasks.reads;
    await expect(handleTaskEvent(stoppingEvent(), deps)).resolves.toMatchObject({
      result: 'deregistered',
      service: 'api',
    });
    expect(tasks.reads).toBe(reads);
    expect(registry.writes).toEqual([`register api/${TASK_ID}`, `deregister api/${TASK_ID}`]);
  });

  it('throws a Cloud Map failure so that Lambda retries the event', async () => {
    const { registry, deps } = setup();
    registry.failNextWrite = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    await expect(handleTaskEvent(runningEvent(), deps)).rejects.toThrow('Rate exceeded');
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({ result: 'registered' });
  });
});

describe('reconcile and a leaving mark that ECS contradicts', () => {
  const SERVICE = { id: '', name: 'cdp-demo-test-15', namespaceId: '' };

  /** A task that ECS runs, registered by its RUNNING event, then hit by a leaving event ECS never sent. */
  async function forgedLeaving() {
    const { registry, tasks, deps } = setup();
    let clock = Date.parse('2023-11-24T11:09:24Z');
    const versions = new MemoryVersionStore(() => clock);
    const clocked: RegistrarDeps = { ...deps, versions, now: () => clock };
    // ListTasks + DescribeTasks: ECS runs the task (desired RUNNING, last RUNNING).
    tasks.listRunningTasks = async () => [{ detail: runningEvent().detail as unknown as TaskDetail, tags: {} }];
    await handleTaskEvent(runningEvent(), clocked);
    await expect(handleTaskEvent(stoppingEvent(), clocked)).resolves.toMatchObject({ result: 'deregistered' });
    expect(await registry.listInstances(SERVICE)).toEqual([]);
    const advance = (ms: number) => {
      clock += ms;
    };
    return { registry, tasks, versions, deps: clocked, advance };
  }

  const run = (deps: RegistrarDeps) => reconcile(deps, { maxDeletes: 50, clusters: ['dev-ecs-public'] });

  it('reconcile restores a task whose leaving mark ECS contradicts', async () => {
    const { registry, versions, deps, advance } = await forgedLeaving();
    const warn = jest.spyOn(logger, 'warn');
    advance(LEAVING_OVERRULE_AFTER_MS);

    await expect(run(deps)).resolves.toMatchObject({ registered: 1, skipped: 0 });

    expect((await registry.listInstances(SERVICE)).map((i) => i.id)).toEqual([TASK_ID]);
    await expect(versions.get(TASK_ARN)).resolves.toEqual({
      taskArn: TASK_ARN,
      version: 5,
      state: 'running',
      namespace: 'kudos.local',
      services: ['cdp-demo-test-15'],
    });
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('leaving mark overruled'),
      expect.objectContaining({ taskArn: TASK_ARN, action: 'overrule-leaving' }),
    );
    warn.mockRestore();
    // Repaired for good: the task's real leaving event still deregisters it.
    const stopped = withDetail(runningEvent(), { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 9 });
    await expect(handleTaskEvent(stopped, deps)).resolves.toMatchObject({ result: 'deregistered' });
    expect(await registry.listInstances(SERVICE)).toEqual([]);
  });

  it('keeps a leaving mark younger than the threshold, since an ECS read may not show the stop yet', async () => {
    const { registry, versions, deps, advance } = await forgedLeaving();
    advance(LEAVING_OVERRULE_AFTER_MS - 1000);
    await expect(run(deps)).resolves.toMatchObject({ registered: 0, skipped: 1 });
    expect(await registry.listInstances(SERVICE)).toEqual([]);
    await expect(versions.get(TASK_ARN)).resolves.toMatchObject({ state: 'leaving' });

    // One run once the mark is old enough repairs it.
    advance(1000);
    await expect(run(deps)).resolves.toMatchObject({ registered: 1 });
    expect((await registry.listInstances(SERVICE)).map((i) => i.id)).toEqual([TASK_ID]);
  });

  it('keeps the mark when DescribeTasks, asked again, says the task is leaving after all', async () => {
    const { registry, tasks, versions, deps, advance } = await forgedLeaving();
    advance(LEAVING_OVERRULE_AFTER_MS);
    // The listing is behind; DescribeTasks already sees the stop.
    tasks.tasks.set(TASK_ARN, {
      taskArn: TASK_ARN,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      version: 9,
      tags: {},
    });
    await expect(run(deps)).resolves.toMatchObject({ registered: 0, skipped: 1 });
    expect(await registry.listInstances(SERVICE)).toEqual([]);
    await expect(versions.get(TASK_ARN)).resolves.toMatchObject({ state: 'leaving', version: 6 });
  });

  it('leaves the overrule to reconcile: a RUNNING event never restores a task marked leaving', async () => {
    const { registry, deps, advance } = await forgedLeaving();
    advance(LEAVING_OVERRULE_AFTER_MS);
    await expect(handleTaskEvent(runningEvent(), deps)).resolves.toMatchObject({
      result: 'skipped',
      reason: 'task-leaving',
    });
    expect(await registry.listInstances(SERVICE)).toEqual([]);
  });
});
