/** The invoker's RuntimeImages port read from the runtime manifest: one for the distributed invoker and standalone. */
import { imageName, resolveKind, stemCells, type RuntimeManifest } from '@whirl/runtimes';
import type { RuntimeImages } from './types.js';

export function manifestRuntimeImages(manifest: RuntimeManifest): RuntimeImages {
  return {
    imageFor: (kind) => {
      const e = resolveKind(kind, manifest);
      return e ? imageName(e) : undefined;
    },
    stemCells: () => stemCells(manifest),
    blackboxImage: (image) => blackboxAlias(image, manifest),
    isNativeBlackbox: (image) => manifest.blackboxes.some((b) => imageName({ image: b }) === image),
    tagsLogLines: (kind) => kind.startsWith('nodejs:'),
  };
}

/**
 * OpenWhisk's skeleton image name (`openwhisk/dockerskeleton`, any tag) stands for Whirl's own
 * skeleton when the manifest has one, so `wsk action create --native` works without a registry.
 */
function blackboxAlias(image: string, manifest: RuntimeManifest): string {
  const m = /^(?:docker\.io\/)?openwhisk\/dockerskeleton(?::[\w.-]+)?$/.exec(image);
  const skeleton = manifest.blackboxes.find((b) => b.name === 'dockerskeleton');
  return m && skeleton ? imageName({ image: skeleton }) : image;
}
