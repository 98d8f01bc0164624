import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbVersionStore } from '../../../lib/dynamodb/dynamodb-version-store';
import type { VersionStore } from '../../../lib/ports';
import { startDynalite } from '../../../support/dynalite';
import { MemoryVersionStore } from '../../../support/memory-adapters';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/c/abc';
const target = { namespace: 'kudos.local', services: ['api'] };

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite('tasks');
});
afterAll(() => dynamo.stop());

let n = 0;
/** The stores' clock (ms epoch), moved by the tests. */
let clock = Date.parse('2024-06-01T12:00:00Z');
const now = () => clock;
const stores: [string, () => VersionStore][] = [
  ['DynamoDbVersionStore on dynalite', () => new DynamoDbVersionStore(dynamo.client, dynamo.tableName, now)],
  ['MemoryVersionStore', () => new MemoryVersionStore(now)],
];

// One contract, two implementations: the in-memory store used by fast tests behaves as DynamoDB does.
describe.each(stores)('%s', (_name, make) => {
  let store: VersionStore;
  let arn: string;
  beforeEach(() => {
    store = make();
    n += 1;
    arn = `${ARN}${n}`;
  });

  it('lets the first RUNNING version claim the task and remembers where it registers', async () => {
    await expect(store.claimRunning(arn, 4, target)).resolves.toMatchObject({ claimed: true });
    await expect(store.get(arn)).resolves.toEqual({
      taskArn: arn,
      version: 4,
      state: 'running',
      namespace: 'kudos.local',
      services: ['api'],
    });
  });

  it('lets the same version claim again, so a retry after a crash proceeds', async () => {
    await store.claimRunning(arn, 4, target);
    await expect(store.claimRunning(arn, 4, target)).resolves.toMatchObject({ claimed: true });
  });

  it('refuses an older RUNNING version', async () => {
    await store.claimRunning(arn, 5, target);
    await expect(store.claimRunning(arn, 4, target)).resolves.toMatchObject({
      claimed: false,
      record: { version: 5, state: 'running' },
    });
  });

  it('refuses any RUNNING version once the task is leaving, even a newer one', async () => {
    await store.markLeaving(arn, 6);
    await expect(store.claimRunning(arn, 7, target)).resolves.toMatchObject({
      claimed: false,
      record: { state: 'leaving', version: 6 },
    });
  });

  it('marks a running task leaving and returns where it was registered', async () => {
    await store.claimRunning(arn, 5, target);
    await expect(store.markLeaving(arn, 6)).resolves.toMatchObject({
      state: 'running',
      services: ['api'],
      namespace: 'kudos.local',
    });
    await expect(store.get(arn)).resolves.toMatchObject({ state: 'leaving', version: 6, services: ['api'] });
  });

  it('lets leaving win over a running record with a higher version', async () => {
    await store.claimRunning(arn, 9, target);
    await store.markLeaving(arn, 7);
    await expect(store.get(arn)).resolves.toMatchObject({ state: 'leaving' });
  });

  it('keeps the newest leaving version and still answers the services on a late leaving event', async () => {
    await store.claimRunning(arn, 5, target);
    await store.markLeaving(arn, 8);
    await expect(store.markLeaving(arn, 6)).resolves.toMatchObject({ state: 'leaving', version: 8, services: ['api'] });
    await expect(store.get(arn)).resolves.toMatchObject({ version: 8 });
  });

  it('marks a leaving task cleared once its instances are gone, and keeps the mark on later leaving events', async () => {
    await store.claimRunning(arn, 5, target);
    await store.markLeaving(arn, 6);
    await store.setCleared(arn, true);
    await expect(store.markLeaving(arn, 7)).resolves.toMatchObject({ state: 'leaving', cleared: true });
    await expect(store.get(arn)).resolves.toMatchObject({ state: 'leaving', version: 7, cleared: true });
    await store.setCleared(arn, false);
    await expect(store.get(arn)).resolves.toMatchObject({ cleared: false });
  });

  it('never marks a running task cleared', async () => {
    await store.claimRunning(arn, 5, target);
    await store.setCleared(arn, true);
    await expect(store.get(arn)).resolves.not.toHaveProperty('cleared');
    await store.setCleared(`${arn}-unknown`, true);
    await expect(store.get(`${arn}-unknown`)).resolves.toBeUndefined();
  });

  it('records when the task was last seen leaving, on every leaving event, even one older than the mark', async () => {
    await store.claimRunning(arn, 5, target);
    await store.markLeaving(arn, 8);
    await expect(store.get(arn)).resolves.toMatchObject({ state: 'leaving', leavingMarkedAt: clock });
    clock += 1000;
    // A later observation of the leaving state refreshes the time (the version stays the newest).
    await expect(store.markLeaving(arn, 6)).resolves.toMatchObject({ version: 8, leavingMarkedAt: clock - 1000 });
    await expect(store.get(arn)).resolves.toMatchObject({ state: 'leaving', version: 8, leavingMarkedAt: clock });
  });

  it('turns a leaving record back to running only while it is unchanged and its mark is old enough', async () => {
    await store.claimRunning(arn, 5, target);
    await store.markLeaving(arn, 6);
    await store.setCleared(arn, true);
    const markedAt = clock;
    const running = { version: 5, namespace: 'kudos.local', services: ['api', 'api-admin'] };
    // The mark is newer than the bound, or the record moved on: refused, nothing changes.
    await expect(store.overruleLeaving(arn, { version: 6, markedBefore: markedAt - 1 }, running)).resolves.toBe(false);
    await expect(store.overruleLeaving(arn, { version: 7, markedBefore: markedAt }, running)).resolves.toBe(false);
    await expect(store.get(arn)).resolves.toMatchObject({ state: 'leaving', version: 6, cleared: true });

    await expect(store.overruleLeaving(arn, { version: 6, markedBefore: markedAt }, running)).resolves.toBe(true);
    await expect(store.get(arn)).resolves.toEqual({
      taskArn: arn,
      version: 5,
      state: 'running',
      namespace: 'kudos.local',
      services: ['api', 'api-admin'],
    });
    // It is running again: the same version may claim it, and a new leaving event wins as always.
    await expect(store.claimRunning(arn, 5, target)).resolves.toMatchObject({ claimed: true });
    await expect(store.markLeaving(arn, 9)).resolves.toMatchObject({ state: 'running' });
  });

  it('never overrules a running record, a task it never saw, or a mark refreshed after the check', async () => {
    const running = { version: 5, ...target };
    await store.claimRunning(arn, 5, target);
    await expect(store.overruleLeaving(arn, { version: 5, markedBefore: clock }, running)).resolves.toBe(false);
    await expect(store.overruleLeaving(`${arn}-unknown`, { version: 5, markedBefore: clock }, running)).resolves.toBe(
      false,
    );
    await expect(store.get(`${arn}-unknown`)).resolves.toBeUndefined();
    await store.markLeaving(arn, 6);
    const checkedAt = clock;
    clock += 1000;
    // A real leaving event arrives between reconcile's read of ECS and its write: its mark is newer.
    await store.markLeaving(arn, 6);
    await expect(store.overruleLeaving(arn, { version: 6, markedBefore: checkedAt }, running)).resolves.toBe(false);
    await expect(store.get(arn)).resolves.toMatchObject({ state: 'leaving', version: 6 });
  });

  it('answers undefined for a task it never saw', async () => {
    await expect(store.get(arn)).resolves.toBeUndefined();
    await expect(store.markLeaving(arn, 3)).resolves.toBeUndefined();
  });
});

