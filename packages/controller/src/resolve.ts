/**
 * Entity lookup, the one place that turns a name into a document and decides who may see it. Routes,
 * compositions, trigger fires, retries, web actions and the API gateway all come here.
 *
 * The entitlement policy is OpenWhisk's: a caller owns everything in its own namespace; in another
 * namespace it may only read (and activate the actions of) packages that namespace published. What is
 * missing or of another type is 404 / 409 in the caller's own namespace, and 403 anywhere else like
 * a private package, so that existence is not revealed. A binding brings its bound package's actions
 * and layers its parameters over that package's; bindings are followed one level (a binding of a
 * binding cannot be created).
 *
 * Web actions and gateway routes serve anonymous requests with the authority of the namespace that
 * exported them (resolveOwnedAction): a binding is followed as its owner made it, with no check of
 * who published the bound package (as OpenWhisk's web actions do), and every failure is one "not
 * found" that the caller words.
 */
import {
  ConflictError,
  ForbiddenError,
  Messages,
  NotFoundError,
  checkName,
  type EntityStore,
  type EntityType,
  type FullyQualifiedName,
  type Identity,
  type KeyValue,
  type PackageBinding,
  type Revisioned,
  type WhiskAction,
  type WhiskEntity,
  type WhiskPackage,
} from '@whirl/core';
import type { EntityCache } from './entity-cache.js';

/** Where documents are read: through the cache, or (for read-modify-write) from the store itself. */
export interface EntityReads {
  cache: EntityCache;
  entities: EntityStore;
}

type EntityOf<T extends EntityType> = Extract<WhiskEntity, { entityType: T }>;

/** `_` → the caller's namespace; otherwise the name, checked. */
export function resolveNamespace(identity: Identity, ns: string): string {
  return ns === '_' ? identity.namespace.name : checkName(ns, 'namespace');
}

/**
 * Resolves `_` to the caller's namespace and checks that the caller owns it. OpenWhisk answers 403
 * (not 404) for any other namespace, so that existence is not revealed.
 */
export function ownNamespace(identity: Identity, ns: string): string {
  const resolved = resolveNamespace(identity, ns);
  if (resolved !== identity.namespace.name) throw new ForbiddenError();
  return resolved;
}

export function isBinding(p: WhiskPackage): p is WhiskPackage & { binding: PackageBinding } {
  return p.binding !== undefined && 'name' in p.binding && typeof p.binding.name === 'string';
}

/** Reads a document of the given type in the caller's own namespace; 409 when the id belongs to another type. */
export async function getTyped<T extends EntityType>(
  reads: EntityReads,
  docId: string,
  type: T,
  opts: { cached?: boolean } = {},
): Promise<Revisioned<EntityOf<T>> | undefined> {
  const found = opts.cached === false ? await reads.entities.get(docId) : await reads.cache.get(docId);
  if (!found) return undefined;
  if (found.doc.entityType !== type) throw new ConflictError(Messages.wrongCollection);
  return found as Revisioned<EntityOf<T>>;
}

/** As getTyped, and 404 when there is no such document. */
export async function requireTyped<T extends EntityType>(
  reads: EntityReads,
  docId: string,
  type: T,
  opts: { cached?: boolean } = {},
): Promise<Revisioned<EntityOf<T>>> {
  const found = await getTyped(reads, docId, type, opts);
  if (!found) throw new NotFoundError();
  return found;
}

export interface ResolvedAction {
  action: Revisioned<WhiskAction>;
  /** Parameters inherited from the package (and binding), lowest precedence. */
  packageParams: KeyValue[];
  /** `ns/binding` when reached through a binding. */
  binding?: string;
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

/** Reads a package with some authority; throws what that authority answers for a package it may not read. */
type PackageReader = (ns: string, name: string) => Promise<WhiskPackage>;

/** A package the caller may read: its own, or one another namespace published. */
export async function readablePackage(cache: EntityCache, identity: Identity, ns: string, name: string): Promise<WhiskPackage> {
  const own = ns === identity.namespace.name;
  const found = await cache.get(`${ns}/${name}`);
  if (!found) throw own ? new NotFoundError() : new ForbiddenError();
  if (found.doc.entityType !== 'package') throw own ? new ConflictError(Messages.wrongCollection) : new ForbiddenError();
  if (!own && !found.doc.publish) throw new ForbiddenError();
  return found.doc;
}

/** The owner's authority: any package that exists. */
function ownedPackage(cache: EntityCache): PackageReader {
  return async (ns, name) => {
    const found = await cache.get(`${ns}/${name}`);
    if (!found || found.doc.entityType !== 'package') throw new NotFoundError();
    return found.doc;
  };
}

async function followBinding(read: PackageReader, ns: string, name: string): Promise<ResolvedPackage> {
  const addressed = await read(ns, name);
  if (!isBinding(addressed)) return { addressed, target: addressed, parameters: addressed.parameters };
  const bound = await read(addressed.binding.namespace, addressed.binding.name);
  return { addressed, target: bound, parameters: [...bound.parameters, ...addressed.parameters], binding: `${ns}/${name}` };
}

/** The action a name reaches, its packages read with `read`; 404 / 409 for a missing action or another type. */
async function locateAction(cache: EntityCache, read: PackageReader, fqn: FullyQualifiedName): Promise<ResolvedAction> {
  let docId = `${fqn.namespace}/${fqn.name}`;
  let packageParams: KeyValue[] = [];
  let binding: string | undefined;
  if (fqn.pkg !== undefined) {
    const pkg = await followBinding(read, fqn.namespace, fqn.pkg);
    packageParams = pkg.parameters;
    binding = pkg.binding;
    docId = `${pkg.target.namespace}/${pkg.target.name}/${fqn.name}`;
  }
  const found = await cache.get(docId);
  if (!found) throw new NotFoundError();
  if (found.doc.entityType !== 'action') throw new ConflictError(Messages.wrongCollection);
  return { action: found as Revisioned<WhiskAction>, packageParams, ...(binding !== undefined ? { binding } : {}) };
}

/** A package as the caller addresses it, with the package its actions live in. */
export async function resolvePackage(cache: EntityCache, identity: Identity, ns: string, name: string): Promise<ResolvedPackage> {
  return followBinding((n, p) => readablePackage(cache, identity, n, p), ns, name);
}

/** The action a caller may read or activate under `fqn`. */
export async function resolveAction(cache: EntityCache, identity: Identity, fqn: FullyQualifiedName): Promise<ResolvedAction> {
  // Outside a package only the caller's own actions are visible.
  if (fqn.pkg === undefined && fqn.namespace !== identity.namespace.name) throw new ForbiddenError();
  return locateAction(cache, (n, p) => readablePackage(cache, identity, n, p), fqn);
}

/**
 * The action `fqn` names, read with the authority of its own namespace (web actions, gateway routes).
 * Every failure (missing package, bound package or action, or another type) is a NotFoundError.
 */
export async function resolveOwnedAction(cache: EntityCache, fqn: FullyQualifiedName): Promise<ResolvedAction> {
  try {
    return await locateAction(cache, ownedPackage(cache), fqn);
  } catch (e) {
    if (e instanceof ConflictError) throw new NotFoundError();
    throw e;
  }
}
