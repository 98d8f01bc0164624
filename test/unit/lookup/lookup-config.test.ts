import { loadLookupConfig } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';
import { DEFAULT_HEALTH_MAX_AGE_MS } from '../../../lib/lookup/lookup-app';

describe('loadLookupConfig', () => {
  it('applies the documented defaults to everything but NAMESPACE', () => {
    expect(loadLookupConfig({ NAMESPACE: 'kudos.local' })).toEqual({
      namespace: 'kudos.local',
      cacheIntervalMs: 1000,
      cacheMaxEntries: 1000,
      cacheMaxMb: 48,
      healthMaxAgeMs: DEFAULT_HEALTH_MAX_AGE_MS,
      cacheControlMaxAgeSeconds: 1,
      staleIfErrorMs: 30_000,
      lookupNamespaces: [],
    });
  });

  it('reads every key from the environment', () => {
    expect(
      loadLookupConfig({
        NAMESPACE: 'ns-abcdefghijklmnop',
        CACHE_INTERVAL_MS: '250',
        CACHE_MAX_ENTRIES: '50',
        CACHE_MAX_MB: '8',
        HEALTH_MAX_AGE_MS: '10000',
        CACHE_CONTROL_MAX_AGE: '0',
        STALE_IF_ERROR_MS: '0',
        LOOKUP_NAMESPACES: 'kudos.local',
      }),
    ).toEqual({
      namespace: 'ns-abcdefghijklmnop',
      cacheIntervalMs: 250,
      cacheMaxEntries: 50,
      cacheMaxMb: 8,
      healthMaxAgeMs: 10_000,
      cacheControlMaxAgeSeconds: 0,
      staleIfErrorMs: 0,
      lookupNamespaces: ['kudos.local'],
    });
  });

  it.each([
    ['*', '*'],
    [' * ', '*'],
    ['a.local,b.internal', ['a.local', 'b.internal']],
    [' a.local , B.internal ', ['a.local', 'B.internal']],
  ])('reads LOOKUP_NAMESPACES %j as %j', (value, expected) => {
    expect(loadLookupConfig({ NAMESPACE: 'kudos.local', LOOKUP_NAMESPACES: value }).lookupNamespaces).toEqual(expected);
  });

  it.each(['a.local,*', 'a/b', 'a.local,,b.local'])('names LOOKUP_NAMESPACES when it holds %j', (value) => {
    expect(() => loadLookupConfig({ NAMESPACE: 'kudos.local', LOOKUP_NAMESPACES: value })).toThrow(/LOOKUP_NAMESPACES/);
  });

  it('names NAMESPACE when it is missing', () => {
    expect(() => loadLookupConfig({})).toThrow(new ConfigError('Invalid configuration: NAMESPACE is required'));
  });

  it.each([
    ['CACHE_INTERVAL_MS', '-1'],
    ['CACHE_MAX_ENTRIES', '0'],
    ['HEALTH_MAX_AGE_MS', 'soon'],
    ['CACHE_CONTROL_MAX_AGE', '1.5'],
  ])('names %s when it holds %s', (key, value) => {
    expect(() => loadLookupConfig({ NAMESPACE: 'kudos.local', [key]: value })).toThrow(new RegExp(key));
  });
});
