import { NamespaceNotFoundError, ServiceNotFoundError, UpstreamError, UpstreamThrottledError } from '../errors';
import { LruMap } from './lru';

/** Where a cache entry comes from: a full read, and optionally a cheap check of whether it changed. */
export interface CacheSource<T> {
  /** Reads the value in full, with the revision it was read at (undefined when the source has none). */
  load(): Promise<{ value: T; revision: number | undefined }>;
  /** The source's current revision for what `current` was read from; without it, every check is a load. */
  revision?(current: T): Promise<number | undefined>;
  /**
   * Where a "missing" answer is remembered (default: the key itself). Keys that differ only in what
   * cannot make a missing service exist (health, filters) share it, so varying them costs no call.
   */
  missKey?: string;
}

/** How long answers live; every duration in milliseconds. */
export interface AnswerCacheOptions<T = unknown> {
  /** Shortest time between two checks of one key (revision check, or reload). */
  intervalMs: number;
  /**
   * Oldest a value may be before it is loaded again in full, whatever the revision says. Cloud Map
   * does not change the revision on health updates, and every answer carries each instance's health.
   */
  maxAgeMs: number;
  /** How long after it was last confirmed a value may still answer while the source throttles or fails. */
  staleIfErrorMs: number;
  /** Most values kept; as many "missing" answers are kept apart, so that misses never push values out. */
  maxEntries: number;
  /**
   * With `weigh`: the most the kept values may weigh together (the lookup weighs an answer by the characters it
   * holds, which is close to its heap: bench/lookup.ts measures both). The least recently used go first.
   */
  maxWeight?: number;
  weigh?: (value: T) => number;
  now?: () => number;
}

interface Entry<T> {
  value: T;
  revision: number | undefined;
  /** When the value was last read in full. */
  loadedAt: number;
  /** When the value was last known current (full read, or a revision check that found it equal). */
  verifiedAt: number;
  /** When the key was last checked, whatever the outcome. */
  checkedAt: number;
}

/** A namespace or service found missing, and when. */
interface Miss {
  error: Error;
  checkedAt: number;
}

/** A namespace or service that does not exist is remembered for one interval, like an answer. */
function isMissing(error: unknown): error is Error {
  return error instanceof NamespaceNotFoundError || error instanceof ServiceNotFoundError;
}

function isTransient(error: unknown): boolean {
  return error instanceof UpstreamThrottledError || error instanceof UpstreamError;
}

/**
 * Answers from memory, asking the source as little as it can while staying current:
 *
 * - a key is checked at most once per `intervalMs`; the check asks for the revision only, and the
 *   value is read again only when the revision differs (compared for inequality: a namespace recreated
 *   under the same name may start lower);
 * - a value older than `maxAgeMs` is read again in full, since a health change leaves the revision as is;
 * - concurrent requests for a key that needs a check share one upstream call (single flight);
 * - a throttled or failed check keeps answering with the last value for up to `staleIfErrorMs`;
 * - a namespace or service found missing is remembered for one interval, under the source's `missKey`;
 * - at most `maxEntries` values (weighing at most `maxWeight` together) and `maxEntries` misses are kept, each
 *   least recently used dropped first.
 */
export class AnswerCache<T> {
  private readonly entries: LruMap<string, Entry<T>>;
  private readonly missing: LruMap<string, Miss>;
  private readonly inflight = new Map<string, Promise<T>>();
  private readonly now: () => number;

  constructor(private readonly options: AnswerCacheOptions<T>) {
    const { maxWeight, weigh } = options;
    this.entries = new LruMap(
      options.maxEntries,
      maxWeight !== undefined && weigh ? { maxWeight, weigh: (entry: Entry<T>) => weigh(entry.value) } : undefined,
    );
    this.missing = new LruMap(options.maxEntries);
    this.now = options.now ?? Date.now;
  }

  /** Values held now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** The weight of the values held now (0 without `weigh`). */
  get weight(): number {
    return this.entries.weight;
  }

  /** Misses held now (for tests and metrics). */
  get misses(): number {
    return this.missing.size;
  }

  /** The value for `key`, from memory when it is fresh enough, otherwise from `source`. */
  get(key: string, source: CacheSource<T>): Promise<T> {
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const now = this.now();
    const miss = this.missing.get(source.missKey ?? key);
    if (miss && now - miss.checkedAt < this.options.intervalMs) return Promise.reject(miss.error);
    const entry = this.entries.get(key);
    if (entry && this.isFresh(entry, now)) return Promise.resolve(entry.value);
    const refresh = this.refresh(key, entry, source).finally(() => this.inflight.delete(key));
    this.inflight.set(key, refresh);
    return refresh;
  }

  private isFresh(entry: Entry<T>, now: number): boolean {
    return now - entry.checkedAt < this.options.intervalMs && now - entry.loadedAt < this.options.maxAgeMs;
  }

  private async refresh(key: string, entry: Entry<T> | undefined, source: CacheSource<T>): Promise<T> {
    try {
      if (entry && entry.revision !== undefined && source.revision) {
        if (this.now() - entry.loadedAt < this.options.maxAgeMs) {
          const revision = await source.revision(entry.value);
          if (revision === entry.revision) {
            const now = this.now();
            this.entries.set(key, { ...entry, verifiedAt: now, checkedAt: now });
            return entry.value;
          }
        }
      }
      const { value, revision } = await source.load();
      const now = this.now();
      this.entries.set(key, { value, revision, loadedAt: now, verifiedAt: now, checkedAt: now });
      this.missing.delete(source.missKey ?? key);
      return value;
    } catch (error) {
      const now = this.now();
      if (isMissing(error)) {
        this.entries.delete(key);
        this.missing.set(source.missKey ?? key, { error, checkedAt: now });
      } else if (entry && isTransient(error) && now - entry.verifiedAt <= this.options.staleIfErrorMs) {
        // Back off for one interval rather than retry on the next request of a throttled key.
        this.entries.set(key, { ...entry, checkedAt: now });
        return entry.value;
      }
      throw error;
    }
  }
}
