import { DynamoDbVersionStore } from '../../../lib/dynamodb/dynamodb-version-store';
import type { VersionStore } from '../../../lib/ports';
import { startDynalite } from '../../helpers/dynalite';
import { MemoryVersionStore } from '../../helpers/memory-adapters';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/c/abc';
const target = { namespace: 'kudos.local', services: ['api'] };

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite('tasks');
});
afterAll(() => dynamo.stop());

let n = 0;
const stores: [string, () => VersionStore][] = [
  ['DynamoDbVersionStore on dynalite', () => new DynamoDbVersionStore(dynamo.client, dynamo.tableName)],
  ['MemoryVersionStore', () => new MemoryVersionStore()],
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

  it('answers undefined for a task it never saw', async () => {
    await expect(store.get(arn)).resolves.toBeUndefined();
    await expect(store.markLeaving(arn, 3)).resolves.toBeUndefined();
  });
});
