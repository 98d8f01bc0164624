import type { Context } from 'aws-lambda';
import type { RegistrarConfig } from '../../../lib/config';
import { ItemsFailedError } from '../../../lib/errors';
import { logger, metrics } from '../../../lib/observability';
import { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } from '../../../support/memory-adapters';
import { TASK_DEFINITION, TASK_DEFINITION_ARN } from '../../helpers/event-generators';
import { awsError, listedTask, seedOwned, taskIdOf } from '../../helpers/listed-tasks';

process.env.NAMESPACE = 'kudos.local';
process.env.TASK_TABLE = 'tasks';
process.env.WATCHED_CLUSTERS = 'dev-ecs-public';

// The handler builds its adapters at cold start: it gets the memory ones (one set for the whole file).
const mockAdapters = {
  registry: new MemoryRegistry(),
  tasks: new MemoryTaskSource(),
  versions: new MemoryVersionStore(),
};
jest.mock('../../../lib/registrar-runtime', () => ({
  createRegistrarDeps: (config: RegistrarConfig) => ({ ...mockAdapters, settings: config }),
}));

const { handler } = require('../../../functions/reconcile') as typeof import('../../../functions/reconcile');

const context = {
  functionName: 'reconcile',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 600_000,
} as unknown as Context;

describe('reconcile handler', () => {
  const { registry, tasks } = mockAdapters;
  let addMetric: jest.SpyInstance;
  let info: jest.SpyInstance;
  beforeEach(() => {
    tasks.definitions.set(TASK_DEFINITION_ARN, TASK_DEFINITION);
    addMetric = jest.spyOn(metrics, 'addMetric');
    info = jest.spyOn(logger, 'info');
    jest.spyOn(logger, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('does every other write and deletion, reports the counts, and only then throws an error naming them', async () => {
    const api = { kind: 'service', service: 'api' } as const;
    tasks.running.set('dev-ecs-public', [listedTask(1, api), listedTask(2, api)]);
    seedOwned(registry, 'api', 9);
    registry.failingInstances.set(taskIdOf(2), awsError('AccessDeniedException'));

    const error = await handler({}, context).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ItemsFailedError);
    expect((error as Error).message).toMatch(/^reconcile: 1 item\(s\) failed \(AccessDeniedException: 1\)/);
    expect(registry.writes.sort()).toEqual([`deregister api/${taskIdOf(9)}`, `register api/${taskIdOf(1)}`]);
    expect(info).toHaveBeenCalledWith(
      'reconciled',
      expect.objectContaining({ registered: 1, deregistered: 1, failed: 1 }),
    );
    expect(addMetric).toHaveBeenCalledWith('ReconcileItemsFailed', 'Count', 1);
    expect(addMetric).toHaveBeenCalledWith('ReconcileRegistered', 'Count', 1);
  });

  it('returns the summary, with ReconcileItemsFailed 0, once the failing item heals', async () => {
    registry.failingInstances.clear();
    await expect(handler({}, context)).resolves.toMatchObject({ registered: 1, failed: 0 });
    expect(addMetric).toHaveBeenCalledWith('ReconcileItemsFailed', 'Count', 0);
  });
});
