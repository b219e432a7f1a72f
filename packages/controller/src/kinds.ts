/** The controller's view of the runtime manifest: which kinds exist, their defaults, GET / runtimes. */
import { controllerRuntimesView, resolveKind, validKinds, type RuntimeManifest } from '@whirl/runtimes';
import type { KindResolver } from './action-doc.js';

export function manifestKinds(manifest: RuntimeManifest): KindResolver & { runtimesView(): unknown } {
  return {
    resolve: (kind) => {
      const e = resolveKind(kind, manifest);
      return e ? { kind: e.kind, requireMain: e.requireMain ?? false, deprecated: e.deprecated ?? false } : undefined;
    },
    validKinds: () => validKinds(manifest),
    runtimesView: () => controllerRuntimesView(manifest),
  };
}
