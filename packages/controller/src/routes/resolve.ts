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
import type { InvokeOutcome, InvokeRequest } from '../invoke.js';

type EntityOf<T extends EntityType> = Extract<WhiskEntity, { entityType: T }>;

/** `_` → the caller's namespace; otherwise the name, checked. */
export function resolveNamespace(identity: Identity, ns: string): string {
  return ns === '_' ? identity.namespace.name : checkName(ns, 'namespace');
}

/** 403 for another namespace's resource; the generic message, as for every other entitlement failure. */
export function forbiddenTo(_resource: string): ForbiddenError {
  return new ForbiddenError();
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

/** A package the caller may read: its own (404 when missing), or another namespace's public one (else 403). */
export async function readablePackage(ctx: Ctx, identity: Identity, ns: string, pkg: string): Promise<Revisioned<WhiskPackage>> {
  const own = ns === identity.namespace.name;
  let found: Revisioned<WhiskPackage> | undefined;
  try {
    found = await getTyped(ctx, `${ns}/${pkg}`, 'package');
  } catch (e) {
    if (!own) throw forbiddenTo(`${ns}/${pkg}`);
    throw e;
  }
  if (own) {
    if (!found) throw new NotFoundError();
    return found;
  }
  if (!found || !found.doc.publish) throw forbiddenTo(`${ns}/${pkg}`);
  return found;
}

export interface ResolvedPackage {
  /** The package as addressed (possibly a binding). */
  addressed: WhiskPackage;
  /** Where its actions live: the bound package for a binding, else the package itself. */
  target: WhiskPackage;
  /** Package parameters in precedence order (bound package < binding). */
  parameters: KeyValue[];
  /** `ns/binding` when reached through a binding. */
  binding?: string;
}

/** Resolves `ns/pkg` for reading or invoking its actions, following a binding with the same entitlement rules. */
export async function resolvePackage(ctx: Ctx, identity: Identity, ns: string, pkg: string): Promise<ResolvedPackage> {
  const addressed = (await readablePackage(ctx, identity, ns, pkg)).doc;
  if (!isBinding(addressed)) return { addressed, target: addressed, parameters: addressed.parameters };
  const b = addressed.binding;
  const bound = (await readablePackage(ctx, identity, b.namespace, b.name)).doc;
  return {
    addressed,
    target: bound,
    parameters: [...bound.parameters, ...addressed.parameters],
    binding: `${ns}/${pkg}`,
  };
}

/**
 * Invokes a resolved action: system actions (see catalog/system-actions.ts) run in the controller,
 * every other action goes through the invoke service to an invoker.
 */
export async function invokeResolved(ctx: Ctx, req: InvokeRequest): Promise<InvokeOutcome> {
  // System actions are dispatched inside InvokeService, so sequences and rules reach them too.
  return ctx.invoker.invoke(req);
}
