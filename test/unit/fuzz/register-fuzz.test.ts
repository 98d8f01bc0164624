import { parseTaskEvent } from '../../../lib/task-event';
import { createEventFuzzer, runFuzz } from '../../../support/fuzz-events';

describe('the register handler under fuzzed events', () => {
  it('never crashes, and writes or calls nothing for events it cannot parse (3,000 events mutated from the fixtures)', async () => {
    const summary = await runFuzz(3000, Number(process.env.FUZZ_SEED ?? 6));
    expect(summary.crashSamples).toEqual([]);
    expect(summary).toMatchObject({ events: 3000, crashes: 0, writesForInvalid: 0, callsForInvalid: 0 });
    expect(summary.prototypeIntact).toBe(true);
  });

  it('generates both events the parser rejects and events the handler acts on', async () => {
    const next = createEventFuzzer(7);
    const parsed = Array.from({ length: 500 }, () => parseTaskEvent(next()).ok);
    expect(parsed.filter(Boolean).length).toBeGreaterThan(25);
    expect(parsed.filter((ok) => !ok).length).toBeGreaterThan(250);
  });
});
