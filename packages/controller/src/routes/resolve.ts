/**
 * Package-level lookup with OpenWhisk's entitlement rules (actions are resolved by ../resolve.ts): a
 * caller owns everything in its own namespace; in another namespace it may only READ public packages,
 * and a missing package there is a 403 like a private one (existence is not revealed). Bindings are
 * followed one level (a binding of a binding cannot be created).
 */
import {
  ConflictError,
  ForbiddenError,
  Messages,
  NotFoundError,
  checkName,
  type EntityType,
  type Identity,
  type KeyValue,
  type PackageBinding,
  type Revisioned,
  type WhiskEntity,
  type WhiskPackage,
} from '@whirl/core';
import type { Ctx } from '../context.js';

type EntityOf<T extends EntityType> = Extract<WhiskEntity, { entityType: T }>;

/** `_` → the caller's namespace; otherwise the name, checked. */
export function resolveNamespace(identity: Identity, ns: string): string {
  return ns === '_' ? identity.namespace.name : checkName(ns, 'namespace');
}

export function isBinding(p: WhiskPackage): p is WhiskPackage & { binding: PackageBinding } {
  return 'name' in p.binding && typeof p.binding.name === 'string';
}

/** Reads a document of the given type; 409 when the id belongs to another type. */
export async function getTyped<T extends EntityType>(
  ctx: Ctx,
  docId: string,
  type: T,
  opts: { cached?: boolean } = {},
): Promise<Revisioned<EntityOf<T>> | undefined> {
  const found = opts.cached === false ? await ctx.entities.get(docId) : await ctx.cache.get(docId);
  if (!found) return undefined;
  if (found.doc.entityType !== type) throw new ConflictError(Messages.wrongCollection);
  return found as Revisioned<EntityOf<T>>;
}

export async function requireTyped<T extends EntityType>(
  ctx: Ctx,
  docId: string,
  type: T,
  opts: { cached?: boolean } = {},
): Promise<Revisioned<EntityOf<T>>> {
  const found = await getTyped(ctx, docId, type, opts);
  if (!found) throw new NotFoundError();
  return found;
}
