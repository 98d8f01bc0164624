/**
 * A Map bounded to `maxEntries` and, with a `weigh` function, to a total weight of `maxWeight`, dropping the least
 * recently used key first (the newest value stays, whatever it weighs). A JavaScript Map keeps insertion order, so
 * re-inserting on every read keeps the oldest key first. Hand-written, not lru-cache: that package would add about
 * 6 KB zipped and 6% to the lookup bundle's import work (README, Cache) for this bound.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  private weights = 0;

  constructor(
    readonly maxEntries: number,
    private readonly bound: { maxWeight: number; weigh: (value: V) => number } | undefined = undefined,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    if (bound && !(bound.maxWeight > 0)) throw new RangeError('maxWeight must be positive');
  }

  /** The total weight held (0 without a `weigh` function). */
  get weight(): number {
    return this.weights;
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Stores the value as the most recently used, dropping the oldest keys beyond the bounds. */
  set(key: K, value: V): void {
    this.delete(key);
    this.map.set(key, value);
    this.weights += this.weightOf(value);
    while (this.map.size > this.maxEntries || (this.map.size > 1 && this.weights > (this.bound?.maxWeight ?? 0))) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    const value = this.map.get(key);
    if (value === undefined) return false;
    this.weights -= this.weightOf(value);
    return this.map.delete(key);
  }

  private weightOf(value: V): number {
    return this.bound ? this.bound.weigh(value) : 0;
  }
}
