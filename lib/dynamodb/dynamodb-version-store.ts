import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { isAwsError } from '../errors';
import type { TaskRecord, VersionStore } from '../ports';

/** How long a record is kept: long enough to outlive every retry, DLQ replay (14 days) and late event. */
const RUNNING_TTL_S = 60 * 24 * 3600;
const LEAVING_TTL_S = 15 * 24 * 3600;

/** Turns of markLeaving's two writes; another turn is needed only when a write raced between them. */
const MARK_ATTEMPTS = 5;

const isConditionFailure = (error: unknown): boolean => isAwsError(error, 'ConditionalCheckFailedException');

function toRecord(item: Record<string, AttributeValue> | undefined): TaskRecord | undefined {
  if (!item?.taskArn?.S) return undefined;
  return {
    taskArn: item.taskArn.S,
    version: Number(item.version?.N ?? '0'),
    state: item.state?.S === 'leaving' ? 'leaving' : 'running',
    ...(item.namespace?.S ? { namespace: item.namespace.S } : {}),
    services: item.services?.L?.map((v) => v.S ?? '').filter(Boolean) ?? [],
    ...(item.cleared?.BOOL !== undefined ? { cleared: item.cleared.BOOL } : {}),
    ...(item.leavingMarkedAt?.N ? { leavingMarkedAt: Number(item.leavingMarkedAt.N) } : {}),
  };
}

/** The write that makes a record running at a version (a claim, or a leaving mark overruled). */
const SET_RUNNING =
  'SET #version = :version, #state = :running, #namespace = :namespace, #services = :services, expiresAt = :expires';
const RUNNING_NAMES = { '#version': 'version', '#state': 'state', '#namespace': 'namespace', '#services': 'services' };

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

  /** The values of SET_RUNNING. */
  private runningValues(version: number, target: { namespace: string; services: string[] }) {
    return {
      ':version': { N: String(version) },
      ':running': { S: 'running' },
      ':namespace': { S: target.namespace },
      ':services': { L: target.services.map((s) => ({ S: s })) },
      ':expires': this.expiresAt(RUNNING_TTL_S),
    };
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
          UpdateExpression: SET_RUNNING,
          ExpressionAttributeNames: RUNNING_NAMES,
          ExpressionAttributeValues: this.runningValues(version, target),
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = toRecord(out.Attributes);
      return { claimed: true, ...(record ? { record } : {}) };
    } catch (error) {
      if (isConditionFailure(error)) {
        const record = await this.get(taskArn);
        return { claimed: false, ...(record ? { record } : {}) };
      }
      throw error;
    }
  }

  /** Runs a conditional update; undefined when its condition does not hold. */
  private async updateIf(input: UpdateItemCommandInput): Promise<Record<string, AttributeValue> | undefined> {
    try {
      return (await this.client.send(new UpdateItemCommand(input))).Attributes ?? {};
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async markLeaving(taskArn: string, version: number): Promise<TaskRecord | undefined> {
    const common = {
      TableName: this.tableName,
      Key: { taskArn: { S: taskArn } },
      ReturnValues: 'ALL_OLD' as const,
    };
    const at = { N: String(this.now()) };
    // DynamoDB has no max(): a first write records the newer version, and when the record is already
    // leaving at a newer one, a second refreshes only the mark's time. A record overruled back to running
    // between the two makes the first write succeed on the next turn.
    for (let attempt = 0; attempt < MARK_ATTEMPTS; attempt += 1) {
      const marked = await this.updateIf({
        ...common,
        // Leaving wins over running whatever the versions; a leaving version only ever grows.
        UpdateExpression: 'SET #state = :leaving, #version = :version, leavingMarkedAt = :at, expiresAt = :expires',
        ConditionExpression: 'attribute_not_exists(taskArn) OR #state = :running OR #version < :version',
        ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
        ExpressionAttributeValues: {
          ':leaving': { S: 'leaving' },
          ':running': { S: 'running' },
          ':version': { N: String(version) },
          ':at': at,
          ':expires': this.expiresAt(LEAVING_TTL_S),
        },
      });
      if (marked) return toRecord(marked);
      // Already leaving at a newer version: the version stays, the time of this observation is recorded.
      const refreshed = await this.updateIf({
        ...common,
        UpdateExpression: 'SET leavingMarkedAt = :at, expiresAt = :expires',
        ConditionExpression: '#state = :leaving',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':leaving': { S: 'leaving' },
          ':at': at,
          ':expires': this.expiresAt(LEAVING_TTL_S),
        },
      });
      if (refreshed) return toRecord(refreshed);
    }
    throw new Error(`the record of ${taskArn} changed under every attempt to mark it leaving`);
  }

  async overruleLeaving(
    taskArn: string,
    expected: { version: number; markedBefore: number },
    target: { version: number; namespace: string; services: string[] },
  ): Promise<boolean> {
    // A record written before marks carried their time: its expiry (mark + LEAVING_TTL_S, in whole
    // seconds) proves the mark old enough only when the whole second of the mark lies before the bound.
    const legacyExpiresBefore = Math.floor(expected.markedBefore / 1000) + LEAVING_TTL_S - 1;
    const overruled = await this.updateIf({
      TableName: this.tableName,
      Key: { taskArn: { S: taskArn } },
      ConditionExpression:
        '#state = :leaving AND #version = :expected AND ' +
        '(leavingMarkedAt <= :markedBefore OR (attribute_not_exists(leavingMarkedAt) AND expiresAt <= :legacyExpiresBefore))',
      UpdateExpression: `${SET_RUNNING} REMOVE cleared, leavingMarkedAt`,
      ExpressionAttributeNames: RUNNING_NAMES,
      ExpressionAttributeValues: {
        ...this.runningValues(target.version, target),
        ':leaving': { S: 'leaving' },
        ':expected': { N: String(expected.version) },
        ':markedBefore': { N: String(expected.markedBefore) },
        ':legacyExpiresBefore': { N: String(legacyExpiresBefore) },
      },
    });
    return overruled !== undefined;
  }

  async setCleared(taskArn: string, cleared: boolean): Promise<void> {
    await this.updateIf({
      TableName: this.tableName,
      Key: { taskArn: { S: taskArn } },
      UpdateExpression: 'SET cleared = :cleared',
      // Only a leaving task is ever cleared; a record that is not there (expired) needs no flag.
      ConditionExpression: '#state = :leaving',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':cleared': { BOOL: cleared }, ':leaving': { S: 'leaving' } },
    });
  }

  async get(taskArn: string): Promise<TaskRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { taskArn: { S: taskArn } }, ConsistentRead: true }),
    );
    return toRecord(out.Item);
  }
}
