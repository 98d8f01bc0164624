import {
  NamespaceNotFoundError,
  ServiceNotFoundError,
  UpstreamError,
  UpstreamThrottledError,
} from '../../../lib/errors';
import { AnswerCache, type CacheSource } from '../../../lib/lookup/answer-cache';
import { manualClock } from './helpers';

/** A source whose revision and value the test sets, counting its calls. */
function fakeSource(initial: { revision: number | undefined; value: string }) {
  const state = { ...initial, loads: 0, revisionChecks: 0, failWith: undefined as Error | undefined };
  const source: CacheSource<string> = {
    load: async () => {
      state.loads++;
      if (state.failWith) throw state.failWith;
      return { value: state.value, revision: state.revision };
    },
    revision: async () => {
      state.revisionChecks++;
      if (state.failWith) throw state.failWith;
      return state.revision;
    },
  };
  return { state, source };
}

function cache(
  clock: ReturnType<typeof manualClock>,
  overrides: Partial<ConstructorParameters<typeof AnswerCache>[0]> = {},
) {
  return new AnswerCache<string>({
    intervalMs: 1000,
    maxAgeMs: 5000,
    staleIfErrorMs: 30_000,
    maxEntries: 100,
    now: clock.now,
    ...overrides,
  });
}

describe('AnswerCache', () => {
  it('loads on the first request and answers from memory within the interval', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v1' });
    const c = cache(clock);

    await expect(c.get('k', source)).resolves.toBe('v1');
    clock.advance(999);
    await expect(c.get('k', source)).resolves.toBe('v1');

    expect(state).toMatchObject({ loads: 1, revisionChecks: 0 });
  });

  it('checks the revision once the interval has passed and keeps the value when it is equal', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v1' });
    const c = cache(clock);
    await c.get('k', source);

    clock.advance(1000);
    await c.get('k', source);
    await c.get('k', source);

    expect(state).toMatchObject({ loads: 1, revisionChecks: 1 });
  });

  it('reloads when the revision differs, also when it went down', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 5, value: 'v5' });
    const c = cache(clock);
    await c.get('k', source);

    state.revision = 2;
    state.value = 'recreated';
    clock.advance(1000);

    await expect(c.get('k', source)).resolves.toBe('recreated');
    expect(state).toMatchObject({ loads: 2, revisionChecks: 1 });
  });

  it('checks at most once per interval, counted from the last check', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v1' });
    const c = cache(clock, { maxAgeMs: 60_000 });
    await c.get('k', source);

    for (let i = 0; i < 100; i++) {
      clock.advance(50);
      await c.get('k', source);
    }

    expect(state.revisionChecks).toBe(5);
    expect(state.loads).toBe(1);
  });

  it('reloads in full once the value is older than the health max age, even with an equal revision', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'healthy' });
    const c = cache(clock);
    await c.get('k', source);

    state.value = 'unhealthy';
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      await expect(c.get('k', source)).resolves.toBe('healthy');
    }
    clock.advance(1000);

    await expect(c.get('k', source)).resolves.toBe('unhealthy');
    expect(state).toMatchObject({ loads: 2, revisionChecks: 4 });
  });

  it('reloads on every check when the source gives no revision', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: undefined, value: 'v' });
    const c = cache(clock);
    await c.get('k', source);
    clock.advance(1000);
    await c.get('k', source);
    expect(state).toMatchObject({ loads: 2, revisionChecks: 0 });
  });

  it('shares one upstream call among concurrent misses of a key', async () => {
    const clock = manualClock();
    let release: (value: { value: string; revision: number }) => void = () => undefined;
    let loads = 0;
    const source: CacheSource<string> = {
      load: () => {
        loads++;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    };
    const c = cache(clock);

    const answers = Array.from({ length: 50 }, () => c.get('k', source));
    release({ value: 'v', revision: 1 });

    await expect(Promise.all(answers)).resolves.toEqual(Array(50).fill('v'));
    expect(loads).toBe(1);
  });

  it('shares one revision check among concurrent requests after the interval', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v1' });
    const c = cache(clock);
    await c.get('k', source);
    clock.advance(1000);

    await Promise.all(Array.from({ length: 20 }, () => c.get('k', source)));

    expect(state.revisionChecks).toBe(1);
  });

  it('keeps separate keys apart', async () => {
    const clock = manualClock();
    const a = fakeSource({ revision: 1, value: 'a' });
    const b = fakeSource({ revision: 1, value: 'b' });
    const c = cache(clock);
    await expect(c.get('a', a.source)).resolves.toBe('a');
    await expect(c.get('b', b.source)).resolves.toBe('b');
  });

  it('holds at most maxEntries keys and reloads an evicted one', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v' });
    const c = cache(clock, { maxEntries: 2 });

    await c.get('a', source);
    await c.get('b', source);
    await c.get('a', source);
    await c.get('c', source);
    expect(c.size).toBe(2);
    expect(state.loads).toBe(3);

    await c.get('a', source);
    expect(state.loads).toBe(3);
    await c.get('b', source);
    expect(state.loads).toBe(4);
  });

  it('remembers a missing service for one interval', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v' });
    state.failWith = new ServiceNotFoundError('kudos.local', 'api');
    const c = cache(clock);

    await expect(c.get('k', source)).rejects.toBeInstanceOf(ServiceNotFoundError);
    await expect(c.get('k', source)).rejects.toBeInstanceOf(ServiceNotFoundError);
    expect(state.loads).toBe(1);

    state.failWith = undefined;
    clock.advance(1000);
    await expect(c.get('k', source)).resolves.toBe('v');
    expect(state.loads).toBe(2);
  });

  it('remembers a missing namespace for one interval', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v' });
    state.failWith = new NamespaceNotFoundError('nope.local');
    const c = cache(clock);
    await expect(c.get('k', source)).rejects.toBeInstanceOf(NamespaceNotFoundError);
    await expect(c.get('k', source)).rejects.toBeInstanceOf(NamespaceNotFoundError);
    expect(state.loads).toBe(1);
  });

  it('keeps misses apart from answers: a flood of misses pushes no answer out', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v' });
    const missing = fakeSource({ revision: 1, value: 'never' });
    missing.state.failWith = new ServiceNotFoundError('kudos.local', 'nope');
    const c = cache(clock, { maxEntries: 2 });
    await c.get('a', source);
    await c.get('b', source);

    for (let i = 0; i < 1000; i++) await expect(c.get(`nope-${i}`, missing.source)).rejects.toThrow();
    await c.get('a', source);
    await c.get('b', source);

    expect(state.loads).toBe(2);
    expect(c.size).toBe(2);
  });

  it('holds at most maxEntries misses, least recently used dropped first', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v' });
    state.failWith = new NamespaceNotFoundError('nope.local');
    const c = cache(clock, { maxEntries: 2 });

    for (const key of ['x', 'y', 'z', 'x']) await expect(c.get(key, source)).rejects.toThrow();

    expect(state.loads).toBe(4);
    expect(c.misses).toBe(2);
  });

  it('remembers a miss under the key the source names, for every key that shares it', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v' });
    state.failWith = new ServiceNotFoundError('kudos.local', 'nope');
    const c = cache(clock);
    const sharing = { ...source, missKey: 'kudos.local/nope' };

    for (let i = 0; i < 20; i++) {
      await expect(c.get(`kudos.local/nope?max=${i}`, sharing)).rejects.toBeInstanceOf(ServiceNotFoundError);
    }

    expect(state.loads).toBe(1);
  });

  it('drops the answer of a key once its source says it is missing', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v' });
    const c = cache(clock);
    await c.get('k', source);

    state.failWith = new ServiceNotFoundError('kudos.local', 'api');
    clock.advance(5000);
    await expect(c.get('k', source)).rejects.toBeInstanceOf(ServiceNotFoundError);

    expect(c.size).toBe(0);
    expect(c.misses).toBe(1);
  });

  it.each([
    ['throttles', new UpstreamThrottledError(1)],
    ['fails', new UpstreamError()],
  ])('keeps answering with the last value while Cloud Map %s, backing off one interval', async (_how, error) => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v1' });
    const c = cache(clock);
    await c.get('k', source);

    state.failWith = error;
    clock.advance(1000);
    await expect(c.get('k', source)).resolves.toBe('v1');
    await expect(c.get('k', source)).resolves.toBe('v1');

    expect(state.revisionChecks).toBe(1);
  });

  it('stops answering with a stale value once it is older than staleIfErrorMs', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v1' });
    const c = cache(clock, { staleIfErrorMs: 2000, maxAgeMs: 60_000 });
    await c.get('k', source);

    state.failWith = new UpstreamThrottledError(1);
    clock.advance(2000);
    await expect(c.get('k', source)).resolves.toBe('v1');
    clock.advance(1000);
    await expect(c.get('k', source)).rejects.toBeInstanceOf(UpstreamThrottledError);
  });

  it('passes an upstream error on when it has nothing to answer with, and does not remember it', async () => {
    const clock = manualClock();
    const { state, source } = fakeSource({ revision: 1, value: 'v1' });
    state.failWith = new UpstreamError();
    const c = cache(clock);

    await expect(c.get('k', source)).rejects.toBeInstanceOf(UpstreamError);
    state.failWith = undefined;
    await expect(c.get('k', source)).resolves.toBe('v1');
  });
});

