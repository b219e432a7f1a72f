/**
 * Package routes: list, get (with the action and feed lists), create/update (plain packages and
 * bindings) and delete (with `force`). Packages replace annotations and parameters as a whole on
 * update, unlike actions.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  BadRequestError,
  ConflictError,
  Messages,
  NotFoundError,
  PackagePutSchema,
  WhirlError,
  annotation,
  bumpVersion,
  boolParam,
  checkName,
  mergeKeyValues,
  type Identity,
  type KeyValue,
  type PackageBinding,
  type WhiskAction,
  type WhiskPackage,
} from '@whirl/core';
import { checkEntitySizes } from '../action-doc.js';
import { identityOf, type Ctx } from '../context.js';
import { getTyped, isBinding, ownNamespace, readablePackage, resolveNamespace } from '../resolve.js';
import { NameParams, NsParams, OverwriteQuery, entityResponses, listQuery } from './schemas.js';

const ListQuery = listQuery('packages');
const DeleteQuery = z.object({ force: boolParam('force', false, 'Delete the actions inside the package too') });
const tags = ['packages'];

export const Msg = {
  reserved: (name: string) => `Package name '${name}' is reserved.`,
  bindingMissing: 'Binding references a package that does not exist.',
  bindingOfBinding: 'Cannot bind to another package binding.',
  cannotBecomeBinding: 'Resource is a package and cannot be converted into a binding.',
  notEmpty: (n: number) => `Package not empty (contains ${n} ${n === 1 ? 'entity' : 'entities'}). Set force param or delete package contents.`,
} as const;

export async function packageRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const base = '/api/v1/namespaces/:ns/packages';

  const listDoc = { summary: "List packages (another namespace's: its shared ones)", tags, responses: entityResponses.list('packages') };
  app.get<{ Params: { ns: string }; Querystring: z.output<typeof ListQuery> }>(base, { schema: { params: NsParams, querystring: ListQuery }, config: { doc: listDoc } }, async (req) => {
    const identity = identityOf(req);
    const ns = resolveNamespace(identity, req.params.ns);
    const { limit, skip, count } = req.query;
    if (ns === identity.namespace.name) {
      if (count) return { packages: await ctx.entities.count({ entityType: 'package', namespace: ns }) };
      const docs = (await ctx.entities.list({ entityType: 'package', namespace: ns, limit, skip })) as WhiskPackage[];
      return docs.map(renderPackageSummary);
    }
    // Another namespace shows only its shared packages, and never its bindings. Bindings are
    // filtered after the query, so page over the published set in full.
    const shared = ((await ctx.entities.list({ entityType: 'package', namespace: ns, publishedOnly: true, limit: 100_000, skip: 0 })) as WhiskPackage[]).filter(
      (p) => !isBinding(p),
    );
    if (count) return { packages: shared.length };
    return shared.slice(skip, skip + limit).map(renderPackageSummary);
  });

  const getDoc = { summary: 'Get a package with its actions and feeds', tags, responses: entityResponses.get('package') };
  app.get<{ Params: { ns: string; name: string } }>(`${base}/:name`, { schema: { params: NameParams }, config: { doc: getDoc } }, async (req) => {
    const identity = identityOf(req);
    const ns = resolveNamespace(identity, req.params.ns);
    const name = checkName(req.params.name);
    const pkg = await readablePackage(ctx.cache, identity, ns, name);
    return renderPackageWithActions(ctx, identity, pkg);
  });

  const putDoc = {
    summary: 'Create or update a package or a binding',
    tags,
    responses: { ...entityResponses.put('package'), 400: "The body does not fit, the name is reserved, or the binding's target is missing or itself a binding." },
  };
  app.put<{ Params: { ns: string; name: string }; Querystring: z.output<typeof OverwriteQuery>; Body: z.output<typeof PackagePutSchema> }>(
    `${base}/:name`,
    { schema: { params: NameParams, querystring: OverwriteQuery, body: PackagePutSchema }, config: { doc: putDoc } },
    async (req) => {
      const identity = identityOf(req);
      const ns = ownNamespace(identity, req.params.ns);
      const name = checkName(req.params.name);
      const overwrite = req.query.overwrite;
      if (name === 'default') throw new BadRequestError(Msg.reserved(name));
      const put = req.body;
      checkEntitySizes(put);
      const docId = `${ns}/${name}`;
      const existing = await getTyped(ctx, docId, 'package', { cached: false });
      if (existing && !overwrite) throw new ConflictError(Messages.exists);

      let binding: PackageBinding | undefined;
      if (put.binding && 'name' in put.binding) {
        binding = { namespace: resolveNamespace(identity, put.binding.namespace), name: checkName(put.binding.name) };
        await checkBindingTarget(ctx, identity, binding);
        if (existing && !isBinding(existing.doc)) throw new ConflictError(Msg.cannotBecomeBinding);
      } else if (existing && isBinding(existing.doc)) {
        binding = existing.doc.binding;
      }

      const old = existing?.doc;
      let annotations: KeyValue[] = put.annotations ?? old?.annotations ?? [];
      if (binding) annotations = mergeKeyValues(annotations, [{ key: 'binding', value: { namespace: binding.namespace, name: binding.name } }]);
      const doc: WhiskPackage = {
        entityType: 'package',
        namespace: ns,
        name,
        version: put.version ?? (old ? bumpVersion(old.version) : '0.0.1'),
        publish: put.publish ?? old?.publish ?? false,
        annotations,
        parameters: put.parameters ?? old?.parameters ?? [],
        binding: binding ?? {},
        updated: Date.now(),
      };
      const saved = existing ? await ctx.entities.update(doc, existing.rev) : await ctx.entities.create(doc);
      ctx.cache.invalidate(docId);
      return renderPackage(saved.doc as WhiskPackage);
    },
  );

  const deleteDoc = { summary: 'Delete a package (with force: and its actions)', tags, responses: { ...entityResponses.delete('package'), 409: 'The package is not empty and force is not set.' } };
  app.delete<{ Params: { ns: string; name: string }; Querystring: z.output<typeof DeleteQuery> }>(
    `${base}/:name`,
    { schema: { params: NameParams, querystring: DeleteQuery }, config: { doc: deleteDoc } },
    async (req) => {
      const identity = identityOf(req);
      const ns = ownNamespace(identity, req.params.ns);
      const name = checkName(req.params.name);
      const force = req.query.force;
      const docId = `${ns}/${name}`;
      const found = await getTyped(ctx, docId, 'package', { cached: false });
      if (!found) throw new NotFoundError();
      if (!isBinding(found.doc)) {
        const contents = `${ns}/${name}`;
        const n = await ctx.entities.count({ entityType: 'action', namespace: contents });
        if (n > 0 && !force) throw new ConflictError(Msg.notEmpty(n));
        if (n > 0) await deleteContents(ctx, contents);
      }
      await ctx.entities.delete(docId, found.rev);
      ctx.cache.invalidate(docId);
      return renderPackage(found.doc);
    },
  );
}

/**
 * The binding target must be readable (another namespace's private or missing package is 403), exist
 * (400 in the caller's own namespace) and be a real package (400).
 */
