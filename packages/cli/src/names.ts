/** wsk's qualified-name rules (OPENWHISK-COMPAT.md §2.1). */
import { UsageError } from './exit.js';

export interface QName {
  /** Namespace to put in the URL: explicit one, or the configured default (often `_`). */
  namespace: string;
  /** `pkg/name` or `name`. */
  entity: string;
  pkg?: string;
  name: string;
  explicitNamespace: boolean;
}

/**
 * `a` → default ns; `pkg/a` → default ns, package pkg; `/ns/a`; `/ns/pkg/a`; `ns/pkg/a` (three parts
 * without the leading slash).
 */
export function parseQName(input: string, defaultNs: string): QName {
  if (input === '' || input === '/') throw new UsageError('An entity name is required.');
  const lead = input.startsWith('/');
  const parts = (lead ? input.slice(1) : input).split('/');
  if (parts.some((p) => p === '')) throw new UsageError(`The name '${input}' is not a valid qualified name.`);
  let ns = defaultNs;
  let rest = parts;
  let explicit = false;
  if (lead || parts.length === 3) {
    if (parts.length < 2) throw new UsageError(`The name '${input}' must contain at least a namespace and a name.`);
    ns = parts[0]!;
    rest = parts.slice(1);
    explicit = true;
  }
  if (rest.length > 2) throw new UsageError(`The name '${input}' has too many parts (at most /namespace/package/name).`);
  const name = rest[rest.length - 1]!;
  const pkg = rest.length === 2 ? rest[0] : undefined;
  return { namespace: ns, entity: rest.join('/'), pkg, name, explicitNamespace: explicit };
}

/** `/ns/[pkg/]name`, as wsk prints and as rules and sequences send. */
export function fqn(q: QName): string {
  return `/${q.namespace}/${q.entity}`;
}

/** Entities that cannot live in a package (triggers, rules, packages themselves). */
export function parseFlatName(input: string, defaultNs: string, what: string): QName {
  const q = parseQName(input, defaultNs);
  if (q.pkg !== undefined) throw new UsageError(`A ${what} name cannot contain a package: '${input}'.`);
  return q;
}
