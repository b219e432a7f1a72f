/**
 * Firing a trigger, the one implementation behind `POST .../triggers/{name}`, the event sources
 * (feeds/fire.ts), the alarms service and dead letters, so that all of them behave the same.
 */
import {
  ActivationStatus,
  WhirlError,
  activationRecord,
  keyValuesToObject,
  newActivationId,
  type Identity,
} from '@whirl/core';
import type { Ctx } from '../context.js';
import type { InvokeRequest } from '../invocation.js';
import { requireTyped, resolveAction } from '../resolve.js';

export interface FireRequest {
  /** The firing identity: rule invokes run, and are counted, as this namespace. */
  identity: Identity;
  namespace: string;
  name: string;
  payload: Record<string, unknown>;
  /** Request headers, passed to the actions as `__ow_headers`. */
  headers: Record<string, string>;
  transid: string;
}

/**
 * OpenWhisk's fire: throttle, load the trigger, and if no rule is active record nothing (204).
 * Otherwise invoke every active rule's action non-blocking with trigger parameters < `__ow_headers` <
 * payload, and store the trigger activation with one JSON log line per rule. The activation is
 * stored before the id is returned, so a caller can always read the id it was given. Rule invokes
 * are only published (non-blocking), so this wait is short.
 */
export async function fireTrigger(ctx: Ctx, req: FireRequest): Promise<{ activationId?: string }> {
  const start = Date.now();
  const limits = ctx.userLimits(req.identity);
  ctx.throttles.fire(req.identity.namespace.name, limits);
  const trigger = (await requireTyped(ctx, `${req.namespace}/${req.name}`, 'trigger')).doc;
  const active = Object.entries(trigger.rules ?? {}).filter(([, r]) => r.status === 'active');
  if (active.length === 0) return {};

  const args: Record<string, unknown> = { ...keyValuesToObject(trigger.parameters), __ow_headers: req.headers, ...req.payload };
  const logs = await Promise.all(
    active.map(async ([ruleName, rule]) => {
      const actionPath = `${rule.action.path}/${rule.action.name}`;
      try {
        const [ns, pkg] = splitPath(rule.action.path);
        const resolved = await resolveAction(ctx.cache, req.identity, { namespace: ns, ...(pkg !== undefined ? { pkg } : {}), name: rule.action.name });
        // Counted against the firing namespace's action throttles like any invoke; a refusal is
        // this rule's failure in the trigger's log, not the fire's.
        ctx.throttles.invoke(req.identity.namespace.name, limits);
        const request: InvokeRequest = {
          identity: req.identity,
          action: resolved.action,
          packageParams: resolved.packageParams,
          ...(resolved.binding !== undefined ? { binding: resolved.binding } : {}),
          payload: args,
          blocking: false,
          waitMs: ctx.config.blockingWaitMs,
          transid: req.transid,
          received: Date.now(),
        };
        const target = { namespace: ns, ...(pkg !== undefined ? { pkg } : {}), name: rule.action.name };
        const outcome = await (ctx.delivery ? ctx.delivery.invoke(request, target) : ctx.invoker.invoke(request));
        return JSON.stringify({ statusCode: ActivationStatus.Success, success: true, activationId: outcome.activationId, rule: ruleName, action: actionPath });
      } catch (e) {
        const whisk = !(e instanceof WhirlError) || e.statusCode >= 500;
        const error = e instanceof WhirlError ? e.message : 'An internal error occurred while invoking the action.';
        const statusCode = whisk ? ActivationStatus.WhiskError : ActivationStatus.ApplicationError;
        return JSON.stringify({ statusCode, success: false, error, rule: ruleName, action: actionPath });
      }
    }),
  );

  // OpenWhisk's trigger activation: end 0 (so no end or duration shown), no annotations, a log line per rule.
  const record = activationRecord({
    namespace: req.identity.namespace.name,
    subject: req.identity.subject,
    name: trigger.name,
    version: trigger.version,
    activationId: newActivationId(),
    start,
    end: 0,
    response: { statusCode: ActivationStatus.Success, result: req.payload },
    logs,
  });
  await ctx.activations.put([record]);
  return { activationId: record.activationId };
}

function splitPath(path: string): [string, string | undefined] {
  const i = path.indexOf('/');
  return i < 0 ? [path, undefined] : [path.slice(0, i), path.slice(i + 1)];
}
