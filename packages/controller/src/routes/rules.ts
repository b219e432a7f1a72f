/**
 * Rule routes: list, get, create/update, delete, enable/disable. As in OpenWhisk a rule's status is
 * not stored on the rule but in its trigger's `rules` map (`"ns/rule": {action, status}`), which is
 * what a fire reads; every rule write therefore also updates the trigger document
 * (../rules/trigger-rules.ts).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  BadRequestError,
  checkedField,
  ConflictError,
  Messages,
  ForbiddenError,
  NotFoundError,
  RulePutSchema,
  WhirlError,
  bumpVersion,
  checkName,
  type Identity,
  type WhiskRule,
} from '@whirl/core';
import { checkEntitySizes } from '../action-doc.js';
import { identityOf, type Ctx } from '../context.js';
import { getTyped, ownNamespace, requireTyped, resolveAction } from '../resolve.js';
import { refId, statusOf, updateTriggerRules, type Ref, type Status } from '../rules/trigger-rules.js';
import { ownListRoute } from './listing.js';
import { NameParams, OverwriteQuery, entityResponses } from './schemas.js';

const StateBody = z.object({
  status: checkedField((status) => {
    if (status !== 'active' && status !== 'inactive') {
      throw new BadRequestError(`'${typeof status === 'string' ? status : JSON.stringify(status ?? '')}' is not a recognized rule state, must be one of ['active', 'inactive']`);
    }
    return status;
  }, "'active' or 'inactive'."),
});
const tags = ['rules'];

export async function ruleRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const base = '/api/v1/namespaces/:ns/rules';

  ownListRoute(app, ctx, { base, entityType: 'rule', collection: 'rules', tags, render: (r) => renderRule(r) });

  const getDoc = { summary: 'Get a rule with its status', tags, responses: entityResponses.get('rule') };
  app.get<{ Params: { ns: string; name: string } }>(`${base}/:name`, { schema: { params: NameParams }, config: { doc: getDoc } }, async (req) => {
    const ns = ownNamespace(identityOf(req), req.params.ns);
    const rule = (await requireTyped(ctx, `${ns}/${checkName(req.params.name)}`, 'rule')).doc;
    return renderRule(rule, await statusOf(ctx, rule));
  });

  const putDoc = {
    summary: 'Create or update a rule',
    tags,
    responses: { ...entityResponses.put('rule'), 400: 'The body does not fit, or the trigger or action is missing or not a fully qualified name.' },
  };
  app.put<{ Params: { ns: string; name: string }; Querystring: z.output<typeof OverwriteQuery>; Body: z.output<typeof RulePutSchema> }>(
    `${base}/:name`,
    { schema: { params: NameParams, querystring: OverwriteQuery, body: RulePutSchema }, config: { doc: putDoc } },
    async (req) => {
      const identity = identityOf(req);
      const ns = ownNamespace(identity, req.params.ns);
      const name = checkName(req.params.name);
      const overwrite = req.query.overwrite;
      const put = req.body;
      checkEntitySizes(put);
      const docId = `${ns}/${name}`;
      const existing = await getTyped(ctx, docId, 'rule', { cached: false });
      if (existing && !overwrite) throw new ConflictError(Messages.exists);
      const old = existing?.doc;
      if (!old && (!put.trigger || !put.action)) throw new BadRequestError('rule requires a valid trigger and a valid action');

      const trigger = put.trigger ? parseRef(put.trigger, identity) : old!.trigger;
      const action = put.action ? parseRef(put.action, identity) : old!.action;
      await checkTrigger(ctx, identity, trigger);
      await checkAction(ctx, identity, action);

      const ruleKey = `${ns}/${name}`;
      let status: Status = 'active';
      if (old) status = (await statusOf(ctx, old, undefined)) ?? 'active';

      const doc: WhiskRule = {
        entityType: 'rule',
        namespace: ns,
        name,
        version: put.version ?? (old ? bumpVersion(old.version) : '0.0.1'),
        publish: put.publish ?? old?.publish ?? false,
        annotations: put.annotations ?? old?.annotations ?? [],
        updated: Date.now(),
        trigger,
        action,
      };
      const saved = (existing ? await ctx.entities.update(doc, existing.rev) : await ctx.entities.create(doc)).doc as WhiskRule;
      ctx.cache.invalidate(docId);
      if (old && refId(old.trigger) !== refId(trigger)) {
        await updateTriggerRules(ctx, refId(old.trigger), (rules) => void delete rules[ruleKey]);
      }
      await updateTriggerRules(ctx, refId(trigger), (rules) => {
        rules[ruleKey] = { action: { path: action.path, name: action.name }, status };
      });
      return renderRule(saved, status);
    },
  );

  const deleteDoc = { summary: 'Delete a rule', tags, responses: entityResponses.delete('rule') };
  app.delete<{ Params: { ns: string; name: string } }>(`${base}/:name`, { schema: { params: NameParams }, config: { doc: deleteDoc } }, async (req) => {
    const ns = ownNamespace(identityOf(req), req.params.ns);
    const docId = `${ns}/${checkName(req.params.name)}`;
    const rule = await requireTyped(ctx, docId, 'rule', { cached: false });
    // The trigger may be gone already; deleting the rule must still work.
    await updateTriggerRules(ctx, refId(rule.doc.trigger), (rules) => void delete rules[docId]);
    await ctx.entities.delete(docId, rule.rev);
    ctx.cache.invalidate(docId);
    return renderRule(rule.doc, 'inactive');
  });

  const stateDoc = {
    summary: 'Enable or disable a rule',
    tags,
    responses: { 200: 'The new status is in effect.', 403: 'The namespace is not yours.', 404: 'The rule, or its trigger, does not exist.' },
  };
  app.post<{ Params: { ns: string; name: string }; Body: z.output<typeof StateBody> }>(
    `${base}/:name`,
    { schema: { params: NameParams, body: StateBody }, config: { doc: stateDoc } },
    async (req, reply) => {
      const ns = ownNamespace(identityOf(req), req.params.ns);
      const docId = `${ns}/${checkName(req.params.name)}`;
      const status = req.body.status;
      const rule = (await requireTyped(ctx, docId, 'rule', { cached: false })).doc;
      const found = await updateTriggerRules(ctx, refId(rule.trigger), (rules) => {
        rules[docId] = { action: { path: rule.action.path, name: rule.action.name }, status };
      });
      if (!found) throw new NotFoundError('Only rules with existing triggers can be activated');
      return reply.code(200).send();
    },
  );
}

/**
 * A rule's trigger or action as clients send it: `/ns/name`, `ns/name` or `[/]ns/pkg/name` (the leading
 * slash is optional, and `_` is the caller's namespace). A bare name is malformed.
 */
