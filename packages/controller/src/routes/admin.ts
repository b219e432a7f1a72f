/**
 * The admin API (`/admin/v1`): what OpenWhisk keeps in the `wskadmin` database script, over HTTP.
 * Subjects with their namespaces and keys, blocking, and per-namespace limits. Authorised by
 * `Authorization: Bearer <admin key>` (the operator's credential, never a tenant key); see
 * docs/admin-api.md for every route and answer.
 *
 * Keys are stored hashed: a key is in a response exactly once, when it is created (subject creation or
 * `POST .../keys`). Every change that affects authentication or limits invalidates the verified
 * credential caches of every controller (Authenticator.invalidate, carried by the cacheInvalidation topic).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  WhirlError,
  isValidName,
  newCredential,
  storedCredential,
  type StoredCredential,
  type Subject,
  type UserLimits,
} from '@whirl/core';
import type { Ctx } from '../context.js';
import { normalRetryPolicy, retryPolicyProblems, type RetryPolicy } from '../delivery.js';

const BEARER_REALM = { 'WWW-Authenticate': 'Bearer realm="Whirl admin"' };

class AdminUnauthorizedError extends WhirlError {
  constructor(message: string) {
    super('BAD_ADMIN_KEY', message, { headers: BEARER_REALM });
  }
}

/** Bounds an operator may set; each is checked and every problem reported at once. */
const LimitsSchema = z
  .object({
    invocationsPerMinute: z.number().int().min(0).max(1_000_000),
    concurrentInvocations: z.number().int().min(0).max(100_000),
    firesPerMinute: z.number().int().min(0).max(1_000_000),
    allowedKinds: z.array(z.string().min(1)).max(100),
    storeActivations: z.boolean(),
    retention: z.number().min(0).max(36_500),
    maxLogBytes: z.number().int().min(0).max(10 * 1024 * 1024),
    maxLogLines: z.number().int().min(0).max(1_000_000),
    // The namespace default of the `retry` annotation: the same rule (delivery.ts), stored with its defaults filled in.
    asyncRetry: z
      .unknown()
      .superRefine((v, c) => {
        for (const message of retryPolicyProblems(v)) c.addIssue({ code: 'custom', message });
      })
      .transform((v): RetryPolicy => normalRetryPolicy(v as Partial<RetryPolicy>)),
  })
  .partial()
  .strict();

const CreateSchema = z.object({ namespace: z.string().optional() }).strict();
const KeySchema = z.object({ namespace: z.string().optional() }).strict();

function problems(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.join('.');
      if (i.code === 'unrecognized_keys') return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return where === '' ? i.message : `${where}: ${i.message}`;
    })
    .join('; ');
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new BadRequestError(`The ${what} is not valid: ${problems(r.error)}.`);
  return r.data;
}

function checkSubjectName(name: string, what = 'subject'): string {
  if (!isValidName(name)) {
    throw new BadRequestError(`The ${what} name '${name}' is not valid: use letters, digits, '_', '@', '.', '-' and spaces, at most 256 characters, starting with a letter or digit.`);
  }
  return name;
}

/** What the admin API shows of a subject: never a key, not even hashed. */
function view(s: Subject): { subject: string; blocked: boolean; namespaces: { name: string; uuid: string; created?: number }[] } {
  return {
    subject: s.subject,
    blocked: s.blocked === true,
    namespaces: s.namespaces.map((n) => ({ name: n.name, uuid: n.uuid, ...(n.created !== undefined ? { created: n.created } : {}) })),
  };
}

