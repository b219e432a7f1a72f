/**
 * The `/whisk.system/alarms/{alarm,once,interval}` feed actions, run as system actions inside the
 * controller (see catalog/system-actions.ts). The client drives them with the lifecycle call every
 * feed takes (feeds/lifecycle.ts checks it). Every invalid request is an application error with a
 * sentence saying what to fix, and changes nothing.
 */
import type { AlarmConfig, AlarmFeed, AlarmSchedule } from '@whirl/core';
import type { Ctx } from '../context.js';
import type { SystemActionHandler } from '../catalog/system-actions.js';
import { FeedError, lifecycleHandler, requireTrigger, type FeedCall } from '../feeds/lifecycle.js';
import { CronError, isValidTimeZone, parseCron } from './cron.js';
import { nextFireTime } from './schedule.js';
import type { AlarmService } from './service.js';

/** Parameters a caller may change with UPDATE, per feed. */
const UPDATABLE: Record<AlarmFeed, string[]> = {
  alarm: ['cron', 'timezone', 'startDate', 'stopDate', 'trigger_payload', 'maxTriggers'],
  once: ['date', 'deleteAfterFire', 'trigger_payload'],
  interval: ['minutes', 'startDate', 'stopDate', 'trigger_payload'],
};

export function alarmsFeedHandler(ctx: Ctx, service: AlarmService, feed: AlarmFeed): SystemActionHandler {
  return lifecycleHandler((c) => handle(ctx, service, feed, c));
}

async function handle(ctx: Ctx, service: AlarmService, feed: AlarmFeed, c: FeedCall): Promise<Record<string, unknown>> {
  const { params: p, namespace, trigger, fqn } = c;
  const id = `${namespace}/${trigger}`;
  const existing = await service.get(id);

  switch (c.event) {
    case 'CREATE': {
      await requireTrigger(ctx, c);
      if (existing?.active) {
        throw new FeedError(`An alarm feed already exists for trigger ${fqn}; use UPDATE to change it or DELETE it first.`);
      }
      const now = service.now();
      const config = buildConfig(feed, p, undefined, now);
      const s: AlarmSchedule = {
        id,
        namespace,
        trigger,
        feed,
        config,
        authKey: p.authKey as string,
        active: true,
        dateChanged: now,
        fireCount: 0,
        created: now,
      };
      checkWillFire(s, now, fqn);
      const stored = await service.put(s);
      return { status: 'success', triggerName: fqn, ...nextInfo(stored) };
    }
    case 'READ': {
      const s = requireSchedule(existing, fqn);
      return describe(s);
    }
    case 'UPDATE': {
      const s = requireSchedule(existing, fqn, feed);
      await requireTrigger(ctx, c);
      const given = UPDATABLE[feed].filter((k) => p[k] !== undefined && !(k === 'trigger_payload' && p[k] === ''));
      if (given.length === 0) {
        throw new FeedError(`No updatable parameters were given; the ${feed} feed takes ${UPDATABLE[feed].join(', ')}.`);
      }
      const now = service.now();
      const config = buildConfig(feed, p, s.config, now);
      const updated: AlarmSchedule = { ...s, config, authKey: p.authKey as string, fireCount: 0, created: now };
      if (!s.active) {
        updated.active = true;
        updated.dateChanged = now;
        delete updated.reason;
      }
      checkWillFire(updated, now, fqn);
      const stored = await service.put(updated);
      return { status: 'success', triggerName: fqn, ...nextInfo(stored) };
    }
    case 'DELETE': {
      requireSchedule(existing, fqn);
      await service.delete(id);
      return { status: 'success', triggerName: fqn };
    }
    case 'PAUSE': {
      const s = requireSchedule(existing, fqn);
      if (s.active) await service.put({ ...s, active: false, dateChanged: service.now(), reason: { kind: 'USER', message: 'paused by the user' } });
      return { status: 'success', triggerName: fqn };
    }
    case 'UNPAUSE': {
      const s = requireSchedule(existing, fqn);
      if (!s.active) {
        const now = service.now();
        const resumed: AlarmSchedule = { ...s, active: true, dateChanged: now };
        delete resumed.reason;
        checkWillFire(resumed, now, fqn);
        await service.put(resumed);
      }
      return { status: 'success', triggerName: fqn };
    }
  }
}

function requireSchedule(s: AlarmSchedule | undefined, fqn: string, feed?: AlarmFeed): AlarmSchedule {
  if (!s) throw new FeedError(`No alarm feed is registered for trigger ${fqn}.`);
  if (feed !== undefined && s.feed !== feed) {
    throw new FeedError(`The trigger ${fqn} uses the ${s.feed} feed, not ${feed}; update it through /whisk.system/alarms/${s.feed}.`);
  }
  return s;
}

function checkWillFire(s: AlarmSchedule, now: number, fqn: string): void {
  if (nextFireTime(s, now) === undefined) {
    throw new FeedError(`The ${s.feed} feed for trigger ${fqn} would never fire: no occurrence falls before its stopDate.`);
  }
}

function parseDate(field: string, v: unknown): number {
  let ms = Number.NaN;
  if (typeof v === 'number' && Number.isFinite(v)) ms = v;
  else if (typeof v === 'string' && /^\d+$/.test(v)) ms = Number(v);
  else if (typeof v === 'string') ms = Date.parse(v);
  if (!Number.isFinite(ms)) {
    throw new FeedError(`The ${field} parameter '${String(v)}' is not a valid date; use epoch milliseconds or an ISO-8601 string.`);
  }
  return Math.floor(ms);
}

