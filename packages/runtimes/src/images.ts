/**
 * Builds the runtime images without a registry: each one is `FROM scratch` plus binaries and
 * libraries copied from this machine, and the action proxy. What goes in is data-driven: the
 * manifest's `builds` section names, per runtime family (or blackbox), the proxy files and the rootfs
 * recipe; the recipes below know where this machine keeps node, python and a shell. Machines with
 * registry access can use the Dockerfiles next to the proxies instead; both give the same contract.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { pack as tarPack, type Pack } from 'tar-stream';
import { buildableImages, loadManifest, type BuildRecipe, type RuntimeManifest } from './manifest.js';

const execFileAsync = promisify(execFile);

/** The package root: `builds[].proxy` paths are relative to it. */
export const runtimesPackageRoot: string = fileURLToPath(new URL('../', import.meta.url));
/** Absolute path of the Node.js action proxy shipped with this package. */
export const nodejsProxyPath: string = fileURLToPath(new URL('../nodejs/proxy.js', import.meta.url));
/** Absolute path of the Python action proxy. */
export const pythonProxyPath: string = fileURLToPath(new URL('../python/proxy.py', import.meta.url));
/** Absolute path of the docker-skeleton (native executable) proxy; it runs on node. */
export const dockerSkeletonProxyPath: string = fileURLToPath(new URL('../dockerskeleton/proxy.js', import.meta.url));

/** Label carrying the kinds an image serves; also how Whirl recognises images it built. */
export const RUNTIME_LABEL = 'whirl.runtime';
/** Label carrying the hash of everything that went into the image, so a stale one gets rebuilt. */
export const PROXY_HASH_LABEL = 'whirl.proxy.sha256';

export const PYTHON_VERSION = '3.11';
const PYTHON_BIN = `/usr/bin/python${PYTHON_VERSION}`;
const PYTHON_LIB = `/usr/lib/python${PYTHON_VERSION}`;
// Not needed by actions or the proxy, and together most of the stdlib's size. `config-*` holds the
// static libpython used only for embedding builds.
const PYTHON_EXCLUDED_DIRS = new Set([
  '__pycache__',
  'test',
  'tests',
  'idle_test',
  'idlelib',
  'tkinter',
  'turtledemo',
  'ensurepip',
  'lib2to3',
  'pydoc_data',
  `config-${PYTHON_VERSION}-x86_64-linux-gnu`,
]);
const PYTHON_EXCLUDED_MODULES = /^(_test|_xxtest|xxlimited|_ctypes_test)/;
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The interpreter that runs the Python proxy as a local process: python3.11 when installed, else python3. */
export function localPythonCommand(): string {
  return existsSync(PYTHON_BIN) ? PYTHON_BIN : 'python3';
}

export interface EnsureRuntimeImagesOptions {
  docker: Dockerode;
  onProgress?: (msg: string) => void;
  /** Rebuild even when the image exists and is current. */
  force?: boolean;
  manifest?: RuntimeManifest;
}

interface RootfsFile {
  inImage: string;
  source: string;
  mode: number;
}

/** Everything a recipe puts in an image besides the proxy files. */
export interface Rootfs {
  files: RootfsFile[];
  symlinks: { inImage: string; target: string }[];
  dirs: { inImage: string; mode: number }[];
  env: Record<string, string>;
  /** argv of the interpreter; the proxy's in-image path is appended. */
  interpreter: string[];
  describe: string;
}

