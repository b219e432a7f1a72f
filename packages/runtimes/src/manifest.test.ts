import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  controllerRuntimesView,
  imageName,
  loadManifest,
  parseMemoryMB,
  resolveKind,
  stemCells,
  validKinds,
} from './manifest.js';

describe('runtime manifest', () => {
  it('loads the bundled manifest', () => {
    const m = loadManifest();
    expect(Object.keys(m.runtimes)).toContain('nodejs');
    expect(m.blackboxes).toEqual([]);
  });

  it('resolves kinds, including family:default', () => {
    expect(resolveKind('nodejs:20')?.kind).toBe('nodejs:20');
    expect(resolveKind('nodejs:default')?.kind).toBe('nodejs:20');
    expect(resolveKind('nodejs:6')).toBeUndefined();
    expect(resolveKind('python:default')).toBeUndefined();
    expect(resolveKind('blackbox')).toBeUndefined();
    expect(validKinds()).toEqual(expect.arrayContaining(['nodejs:20', 'nodejs:default']));
  });

  it('names images and stem cells', () => {
    const e = resolveKind('nodejs:20');
    expect(e && imageName(e)).toBe('whirl/action-nodejs-v20:latest');
    expect(imageName({ image: { name: 'x' } })).toBe('x:latest');
    expect(stemCells()).toEqual([{ kind: 'nodejs:20', image: 'whirl/action-nodejs-v20:latest', memoryMB: 256, count: 2 }]);
    expect(parseMemoryMB('256 MB')).toBe(256);
    expect(parseMemoryMB('1 GB')).toBe(1024);
    expect(parseMemoryMB('512m')).toBe(512);
    expect(() => parseMemoryMB('lots')).toThrow();
  });

  it('renders the controller view', () => {
    expect(controllerRuntimesView()).toEqual({
      nodejs: [
        {
          kind: 'nodejs:20',
          image: 'whirl/action-nodejs-v20:latest',
          deprecated: false,
          default: true,
          attached: true,
          requireMain: false,
        },
      ],
    });
  });

  it('rejects invalid manifests', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'manifest-'));
    const file = path.join(dir, 'runtimes.json');
    const entry = { kind: 'nodejs:20', default: true, image: { name: 'n' } };
    writeFileSync(file, JSON.stringify({ runtimes: { nodejs: [entry, { ...entry, kind: 'nodejs:18' }] } }));
    expect(() => loadManifest(file)).toThrow(/more than one default/);
    writeFileSync(file, JSON.stringify({ runtimes: { nodejs: [{ kind: 'nodejs:20' }] } }));
    expect(() => loadManifest(file)).toThrow(/invalid runtime manifest/);
    writeFileSync(file, JSON.stringify({ runtimes: { python: [entry] } }));
    expect(() => loadManifest(file)).toThrow(/listed under family python/);
  });
});
