import fc from 'fast-check';
import { DynamoDbVersionStore } from '../../lib/dynamodb/dynamodb-version-store';
import { startDynalite } from '../helpers/dynalite';
import { lifecyclesArbitrary } from '../helpers/event-generators';
import { groundTruth, playInterleaving, registered, scheduledDeps } from '../helpers/interleaving';
import { MemoryVersionStore } from '../helpers/memory-adapters';

// Seeded so that a failure repeats; FC_SEED overrides it to explore further.
const seed = Number(process.env.FC_SEED ?? 20_240_601);

describe('ordering under random interleavings (property)', () => {
  it('ends with Cloud Map holding exactly the tasks ECS runs, whatever the order, duplicates and concurrency of the events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), lifecyclesArbitrary(6), async (s, lifecycles) => {
        const { deps, registry, ecs } = scheduledDeps(s, new MemoryVersionStore());
        const { outcomes } = await playInterleaving(s, lifecycles, ecs, deps);
        expect(outcomes.length).toBe(lifecycles.flatMap((l) => l.steps).reduce((n, step) => n + step.copies, 0));
        expect(registered(registry)).toEqual(groundTruth(lifecycles));
      }),
      { numRuns: 1000, seed },
    );
  });

  it('never deregisters a task that keeps running, not even for a moment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), lifecyclesArbitrary(4), async (s, lifecycles) => {
        const { deps, registry, ecs } = scheduledDeps(s, new MemoryVersionStore());
        await playInterleaving(s, lifecycles, ecs, deps);
        const keptRunning = new Set(groundTruth(lifecycles));
        const removed = registry.writes
          .filter((w) => w.startsWith('deregister '))
          .map((w) => w.slice('deregister '.length));
        expect(removed.filter((key) => keptRunning.has(key))).toEqual([]);
      }),
      { numRuns: 200, seed: seed + 1 },
    );
  });
});

describe('ordering with the DynamoDB version store on dynalite (property)', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  beforeAll(async () => {
    dynamo = await startDynalite('property-tasks');
  });
  afterAll(() => dynamo.stop());

  it('ends with Cloud Map holding exactly the tasks ECS runs when the real conditional writes order the events', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), lifecyclesArbitrary(4), async (s, lifecycles) => {
        // Each run uses task ARNs of its own: the table outlives the runs.
        run += 1;
        const unique = lifecycles.map((l) => ({
          ...l,
          taskArn: `${l.taskArn}-r${run}`,
          taskId: `${l.taskId}-r${run}`,
        }));
        const { deps, registry, ecs } = scheduledDeps(s, new DynamoDbVersionStore(dynamo.client, dynamo.tableName));
        await playInterleaving(s, unique, ecs, deps);
        expect(registered(registry)).toEqual(groundTruth(unique));
      }),
      { numRuns: 25, seed: seed + 2 },
    );
  });
});
