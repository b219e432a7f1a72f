/**
 * The runtime manifest (`runtimes.json`), in OpenWhisk's `ansible/files/runtimes.json` shape so that
 * operators can carry their existing manifests over.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const imageSchema = z.object({
  prefix: z.string().min(1).optional(),
  name: z.string().min(1),
  tag: z.string().min(1).optional(),
});

/**
 * Whirl's addition to OpenWhisk's entries: what an image's proxy speaks besides the OpenWhisk action
 * protocol on port 8080. `socket`: it also serves /init and /run on `/whirl/proxy.sock` when the
 * invoker mounts `/whirl` (no port proxy on the warm path). `logFiles`: given WHIRL_PROXY_LOG_DIR, it
 * writes each activation's output to a file of its own there instead of stdout/stderr (no log stream).
 * Both default to false: a foreign OpenWhisk image is reached over TCP and logs through Docker.
 */
const capabilitiesSchema = z.object({ socket: z.boolean().default(false), logFiles: z.boolean().default(false) });

/** Whirl's addition to OpenWhisk's blackbox entries: which `builds` recipe makes the image offline. */
const blackboxSchema = imageSchema.extend({ build: z.string().min(1).optional(), capabilities: capabilitiesSchema.optional() });

/**
 * How the offline builder assembles an image `FROM scratch` (Whirl-specific; OpenWhisk pulls its
 * images instead). `proxy` lists files relative to the package root, copied flat into `/proxy/`,
 * the first being the entry point; `rootfs` names the recipe for everything else.
 */
const buildSchema = z.object({
  proxy: z.array(z.string().min(1)).min(1),
  rootfs: z.enum(['node', 'python', 'node+shell']),
});

const stemCellSchema = z.object({
  initialCount: z.number().int().nonnegative(),
  memory: z.string().min(1),
  reactive: z
    .object({
      minCount: z.number().int().nonnegative(),
      maxCount: z.number().int().nonnegative(),
      /** OpenWhisk writes a duration such as `2 minutes`. */
      ttl: z.string().refine((t) => parseDurationMs(t) !== undefined, 'ttl must be a duration such as "2 minutes", "90 s" or "500 ms"'),
      threshold: z.number().int().positive(),
      increment: z.number().int().positive(),
    })
    .refine((r) => r.minCount <= r.maxCount, 'reactive.minCount must not exceed reactive.maxCount')
    .optional(),
});

const runtimeEntrySchema = z.object({
  kind: z.string().regex(/^[a-z0-9._-]+:[A-Za-z0-9._-]+$/, 'kind must look like family:version'),
  default: z.boolean().optional(),
  image: imageSchema,
  deprecated: z.boolean().optional(),
  attached: z.object({ attachmentName: z.string(), attachmentType: z.string() }).optional(),
  requireMain: z.boolean().optional(),
  stemCells: z.array(stemCellSchema).optional(),
  capabilities: capabilitiesSchema.optional(),
});

const manifestSchema = z
  .object({
    runtimes: z.record(z.string(), z.array(runtimeEntrySchema)),
    blackboxes: z.array(blackboxSchema).default([]),
    /** Keyed by runtime family, or by a blackbox entry's `build`. */
    builds: z.record(z.string(), buildSchema).default({}),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    for (const [family, entries] of Object.entries(m.runtimes)) {
      if (entries.filter((e) => e.default === true).length > 1) {
        ctx.addIssue({ code: 'custom', message: `runtime family ${family} has more than one default` });
      }
      for (const e of entries) {
        if (seen.has(e.kind)) ctx.addIssue({ code: 'custom', message: `duplicate kind ${e.kind}` });
        seen.add(e.kind);
        if (e.kind.split(':')[0] !== family) {
          ctx.addIssue({ code: 'custom', message: `kind ${e.kind} is listed under family ${family}` });
        }
      }
    }
    for (const b of m.blackboxes) {
      if (b.build !== undefined && m.builds[b.build] === undefined) {
        ctx.addIssue({ code: 'custom', message: `blackbox ${b.name} names unknown build ${b.build}` });
      }
    }
  });