function payloadOf(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null || v === '') return {};
  if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  if (typeof v === 'string') {
    return { payload: v };
  }
  return { payload: v };
}

/** The schedule config from the call's parameters, over `base` for UPDATE. Validates everything. */
function buildConfig(feed: AlarmFeed, p: Record<string, unknown>, base: AlarmConfig | undefined, now: number): AlarmConfig {
  const c: AlarmConfig = base ? { ...base } : { payload: {} };
  if (p.trigger_payload !== undefined && !(base && p.trigger_payload === '')) c.payload = payloadOf(p.trigger_payload);
  const dateOf = (k: 'startDate' | 'stopDate'): void => {
    if (p[k] !== undefined && p[k] !== null && p[k] !== '') c[k] = parseDate(k, p[k]);
  };

  if (feed === 'alarm') {
    if (p.cron !== undefined) c.cron = p.cron as string;
    if (c.cron === undefined || c.cron === '') throw new FeedError('The alarm feed is missing the cron parameter, e.g. "*/10 * * * *".');
    try {
      parseCron(c.cron);
    } catch (e) {
      const detail = e instanceof CronError ? e.message : 'it cannot be parsed';
      throw new FeedError(`The cron pattern '${String(c.cron)}' is not valid: ${detail}.`);
    }
    if (p.timezone !== undefined && p.timezone !== '') {
      if (typeof p.timezone !== 'string' || !isValidTimeZone(p.timezone)) {
        throw new FeedError(`The timezone '${String(p.timezone)}' is not a valid IANA time zone, e.g. "Europe/Berlin".`);
      }
      c.timezone = p.timezone;
    }
    dateOf('startDate');
    dateOf('stopDate');
    if (p.maxTriggers !== undefined) {
      if (c.stopDate !== undefined) throw new FeedError('The maxTriggers parameter is not allowed when the stopDate parameter is specified.');
      const n = Number(p.maxTriggers);
      if (!Number.isInteger(n)) throw new FeedError(`The maxTriggers parameter '${String(p.maxTriggers)}' must be an integer (-1 for no limit).`);
      c.maxTriggers = n;
    }
  } else if (feed === 'once') {
    if (p.date !== undefined && p.date !== '') c.date = parseDate('date', p.date);
    if (c.date === undefined) throw new FeedError('The once feed is missing the date parameter (epoch milliseconds or an ISO-8601 string).');
    if (p.date !== undefined && c.date <= now) throw new FeedError(`The date parameter '${String(p.date)}' must be in the future.`);
    if (p.deleteAfterFire !== undefined) {
      const v = String(p.deleteAfterFire).toLowerCase();
      if (v !== 'false' && v !== 'true' && v !== 'rules') {
        throw new FeedError(`The deleteAfterFire parameter '${String(p.deleteAfterFire)}' must be one of false, true or rules.`);
      }
      c.deleteAfterFire = v;
    }
  } else {
    if (p.minutes !== undefined) {
      const n = typeof p.minutes === 'string' && /^\d+$/.test(p.minutes) ? Number(p.minutes) : p.minutes;
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
        throw new FeedError(`The minutes parameter '${String(p.minutes)}' must be an integer greater than 0.`);
      }
      c.minutes = n;
    }
    if (c.minutes === undefined) throw new FeedError('The interval feed is missing the minutes parameter (an integer greater than 0).');
    dateOf('startDate');
    dateOf('stopDate');
  }

  if (p.startDate !== undefined && c.startDate !== undefined && c.startDate <= now) {
    throw new FeedError(`The startDate parameter '${String(p.startDate)}' must be in the future.`);
  }
  if (c.stopDate !== undefined && p.stopDate !== undefined) {
    if (c.stopDate <= now) throw new FeedError(`The stopDate parameter '${String(p.stopDate)}' must be in the future.`);
    if (c.startDate !== undefined && c.stopDate <= c.startDate) {
      throw new FeedError(`The stopDate parameter '${String(p.stopDate)}' must be later than the startDate.`);
    }
  }
  return c;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function nextInfo(s: AlarmSchedule): Record<string, unknown> {
  return s.nextFire === undefined ? {} : { nextFire: s.nextFire, nextFireISO: iso(s.nextFire) };
}

/** READ: OpenWhisk's `{config, status}` shape, plus when the next fire is planned. */
function describe(s: AlarmSchedule): Record<string, unknown> {
  const c = s.config;
  const config: Record<string, unknown> = { name: s.trigger, namespace: s.namespace, payload: c.payload };
  if (s.feed === 'alarm') {
    config.cron = c.cron;
    if (c.timezone !== undefined) config.timezone = c.timezone;
    if (c.maxTriggers !== undefined) config.maxTriggers = c.maxTriggers;
  } else if (s.feed === 'once') {
    config.date = iso(c.date);
    config.deleteAfterFire = c.deleteAfterFire ?? 'false';
  } else {
    config.minutes = c.minutes;
  }
  if (c.startDate !== undefined) config.startDate = iso(c.startDate);
  if (c.stopDate !== undefined) config.stopDate = iso(c.stopDate);
  const status: Record<string, unknown> = {
    active: s.active,
    dateChanged: s.dateChanged,
    dateChangedISO: iso(s.dateChanged),
    ...nextInfo(s),
    fireCount: s.fireCount,
  };
  if (s.lastFire !== undefined) status.lastFire = iso(s.lastFire);
  if (s.reason) status.reason = s.reason;
  return { config, status };
}
