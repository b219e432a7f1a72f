/**
 * Turning an action PUT body into the stored action, with OpenWhisk's create and update semantics:
 * on update exec is replaced only if given, limits merge field by field, parameters are replaced as a
 * whole, annotations merge (with `delAnnotations` removing keys), the version bumps by a patch.
 */
import {
  ForbiddenError,
  BadRequestError,
  Limits,
  PayloadTooLargeError,
  defaultActionLimits,
  looksLikeBase64,
  mergeKeyValues,
  bumpVersion,
  type ActionLimits,
  type ActionPut,
  type Exec,
  type SequenceExec,
  type KeyValue,
  type UserLimits,
  type WhiskAction,
} from '@whirl/core';

/** What the controller needs to know about runtimes (from the runtime manifest). */
export interface KindResolver {
  /** The concrete kind (`nodejs:default` → `nodejs:20`), or undefined when unknown. */
  resolve(kind: string): { kind: string; requireMain: boolean; deprecated: boolean } | undefined;
  validKinds(): string[];
}

function byteLength(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v ?? null));
}

export function checkEntitySizes(body: { parameters?: KeyValue[]; annotations?: KeyValue[] }): void {
  for (const field of ['parameters', 'annotations'] as const) {
    const v = body[field];
    if (v !== undefined) {
      const n = byteLength(v);
      if (n > Limits.parameterBytes) throw new PayloadTooLargeError(field, n, Limits.parameterBytes);
    }
  }
}

function checkLimits(l: Partial<ActionLimits>, user: UserLimits): void {
  if (l.memory !== undefined) {
    if (l.memory > user.maxActionMemory) throw new BadRequestError(`memory size ${l.memory} MB exceeds allowed threshold of ${user.maxActionMemory} MB`);
    if (l.memory < user.minActionMemory) throw new BadRequestError(`memory size ${l.memory} MB below allowed threshold of ${user.minActionMemory} MB`);
  }
  if (l.timeout !== undefined) {
    if (l.timeout > user.maxActionTimeout) throw new BadRequestError(`duration ${l.timeout} milliseconds exceeds allowed threshold of ${user.maxActionTimeout} milliseconds`);
    if (l.timeout < user.minActionTimeout) throw new BadRequestError(`duration ${l.timeout} milliseconds below allowed threshold of ${user.minActionTimeout} milliseconds`);
  }
  if (l.logs !== undefined) {
    if (l.logs > user.maxActionLogs) throw new BadRequestError(`log size ${l.logs} MB exceeds allowed threshold of ${user.maxActionLogs} MB`);
    if (l.logs < user.minActionLogs) throw new BadRequestError(`log size ${l.logs} MB below allowed threshold of ${user.minActionLogs} MB`);
  }
  if (l.concurrency !== undefined) {
    if (l.concurrency > user.maxActionConcurrency) throw new BadRequestError(`concurrency ${l.concurrency} exceeds allowed threshold of ${user.maxActionConcurrency}`);
    if (l.concurrency < user.minActionConcurrency) throw new BadRequestError(`concurrency ${l.concurrency} below allowed threshold of ${user.minActionConcurrency}`);
  }
}

function buildExec(put: NonNullable<ActionPut['exec']>, kinds: KindResolver, namespace: string): Exec {
  if (put.kind === 'sequence') {
    // Components arrive already validated and normalised (validateSequence).
    return { kind: 'sequence', components: put.components ?? [] };
  }
  if (put.kind === 'blackbox') {
    if (typeof put.image !== 'string' || put.image.trim() === '') {
      throw new BadRequestError("'image' must be a string defined in 'exec' for 'blackbox' actions");
    }
    if (!/^[a-z0-9][a-z0-9._/:@-]*$/i.test(put.image)) throw new BadRequestError(`The image name '${put.image}' is not a valid Docker image reference.`);
    const bb: Exec = { kind: 'blackbox', image: put.image, binary: false };
    if (typeof put.code === 'string' && put.code !== '') {
      const size = Buffer.byteLength(put.code);
      if (size > Limits.codeBytes) throw new PayloadTooLargeError('exec', size, Limits.codeBytes);
      bb.code = put.code;
      bb.binary = looksLikeBase64(put.code);
    }
    if (put.main !== undefined) bb.main = put.main;
    return bb;
  }
  void namespace;
  const rt = kinds.resolve(put.kind);
  if (!rt) {
    throw new BadRequestError(
      `The specified runtime '${put.kind}' is not supported by this platform. Valid values are: ${kinds
        .validKinds()
        .concat(['blackbox', 'sequence'])
        .map((k) => `'${k}'`)
        .join(', ')}.`,
    );
  }
  if (rt.deprecated) throw new BadRequestError(`The specified runtime '${rt.kind}' is deprecated and can no longer be used to create actions.`);
  if (typeof put.code !== 'string') throw new BadRequestError(`'code' must be a string defined in 'exec' for '${rt.kind}' actions`);
  const size = Buffer.byteLength(put.code);
  if (size > Limits.codeBytes) throw new PayloadTooLargeError('exec', size, Limits.codeBytes);
  if (rt.requireMain && !put.main) throw new BadRequestError(`'main' must be a string defined in 'exec' for '${rt.kind}' actions`);
  const exec: Exec = { kind: rt.kind, code: put.code, binary: looksLikeBase64(put.code) };
  if (put.main !== undefined) exec.main = put.main;
  return exec;
}