function parseRef(input: string, identity: Identity): Ref {
  const parts = (input.startsWith('/') ? input.slice(1) : input).split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new BadRequestError(
      'The request content was malformed: The fully qualified name of the entity must contain at least the namespace and the name of the entity.',
    );
  }
  const ns = parts[0] === '_' ? identity.namespace.name : checkName(parts[0]!, 'namespace');
  const rest = parts.slice(1).map((p) => checkName(p));
  return { path: [ns, ...rest.slice(0, -1)].join('/'), name: rest[rest.length - 1]! };
}

/** Triggers are never shared: another namespace's trigger is 403; a missing one is a 400. */
async function checkTrigger(ctx: Ctx, identity: Identity, t: Ref): Promise<void> {
  const ns = t.path.split('/')[0]!;
  if (ns !== identity.namespace.name) throw new ForbiddenError();
  const missing = new BadRequestError(`trigger /${refId(t)} does not exist`);
  if (t.path.includes('/')) throw missing;
  try {
    if (!(await getTyped(ctx, refId(t), 'trigger', { cached: false }))) throw missing;
  } catch (e) {
    if (e instanceof ConflictError) throw missing;
    throw e;
  }
}

/** The action must exist and be activatable by the caller (own, or in a public package). */
async function checkAction(ctx: Ctx, identity: Identity, a: Ref): Promise<void> {
  const [ns, pkg] = a.path.includes('/') ? [a.path.slice(0, a.path.indexOf('/')), a.path.slice(a.path.indexOf('/') + 1)] : [a.path, undefined];
  if (pkg === undefined && ns !== identity.namespace.name) throw new ForbiddenError();
  try {
    await resolveAction(ctx.cache, identity, { namespace: ns, ...(pkg !== undefined ? { pkg } : {}), name: a.name });
  } catch (e) {
    if (e instanceof WhirlError && (e.code === 'NOT_FOUND' || e.code === 'WRONG_COLLECTION')) throw new BadRequestError(`action /${refId(a)} does not exist`, 'MISSING_REFERENCE');
    throw e;
  }
}

export function renderRule(r: WhiskRule, status?: Status): Record<string, unknown> {
  return {
    namespace: r.namespace,
    name: r.name,
    version: r.version,
    publish: r.publish,
    annotations: r.annotations,
    updated: r.updated,
    ...(status !== undefined ? { status } : {}),
    trigger: r.trigger,
    action: r.action,
  };
}
