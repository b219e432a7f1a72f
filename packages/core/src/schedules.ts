/**
 * The alarms service's persistent state: one schedule per trigger, kept in the store so that
 * schedules survive a restart. A small port of its own because schedules are not OpenWhisk entities
 * (they never appear on the wire as such and must not share the entity id space).
 */

export type AlarmFeed = 'alarm' | 'once' | 'interval';

export interface AlarmConfig {
  /** alarm: 5-field or 6-field (leading seconds) cron. */
  cron?: string;
  /** IANA zone for `cron`; UTC when absent. */
  timezone?: string;
  /** once: epoch ms. */
  date?: number;
  /** once: what to do after the fire. */
  deleteAfterFire?: 'false' | 'true' | 'rules';
  /** interval: minutes between fires. */
  minutes?: number;
  startDate?: number;
  stopDate?: number;
  /** Deprecated alarm limit on the number of fires; -1 or absent means unlimited. */
  maxTriggers?: number;
  /** What the trigger is fired with (a string payload is already wrapped as `{payload}`). */
  payload: Record<string, unknown>;
}

export interface AlarmSchedule {
  /** `ns/trigger`. */
  id: string;
  namespace: string;
  trigger: string;
  feed: AlarmFeed;
  config: AlarmConfig;
  /** `uuid:key` of the namespace that created the feed; fires run as this identity. */
  authKey: string;
  active: boolean;
  /** Why the schedule was disabled, when it is. */
  reason?: { kind: 'AUTO' | 'USER'; statusCode?: number; message: string };
  /** Epoch ms of the last change of `active`. */
  dateChanged: number;
  /** Epoch ms of the next planned fire; absent when nothing is planned. */
  nextFire?: number;
  lastFire?: number;
  fireCount: number;
  created: number;
}

export interface ScheduleStore {
  get(id: string): Promise<AlarmSchedule | undefined>;
  /** Inserts or replaces. */
  put(schedule: AlarmSchedule): Promise<void>;
  /** True when something was deleted. */
  delete(id: string): Promise<boolean>;
  list(): Promise<AlarmSchedule[]>;
  close(): Promise<void>;
}
