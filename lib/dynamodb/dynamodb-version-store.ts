import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { TaskRecord, VersionStore } from '../ports';

/** How long a record is kept: long enough to outlive every retry, DLQ replay (14 days) and late event. */
const RUNNING_TTL_S = 60 * 24 * 3600;
const LEAVING_TTL_S = 15 * 24 * 3600;

function toRecord(item: Record<string, AttributeValue> | undefined): TaskRecord | undefined {
  if (!item?.taskArn?.S) return undefined;
  return {
    taskArn: item.taskArn.S,
    version: Number(item.version?.N ?? '0'),
    state: item.state?.S === 'leaving' ? 'leaving' : 'running',
    ...(item.namespace?.S ? { namespace: item.namespace.S } : {}),
    services: item.services?.L?.map((v) => v.S ?? '').filter(Boolean) ?? [],
    ...(item.cleared?.BOOL !== undefined ? { cleared: item.cleared.BOOL } : {}),
  };
}

/**
 * The DynamoDB adapter of the VersionStore port: one item per task (key `taskArn`), updated with
 * condition expressions so that the newest version wins whatever order the handlers run in.
 * The table needs only the `taskArn` string key; `expiresAt` is its TTL attribute.
 */
export class DynamoDbVersionStore implements VersionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private expiresAt(seconds: number): AttributeValue {
    return { N: String(Math.floor(this.now() / 1000) + seconds) };
  }

  async claimRunning(
    taskArn: string,
    version: number,
    target: { namespace: string; services: string[] },
  ): Promise<{ claimed: boolean; record?: TaskRecord }> {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { taskArn: { S: taskArn } },
          // The same version may claim again: a retry after a crash between claim and write must proceed.
          ConditionExpression: 'attribute_not_exists(taskArn) OR (#state = :running AND #version <= :version)',
          UpdateExpression:
            'SET #version = :version, #state = :running, #namespace = :namespace, #services = :services, expiresAt = :expires',
          ExpressionAttributeNames: {
            '#version': 'version',
            '#state': 'state',
            '#namespace': 'namespace',
            '#services': 'services',
          },
          ExpressionAttributeValues: {
            ':version': { N: String(version) },
            ':running': { S: 'running' },
            ':namespace': { S: target.namespace },
            ':services': { L: target.services.map((s) => ({ S: s })) },
            ':expires': this.expiresAt(RUNNING_TTL_S),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = toRecord(out.Attributes);
      return { claimed: true, ...(record ? { record } : {}) };
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      ) {
        const record = await this.get(taskArn);
        return { claimed: false, ...(record ? { record } : {}) };
      }
      throw error;
    }
  }

  async markLeaving(taskArn: string, version: number): Promise<TaskRecord | undefined> {
    const out = await this.client
      .send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { taskArn: { S: taskArn } },
          // Leaving wins over running whatever the versions; the version only ever grows.
          UpdateExpression: 'SET #state = :leaving, #version = :version, expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(taskArn) OR #state = :running OR #version < :version',
          ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
          ExpressionAttributeValues: {
            ':leaving': { S: 'leaving' },
            ':running': { S: 'running' },
            ':version': { N: String(version) },
            ':expires': this.expiresAt(LEAVING_TTL_S),
          },
          ReturnValues: 'ALL_OLD',
        }),
      )
      .catch(async (error: Error) => {
        // Already leaving at a newer version: nothing to record, but the caller still deregisters.
        if (error.name === 'ConditionalCheckFailedException')
          return { Attributes: undefined, already: await this.get(taskArn) };
        throw error;
      });
    return 'already' in out ? out.already : toRecord(out.Attributes);
  }

  async setCleared(taskArn: string, cleared: boolean): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { taskArn: { S: taskArn } },
          UpdateExpression: 'SET cleared = :cleared',
          // Only a leaving task is ever cleared; a record that is not there (expired) needs no flag.
          ConditionExpression: '#state = :leaving',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':cleared': { BOOL: cleared }, ':leaving': { S: 'leaving' } },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async get(taskArn: string): Promise<TaskRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { taskArn: { S: taskArn } }, ConsistentRead: true }),
    );
    return toRecord(out.Item);
  }
}
