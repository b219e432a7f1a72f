/**
 * Builds the runtime images without a registry: each one is `FROM scratch` plus this machine's own
 * node binary, the shared libraries it links against, and the action proxy. Machines with registry
 * access can use `nodejs/Dockerfile` instead; both give the same image contract.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { pack as tarPack, type Pack } from 'tar-stream';
import { imageName, loadManifest, type RuntimeManifest } from './manifest.js';

const execFileAsync = promisify(execFile);

/** Absolute path of the Node.js action proxy shipped with this package. */
export const nodejsProxyPath: string = fileURLToPath(new URL('../nodejs/proxy.js', import.meta.url));

/** Label carrying the kinds an image serves; also how Whirl recognises images it built. */
export const RUNTIME_LABEL = 'whirl.runtime';
/** Label carrying the proxy's hash, so an image built from an older proxy gets rebuilt. */
export const PROXY_HASH_LABEL = 'whirl.proxy.sha256';

export interface EnsureRuntimeImagesOptions {
  docker: Dockerode;
  onProgress?: (msg: string) => void;
  /** Rebuild even when the image exists and is current. */
  force?: boolean;
  manifest?: RuntimeManifest;
}

export function proxyHash(): string {
  return createHash('sha256').update(readFileSync(nodejsProxyPath)).digest('hex');
}

/** Builds every manifest image that is missing or stale; returns the names it built. */
export async function ensureRuntimeImages(opts: EnsureRuntimeImagesOptions): Promise<string[]> {
  const { docker, force = false } = opts;
  const say = opts.onProgress ?? (() => {});
  const manifest = opts.manifest ?? loadManifest();
  const hash = proxyHash();
  const built: string[] = [];
  const byImage = new Map<string, { family: string; kinds: string[] }>();
  for (const [family, entries] of Object.entries(manifest.runtimes)) {
    for (const e of entries) {
      const image = imageName(e);
      const cur = byImage.get(image) ?? { family, kinds: [] };
      cur.kinds.push(e.kind);
      byImage.set(image, cur);
    }
  }
  for (const [image, { family, kinds }] of byImage) {
    const labels = await imageLabels(docker, image);
    if (labels && !force) {
      // Images without our label came from a registry or the operator: never overwrite them.
      if (labels[RUNTIME_LABEL] === undefined || labels[PROXY_HASH_LABEL] === hash) {
        say(`${image}: present`);
        continue;
      }
      say(`${image}: built from an older proxy, rebuilding`);
    }
    if (family !== 'nodejs') {
      say(`${image}: no offline recipe for runtime family ${family}, skipped`);
      continue;
    }
    const previousId = labels ? (await docker.getImage(image).inspect()).Id : undefined;
    await buildNodejsImage(docker, image, kinds, hash, say);
    built.push(image);
    const currentId = (await docker.getImage(image).inspect()).Id;
    // A cached rebuild yields the same id, which must of course stay.
    if (previousId && previousId !== currentId) {
      // The old build is now an untagged leftover; containers still using it keep it alive (409).
      await docker
        .getImage(previousId)
        .remove()
        .catch(() => {});
    }
  }
  return built;
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

/** The node binary and every shared object the dynamic loader needs for it, by in-image path. */
export async function nodeRootfsFiles(): Promise<{ inImage: string; source: string }[]> {
  const nodeBin = realpathSync(process.execPath);
  const files = [{ inImage: '/usr/bin/node', source: nodeBin }];
  let out = '';
  try {
    out = (await execFileAsync('ldd', [nodeBin])).stdout;
  } catch (e) {
    // ldd exits non-zero for static binaries, which need nothing else.
    const stdout = (e as { stdout?: string }).stdout ?? '';
    if (!/not a dynamic executable|statically linked/.test(stdout + String((e as Error).message))) throw e;
  }
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)\s*\(/.exec(line) ?? /^\s*(\/\S+)\s*\(/.exec(line);
    if (m?.[1]) files.push({ inImage: m[1], source: realpathSync(m[1]) });
    else if (/=>\s*not found/.test(line)) throw new Error(`node needs a library ldd cannot find: ${line.trim()}`);
  }
  return files;
}

async function buildNodejsImage(
  docker: Dockerode,
  image: string,
  kinds: string[],
  hash: string,
  say: (msg: string) => void,
): Promise<void> {
  const files = await nodeRootfsFiles();
  say(`${image}: building FROM scratch with ${files[0]?.source} (${process.version}) and ${files.length - 1} libraries`);
  const dockerfile = [
    'FROM scratch',
    'COPY rootfs/ /',
    'ENV PATH=/usr/bin:/bin HOME=/tmp TMPDIR=/tmp __OW_PROXY_PORT=8080',
    'WORKDIR /proxy',
    'EXPOSE 8080',
    'CMD ["/usr/bin/node", "/proxy/proxy.js"]',
    '',
  ].join('\n');

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
    await entry(pack, { name: 'Dockerfile', mode: 0o644 }, Buffer.from(dockerfile));
    await entry(pack, { name: 'rootfs', type: 'directory', mode: 0o755 });
    // Archives the proxy extracts go to /tmp, and actions may write there.
    await entry(pack, { name: 'rootfs/tmp', type: 'directory', mode: 0o1777 });
    await addDirs('/proxy/proxy.js');
    await entry(pack, { name: 'rootfs/proxy/proxy.js', mode: 0o644 }, readFileSync(nodejsProxyPath));
    for (const f of files) {
      await addDirs(f.inImage);
      const st = statSync(f.source);
      await entryFromFile(pack, `rootfs${f.inImage}`, f.source, st.size, 0o755);
    }
    pack.finalize();
  })();
  writing.catch((e: unknown) => pack.destroy(e as Error));

  const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, {
    t: image,
    labels: { [RUNTIME_LABEL]: kinds.join(','), [PROXY_HASH_LABEL]: hash },
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
