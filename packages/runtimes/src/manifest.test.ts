import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildableImages,
  controllerRuntimesView,
  imageCapabilities,
  imageName,
  loadManifest,
  parseDurationMs,
  parseMemoryMB,
  resolveKind,
  stemCells,
  validKinds,
} from './manifest.js';

describe('runtime manifest', () => {
  it('loads the bundled manifest', () => {
    const m = loadManifest();
    expect(Object.keys(m.runtimes)).toEqual(expect.arrayContaining(['nodejs', 'python']));
    expect(m.blackboxes).toEqual([
      { prefix: 'whirl', name: 'dockerskeleton', tag: 'latest', build: 'dockerskeleton', capabilities: { socket: true, logFiles: true } },
    ]);
    expect(Object.keys(m.builds).sort()).toEqual(['dockerskeleton', 'nodejs', 'python']);
  });

  it("says what each image's proxy speaks besides TCP: Whirl's own the socket and log files, others nothing", () => {
    expect(imageCapabilities('whirl/action-nodejs-v20:latest')).toEqual({ socket: true, logFiles: true });
    expect(imageCapabilities('whirl/action-python-v3.11:latest')).toEqual({ socket: true, logFiles: true });
    expect(imageCapabilities('whirl/dockerskeleton:latest')).toEqual({ socket: true, logFiles: true });
    expect(imageCapabilities('openwhisk/action-nodejs-v20:latest')).toEqual({ socket: false, logFiles: false });
    const m = loadManifest();
    const plain = { ...m, blackboxes: m.blackboxes.map(({ capabilities: _, ...b }) => b) };
    expect(imageCapabilities('whirl/dockerskeleton:latest', plain)).toEqual({ socket: false, logFiles: false });
  });

  it('resolves kinds, including family:default', () => {
    expect(resolveKind('nodejs:20')?.kind).toBe('nodejs:20');
    expect(resolveKind('nodejs:default')?.kind).toBe('nodejs:20');
    expect(resolveKind('nodejs:6')).toBeUndefined();
    expect(resolveKind('python:default')?.kind).toBe('python:3.11');
    expect(resolveKind('python:3.10')).toBeUndefined();
    expect(resolveKind('blackbox')).toBeUndefined();
    expect(validKinds()).toEqual(expect.arrayContaining(['nodejs:20', 'nodejs:default', 'python:3.11', 'python:default']));
  });

  it('names images and stem cells', () => {
    const e = resolveKind('nodejs:20');
    expect(e && imageName(e)).toBe('whirl/action-nodejs-v20:latest');
    expect(imageName({ image: { name: 'x' } })).toBe('x:latest');
    expect(imageName(resolveKind('python:default') ?? { image: { name: '?' } })).toBe('whirl/action-python-v3.11:latest');
    expect(stemCells()).toEqual([
      {
        kind: 'nodejs:20',
        image: 'whirl/action-nodejs-v20:latest',
        memoryMB: 256,
        count: 2,
        reactive: { minCount: 2, maxCount: 4, ttlMs: 120_000, threshold: 2, increment: 1 },
      },
      { kind: 'python:3.11', image: 'whirl/action-python-v3.11:latest', memoryMB: 256, count: 1 },
    ]);
    expect(parseMemoryMB('256 MB')).toBe(256);
    expect(parseMemoryMB('1 GB')).toBe(1024);
    expect(parseMemoryMB('512m')).toBe(512);
    expect(() => parseMemoryMB('lots')).toThrow();
    expect(parseDurationMs('2 minutes')).toBe(120_000);
    expect(parseDurationMs('90 s')).toBe(90_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('1 hour')).toBe(3_600_000);
    expect(parseDurationMs('soon')).toBeUndefined();
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
      python: [
        {
          kind: 'python:3.11',
          image: 'whirl/action-python-v3.11:latest',
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
    writeFileSync(file, JSON.stringify({ runtimes: {}, blackboxes: [{ name: 'bb', build: 'nope' }] }));
    expect(() => loadManifest(file)).toThrow(/unknown build nope/);
    writeFileSync(file, JSON.stringify({ runtimes: {}, builds: { x: { proxy: ['p.js'], rootfs: 'cobol' } } }));
    expect(() => loadManifest(file)).toThrow(/invalid runtime manifest/);
    const withReactive = (reactive: object) => JSON.stringify({ runtimes: { nodejs: [{ ...entry, stemCells: [{ initialCount: 1, memory: '256 MB', reactive }] }] } });
    writeFileSync(file, withReactive({ minCount: 1, maxCount: 2, ttl: 'soon', threshold: 1, increment: 1 }));
    expect(() => loadManifest(file)).toThrow(/ttl must be a duration/);
    writeFileSync(file, withReactive({ minCount: 3, maxCount: 1, ttl: '1 minute', threshold: 1, increment: 1 }));
    expect(() => loadManifest(file)).toThrow(/minCount must not exceed/);
  });

  it('lists every image with its build recipe', () => {
    expect(buildableImages().map((b) => [b.image, b.family, b.kinds, b.build?.rootfs])).toEqual([
      ['whirl/action-nodejs-v20:latest', 'nodejs', ['nodejs:20'], 'node'],
      ['whirl/action-python-v3.11:latest', 'python', ['python:3.11'], 'python'],
      ['whirl/dockerskeleton:latest', 'dockerskeleton', ['blackbox'], 'node+shell'],
    ]);
  });
});
