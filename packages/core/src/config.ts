/**
 * One zod schema per process: parse the environment (and flags folded into it) once at start, report
 * every problem at once, then freeze. Consumers see only the parsed type.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): Readonly<z.infer<S>> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return deepFreeze(r.data as z.infer<S>);
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** A boolean from the environment: true/false/1/0/yes/no/on/off. */
export const envBool = z
  .union([z.boolean(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'boolean') return v;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off', ''].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: `expected a boolean (true/false), got '${v}'` });
    return z.NEVER;
  });

/**
 * One configuration key: its schema (validation and default), the variable that sets it and, for
 * standalone, the flag that overrides the variable. The description names the variable and the flag
 * itself, so neither is written twice.
 */
export interface EnvField<S extends z.ZodType = z.ZodType> {
  readonly env: string;
  readonly schema: S;
  readonly description: string;
  readonly flag?: string;
}

export function envField<S extends z.ZodType>(env: string, schema: S, description = ''): EnvField<S> {
  return { env, schema, description };
}

/** The same field told in this process's words (the description is all that may differ between processes). */
export function describedAs<S extends z.ZodType>(field: EnvField<S>, description: string): EnvField<S> {
  return { ...field, description };
}

/** The same field, also set by a command-line flag (`--data-dir`). */
export function withFlag<S extends z.ZodType>(field: EnvField<S>, flag: string): EnvField<S> {
  return { ...field, flag };
}

type EnvShape<F extends Record<string, EnvField>> = { [K in keyof F]: F[K]['schema'] };

/** A process's configuration, built from its fields: the schema, the variable of each key, and the flags. */
export interface EnvConfig<F extends Record<string, EnvField>> {
  readonly schema: z.ZodObject<EnvShape<F>>;
  /** Maps config keys to the variables, so that messages can name what the operator sets. */
  readonly envNames: { readonly [K in keyof F]: string };
  /** Config key by flag name (without the dashes), for the fields a flag may set. */
  readonly flags: Readonly<Record<string, keyof F & string>>;
  load(env: Record<string, string | undefined>, overrides?: Partial<Record<keyof F, unknown>>): Readonly<z.infer<z.ZodObject<EnvShape<F>>>>;
}

/** Key order is the order problems are listed in, so a process lists its fields in the order it documents them. */
export function envConfig<F extends Record<string, EnvField>>(fields: F): EnvConfig<F> {
  const shape: Record<string, z.ZodType> = {};
  const envNames: Record<string, string> = {};
  const flags: Record<string, string> = {};
  for (const [key, f] of Object.entries(fields)) {
    const names = `${f.flag !== undefined ? `--${f.flag}, ` : ''}${f.env}.`;
    shape[key] = f.schema.describe(f.description === '' ? names : `${f.description} ${names}`);
    envNames[key] = f.env;
    if (f.flag !== undefined) flags[f.flag] = key;
  }
  const schema = z.object(shape as EnvShape<F>);
  return {
    schema,
    envNames: envNames as { [K in keyof F]: string },
    flags: flags as Record<string, keyof F & string>,
    load: (env, overrides = {}) => configFromEnv(schema, envNames, env, overrides),
  };
}

/**
 * Reads a process's configuration from the environment: `names` maps each config key to its variable;
 * unset or empty variables are left to the schema's defaults; `overrides` (parsed flags) win.
 */
export function configFromEnv<S extends z.ZodType>(
  schema: S,
  names: Record<string, string>,
  env: Record<string, string | undefined>,
  overrides: Record<string, unknown> = {},
): Readonly<z.infer<S>> {
  const input: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(names)) {
    const v = env[name];
    if (v !== undefined && v !== '') input[key] = v;
  }
  for (const [key, v] of Object.entries(overrides)) if (v !== undefined) input[key] = v;
  return parseConfig(schema, input);
}
