/**
 * Entity names and fully qualified names, following OpenWhisk's rules exactly: a name is 1..256
 * characters, starts with a word character, may contain space, `@`, `.`, `-` and `&` after that, and
 * may not end in a space. `_` as a namespace means "the caller's own namespace".
 */
import { BadRequestError } from './errors.js';

export const MAX_NAME_LENGTH = 256;
const NAME_RE = /^(?:[\w]|[\w][\w@ .&-]{0,254}[\w@.&-])$/;

export function isValidName(name: string): boolean {
  return NAME_RE.test(name);
}

/** Throws the OpenWhisk 400 for a bad entity name or namespace segment. */
export function checkName(name: string, what: 'entity' | 'namespace' = 'entity'): string {
  if (name.length > MAX_NAME_LENGTH) {
    // "segement" is OpenWhisk's spelling; clients match on it.
    throw new BadRequestError(`Name segement longer than allowed: ${name.length} > ${MAX_NAME_LENGTH}.`);
  }
  if (!isValidName(name)) {
    throw new BadRequestError(
      what === 'namespace' ? 'The namespace contains illegal characters.' : 'The name of the entity contains illegal characters.',
    );
  }
  return name;
}

/** `/ns[/pkg]/name` split into its parts. `pkg` is absent for entities directly in a namespace. */
export interface FullyQualifiedName {
  namespace: string;
  pkg?: string;
  name: string;
}

/** The path of the entity's parent: `ns` or `ns/pkg`. This is the `namespace` field in entity JSON. */
export function parentPath(fqn: FullyQualifiedName): string {
  return fqn.pkg === undefined ? fqn.namespace : `${fqn.namespace}/${fqn.pkg}`;
}

/** The document id, `ns/[pkg/]name`, shared by every entity type (one id space per namespace). */
export function docId(fqn: FullyQualifiedName): string {
  return `${parentPath(fqn)}/${fqn.name}`;
}

/** `/ns/[pkg/]name`. */
export function fqnString(fqn: FullyQualifiedName): string {
  return `/${docId(fqn)}`;
}

/** Splits an entity `namespace` field (`ns` or `ns/pkg`) back into a FQN with the given name. */
export function fqnFromPath(path: string, name: string): FullyQualifiedName {
  const slash = path.indexOf('/');
  return slash < 0 ? { namespace: path, name } : { namespace: path.slice(0, slash), pkg: path.slice(slash + 1), name };
}

/**
 * Parses a name as clients send it (rules' trigger/action, sequence components, conductor steps):
 * `/ns/name`, `/ns/pkg/name`, `ns/pkg/name`, or (when `defaultNamespace` is given) `name` and `pkg/name`
 * relative to it. `_` resolves to `callerNamespace`.
 */
export function parseFqn(
  input: string,
  callerNamespace: string,
  opts: { allowRelative: boolean } = { allowRelative: true },
): FullyQualifiedName {
  const leading = input.startsWith('/');
  const parts = (leading ? input.slice(1) : input).split('/');
  let ns: string | undefined;
  let pkg: string | undefined;
  let name: string | undefined;
  if (leading) {
    if (parts.length === 2) [ns, name] = parts;
    else if (parts.length === 3) [ns, pkg, name] = parts;
  } else if (parts.length === 3) {
    [ns, pkg, name] = parts;
  } else if (opts.allowRelative && parts.length === 2) {
    ns = callerNamespace;
    [pkg, name] = parts;
  } else if (opts.allowRelative && parts.length === 1) {
    ns = callerNamespace;
    [name] = parts;
  }
  if (ns === undefined || name === undefined) {
    throw new BadRequestError(
      'The fully qualified name of the entity must contain at least the namespace and the name of the entity.',
    );
  }
  const namespace = ns === '_' ? callerNamespace : checkName(ns, 'namespace');
  const out: FullyQualifiedName = { namespace, name: checkName(name) };
  if (pkg !== undefined) out.pkg = checkName(pkg);
  return out;
}