export async function adminRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const expected = ctx.config.adminKey === undefined ? undefined : createHash('sha256').update(ctx.config.adminKey).digest();

  app.addHook('onRequest', async (req: FastifyRequest) => {
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (!bearer) {
      // A valid tenant credential is told it is not enough, rather than that it is wrong.
      if (/^Basic\s/i.test(header) && (await ctx.auth.identify(header).catch(() => undefined))) {
        throw new ForbiddenError('A namespace key cannot use the admin API; send the operator key as Authorization: Bearer <admin key>.', 'ADMIN_KEY_REQUIRED');
      }
      throw new AdminUnauthorizedError('The admin API requires the operator key: send Authorization: Bearer <admin key>.');
    }
    if (!expected) throw new AdminUnauthorizedError('The admin API is disabled: no admin key is configured (set WHIRL_ADMIN_KEY).');
    const given = createHash('sha256').update(bearer[1]!).digest();
    if (!timingSafeEqual(given, expected)) throw new AdminUnauthorizedError('The admin key is not valid.');
  });

  const adminDoc = (summary: string, responses: Record<number, string>) => ({
    summary,
    tags: ['admin'],
    auth: false,
    description: 'Operator only: Authorization: Bearer <admin key> (WHIRL_ADMIN_KEY).',
    responses: { ...responses, 401: 'No admin key, or a wrong one.', 403: 'A namespace key was sent instead of the admin key.' },
  });

  const mustGet = async (name: string): Promise<Subject> => {
    const s = await ctx.subjects.getSubject(checkSubjectName(name));
    if (!s) throw new NotFoundError(`The subject '${name}' does not exist.`);
    return s;
  };

  app.get<{ Querystring: { limit?: string; skip?: string } }>('/admin/v1/subjects', { config: { doc: adminDoc('List subjects (limit 1-1000, default 100; skip)', { 200: 'The subjects, without keys.', 400: 'limit or skip is not valid.' }) } }, async (req) => {
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    const skip = req.query.skip === undefined ? 0 : Number(req.query.skip);
    const bad: string[] = [];
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) bad.push(`limit must be a whole number from 1 to 1000, got '${req.query.limit}'`);
    if (!Number.isInteger(skip) || skip < 0) bad.push(`skip must be a whole number of 0 or more, got '${req.query.skip}'`);
    if (bad.length > 0) throw new BadRequestError(`The query is not valid: ${bad.join('; ')}.`);
    return (await ctx.subjects.listSubjects({ limit, skip })).map(view);
  });

  app.put<{ Params: { subject: string } }>('/admin/v1/subjects/:subject', { config: { doc: adminDoc('Create a subject with its namespace and a generated key (returned only here)', { 201: 'The subject, namespace, uuid and key.', 400: 'The body or the name is not valid.', 409: 'The subject exists, or the namespace belongs to another subject.' }) } }, async (req, reply) => {
    const name = checkSubjectName(req.params.subject);
    const body = parseBody(CreateSchema, req.body, 'subject');
    const namespace = checkSubjectName(body.namespace ?? name, 'namespace');
    if (await ctx.subjects.getSubject(name)) throw new ConflictError(`The subject '${name}' already exists; add a key with POST /admin/v1/subjects/${name}/keys.`);
    const owner = await namespaceOwner(ctx, namespace);
    if (owner) throw new ConflictError(`The namespace '${namespace}' already belongs to subject '${owner}'.`);
    const cred = newCredential(namespace);
    await ctx.subjects.putSubject({ subject: name, namespaces: [await storedCredential(cred)] });
    return reply.code(201).send({ subject: name, namespace, uuid: cred.uuid, key: cred.key, auth: `${cred.uuid}:${cred.key}` });
  });

  app.get<{ Params: { subject: string } }>('/admin/v1/subjects/:subject', { config: { doc: adminDoc('Show a subject (its namespaces and key uuids, never a key)', { 200: 'The subject.', 404: 'No such subject.' }) } }, async (req) => view(await mustGet(req.params.subject)));

  app.delete<{ Params: { subject: string }; Querystring: { cascade?: string } }>('/admin/v1/subjects/:subject', { config: { doc: adminDoc('Delete a subject (with cascade=true, its namespaces\' entities and limits too)', { 200: 'Deleted; how many entities went with it.', 400: 'cascade is not true or false.', 404: 'No such subject.' }) } }, async (req) => {
    const cascade = req.query.cascade;
    if (cascade !== undefined && cascade !== 'true' && cascade !== 'false') {
      throw new BadRequestError(`cascade must be true or false, got '${cascade}'.`);
    }
    const s = await mustGet(req.params.subject);
    const namespaces = [...new Set(s.namespaces.map((n) => n.name))];
    const removed: string[] = [];
    if (cascade === 'true') {
      // Entities first: if this fails the subject is still there, and calling again finishes the job.
      for (const ns of namespaces) {
        for (const id of await ctx.entities.deleteNamespace(ns)) {
          ctx.cache.invalidate(id);
          removed.push(id);
        }
        await ctx.subjects.deleteLimits(ns);
      }
    }
    await ctx.subjects.deleteSubject(s.subject);
    ctx.auth.invalidate({ subject: s.subject });
    return { subject: s.subject, deleted: true, cascade: cascade === 'true', entitiesDeleted: removed.length };
  });

  app.post<{ Params: { subject: string } }>('/admin/v1/subjects/:subject/keys', { config: { doc: adminDoc('Add a key to a subject\'s namespace (rotation); the key is returned only here', { 201: 'The new uuid and key.', 400: 'The body is not valid.', 404: 'No such subject.', 409: 'The namespace belongs to another subject.' }) } }, async (req, reply) => {
    const s = await mustGet(req.params.subject);
    const body = parseBody(KeySchema, req.body, 'key request');
    const namespace = body.namespace === undefined ? (s.namespaces[0]?.name ?? s.subject) : checkSubjectName(body.namespace, 'namespace');
    const owner = await namespaceOwner(ctx, namespace);
    if (owner !== undefined && owner !== s.subject) throw new ConflictError(`The namespace '${namespace}' belongs to subject '${owner}'.`);
    const cred = newCredential(namespace);
    await ctx.subjects.putSubject({ ...s, namespaces: [...s.namespaces, await storedCredential(cred)] });
    return reply.code(201).send({ subject: s.subject, namespace, uuid: cred.uuid, key: cred.key, auth: `${cred.uuid}:${cred.key}` });
  });

  app.delete<{ Params: { subject: string; uuid: string } }>('/admin/v1/subjects/:subject/keys/:uuid', { config: { doc: adminDoc('Delete one key of a subject', { 200: 'The subject without the key.', 404: 'No such subject or key.', 409: 'The last key of a namespace cannot be deleted.' }) } }, async (req) => {
    const s = await mustGet(req.params.subject);
    const target = s.namespaces.find((n) => n.uuid === req.params.uuid);
    if (!target) throw new NotFoundError(`The subject '${s.subject}' has no key with uuid '${req.params.uuid}'.`);
    const rest: StoredCredential[] = s.namespaces.filter((n) => n.uuid !== target.uuid);
    if (!rest.some((n) => n.name === target.name)) {
      throw new ConflictError(`The key '${target.uuid}' is the last one of namespace '${target.name}'; add a new key first (POST /admin/v1/subjects/${s.subject}/keys).`);
    }
    await ctx.subjects.putSubject({ ...s, namespaces: rest });
    ctx.auth.invalidate({ subject: s.subject });
    return view({ ...s, namespaces: rest });
  });

  for (const [verb, blocked] of [['block', true], ['unblock', false]] as const) {
    app.post<{ Params: { subject: string } }>(`/admin/v1/subjects/:subject/${verb}`, { config: { doc: adminDoc(`${verb === 'block' ? 'Block' : 'Unblock'} a subject (blocked: 403 on every call)`, { 200: 'The subject.', 404: 'No such subject.' }) } }, async (req) => {
      const s = await mustGet(req.params.subject);
      const next = { ...s, blocked };
      await ctx.subjects.putSubject(next);
      ctx.auth.invalidate({ subject: s.subject });
      return view(next);
    });
  }

  app.put<{ Params: { ns: string } }>('/admin/v1/namespaces/:ns/limits', { config: { doc: adminDoc('Set a namespace\'s limits', { 200: 'The limits set.', 400: 'The limits document is not valid (each problem listed).' }) } }, async (req) => {
    const ns = checkSubjectName(req.params.ns, 'namespace');
    const limits = parseBody(LimitsSchema, req.body, 'limits document') as Partial<UserLimits>;
    if (limits.allowedKinds) {
      const known = new Set([...ctx.kinds.validKinds(), 'blackbox', 'sequence']);
      const unknown = limits.allowedKinds.filter((k) => !known.has(k) && !ctx.kinds.resolve(k));
      if (unknown.length > 0) throw new BadRequestError(`The limits document is not valid: allowedKinds has unknown kinds ${unknown.map((k) => `'${k}'`).join(', ')}.`);
    }
    await ctx.subjects.putLimits(ns, limits);
    ctx.auth.invalidate({ namespace: ns });
    return { namespace: ns, limits };
  });

  app.get<{ Params: { ns: string } }>('/admin/v1/namespaces/:ns/limits', { config: { doc: adminDoc('Show a namespace\'s own limits (those set here)', { 200: 'The limits.' }) } }, async (req) => {
    const ns = checkSubjectName(req.params.ns, 'namespace');
    return { namespace: ns, limits: await ctx.subjects.getLimits(ns) };
  });

  app.delete<{ Params: { ns: string } }>('/admin/v1/namespaces/:ns/limits', { config: { doc: adminDoc('Delete a namespace\'s own limits (the system defaults apply)', { 200: 'No limits of its own any more.' }) } }, async (req) => {
    const ns = checkSubjectName(req.params.ns, 'namespace');
    await ctx.subjects.deleteLimits(ns);
    ctx.auth.invalidate({ namespace: ns });
    return { namespace: ns, limits: {} };
  });
}

/** The subject that holds a credential for `namespace`, if any (found through its own subject name first). */
async function namespaceOwner(ctx: Ctx, namespace: string): Promise<string | undefined> {
  const direct = await ctx.subjects.getSubject(namespace);
  if (direct?.namespaces.some((n) => n.name === namespace)) return direct.subject;
  for (let skip = 0; ; skip += 500) {
    const page = await ctx.subjects.listSubjects({ limit: 500, skip });
    const owner = page.find((s) => s.namespaces.some((n) => n.name === namespace));
    if (owner) return owner.subject;
    if (page.length < 500) return undefined;
  }
}
