/**
 * Resolving an action name to the action that runs, with OpenWhisk's entitlement rules: you may read
 * and activate your own actions, and actions in packages other namespaces have published; a binding
 * brings its bound package's actions and layers its parameters over that package's. Anything else in
 * another namespace is 403 (also when it does not exist, so that existence is not revealed).
 */
import {
  ConflictError,
  ForbiddenError,
  Messages,
  NotFoundError,
  type FullyQualifiedName,
  type Identity,
  type KeyValue,
  type Revisioned,
  type WhiskAction,
  type WhiskPackage,
} from '@whirl/core';
import type { EntityCache } from './entity-cache.js';

export interface ResolvedAction {
  action: Revisioned<WhiskAction>;
  /** Parameters inherited from the package (and binding), lowest precedence. */
  packageParams: KeyValue[];
  /** `ns/binding` when reached through a binding. */
  binding?: string;
}

/** A package the caller may read: its own, or one another namespace published. */
export async function readablePackage(cache: EntityCache, identity: Identity, ns: string, name: string): Promise<WhiskPackage> {
  const own = ns === identity.namespace.name;
  const found = await cache.get(`${ns}/${name}`);
  if (!found) throw own ? new NotFoundError() : new ForbiddenError();
  if (found.doc.entityType !== 'package') throw own ? new ConflictError(Messages.wrongCollection) : new ForbiddenError();
  if (!own && !found.doc.publish) throw new ForbiddenError();
  return found.doc;
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

export async function resolvePackage(cache: EntityCache, identity: Identity, ns: string, name: string): Promise<ResolvedPackage> {
  const addressed = await readablePackage(cache, identity, ns, name);
  if (!(addressed.binding && 'name' in addressed.binding)) return { addressed, target: addressed, parameters: addressed.parameters };
  const bound = await readablePackage(cache, identity, addressed.binding.namespace, addressed.binding.name);
  return { addressed, target: bound, parameters: [...bound.parameters, ...addressed.parameters], binding: `${ns}/${name}` };
}

export async function resolveAction(cache: EntityCache, identity: Identity, fqn: FullyQualifiedName): Promise<ResolvedAction> {
  const own = fqn.namespace === identity.namespace.name;
  let docId = `${fqn.namespace}/${fqn.name}`;
  let packageParams: KeyValue[] = [];
  let binding: string | undefined;
  if (fqn.pkg === undefined) {
    if (!own) throw new ForbiddenError();
  } else {
    const pkg = await resolvePackage(cache, identity, fqn.namespace, fqn.pkg);
    packageParams = pkg.parameters;
    binding = pkg.binding;
    docId = `${pkg.target.namespace}/${pkg.target.name}/${fqn.name}`;
  }
  const found = await cache.get(docId);
  if (!found) throw new NotFoundError();
  if (found.doc.entityType !== 'action') throw new ConflictError(Messages.wrongCollection);
  return { action: found as Revisioned<WhiskAction>, packageParams, ...(binding !== undefined ? { binding } : {}) };
}