/** Shared objects (and the dynamic loader) that `binary` needs, by path as the loader looks for them. */
async function sharedLibraries(binary: string): Promise<RootfsFile[]> {
  let out = '';
  try {
    out = (await execFileAsync('ldd', [binary])).stdout;
  } catch (e) {
    // ldd exits non-zero for static binaries, which need nothing else.
    const stdout = (e as { stdout?: string }).stdout ?? '';
    if (!/not a dynamic executable|statically linked/.test(stdout + String((e as Error).message))) throw e;
  }
  const libs: RootfsFile[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)\s*\(/.exec(line) ?? /^\s*(\/\S+)\s*\(/.exec(line);
    if (m?.[1]) libs.push({ inImage: m[1], source: realpathSync(m[1]), mode: 0o755 });
    else if (/=>\s*not found/.test(line)) throw new Error(`${binary} needs a library ldd cannot find: ${line.trim()}`);
  }
  return libs;
}

async function binaryWithLibraries(inImage: string, source: string): Promise<RootfsFile[]> {
  const real = realpathSync(source);
  return [{ inImage, source: real, mode: 0o755 }, ...(await sharedLibraries(real))];
}

/** The node binary and every shared object the dynamic loader needs for it, by in-image path. */
export async function nodeRootfsFiles(): Promise<{ inImage: string; source: string }[]> {
  return binaryWithLibraries('/usr/bin/node', process.execPath);
}

const baseEnv = { PATH: '/usr/bin:/bin', HOME: '/tmp', TMPDIR: '/tmp', __OW_PROXY_PORT: '8080' };

function walkPythonLib(dir: string, out: RootfsFile[]): void {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, ent.name);
    if (ent.isDirectory()) {
      if (!PYTHON_EXCLUDED_DIRS.has(ent.name)) walkPythonLib(full, out);
    } else if (ent.isSymbolicLink()) {
      // Debian links sitecustomize.py to /etc and _sysconfigdata to its twin; copy what they name,
      // skipping dangling ones.
      if (!existsSync(full)) continue;
      const real = realpathSync(full);
      if (statSync(real).isFile()) out.push({ inImage: full, source: real, mode: 0o644 });
    } else if (ent.isFile()) {
      if (dir.endsWith('lib-dynload') && PYTHON_EXCLUDED_MODULES.test(ent.name)) continue;
      out.push({ inImage: full, source: full, mode: ent.name.endsWith('.so') ? 0o755 : 0o644 });
    }
  }
}

