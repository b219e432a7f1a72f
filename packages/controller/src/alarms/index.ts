/**
 * Wires the alarms service to the controller: fires go through the trigger service the fire route uses
 * (triggers/fire.ts), with the identity stored at CREATE, and the three feed actions are registered
 * as system actions.
 */
import { randomBytes } from 'node:crypto';
import { WhirlError, type ScheduleStore } from '@whirl/core';
import type { Ctx } from '../context.js';
import { deleteRulesOfTrigger } from '../rules/trigger-rules.js';
import { fireTrigger } from '../triggers/fire.js';
import { alarmsFeedHandler } from './feed.js';
import { AlarmService, type AlarmClock, type AlarmServiceDeps } from './service.js';

export { AlarmService, systemClock, type AlarmClock } from './service.js';
export { parseCron, nextCronTime, CronError } from './cron.js';

export function createAlarms(
  ctx: Ctx,
  store: ScheduleStore,
  opts: { clock?: AlarmClock; log?: AlarmServiceDeps['log']; retry?: AlarmServiceDeps['retry'] } = {},
): AlarmService {
  const service = new AlarmService({
    store,
    ...opts,
    fire: async (s) => {
      const colon = s.authKey.indexOf(':');
      let identity;
      try {
        identity = colon > 0 ? await ctx.auth.verify(s.authKey.slice(0, colon), s.authKey.slice(colon + 1)) : undefined;
      } catch (e) {
        if (!(e instanceof WhirlError)) throw e;
        return { status: e.statusCode, message: e.statusCode === 403 ? e.message : 'the key the feed was created with is no longer valid' };
      }
      if (!identity) return { status: 401, message: 'the key the feed was created with is no longer valid' };
      try {
        const r = await fireTrigger(ctx, {
          identity,
          namespace: s.namespace,
          name: s.trigger,
          payload: s.config.payload,
          headers: { 'content-type': 'application/json', 'user-agent': 'whirl-alarms' },
          transid: randomBytes(16).toString('hex'),
        });
        return { status: r.activationId === undefined ? 204 : 202 };
      } catch (e) {
        if (e instanceof WhirlError) return { status: e.statusCode, message: e.message };
        throw e;
      }
    },
    deleteTrigger: async (s, withRules) => {
      const id = `${s.namespace}/${s.trigger}`;
      if (withRules) await deleteRulesOfTrigger(ctx, s.namespace, id);
      const t = await ctx.entities.get(id);
      if (t && t.doc.entityType === 'trigger') await ctx.entities.delete(id, t.rev);
      ctx.cache.invalidate(id);
    },
  });
  ctx.systemActions.register('alarms/alarm', alarmsFeedHandler(ctx, service, 'alarm'));
  ctx.systemActions.register('alarms/once', alarmsFeedHandler(ctx, service, 'once'));
  ctx.systemActions.register('alarms/interval', alarmsFeedHandler(ctx, service, 'interval'));
  return service;
}
