import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';
import { loadEvent, withDetail } from '../../helpers/fixtures';
import { lambdaContext } from '../../helpers/function-harness';

process.env.NAMESPACE = 'kudos.local';
process.env.TASK_TABLE = 'tasks';
const ecs = mockClient(ECSClient);
const dynamo = mockClient(DynamoDBClient);
const cloudMap = mockClient(ServiceDiscoveryClient);

// Imported after the environment is set: the handler reads its configuration at cold start.
const { handler } = require('../../../functions/register') as typeof import('../../../functions/register');
const { logger } = require('../../../lib/observability') as typeof import('../../../lib/observability');

const context = lambdaContext('register', 30000);

describe('register handler', () => {
  beforeEach(() => {
    ecs.reset();
    cloudMap.reset();
    dynamo.reset();
  });

  it.each([
    ['a deployment state change', loadEvent('30-deployment-state-change-failed-docs.json'), 'not-a-task-state-change'],
    ['a service action', loadEvent('32-service-action-steady-state-docs.json'), 'not-a-task-state-change'],
    ['an empty object', {}, 'not-an-eventbridge-event'],
    [
      'a task event without a detail',
      withDetail(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'), { clusterArn: 42 }),
      'malformed-detail',
    ],
    [
      'a PROVISIONING task',
      withDetail(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'), {
        lastStatus: 'PROVISIONING',
      }),
      'not-running-yet',
    ],
  ])('logs and drops %s without calling AWS or throwing', async (_what, event, reason) => {
    const info = jest.spyOn(logger, 'info');
    await expect(handler(event, context)).resolves.toMatchObject({ result: 'skipped', reason });
    expect(info).toHaveBeenCalledWith(
      expect.stringMatching(/^skipped: /),
      expect.objectContaining({ reason, action: 'skip' }),
    );
    expect(ecs.calls()).toHaveLength(0);
    expect(cloudMap.calls()).toHaveLength(0);
    expect(dynamo.calls()).toHaveLength(0);
    info.mockRestore();
  });

  it('throws when ECS fails, so Lambda retries', async () => {
    ecs.rejects(Object.assign(new Error('internal'), { name: 'ServerException' }));
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    await expect(
      handler(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'), context),
    ).rejects.toThrow('internal');
    expect(error).toHaveBeenCalledWith(
      'task event failed; it will be retried',
      expect.objectContaining({ action: 'fail' }),
    );
    error.mockRestore();
  });
});
