/**
 * The zod schemas of the routes' path segments, queries and bodies, shared by the route plugins:
 * Fastify validates with them (openapi.ts) and the API document shows them. Names in path segments
 * are checked by the handlers (checkName), after entitlement, as OpenWhisk orders it.
 */
import { z } from 'zod';
import { boolParam, countParam, pagingParams } from '@whirl/core';

const ns = z.string().describe('The namespace, or `_` for your own.');
const name = z.string().describe('The entity name.');
const pkg = z.string().describe('The package name.');

export const NsParams = z.object({ ns });
export const NameParams = z.object({ ns, name });
export const PkgParams = z.object({ ns, pkg });
export const PkgNameParams = z.object({ ns, pkg, name });
export const IdParams = z.object({ ns, id: z.string().describe('The activation id (32 hex digits).') });

export const listQuery = (collection: string) => z.object({ ...pagingParams(collection), count: countParam(collection) });
export const OverwriteQuery = z.object({ overwrite: boolParam('overwrite', false, 'Replace the entity when it exists') });

/** A JSON object of parameters (invoke) or event fields (fire); an empty body means `{}`. */
export const jsonObjectBody = (what: string, message: string) =>
  z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message })
    .meta({ type: 'object', description: what });

/** Entity responses shared by the CRUD routes. */
export const entityResponses = {
  list: (collection: string) => ({ 200: `The ${collection} (newest first), or {"${collection}": n} with count=true.` }),
  get: (kind: string) => ({ 200: `The ${kind}.`, 403: 'The namespace is not yours (or the entity is not shared).', 404: 'The resource does not exist.', 409: 'The name belongs to another kind of entity.' }),
  put: (kind: string) => ({
    200: `The ${kind} as stored.`,
    403: 'The namespace is not yours.',
    409: 'The entity exists and overwrite is not set (or the name belongs to another kind of entity).',
    413: 'The entity is larger than allowed.',
  }),
  delete: (kind: string) => ({ 200: `The deleted ${kind}.`, 403: 'The namespace is not yours.', 404: 'The resource does not exist.', 409: 'The revision changed, or the name belongs to another kind of entity.' }),
};