describe('DynamoDbVersionStore with records written before leaving marks carried their time', () => {
  // Such a record has no leavingMarkedAt; its expiresAt (the mark's time + 15 days) tells when it was set.
  const LEAVING_TTL_S = 15 * 24 * 3600;

  async function putLegacyLeaving(arn: string, markedAtMs: number): Promise<void> {
    await dynamo.client.send(
      new PutItemCommand({
        TableName: dynamo.tableName,
        Item: {
          taskArn: { S: arn },
          version: { N: '6' },
          state: { S: 'leaving' },
          namespace: { S: 'kudos.local' },
          services: { L: [{ S: 'api' }] },
          cleared: { BOOL: true },
          expiresAt: { N: String(Math.floor(markedAtMs / 1000) + LEAVING_TTL_S) },
        },
      }),
    );
  }

  it('reads the record as before, and overrules it only once its expiry shows the mark is old enough', async () => {
    const store = new DynamoDbVersionStore(dynamo.client, dynamo.tableName, now);
    const arn = `${ARN}-legacy`;
    const markedAt = clock - 30_000;
    await putLegacyLeaving(arn, markedAt);
    await expect(store.get(arn)).resolves.toEqual({
      taskArn: arn,
      version: 6,
      state: 'leaving',
      namespace: 'kudos.local',
      services: ['api'],
      cleared: true,
    });
    const running = { version: 5, ...target };
    await expect(store.overruleLeaving(arn, { version: 6, markedBefore: markedAt - 1000 }, running)).resolves.toBe(
      false,
    );
    // Within the second of the mark: the expiry cannot prove the mark old enough.
    await expect(store.overruleLeaving(arn, { version: 6, markedBefore: markedAt }, running)).resolves.toBe(false);
    await expect(store.overruleLeaving(arn, { version: 6, markedBefore: markedAt + 1000 }, running)).resolves.toBe(
      true,
    );
    await expect(store.get(arn)).resolves.toMatchObject({ state: 'running', version: 5 });
  });
});