const recipes: Record<BuildRecipe['rootfs'], () => Promise<Rootfs>> = {
  node: async () => {
    const files = await binaryWithLibraries('/usr/bin/node', process.execPath);
    return {
      files,
      symlinks: [],
      dirs: [],
      env: baseEnv,
      interpreter: ['/usr/bin/node'],
      describe: `${files[0]?.source} (${process.version}) and ${files.length - 1} libraries`,
    };
  },
  python: async () => {
    if (!existsSync(PYTHON_BIN) || !existsSync(PYTHON_LIB)) {
      throw new Error(`the python recipe needs ${PYTHON_BIN} and ${PYTHON_LIB} (apt-get install python${PYTHON_VERSION})`);
    }
    const files = await binaryWithLibraries(PYTHON_BIN, PYTHON_BIN);
    const symlinks: Rootfs['symlinks'] = [{ inImage: '/usr/bin/python3', target: `python${PYTHON_VERSION}` }];
    walkPythonLib(PYTHON_LIB, files);
    // Extension modules link against libraries the interpreter itself does not (ssl, ffi, sqlite...).
    const dynload = files.filter((f) => f.inImage.startsWith(`${PYTHON_LIB}/lib-dynload/`));
    for (const mod of dynload) files.push(...(await sharedLibraries(mod.source)));
    const env: Record<string, string> = {
      ...baseEnv,
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
      LANG: 'C.UTF-8',
    };
    if (existsSync(CA_BUNDLE)) {
      files.push({ inImage: CA_BUNDLE, source: realpathSync(CA_BUNDLE), mode: 0o644 });
      env['SSL_CERT_FILE'] = CA_BUNDLE;
    }
    return {
      files: dedupe(files),
      symlinks,
      dirs: [],
      env,
      interpreter: [PYTHON_BIN],
      describe: `${PYTHON_BIN} and its stdlib (${files.length} files)`,
    };
  },
  'node+shell': async () => {
    const node = await recipes.node();
    const shellSource = ['/usr/bin/dash', '/bin/dash', '/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
    const files = [...node.files];
    if (shellSource) files.push(...(await binaryWithLibraries('/bin/sh', shellSource)));
    // `#!/usr/bin/env node` scripts need env; without it only native binaries and /bin/sh scripts run.
    if (existsSync('/usr/bin/env')) files.push(...(await binaryWithLibraries('/usr/bin/env', '/usr/bin/env')));
    return {
      files: dedupe(files),
      symlinks: [],
      // OpenWhisk's skeleton keeps the user's executable in /action.
      dirs: [{ inImage: '/action', mode: 0o777 }],
      env: { ...node.env, WHIRL_ACTION_DIR: '/action' },
      interpreter: node.interpreter,
      describe: `${node.describe}, ${shellSource ?? 'no shell'} as /bin/sh`,
    };
  },
};

function dedupe(files: RootfsFile[]): RootfsFile[] {
  const seen = new Map<string, RootfsFile>();
  for (const f of files) if (!seen.has(f.inImage)) seen.set(f.inImage, f);
  return [...seen.values()];
}

/** Everything `docker build` gets: a Dockerfile, the rootfs, the proxy files. */
interface BuildContext {
  dockerfile: string;
  rootfs: Rootfs;
  /** In-image path → content. */
  extra: Map<string, Buffer>;
}

function dockerfileFor(rootfs: Rootfs, entry: string): string {
  const env = Object.entries(rootfs.env).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return [
    'FROM scratch',
    'COPY rootfs/ /',
    `ENV ${env.join(' ')}`,
    'WORKDIR /proxy',
    'EXPOSE 8080',
    `CMD ${JSON.stringify([...rootfs.interpreter, entry])}`,
    '',
  ].join('\n');
}

async function contextFor(build: BuildRecipe): Promise<BuildContext> {
  const rootfs = await recipes[build.rootfs]();
  const extra = new Map<string, Buffer>();
  for (const rel of build.proxy) {
    extra.set(`/proxy/${path.basename(rel)}`, readFileSync(path.join(runtimesPackageRoot, rel)));
  }
  const entry = `/proxy/${path.basename(build.proxy[0] as string)}`;
  return { dockerfile: dockerfileFor(rootfs, entry), rootfs, extra };
}

/**
 * Content hash of a build: proxy bytes, Dockerfile, and every rootfs path with its source's size and
 * mtime (hashing the interpreters' bytes too would cost seconds on every start for no real gain).
 */
function contextHash(ctx: BuildContext): string {
  const h = createHash('sha256');
  h.update(ctx.dockerfile);
  for (const [p, body] of [...ctx.extra].sort(([a], [b]) => a.localeCompare(b))) {
    h.update(`\0${p}\0`).update(body);
  }
  for (const f of [...ctx.rootfs.files].sort((a, b) => a.inImage.localeCompare(b.inImage))) {
    const st = statSync(f.source);
    h.update(`\0${f.inImage}\0${f.mode}\0${st.size}\0${Math.floor(st.mtimeMs)}`);
  }
  for (const l of ctx.rootfs.symlinks) h.update(`\0${l.inImage}->${l.target}`);
  for (const d of ctx.rootfs.dirs) h.update(`\0${d.inImage}/${d.mode}`);
  return h.digest('hex');
}

/** Builds every manifest image (runtimes and blackboxes) that is missing or stale; returns the names it built. */
export async function ensureRuntimeImages(opts: EnsureRuntimeImagesOptions): Promise<string[]> {
  const { docker, force = false } = opts;
  const say = opts.onProgress ?? (() => {});
  const manifest = opts.manifest ?? loadManifest();
  const built: string[] = [];
  for (const { image, family, kinds, build } of buildableImages(manifest)) {
    if (!build) {
      say(`${image}: no offline recipe for ${family}, skipped`);
      continue;
    }
    const ctx = await contextFor(build);
    if (await ensureImage(docker, image, ctx, { [RUNTIME_LABEL]: kinds.join(',') }, force, say)) built.push(image);
  }
  return built;
}

/** Builds `image` unless it exists with the same content hash; true when it built. */
async function ensureImage(
  docker: Dockerode,
  image: string,
  ctx: BuildContext,
  labels: Record<string, string>,
  force: boolean,
  say: (msg: string) => void,
): Promise<boolean> {
  const hash = contextHash(ctx);
  const existing = await imageLabels(docker, image);
  if (existing && !force) {
    // Images without our label came from a registry or the operator: never overwrite them.
    if (existing[RUNTIME_LABEL] === undefined || existing[PROXY_HASH_LABEL] === hash) {
      say(`${image}: present`);
      return false;
    }
    say(`${image}: built from older sources, rebuilding`);
  }
  const previousId = existing ? (await docker.getImage(image).inspect()).Id : undefined;
  say(`${image}: building FROM scratch with ${ctx.rootfs.describe}`);
  await buildFromContext(docker, image, ctx, { ...labels, [PROXY_HASH_LABEL]: hash }, say);
  const currentId = (await docker.getImage(image).inspect()).Id;
  // A cached rebuild yields the same id, which must of course stay.
  if (previousId && previousId !== currentId) {
    // The old build is now an untagged leftover; containers still using it keep it alive (409).
    await docker
      .getImage(previousId)
      .remove()
      .catch(() => {});
  }
  return true;
}

async function imageLabels(docker: Dockerode, image: string): Promise<Record<string, string> | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.Config?.Labels ?? {};
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

async function buildFromContext(
  docker: Dockerode,
  image: string,
  ctx: BuildContext,
  labels: Record<string, string>,
  say: (msg: string) => void,
): Promise<void> {
  const pack = tarPack();
  const writing = (async () => {
    const dirs = new Set<string>();
    const addDirs = async (p: string) => {
      const parts = p.split('/').filter(Boolean);
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!dirs.has(d)) {
          dirs.add(d);
          await entry(pack, { name: `rootfs/${d}`, type: 'directory', mode: 0o755 });
        }
      }
    };
    await entry(pack, { name: 'Dockerfile', mode: 0o644 }, Buffer.from(ctx.dockerfile));
    await entry(pack, { name: 'rootfs', type: 'directory', mode: 0o755 });
    // Archives the proxies extract go to /tmp, and actions may write there.
    await entry(pack, { name: 'rootfs/tmp', type: 'directory', mode: 0o1777 });
    for (const d of ctx.rootfs.dirs) {
      await addDirs(d.inImage);
      dirs.add(d.inImage.slice(1));
      await entry(pack, { name: `rootfs${d.inImage}`, type: 'directory', mode: d.mode });
    }
    for (const [inImage, body] of ctx.extra) {
      await addDirs(inImage);
      await entry(pack, { name: `rootfs${inImage}`, mode: 0o644 }, body);
    }
    for (const f of ctx.rootfs.files) {
      await addDirs(f.inImage);
      await entryFromFile(pack, `rootfs${f.inImage}`, f.source, statSync(f.source).size, f.mode);
    }
    for (const l of ctx.rootfs.symlinks) {
      await addDirs(l.inImage);
      await entry(pack, { name: `rootfs${l.inImage}`, type: 'symlink', linkname: l.target, mode: 0o777 });
    }
    pack.finalize();
  })();
  writing.catch((e: unknown) => pack.destroy(e as Error));

  const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, {
    t: image,
    labels,
    rm: true,
    forcerm: true,
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
        if (err) return reject(err);
        const failed = output.find((o) => o.error !== undefined);
        if (failed) return reject(new Error(`building ${image} failed: ${failed.errorDetail?.message ?? failed.error}`));
        resolve();
      },
      (ev: { stream?: string }) => {
        const text = ev.stream?.trim();
        if (text) say(`${image}: ${text}`);
      },
    );
  });
  await writing;
  say(`${image}: built`);
}

