import { describe, expect, it } from 'vitest';
import { ConfigError } from '@whirl/core';
import { loadConfig } from './config.js';

describe('standalone config', () => {
  it('takes defaults, then environment, then flags', () => {
    expect(loadConfig([], {})).toMatchObject({ port: 3233, dataDir: './.whirl', containers: 'auto', prewarm: true });
    expect(loadConfig([], { WHIRL_PORT: '4000', WHIRL_PREWARM: 'off' })).toMatchObject({ port: 4000, prewarm: false });
    expect(loadConfig(['--port', '5000', '--data-dir', '/x'], { WHIRL_PORT: '4000' })).toMatchObject({ port: 5000, dataDir: '/x' });
  });

  it('lists every problem at once and freezes the result', () => {
    let err: unknown;
    try {
      loadConfig(['--containers', 'vm'], { WHIRL_PORT: 'eighty', WHIRL_PREWARM: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/port/);
    expect(problems.join('\n')).toMatch(/containers/);
    expect(problems.join('\n')).toMatch(/prewarm: expected a boolean/);
    expect(Object.isFrozen(loadConfig([], {}))).toBe(true);
  });

  it('chooses the keep-alive policy and rejects an unknown one', () => {
    expect(loadConfig([], {})).toMatchObject({ keepAlive: 'hybrid', keepAliveBinMs: 60_000 });
    expect(loadConfig([], { WHIRL_KEEPALIVE: 'fixed', WHIRL_KEEPALIVE_BIN_MS: '250' })).toMatchObject({ keepAlive: 'fixed', keepAliveBinMs: 250 });
    expect(() => loadConfig([], { WHIRL_KEEPALIVE: 'forever' })).toThrow(/WHIRL_KEEPALIVE|keepAlive/);
  });

  it("accepts the leading '--' that \`pnpm start -- --port 4000\` passes through", () => {
    expect(loadConfig(['--', '--port', '4000'], {})).toMatchObject({ port: 4000 });
    expect(() => loadConfig(['--', '--prot', '1'], {})).toThrow(/Unknown option '--prot'/);
  });

  it('takes WHIRL_METRICS_TOKEN and refuses a short one', () => {
    expect(loadConfig([], { WHIRL_METRICS_TOKEN: 'x'.repeat(16) }).metricsToken).toBe('x'.repeat(16));
    expect(() => loadConfig([], { WHIRL_METRICS_TOKEN: 'short' })).toThrow(/metricsToken: must be at least 16 characters/);
  });

  it('refuses unknown flags', () => {
    expect(() => loadConfig(['--prot', '1'], {})).toThrow(/Unknown option '--prot'/);
  });
});
