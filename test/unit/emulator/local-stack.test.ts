import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListNamespacesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { PortInUseError } from '../../../local/emulator';
import { taskTableFromConfig } from '../../../local/rules';
import { startLocalAws } from '../../../local/stack';

const common = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };

describe('the local stack', () => {
  it('serves the task table and the namespace it creates through its one endpoint', async () => {
    const aws = await startLocalAws({ port: 0, timeScale: 0.001, namespace: 'kudos.local', taskTable: 'my-tasks' });
    const dynamo = new DynamoDBClient({ ...common, endpoint: aws.emulator.url });
    const cloudMap = new ServiceDiscoveryClient({ ...common, endpoint: aws.emulator.url });
    try {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: 'my-tasks' }));
      expect(Table?.KeySchema).toEqual([{ AttributeName: 'taskArn', KeyType: 'HASH' }]);
      const { Namespaces = [] } = await cloudMap.send(new ListNamespacesCommand({}));
      expect(Namespaces.map((namespace) => namespace.Name)).toEqual(['kudos.local']);
    } finally {
      dynamo.destroy();
      cloudMap.destroy();
      await aws.stop();
    }
  });

  it('fails with PortInUseError on a busy port', async () => {
    const first = await startLocalAws({ port: 0, timeScale: 0.001, namespace: 'kudos.local', taskTable: 'tasks' });
    try {
      await expect(
        startLocalAws({ port: first.emulator.port, timeScale: 0.001, namespace: 'kudos.local', taskTable: 'tasks' }),
      ).rejects.toThrow(PortInUseError);
    } finally {
      await first.stop();
    }
  });
});

describe('the task table from the resolved serverless config', () => {
  it('is the one TASK_TABLE the functions share', () => {
    const environment = { TASK_TABLE: 'ecs-cloudmap-registrar-local-tasks' };
    expect(
      taskTableFromConfig({ functions: { register: { environment }, reconcile: { environment }, lookup: {} } }),
    ).toBe('ecs-cloudmap-registrar-local-tasks');
  });

  it('refuses functions that disagree on it, or a config without one', () => {
    expect(() =>
      taskTableFromConfig({
        functions: {
          register: { environment: { TASK_TABLE: 'a-tasks' } },
          reconcile: { environment: { TASK_TABLE: 'b' } },
        },
      }),
    ).toThrow(/one TASK_TABLE/);
    expect(() => taskTableFromConfig({ functions: { lookup: {} } })).toThrow(/one TASK_TABLE/);
  });
});
