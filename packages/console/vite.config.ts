// `pnpm build:console` builds web/ into dist/ (checked in; see docs/console.md for why).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import type { Plugin } from 'vite';
import { BUILD_INFO, sourceHash } from './src/source-hash.js';

// dist/build-info.json: the hash of the sources this bundle was built from (see src/source-hash.ts).
const buildInfo = (): Plugin => ({
  name: 'whirl-build-info',
  apply: 'build',
  generateBundle() {
    this.emitFile({ type: 'asset', fileName: BUILD_INFO, source: `${JSON.stringify({ sourceHash: sourceHash() }, null, 2)}\n` });
  },
});

export default defineConfig({
  root: 'web',
  base: '/console/',
  plugins: [preact(), buildInfo()],
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    // No source maps: the bundle is checked in and should stay small and deterministic.
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
});
