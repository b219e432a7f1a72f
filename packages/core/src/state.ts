/**
 * Small persistent state of the controller's event sources (feed registrations, resume positions,
 * pending retries) and the leases that elect one controller to run them. A port of its own because
 * none of it is an OpenWhisk entity: it never appears on the wire as such and must not share the
 * entity id space.
 */

export interface StateStore {
  get<T>(id: string): Promise<T | undefined>;
  /** Inserts or replaces. */
  put(id: string, doc: unknown): Promise<void>;
  /** True when something was deleted. */
  delete(id: string): Promise<boolean>;
  /** Every document whose id starts with `prefix`, by id. */
  list<T>(prefix: string): Promise<{ id: string; doc: T }[]>;
  /**
   * Takes or renews the lease `name` for `holder` until `now + ttlMs`. Succeeds when nobody holds it,
   * `holder` already does, or the holder's lease ran out; atomic across processes sharing the store.
   */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up at once (a clean stop), when `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

/** The event-source feeds beyond alarms. */
export type FeedKind = 'kafka' | 'couchdb' | 'webhook';

/** One trigger's feed, as its lifecycle CREATE stored it; id `feed:<kind>:<ns>/<trigger>`. */
export interface FeedRegistration {
  kind: FeedKind;
  namespace: string;
  trigger: string;
  /** `uuid:key` the feed was created with; fires run as this identity. */
  authKey: string;
  /** The feed's parameters as validated at CREATE/UPDATE. */
  config: Record<string, unknown>;
  active: boolean;
  reason?: { kind: 'AUTO' | 'USER'; statusCode?: number; message: string };
  dateChanged: number;
  created: number;
  /** Bumped on every lifecycle change, so that a running source sees it must restart. */
  generation: number;
}

/** What a running source reports about itself; id `feedstatus:<kind>:<ns>/<trigger>`. */
export interface FeedStatus {
  /** `pending` until the leading controller started it, `running` while the source answers, `retrying` while it is lost and being reconnected. */
  state: 'pending' | 'running' | 'retrying';
  lastError?: string;
  since: number;
  fireCount: number;
  lastFire?: number;
  /** Resume position: kafka `{partition: next offset}`, couchdb `{seq}`. */
  position?: Record<string, unknown>;
}

export const feedId = (kind: FeedKind, namespace: string, trigger: string): string => `feed:${kind}:${namespace}/${trigger}`;
export const feedStatusId = (kind: FeedKind, namespace: string, trigger: string): string => `feedstatus:${kind}:${namespace}/${trigger}`;
