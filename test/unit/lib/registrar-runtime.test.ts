// Metrics are on for this file (test/setup-env.ts turns them off), printed through the global console.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_DEV = 'true';
const { metrics } = require('../../../lib/observability') as typeof import('../../../lib/observability');
const { recordOutcome } = require('../../../lib/registrar-runtime') as typeof import('../../../lib/registrar-runtime');

describe('recordOutcome', () => {
  afterEach(() => jest.restoreAllMocks());

  it('counts each skip with its own reason, without a dimension left on the shared metrics', () => {
    const published: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
      published.push(String(line));
    });
    const warnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    jest.spyOn(console, 'info').mockImplementation(() => undefined);

    // Several outcomes in one container between flushes, as the bench and a warm function see them.
    recordOutcome({ result: 'skipped', reason: 'not-running-yet', message: 'task is PENDING' });
    recordOutcome({ result: 'skipped', reason: 'stale-event', message: 'older version' });
    recordOutcome({ result: 'registered', taskId: 't1', service: 'api', namespace: 'kudos.local', lagMs: 5 });
    metrics.publishStoredMetrics();

    const warned = warnings.mock.calls.map((call) => String(call[0]));
    expect(warned.filter((line) => line.includes('has already been added'))).toEqual([]);
    const emf = published.filter((line) => line.includes('_aws')).map((line) => JSON.parse(line));
    const skips = emf.filter((m) => m.Skipped !== undefined);
    expect(skips.map((m) => m.reason)).toEqual(['not-running-yet', 'stale-event']);
    // The registration's metrics carry no reason dimension.
    const registered = emf.find((m) => m.Registered !== undefined);
    expect(registered).toBeDefined();
    expect(registered.reason).toBeUndefined();
  });

  it('publishes a metric for every batch, so one that only confirms or re-checks never flushes empty', async () => {
    const { handleTaskMessages } = require('../../../lib/task-queue') as typeof import('../../../lib/task-queue');
    const { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } =
      require('../../../support/memory-adapters') as typeof import('../../../support/memory-adapters');
    const published: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
      published.push(String(line));
    });
    const warnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    jest.spyOn(console, 'info').mockImplementation(() => undefined);
    const deps = {
      registry: new MemoryRegistry(),
      tasks: new MemoryTaskSource(),
      versions: new MemoryVersionStore(),
      settings: { namespace: 'kudos.local', defaultPort: 80, dnsRecords: 'A' as const, ownerId: 'o', dnsTtl: 10 },
    };
    // A message that yields no outcome at all: nothing else would add a metric.
    await handleTaskMessages([{ messageId: 'm1', body: '{not json' }], deps);
    metrics.publishStoredMetrics();

    const warned = warnings.mock.calls.map((call) => String(call[0]));
    expect(warned.filter((line) => line.includes('No application metrics'))).toEqual([]);
    const emf = published.filter((line) => line.includes('_aws')).map((line) => JSON.parse(line));
    expect(emf.map((m) => m.Messages)).toContain(1);
  });
});
