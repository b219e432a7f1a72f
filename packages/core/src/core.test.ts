import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  WhirlError,
  bumpVersion,
  checkActivationId,
  checkName,
  effectiveUserLimits,
  listPaging,
  looksLikeBase64,
  mergeKeyValues,
  parseFqn,
  queryBool,
  renderActivation,
  renderActivationSummary,
  type ActivationRecord,
} from './index.js';

describe('names', () => {
  it.each([
    ['a', true],
    ['_', true],
    ['hello world', true],
    ['a&b', true],
    ['a@b.c-d', true],
    ['trailing ', false],
    [' leading', false],
    ['-dash', false],
    ['sl/ash', false],
    ['', false],
    ['x'.repeat(256), true],
  ])('%j valid: %s', (name, ok) => {
    if (ok) expect(checkName(name)).toBe(name);
    else expect(() => checkName(name)).toThrow(BadRequestError);
  });

  it('reports overlong names with OpenWhisk wording', () => {
    expect(() => checkName('x'.repeat(300))).toThrow('Name segement longer than allowed: 300 > 256.');
  });

  it.each([
    ['/ns/a', { namespace: 'ns', name: 'a' }],
    ['/ns/p/a', { namespace: 'ns', pkg: 'p', name: 'a' }],
    ['ns/p/a', { namespace: 'ns', pkg: 'p', name: 'a' }],
    ['p/a', { namespace: 'me', pkg: 'p', name: 'a' }],
    ['a', { namespace: 'me', name: 'a' }],
    ['/_/a', { namespace: 'me', name: 'a' }],
  ])('parses %s', (input, fqn) => {
    expect(parseFqn(input, 'me')).toEqual(fqn);
  });

  it('refuses a relative name where a fully qualified one is required', () => {
    expect(() => parseFqn('t', 'me', { allowRelative: false })).toThrow(/must contain at least the namespace/);
    expect(() => parseFqn('/a/b/c/d', 'me')).toThrow(BadRequestError);
  });
});

describe('query parameters', () => {
  it('pages lists with OpenWhisk defaults and messages', () => {
    expect(listPaging({}, 'actions')).toEqual({ limit: 30, skip: 0 });
    expect(listPaging({ limit: '0' }, 'actions')).toEqual({ limit: 200, skip: 0 });
    expect(() => listPaging({ limit: '201' }, 'actions')).toThrow("The value '201' is not in the range of 0 to 200 for actions.");
    expect(() => listPaging({ skip: '-2' }, 'rules')).toThrow("The value '-2' is not greater than or equal to 0 for rules.");
    expect(() => listPaging({ limit: '1.5' }, 'rules')).toThrow("The value '1.5' is not an integer for rules.");
  });

  it('reads booleans the way the framework does', () => {
    expect(queryBool('TRUE', 'b', false)).toBe(true);
    expect(queryBool('off', 'b', true)).toBe(false);
    expect(queryBool(undefined, 'b', true)).toBe(true);
    expect(() => queryBool('maybe', 'b', false)).toThrow(BadRequestError);
  });
});

describe('entities', () => {
  it('decides binary from the code itself', () => {
    expect(looksLikeBase64(Buffer.from('PK zip bytes!').toString('base64'))).toBe(true);
    expect(looksLikeBase64('function main() {}')).toBe(false);
    expect(looksLikeBase64('abc')).toBe(false);
    expect(looksLikeBase64('   ')).toBe(false);
  });

  it('bumps patch versions', () => {
    expect(bumpVersion('0.0.1')).toBe('0.0.2');
    expect(bumpVersion('1.2.9')).toBe('1.2.10');
  });

  it('merges annotations by key and removes deleted keys', () => {
    const merged = mergeKeyValues([{ key: 'a', value: 1 }, { key: 'b', value: 2 }], [{ key: 'b', value: 3 }, { key: 'c', value: 4 }], ['a']);
    expect(merged).toEqual([{ key: 'b', value: 3 }, { key: 'c', value: 4 }]);
  });
});

describe('activations', () => {
  const rec: ActivationRecord = {
    namespace: 'guest',
    name: 'a',
    version: '0.0.1',
    subject: 'guest',
    publish: false,
    activationId: 'a'.repeat(32),
    start: 1000,
    end: 1020,
    duration: 20,
    response: { statusCode: 1, result: { error: 'x' } },
    logs: [],
    annotations: [],
  };

  it('renders response status text and drops statusCode', () => {
    const out = renderActivation(rec) as { response: Record<string, unknown> };
    expect(out.response).toEqual({ result: { error: 'x' }, status: 'application error', success: false });
  });

  it('puts statusCode at the top of summaries and hides end/duration of trigger activations', () => {
    expect(renderActivationSummary(rec)).toMatchObject({ statusCode: 1, end: 1020, duration: 20 });
    const trigger = renderActivationSummary({ ...rec, end: 0, duration: undefined });
    expect(trigger).not.toHaveProperty('end');
    expect(trigger).not.toHaveProperty('duration');
    expect(trigger).not.toHaveProperty('statusCode');
  });

  it('validates ids', () => {
    expect(() => checkActivationId('abc')).toThrow('Activation id length is 3 but must be 32.');
    expect(() => checkActivationId('G'.repeat(32))).toThrow('The activation id is not valid.');
    expect(checkActivationId('0123456789abcdef0123456789abcdef')).toHaveLength(32);
  });
});

describe('errors and limits', () => {
  it('maps catalogue codes to HTTP statuses', () => {
    expect(new WhirlError('INVOCATIONS_PER_MINUTE', 'x').statusCode).toBe(429);
    expect(new BadRequestError('x').statusCode).toBe(400);
  });

  it('fills system defaults under per-namespace overrides', () => {
    const l = effectiveUserLimits({ invocationsPerMinute: 5 });
    expect(l.invocationsPerMinute).toBe(5);
    expect(l.concurrentInvocations).toBe(30);
    expect(l.maxActionInstances).toBe(30);
  });
});
