import { ItemsFailedError } from '../../../lib/errors';
import { logger, metrics } from '../../../lib/observability';
import { TASK_DEFINITION, TASK_DEFINITION_ARN } from '../../helpers/event-generators';
import { lambdaContext, memoryAdapters, rejectionOf, SCHEDULED_ENV } from '../../helpers/function-harness';
import { awsError, listedTask, taskIdOf } from '../../helpers/listed-tasks';

// One pass per invocation: the next would start after the next scheduled one.
Object.assign(process.env, SCHEDULED_ENV, { HEALTH_SWEEP_INTERVAL_MS: '60000' });

// The handler builds its adapters at cold start: it gets the memory ones (one set for the whole file).
jest.mock('../../../lib/registrar-runtime', () => require('../../helpers/function-harness').memoryRuntime());

const { handler } = require('../../../functions/health-sweep') as typeof import('../../../functions/health-sweep');

const context = lambdaContext('health-sweep', 60_000);
const gated = {
  ...TASK_DEFINITION,
  containers: TASK_DEFINITION.containers.map((c) => ({ ...c, hasHealthCheck: true })),
};

describe('health sweep handler', () => {
  const { registry, tasks } = memoryAdapters;
  let addMetric: jest.SpyInstance;
  beforeEach(() => {
    tasks.definitions.set(TASK_DEFINITION_ARN, gated);
    addMetric = jest.spyOn(metrics, 'addMetric');
    jest.spyOn(logger, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('registers every other healthy task, reports the counts, and only then throws an error naming them', async () => {
    const api = { kind: 'service', service: 'api' } as const;
    tasks.running.set('dev-ecs-public', [
      listedTask(1, api, 'dev-ecs-public', { healthStatus: 'HEALTHY' }),
      listedTask(2, api, 'dev-ecs-public', { healthStatus: 'HEALTHY' }),
    ]);
    registry.failingInstances.set(taskIdOf(1), awsError('AccessDeniedException'));

    const error = await rejectionOf(handler({}, context));

    expect(error).toBeInstanceOf(ItemsFailedError);
    expect((error as Error).message).toMatch(/^health sweep: 1 item\(s\) failed \(AccessDeniedException: 1\)/);
    expect(registry.writes).toEqual([`register api/${taskIdOf(2)}`]);
    expect(addMetric).toHaveBeenCalledWith('HealthSweepItemsFailed', 'Count', 1);
    expect(addMetric).toHaveBeenCalledWith('HealthRegistered', 'Count', 1);
  });

  it('returns the passes, with HealthSweepItemsFailed 0, once the failing item heals', async () => {
    registry.failingInstances.clear();
    await expect(handler({}, context)).resolves.toEqual([expect.objectContaining({ registered: 1, failed: 0 })]);
    expect(addMetric).toHaveBeenCalledWith('HealthSweepItemsFailed', 'Count', 0);
  });
});
