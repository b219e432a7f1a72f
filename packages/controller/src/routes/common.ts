/** Helpers shared by the entity routes: namespace resolution and entitlement. */
import { ForbiddenError, type Identity } from '@whirl/core';
import { resolveNamespace } from './resolve.js';

/**
 * Resolves `_` to the caller's namespace and checks that the caller owns it. OpenWhisk answers 403
 * (not 404) for any other namespace, so that existence is not revealed.
 */
export function ownNamespace(identity: Identity, ns: string): string {
  const resolved = resolveNamespace(identity, ns);
  if (resolved !== identity.namespace.name) throw new ForbiddenError();
  return resolved;
}