async function checkBindingTarget(ctx: Ctx, identity: Identity, b: PackageBinding): Promise<void> {
  let target: WhiskPackage;
  try {
    target = await readablePackage(ctx.cache, identity, b.namespace, b.name);
  } catch (e) {
    if (e instanceof WhirlError && (e.code === 'NOT_FOUND' || e.code === 'WRONG_COLLECTION')) throw new BadRequestError(Msg.bindingMissing, 'MISSING_REFERENCE');
    throw e;
  }
  if (isBinding(target)) throw new BadRequestError(Msg.bindingOfBinding);
}

async function deleteContents(ctx: Ctx, path: string): Promise<void> {
  for (;;) {
    const batch = await ctx.entities.list({ entityType: 'action', namespace: path, limit: 200, skip: 0 });
    if (batch.length === 0) return;
    for (const a of batch) {
      const id = `${a.namespace}/${a.name}`;
      const cur = await ctx.entities.get(id);
      if (cur) await ctx.entities.delete(id, cur.rev);
      ctx.cache.invalidate(id);
    }
  }
}

export function renderPackage(p: WhiskPackage): Record<string, unknown> {
  return {
    namespace: p.namespace,
    name: p.name,
    version: p.version,
    publish: p.publish,
    annotations: p.annotations,
    parameters: p.parameters,
    binding: p.binding,
    updated: p.updated,
  };
}

function renderPackageSummary(p: WhiskPackage): Record<string, unknown> {
  return {
    namespace: p.namespace,
    name: p.name,
    version: p.version,
    publish: p.publish,
    annotations: p.annotations,
    updated: p.updated,
    // List views show `false` for a plain package.
    binding: isBinding(p) ? p.binding : false,
  };
}

/**
 * GET of a package: the entity plus `actions` and `feeds` (actions annotated `feed`). For a binding,
 * the bound package's parameters are merged under the binding's and its action lists are shown.
 */
async function renderPackageWithActions(ctx: Ctx, identity: Identity, pkg: WhiskPackage): Promise<Record<string, unknown>> {
  let source: WhiskPackage | undefined = pkg;
  let parameters = pkg.parameters;
  if (isBinding(pkg)) {
    try {
      source = await readablePackage(ctx.cache, identity, pkg.binding.namespace, pkg.binding.name);
      parameters = mergeKeyValues(source.parameters, pkg.parameters);
    } catch (e) {
      // A binding whose target is gone (or no longer shared) still reads; it just has no actions.
      if (!(e instanceof WhirlError)) throw e;
      source = undefined;
    }
  }
  const actions: Record<string, unknown>[] = [];
  const feeds: Record<string, unknown>[] = [];
  if (source) {
    const docs = (await ctx.entities.list({
      entityType: 'action',
      namespace: `${source.namespace}/${source.name}`,
      limit: 100_000,
      skip: 0,
    })) as WhiskAction[];
    for (const a of docs) {
      const item = { name: a.name, version: a.version, annotations: a.annotations };
      if (annotation(a.annotations, 'feed') !== undefined) feeds.push(item);
      else actions.push(item);
    }
  }
  return { ...renderPackage(pkg), parameters, actions, feeds };
}
