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

async function getPackage(cache: EntityCache, identity: Identity, ns: string, name: string): Promise<WhiskPackage> {
  const own = ns === identity.namespace.name;
  const found = await cache.get(`${ns}/${name}`);
  if (!found) throw own ? new NotFoundError() : new ForbiddenError();
  if (found.doc.entityType !== 'package') throw own ? new ConflictError(Messages.wrongCollection) : new ForbiddenError();
  if (!own && !found.doc.publish) throw new ForbiddenError();
  return found.doc;
}

export async function resolveAction(cache: EntityCache, identity: Identity, fqn: FullyQualifiedName): Promise<ResolvedAction> {
  const own = fqn.namespace === identity.namespace.name;
  let docId = `${fqn.namespace}/${fqn.name}`;
  let packageParams: KeyValue[] = [];
  let binding: string | undefined;
  if (fqn.pkg === undefined) {
    if (!own) throw new ForbiddenError();
  } else {
    const pkg = await getPackage(cache, identity, fqn.namespace, fqn.pkg);
    if (pkg.binding && 'name' in pkg.binding) {
      const bound = await getPackage(cache, identity, pkg.binding.namespace, pkg.binding.name);
      packageParams = [...bound.parameters, ...pkg.parameters];
      binding = `${fqn.namespace}/${fqn.pkg}`;
      docId = `${pkg.binding.namespace}/${pkg.binding.name}/${fqn.name}`;
    } else {
      packageParams = pkg.parameters;
      docId = `${fqn.namespace}/${fqn.pkg}/${fqn.name}`;
    }
  }
  const found = await cache.get(docId);
  if (!found) throw new NotFoundError();
  if (found.doc.entityType !== 'action') throw new ConflictError(Messages.wrongCollection);
  return { action: found as Revisioned<WhiskAction>, packageParams, ...(binding !== undefined ? { binding } : {}) };
}
