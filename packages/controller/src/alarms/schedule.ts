/**
 * Pure schedule arithmetic for the alarms service: when a schedule fires next, and what to do with a
 * schedule found on start-up (a fire missed while the server was down is made up ONCE, never once per
 * missed occurrence).
 */
import type { AlarmSchedule } from '@whirl/core';
import { nextCronTime, parseCron } from './cron.js';

type Plannable = Pick<AlarmSchedule, 'feed' | 'config' | 'fireCount' | 'created'>;

/** The first fire strictly after `after`, or undefined when the schedule is finished. */
export function nextFireTime(s: Plannable, after: number): number | undefined {
  const c = s.config;
  let next: number | undefined;
  switch (s.feed) {
    case 'once':
      return s.fireCount > 0 || c.date === undefined ? undefined : c.date;
    case 'alarm': {
      if (c.maxTriggers !== undefined && c.maxTriggers > 0 && s.fireCount >= c.maxTriggers) return undefined;
      const from = c.startDate !== undefined ? Math.max(after, c.startDate - 1) : after;
      next = nextCronTime(parseCron(c.cron ?? ''), from, c.timezone ?? 'UTC');
      break;
    }
    case 'interval': {
      const period = (c.minutes ?? 1) * 60_000;
      // With a startDate the first fire is at startDate; without, one period after creation.
      const first = c.startDate ?? s.created + period;
      next = after < first ? first : first + (Math.floor((after - first) / period) + 1) * period;
      break;
    }
  }
  if (next !== undefined && c.stopDate !== undefined && next > c.stopDate) return undefined;
  return next;
}

/**
 * What to do with an active schedule when the service starts at `now`: if its planned fire has
 * passed, fire once immediately; in any case the following fire is the first one after `now`.
 */
export function planOnStart(s: Plannable & Pick<AlarmSchedule, 'nextFire'>, now: number): { fireNow: boolean; next: number | undefined } {
  if (s.nextFire !== undefined && s.nextFire <= now) {
    return { fireNow: true, next: undefined };
  }
  return { fireNow: false, next: s.nextFire ?? nextFireTime(s, now) };
}
