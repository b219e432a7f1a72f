/**
 * Rules as their triggers hold them. As in OpenWhisk a rule's status is not stored on the rule but in
 * its trigger's `rules` map (`"ns/rule": {action, status}`), which is what a fire reads; the rule
 * routes and the alarms service (`deleteAfterFire: rules`) change that map and the rules through here.
 */
import { ConflictError, type ReducedRule, type WhiskRule, type WhiskTrigger } from '@whirl/core';
import { getTyped, type EntityReads } from '../resolve.js';

/** A rule's trigger or action: the path (`ns` or `ns/pkg`) and the name. */
export interface Ref {
  path: string;
  name: string;
}

export function refId(r: Ref): string {
  return `${r.path}/${r.name}`;
}

export type Status = ReducedRule['status'];

/** The status the trigger holds for the rule; `inactive` when the trigger (or its entry) is gone. */
export async function statusOf(ctx: EntityReads, rule: WhiskRule): Promise<Status>;
export async function statusOf(ctx: EntityReads, rule: WhiskRule, dflt: undefined): Promise<Status | undefined>;
export async function statusOf(ctx: EntityReads, rule: WhiskRule, dflt: Status | undefined = 'inactive'): Promise<Status | undefined> {
  let t: WhiskTrigger | undefined;
  try {
    t = (await getTyped(ctx, refId(rule.trigger), 'trigger'))?.doc;
  } catch {
    t = undefined;
  }
  return t?.rules?.[`${rule.namespace}/${rule.name}`]?.status ?? dflt;
}

/**
 * Read-modify-write of a trigger's rules map, retried on a concurrent update. False when the
 * trigger does not exist.
 */
export async function updateTriggerRules(ctx: EntityReads, triggerId: string, mutate: (rules: Record<string, ReducedRule>) => void): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    let cur;
    try {
      cur = await getTyped(ctx, triggerId, 'trigger', { cached: false });
    } catch (e) {
      if (e instanceof ConflictError) return false;
      throw e;
    }
    if (!cur) return false;
    const rules = { ...(cur.doc.rules ?? {}) };
    mutate(rules);
    try {
      await ctx.entities.update({ ...cur.doc, rules }, cur.rev);
      ctx.cache.invalidate(triggerId);
      return true;
    } catch (e) {
      if (!(e instanceof ConflictError) || attempt >= 4) throw e;
    }
  }
}

/** Deletes every rule whose trigger is `triggerId` (the alarms `deleteAfterFire: rules` option). */
export async function deleteRulesOfTrigger(ctx: EntityReads, namespace: string, triggerId: string): Promise<void> {
  const matching: string[] = [];
  for (let skip = 0; ; skip += 200) {
    const batch = (await ctx.entities.list({ entityType: 'rule', namespace, limit: 200, skip })) as WhiskRule[];
    for (const r of batch) if (refId(r.trigger) === triggerId) matching.push(`${r.namespace}/${r.name}`);
    if (batch.length < 200) break;
  }
  for (const id of matching) {
    const cur = await ctx.entities.get(id);
    if (cur) await ctx.entities.delete(id, cur.rev);
    ctx.cache.invalidate(id);
  }
}