describe('the memory budget', () => {
  const source = (value: string): CacheSource<string> => ({ load: async () => ({ value, revision: 1 }) });

  it('drops the least recently used answers once the kept ones weigh more than maxWeight, keeping the newest', async () => {
    const cache = new AnswerCache<string>({
      intervalMs: 1000,
      maxAgeMs: 5000,
      staleIfErrorMs: 0,
      maxEntries: 100,
      maxWeight: 10,
      weigh: (value) => value.length,
    });
    await cache.get('a', source('aaaa'));
    await cache.get('b', source('bbbb'));
    expect([cache.size, cache.weight]).toEqual([2, 8]);
    await cache.get('c', source('cccc'));
    // 12 > 10: the oldest (a) goes, and b and c (8) stay.
    expect([cache.size, cache.weight]).toEqual([2, 8]);
    await cache.get('huge', source('x'.repeat(50)));
    // One answer heavier than the whole budget is still kept alone: the caller gets it from memory next time.
    expect([cache.size, cache.weight]).toEqual([1, 50]);
  });

  it('counts a replaced answer once', async () => {
    const cache = new AnswerCache<string>({
      intervalMs: 0,
      maxAgeMs: 0,
      staleIfErrorMs: 0,
      maxEntries: 100,
      maxWeight: 100,
      weigh: (value) => value.length,
    });
    await cache.get('a', source('aaaa'));
    await cache.get('a', source('aaaaaa'));
    expect([cache.size, cache.weight]).toEqual([1, 6]);
  });
});