export type ImageName = z.infer<typeof imageSchema>;
export type BlackboxEntry = z.infer<typeof blackboxSchema>;
export type BuildRecipe = z.infer<typeof buildSchema>;
export type StemCellConfig = z.infer<typeof stemCellSchema>;
export type RuntimeEntry = z.infer<typeof runtimeEntrySchema>;
export type RuntimeManifest = z.infer<typeof manifestSchema>;
export type ImageCapabilities = z.infer<typeof capabilitiesSchema>;

export interface StemCell {
  kind: string;
  image: string;
  memoryMB: number;
  count: number;
  reactive?: { minCount: number; maxCount: number; ttlMs: number; threshold: number; increment: number };
}

export interface RuntimeView {
  kind: string;
  image: string;
  deprecated: boolean;
  default: boolean;
  /** OpenWhisk shows only whether the code is stored as an attachment. */
  attached: boolean;
  requireMain: boolean;
}

export const manifestPath: string = fileURLToPath(new URL('../runtimes.json', import.meta.url));

let cached: RuntimeManifest | undefined;

/** Parses and validates a manifest file; without a path, the bundled one (cached). */
export function loadManifest(path?: string): RuntimeManifest {
  if (path === undefined && cached) return cached;
  const file = path ?? manifestPath;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read runtime manifest ${file}: ${(e as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid runtime manifest ${file}: ${z.prettifyError(parsed.error)}`);
  }
  if (path === undefined) cached = parsed.data;
  return parsed.data;
}

/** `family:default` (e.g. `nodejs:default`) resolves to that family's default entry. */
export function resolveKind(kind: string, manifest: RuntimeManifest = loadManifest()): RuntimeEntry | undefined {
  const [family, version] = splitKind(kind);
  if (version === 'default') {
    const entries = manifest.runtimes[family] ?? [];
    return entries.find((e) => e.default === true) ?? (entries.length === 1 ? entries[0] : undefined);
  }
  for (const entries of Object.values(manifest.runtimes)) {
    const hit = entries.find((e) => e.kind === kind);
    if (hit) return hit;
  }
  return undefined;
}

function splitKind(kind: string): [string, string | undefined] {
  const i = kind.indexOf(':');
  return i < 0 ? [kind, undefined] : [kind.slice(0, i), kind.slice(i + 1)];
}

/** Every concrete kind plus `family:default` for families that have a default. */
export function validKinds(manifest: RuntimeManifest = loadManifest()): string[] {
  const kinds: string[] = [];
  for (const [family, entries] of Object.entries(manifest.runtimes)) {
    for (const e of entries) kinds.push(e.kind);
    if (entries.some((e) => e.default === true)) kinds.push(`${family}:default`);
  }
  return kinds;
}

/** `prefix/name:tag`, the tag defaulting to `latest` like docker does. */
export function imageName(entry: Pick<RuntimeEntry, 'image'>): string {
  const { prefix, name, tag } = entry.image;
  return `${prefix ? `${prefix}/` : ''}${name}:${tag ?? 'latest'}`;
}

/** Parses OpenWhisk ByteSize strings such as `256 MB`, `256m`, `1 GB`. */
export function parseMemoryMB(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$/i.exec(text);
  if (!m) throw new Error(`invalid memory size: ${text}`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const factor: Record<string, number> = { '': 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };
  return Math.round(n * (factor[unit] ?? 1));
}

/** Parses durations as OpenWhisk's manifests write them (`2 minutes`, `90 s`, `500 ms`, `1 hour`). */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|seconds?|m|min|minutes?|h|hours?)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  const factor = unit.startsWith('ms') || unit.startsWith('milli') ? 1 : unit.startsWith('s') ? 1_000 : unit.startsWith('m') ? 60_000 : 3_600_000;
  return Math.round(Number(m[1]) * factor);
}

/** Prewarm configuration, one element per stemCell of every kind. */
export function stemCells(manifest: RuntimeManifest = loadManifest()): StemCell[] {
  const out: StemCell[] = [];
  for (const entries of Object.values(manifest.runtimes)) {
    for (const e of entries) {
      for (const sc of e.stemCells ?? []) {
        const cell: StemCell = { kind: e.kind, image: imageName(e), memoryMB: parseMemoryMB(sc.memory), count: sc.initialCount };
        if (sc.reactive) {
          const { minCount, maxCount, threshold, increment } = sc.reactive;
          cell.reactive = { minCount, maxCount, threshold, increment, ttlMs: parseDurationMs(sc.reactive.ttl) ?? 0 };
        }
        out.push(cell);
      }
    }
  }
  return out;
}

/** The `runtimes` field of the controller's `GET /`. */
export function controllerRuntimesView(manifest: RuntimeManifest = loadManifest()): Record<string, RuntimeView[]> {
  const view: Record<string, RuntimeView[]> = {};
  for (const [family, entries] of Object.entries(manifest.runtimes)) {
    view[family] = entries.map((e) => ({
      kind: e.kind,
      image: imageName(e),
      deprecated: e.deprecated ?? false,
      default: e.default ?? false,
      attached: e.attached !== undefined,
      requireMain: e.requireMain ?? false,
    }));
  }
  return view;
}

/** Every distinct image the manifest refers to, with the first kind that uses it. */
export function runtimeImages(manifest: RuntimeManifest = loadManifest()): { kind: string; family: string; image: string }[] {
  const seen = new Map<string, { kind: string; family: string; image: string }>();
  for (const [family, entries] of Object.entries(manifest.runtimes)) {
    for (const e of entries) {
      const image = imageName(e);
      if (!seen.has(image)) seen.set(image, { kind: e.kind, family, image });
    }
  }
  return [...seen.values()];
}

/** An image the offline builder can make: its name, the kinds it serves (for its label), its recipe. */
export interface BuildableImage {
  image: string;
  /** The runtime family, or the blackbox's build name. */
  family: string;
  kinds: string[];
  build: BuildRecipe | undefined;
}

/** Every image of the manifest (runtimes and blackboxes), each once, with its build recipe if any. */
export function buildableImages(manifest: RuntimeManifest = loadManifest()): BuildableImage[] {
  const byImage = new Map<string, BuildableImage>();
  for (const [family, entries] of Object.entries(manifest.runtimes)) {
    for (const e of entries) {
      const image = imageName(e);
      const cur = byImage.get(image) ?? { image, family, kinds: [], build: manifest.builds[family] };
      cur.kinds.push(e.kind);
      byImage.set(image, cur);
    }
  }
  for (const b of manifest.blackboxes) {
    const image = imageName({ image: b });
    if (byImage.has(image)) continue;
    const family = b.build ?? b.name;
    byImage.set(image, { image, family, kinds: ['blackbox'], build: b.build === undefined ? undefined : manifest.builds[b.build] });
  }
  return [...byImage.values()];
}

const NO_CAPABILITIES: ImageCapabilities = Object.freeze({ socket: false, logFiles: false });

/** What an image's proxy speaks besides TCP port 8080 (see `capabilities`); nothing for images the manifest does not list. */
export function imageCapabilities(image: string, manifest: RuntimeManifest = loadManifest()): ImageCapabilities {
  for (const entries of Object.values(manifest.runtimes)) {
    for (const e of entries) if (imageName(e) === image) return e.capabilities ?? NO_CAPABILITIES;
  }
  for (const b of manifest.blackboxes) if (imageName({ image: b }) === image) return b.capabilities ?? NO_CAPABILITIES;
  return NO_CAPABILITIES;
}
