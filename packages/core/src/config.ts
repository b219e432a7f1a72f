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