function entry(pack: Pack, header: Parameters<Pack['entry']>[0], body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pack.entry({ ...header, size: body.length }, body, cb);
    else pack.entry(header, cb);
  });
}

function entryFromFile(pack: Pack, name: string, source: string, size: number, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = pack.entry({ name, size, mode }, (err?: Error | null) => (err ? reject(err) : resolve()));
    const src = createReadStream(source);
    src.on('error', reject);
    src.pipe(sink);
  });
}

// ------------------------------------------------------------------------------------------------
// Test blackbox image

export const TEST_BLACKBOX_IMAGE = 'whirl/test-blackbox:latest';

// Speaks just enough of the protocol for the invoker: any /init succeeds, /run echoes its params.
// No sentinels, like most non-native blackbox images; the invoker must not wait for them.
const TEST_BLACKBOX_PROXY = `'use strict';
require('node:http').createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = {};
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'); } catch (_) {}
    const out = req.url === '/run' ? { blackbox: true, ...(body.value || {}) } : { OK: true };
    if (req.url === '/run') console.log('test-blackbox ran ' + (body.activation_id || ''));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(out));
  });
}).listen(Number(process.env.__OW_PROXY_PORT || 8080), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * Builds (once; idempotent through the content-hash label) a tiny blackbox image for tests: FROM
 * scratch, node, and a proxy answering `/run` with `{"blackbox": true, ...params}`. Returns its name.
 */
export async function buildTestBlackboxImage(docker: Dockerode, image: string = TEST_BLACKBOX_IMAGE): Promise<string> {
  const rootfs = await recipes.node();
  const ctx: BuildContext = {
    dockerfile: dockerfileFor(rootfs, '/proxy/proxy.js'),
    rootfs,
    extra: new Map([['/proxy/proxy.js', Buffer.from(TEST_BLACKBOX_PROXY)]]),
  };
  await ensureImage(docker, image, ctx, { [RUNTIME_LABEL]: 'blackbox-test' }, false, () => {});
  return image;
}
