import { ItemsFailedError } from '../../../lib/errors';
import { logger, metrics } from '../../../lib/observability';
import { TASK_DEFINITION, TASK_DEFINITION_ARN } from '../../helpers/event-generators';
import { lambdaContext, memoryAdapters, rejectionOf, SCHEDULED_ENV } from '../../helpers/function-harness';
import { awsError, listedTask, seedOwned, taskIdOf } from '../../helpers/listed-tasks';

Object.assign(process.env, SCHEDULED_ENV);

// The handler builds its adapters at cold start: it gets the memory ones (one set for the whole file).
jest.mock('../../../lib/registrar-runtime', () => require('../../helpers/function-harness').memoryRuntime());

const { handler } = require('../../../functions/reconcile') as typeof import('../../../functions/reconcile');

const context = lambdaContext('reconcile', 600_000);

describe('reconcile handler', () => {
  const { registry, tasks } = memoryAdapters;
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

    const error = await rejectionOf(handler({}, context));

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