export function buildAction(args: {
  put: ActionPut;
  existing: WhiskAction | undefined;
  namespace: string;
  name: string;
  kinds: KindResolver;
  userLimits: UserLimits;
  now: number;
}): WhiskAction {
  const { put, existing, kinds, userLimits } = args;
  checkEntitySizes(put);
  if (!existing && !put.exec) throw new BadRequestError('exec undefined');
  const exec = put.exec ? buildExec(put.exec, kinds, args.namespace) : existing!.exec;
  // The namespace's allowedKinds (an empty or missing list allows every kind), as OpenWhisk's KindRestrictor.
  const allowed = userLimits.allowedKinds;
  if (put.exec && allowed && allowed.length > 0 && !allowed.includes(exec.kind) && !allowed.includes(put.exec.kind)) {
    throw new ForbiddenError(`The supplied authentication is not authorized to access actions of kind '${exec.kind}'.`, 'KIND_NOT_ALLOWED');
  }
  const limitsIn: Partial<ActionLimits> = {};
  for (const k of ['timeout', 'memory', 'logs', 'concurrency'] as const) {
    const v = put.limits?.[k];
    if (v !== undefined) limitsIn[k] = v;
  }
  checkLimits(limitsIn, userLimits);
  // Only the Node.js proxy tags each line with its activation; elsewhere concurrent logs could not be told apart.
  if ((limitsIn.concurrency ?? existing?.limits.concurrency ?? 1) > 1 && !exec.kind.startsWith('nodejs:')) {
    throw new BadRequestError(`concurrency above 1 is supported for nodejs actions only, not for '${exec.kind}'`);
  }
  const limits: ActionLimits = { ...(existing?.limits ?? defaultActionLimits()), ...limitsIn };
  const baseAnnotations = existing ? existing.annotations : [];
  let annotations = mergeKeyValues(baseAnnotations, put.annotations ?? [], existing ? (put.delAnnotations ?? []) : []);
  annotations = mergeKeyValues(annotations, [{ key: 'exec', value: exec.kind }]);
  if (!existing && !annotations.some((a) => a.key === 'provide-api-key')) {
    annotations = [{ key: 'provide-api-key', value: false }, ...annotations];
  }
  return {
    entityType: 'action',
    namespace: args.namespace,
    name: args.name,
    version: put.version ?? (existing ? bumpVersion(existing.version) : '0.0.1'),
    publish: put.publish ?? existing?.publish ?? false,
    exec,
    // A sequence's own parameters are replaced by the internal component list, as OpenWhisk does.
    parameters:
      exec.kind === 'sequence'
        ? [{ key: '_actions', value: (exec as SequenceExec).components }]
        : (put.parameters ?? existing?.parameters ?? []),
    annotations,
    limits,
    updated: args.now,
  };
}

/** The wire form of an action (`code=false` leaves out `exec.code`). */
export function renderAction(a: WhiskAction, withCode = true): Record<string, unknown> {
  const exec: Record<string, unknown> = { ...a.exec };
  if (!withCode) delete exec.code;
  return {
    namespace: a.namespace,
    name: a.name,
    version: a.version,
    publish: a.publish,
    exec,
    annotations: a.annotations,
    parameters: a.parameters,
    limits: a.limits,
    updated: a.updated,
  };
}

export function renderActionSummary(a: WhiskAction): Record<string, unknown> {
  return {
    namespace: a.namespace,
    name: a.name,
    version: a.version,
    publish: a.publish,
    annotations: a.annotations,
    limits: a.limits,
    exec: { binary: 'binary' in a.exec ? a.exec.binary : false },
    updated: a.updated,
  };
}
