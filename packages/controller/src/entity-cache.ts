/**
 * A small read-through cache of entity documents keyed by document id, so that an invoke of a warm
 * action reads nothing from the store. Writes through this controller invalidate at once; in a
 * distributed deployment other controllers are told through the cacheInvalidation topic.
 */
import type { EntityStore, Revisioned, WhiskEntity } from '@whirl/core';

export class EntityCache {
  private readonly map = new Map<string, { value: Revisioned<WhiskEntity> | undefined; expires: number }>();
  /** Told of every local write, so that other controllers can drop their copies. */
  onLocalWrite: ((docId: string) => void) | undefined;

  constructor(
    private readonly store: EntityStore,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  async get(docId: string): Promise<Revisioned<WhiskEntity> | undefined> {
    const now = Date.now();
    const hit = this.map.get(docId);
    if (hit && hit.expires > now) return hit.value;
    const value = await this.store.get(docId);
    if (this.map.size >= this.maxEntries) this.map.clear();
    // Misses are cached too, but briefly: a create elsewhere must become visible quickly.
    this.map.set(docId, { value, expires: now + (value ? this.ttlMs : 1_000) });
    return value;
  }

  /** A write through this controller: drop the copy here and tell the others. */
  invalidate(docId: string): void {
    this.map.delete(docId);
    this.onLocalWrite?.(docId);
  }

  /** Another controller wrote the document. */
  invalidateRemote(docId: string): void {
    this.map.delete(docId);
  }

  clear(): void {
    this.map.clear();
  }
}
