/**
 * Validating a sequence at create/update: every component must exist and be readable by the caller,
 * the sequence may not reach itself through any nesting (that would never end), and inlining nested
 * sequences may not exceed 50 atomic actions. Components are stored fully qualified (`/ns/[pkg/]name`)
 * with `_` resolved.
 */
import {
  BadRequestError,
  Limits,
  fqnString,
  parseFqn,
  type FullyQualifiedName,
  type Identity,
  type SequenceExec,
} from '@whirl/core';
import type { EntityCache } from './entity-cache.js';
import { resolveAction } from './resolve.js';

export async function validateSequence(
  cache: EntityCache,
  identity: Identity,
  self: FullyQualifiedName,
  components: readonly string[] | undefined,
): Promise<string[]> {
  if (!components || components.length === 0) throw new BadRequestError('No component specified for the sequence.');
  if (components.length > Limits.sequenceLength) throw new BadRequestError('Too many actions in the sequence.');
  const selfName = fqnString(self);
  const normalized = components.map((c) => fqnString(parseFqn(c, identity.namespace.name)));
  let atomic = 0;
  const expand = async (names: readonly string[], path: readonly string[]): Promise<void> => {
    for (const name of names) {
      if (name === selfName || path.includes(name)) throw new BadRequestError('Sequence may not refer to itself.');
      let resolved;
      try {
        resolved = await resolveAction(cache, identity, parseFqn(name, identity.namespace.name));
      } catch {
        throw new BadRequestError('Sequence component does not exist.');
      }
      const exec = resolved.action.doc.exec;
      if (exec.kind === 'sequence') await expand((exec as SequenceExec).components, [...path, name]);
      else if (++atomic > Limits.sequenceLength) throw new BadRequestError('Too many actions in the sequence.');
    }
  };
  await expand(normalized, []);
  return normalized;
}
