import {
  distribution,
  healthyToDiscoverable,
  ListingTimeline,
  leavingToOut,
  percentile,
  secondsPerLifecycle,
  toAws,
} from '../../../support/burst-figures';

/** A timeline of answers asked at `at` and received 5 ms later, each listing the given ids. */
function timeline(rounds: [at: number, ids: string[]][]): ListingTimeline {
  const t = new ListingTimeline();
  for (const [at, ids] of rounds) t.record({ startedAt: at, receivedAt: at + 5 }, ids);
  return t;
}

describe('burst figures', () => {
  it('takes the nearest-rank percentile', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBeNaN();
  });

  it('converts real time to AWS time by dividing by the time scale', () => {
    expect(toAws(150, 0.1)).toBeCloseTo(1500);
  });

  it('puts a task out at the first answer asked after its leaving event that no longer lists it', () => {
    const t = timeline([
      [0, ['a', 'b']],
      [100, ['a', 'b']],
      [200, ['b']],
      [300, ['b']],
    ]);
    // a leaves at 150: the answer asked at 200 (received 205) is the first without it.
    expect(t.outAfter('a', 150)).toBe(205);
    expect(leavingToOut([{ instanceId: 'a', leavingAt: 150 }], t, 0.1)).toEqual([toAws(55, 0.1)]);
  });

  it('does not count an answer asked before the leaving event as the task being out', () => {
    // b is missing from an answer asked before its leaving event (deregistered by something else): the figure
    // starts at the event, so only answers asked from then on count.
    const t = timeline([
      [0, ['b']],
      [100, []],
      [200, []],
    ]);
    expect(t.outAfter('b', 150)).toBe(205);
  });

  it('waits for the last answer that listed the task, when a later answer lists it again', () => {
    const t = timeline([
      [100, []],
      [200, ['a']],
      [300, []],
    ]);
    expect(t.outAfter('a', 50)).toBe(305);
  });

  it('leaves out tasks still listed at the end and tasks never listed', () => {
    const t = timeline([
      [0, ['a']],
      [100, ['a']],
    ]);
    expect(t.outAfter('a', 50)).toBeUndefined();
    expect(
      leavingToOut(
        [
          { instanceId: 'a', leavingAt: 50 },
          { instanceId: 'never', leavingAt: 50 },
        ],
        t,
        1,
      ),
    ).toEqual([]);
  });

  it('measures healthy to discoverable from the first answer that lists the new task', () => {
    const t = timeline([
      [0, []],
      [100, ['n']],
      [200, ['n']],
    ]);
    expect(healthyToDiscoverable([{ instanceId: 'n', healthyAt: 60 }], t, 0.5)).toEqual([(105 - 60) / 0.5]);
    expect(healthyToDiscoverable([{ instanceId: 'n' }, { instanceId: 'other', healthyAt: 0 }], t, 1)).toEqual([]);
  });

  it('counts the tasks a run lost as the deadline, so a p99 never improves by losing slow tasks', () => {
    const measured = Array.from({ length: 95 }, () => 1000);
    const d = distribution(measured, 100, 60_000);
    expect(d).toEqual({ p50: 1000, p99: 60_000, max: 60_000, measured: 95, of: 100 });
    expect(distribution([3, 1, 2], 3)).toEqual({ p50: 2, p99: 3, max: 3, measured: 3, of: 3 });
  });

  it('without a deadline to count them as, takes the percentiles of the measured tasks alone', () => {
    expect(distribution([3, 1, 2], 10)).toEqual({ p50: 2, p99: 3, max: 3, measured: 3, of: 10 });
  });

  it('bills a lifecycle as half the instance writes Cloud Map applied', () => {
    // A complete run of 1,000 tasks: 1,000 registrations and 1,000 deregistrations.
    expect(secondsPerLifecycle(900, 1000, 1000)).toBeCloseTo(0.9);
    // A run cut short after 41 registrations and 239 deregistrations: 140 lifecycles' worth.
    expect(secondsPerLifecycle(899.4, 41, 239)).toBeCloseTo(6.424, 3);
    expect(secondsPerLifecycle(10, 0, 0)).toBeNaN();
  });
});
