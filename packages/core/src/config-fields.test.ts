import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envConfig, envField, withFlag } from './config.js';
import { configFields, poolFields } from './config-fields.js';

describe('envConfig', () => {
  const cfg = envConfig({
    port: withFlag(configFields.port, 'port'),
    name: envField('WHIRL_TEST_NAME', z.string().min(2, 'too short')),
    ...poolFields,
  });

  it('names each variable once: in the env map and at the end of the description', () => {
    expect(cfg.envNames).toMatchObject({ port: 'WHIRL_PORT', name: 'WHIRL_TEST_NAME', prewarm: 'WHIRL_PREWARM' });
    expect(cfg.schema.shape.port.description).toBe('HTTP port (0 picks a free one). --port, WHIRL_PORT.');
    expect(cfg.schema.shape.name.description).toBe('WHIRL_TEST_NAME.');
    expect(cfg.flags).toEqual({ port: 'port' });
  });

  it('reads the variables, lets overrides win, and lists every problem at once in key order', () => {
    expect(cfg.load({ WHIRL_TEST_NAME: 'ab', WHIRL_PORT: '80' }, { port: '81' })).toMatchObject({ port: 81, name: 'ab', prewarm: true });
    let err: unknown;
    try {
      cfg.load({ WHIRL_PORT: 'x', WHIRL_TEST_NAME: 'a', WHIRL_PREWARM: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['port: Invalid input: expected number, received NaN', 'name: too short', "prewarm: expected a boolean (true/false), got 'maybe'"]);
  });
});
