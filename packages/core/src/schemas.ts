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
  throw requestError(r.error, 'body');
}

/**
 * The 400 for a request part that does not fit its schema. A `custom` issue carries the whole
 * client-facing sentence (OpenWhisk's wording, from the checks below); any other issue is described
 * with the field it concerns: for a body as OpenWhisk's "malformed" message, for a query parameter
 * or path segment by its name.
 */
export function requestError(error: z.ZodError, part: 'body' | 'querystring' | 'params' | 'headers'): BadRequestError {
  const first = error.issues[0];
  if (first?.code === 'custom') return new BadRequestError(first.message);
  if (part === 'body') {
    const detail = error.issues.map((i) => (i.path.length ? `'${i.path.join('.')}' ${i.message}` : i.message)).join('; ');
    return new BadRequestError(`The request content was malformed: ${detail}.`);
  }
  // strictQuery words this one itself.
  if (first?.code === 'unrecognized_keys') return new BadRequestError(first.message);
  const what = part === 'params' ? 'path segment' : part === 'headers' ? 'header' : 'parameter';
  return new BadRequestError(`The ${what} '${first?.path.join('.') ?? ''}' is not valid: ${first?.message ?? 'invalid'}.`);
}

/**
 * A query parameter (a string, absent when not given) checked and converted by `check`, which throws
 * OpenWhisk's BadRequestError for a bad value: the zod schema carries that sentence as a custom issue,
 * so the route's declared schema both validates with OpenWhisk's messages and documents the parameter.
 */
export function queryParam<T>(check: (value: string | undefined) => T, description: string) {
  return z.string().optional().transform(openWhiskCheck(check)).describe(description);
}

/** A body field checked by a function that throws OpenWhisk's BadRequestError (kept verbatim). */
export function checkedField<T>(check: (value: unknown) => T, description: string) {
  return z.unknown().transform(openWhiskCheck(check)).describe(description);
}

/** A zod transform running `check`, whose BadRequestError becomes a custom issue with its sentence. */
function openWhiskCheck<I, T>(check: (value: I) => T) {
  return (v: I, c: z.RefinementCtx): T => {
    try {
      return check(v);
    } catch (e) {
      if (!(e instanceof BadRequestError)) throw e;
      c.addIssue({ code: 'custom', message: e.message });
      return z.NEVER;
    }
  };
}

/** A query whose unknown parameters are refused (rather than ignored, as OpenWhisk's routes do), naming those it takes. */
export function strictQuery<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape).map((k) => `'${k}'`).join(', ');
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      const keys = iss.keys.map((k) => `'${k}'`).join(', ');
      return `Unknown query parameter${iss.keys.length === 1 ? '' : 's'} ${keys}: this route takes only ${known}.`;
    },
  });
}

/** A boolean query parameter with OpenWhisk's spellings and messages. */
export const boolParam = (name: string, dflt: boolean, what: string) =>
  queryParam((v) => queryBool(v, name, dflt), `${what} (true/false, yes/no, on/off, 1/0; default ${dflt}).`);

/** `limit` and `skip` of a list route, with listPaging's messages. */
export const pagingParams = (collection: string) => ({
  limit: queryParam(
    (v) => listPaging({ limit: v }, collection).limit,
    `How many ${collection} to return, 0 to ${Limits.list.max} (default ${Limits.list.default}; 0 means ${Limits.list.max}).`,
  ),
  skip: queryParam((v) => listPaging({ skip: v }, collection).skip, `How many ${collection} to skip (default 0).`),
});

/** The count-only variant of a list route. */
export const countParam = (collection: string) => boolParam('count', false, `Return only the number of ${collection}`);

/** The JSON error body every 4xx/5xx carries: OpenWhisk's message and the transaction id. */
export const ErrorBodySchema = z
  .object({ error: z.string().describe('What went wrong, and what to fix.'), code: z.string().describe('The transaction id of the request.') })
  .describe('OpenWhisk error body');

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
