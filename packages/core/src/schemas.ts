/**
 * Request-body and query shapes, as zod schemas. Unknown fields are ignored (the wsk CLI sends
 * `name`, `namespace`, `status: ""` and the like). A body that does not fit gets a 400 whose message
 * names the field and what it must be.
 */
import { z } from 'zod';
import { BadRequestError } from './errors.js';
import { Limits } from './limits.js';

export const KeyValueSchema = z.object({ key: z.string(), value: z.unknown(), init: z.boolean().optional() });
export const KeyValuesSchema = z.array(KeyValueSchema);

export const ExecPutSchema = z.object({
  kind: z.string(),
  code: z.string().optional(),
  main: z.string().optional(),
  binary: z.boolean().optional(),
  image: z.string().optional(),
  components: z.array(z.string()).optional(),
});
export type ExecPut = z.infer<typeof ExecPutSchema>;

const intLike = z.number().int();
export const LimitsPutSchema = z.object({
  timeout: intLike.optional(),
  memory: intLike.optional(),
  logs: intLike.optional(),
  concurrency: intLike.optional(),
  instances: intLike.optional(),
});

export const ActionPutSchema = z.object({
  exec: ExecPutSchema.optional(),
  parameters: KeyValuesSchema.optional(),
  annotations: KeyValuesSchema.optional(),
  delAnnotations: z.array(z.string()).optional(),
  limits: LimitsPutSchema.optional(),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version such as 0.0.1').optional(),
  publish: z.boolean().optional(),
});
export type ActionPut = z.infer<typeof ActionPutSchema>;

/** Parses a request body against a schema, or throws OpenWhisk's "malformed" 400 naming the field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data as z.infer<S>;
  const detail = r.error.issues
    .map((i) => (i.path.length ? `'${i.path.join('.')}' ${i.message}` : i.message))
    .join('; ');
  throw new BadRequestError(`The request content was malformed: ${detail}.`);
}

/** OpenWhisk's boolean query parameter: true/false (any case), also yes/no/on/off/1/0. */
export function queryBool(value: unknown, name: string, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  const s = String(value).toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(s)) return true;
  if (['false', 'no', 'off', '0'].includes(s)) return false;
  throw new BadRequestError(`The parameter '${name}' must be true or false, got '${String(value)}'.`);
}

function queryInt(value: unknown, collection: string): number {
  const s = String(value);
  if (!/^-?\d+$/.test(s)) throw new BadRequestError(`The value '${s}' is not an integer for ${collection}.`);
  return Number(s);
}

/** `limit` and `skip` of a list route, with OpenWhisk's messages and `limit=0` meaning the maximum. */
export function listPaging(query: { limit?: unknown; skip?: unknown }, collection: string): { limit: number; skip: number } {
  let limit: number = Limits.list.default;
  if (query.limit !== undefined) {
    limit = queryInt(query.limit, collection);
    if (limit < 0 || limit > Limits.list.max) {
      throw new BadRequestError(`The value '${limit}' is not in the range of 0 to ${Limits.list.max} for ${collection}.`);
    }
    if (limit === 0) limit = Limits.list.max;
  }
  let skip = 0;
  if (query.skip !== undefined) {
    skip = queryInt(query.skip, collection);
    if (skip < 0) throw new BadRequestError(`The value '${skip}' is not greater than or equal to 0 for ${collection}.`);
  }
  return { limit, skip };
}

/** `binding` of a package PUT; `{}` (what some clients send for a plain package) means no binding. */
export const PackageBindingPutSchema = z.union([
  z.object({ namespace: z.string(), name: z.string() }),
  z.object({}).strict(),
  z.null(),
]);

export const PackagePutSchema = z.object({
  binding: PackageBindingPutSchema.optional(),
  parameters: KeyValuesSchema.optional(),
  annotations: KeyValuesSchema.optional(),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version such as 0.0.1').optional(),
  publish: z.boolean().optional(),
});
export type PackagePut = z.infer<typeof PackagePutSchema>;

export const TriggerPutSchema = z.object({
  parameters: KeyValuesSchema.optional(),
  annotations: KeyValuesSchema.optional(),
  // Triggers have no limits; clients send `{}` and it is ignored.
  limits: z.record(z.string(), z.unknown()).optional(),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version such as 0.0.1').optional(),
  publish: z.boolean().optional(),
});
export type TriggerPut = z.infer<typeof TriggerPutSchema>;

/** The wsk CLI sends `"trigger": null` and `"status": ""`; both mean "not given". */
export const RulePutSchema = z.object({
  trigger: z.string().nullable().optional(),
  action: z.string().nullable().optional(),
  annotations: KeyValuesSchema.optional(),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version such as 0.0.1').optional(),
  publish: z.boolean().optional(),
});
export type RulePut = z.infer<typeof RulePutSchema>;
