/** Helpers shared by the entity routes: namespace resolution and entitlement. */
import { ForbiddenError, checkName, type Identity } from '@whirl/core';

/**
 * Resolves `_` to the caller's namespace and checks that the caller owns it. OpenWhisk answers 403
 * (not 404) for any other namespace, so that existence is not revealed.
 */
export function ownNamespace(identity: Identity, ns: string): string {
  if (ns === '_') return identity.namespace.name;
  checkName(ns, 'namespace');
  if (ns !== identity.namespace.name) throw new ForbiddenError();
  return ns;
}
