import { describe, expect, it } from 'vitest';
import { UsageError } from './exit.js';
import { foldPairFlags, PAIR_SEP, pairsToKeyValues, parseValue } from './params.js';
import { inferKind, inferKindOfDirectory } from './kinds.js';
import { fqn, parseQName } from './names.js';

describe('foldPairFlags', () => {
  it.each([
    [['action', 'invoke', 'a', '-p', 'k', 'v'], ['action', 'invoke', 'a', `--param=k${PAIR_SEP}v`]],
    [['-a', 'x', '1', '--param', 'y', '{"z":1}'], [`--annotation=x${PAIR_SEP}1`, `--param=y${PAIR_SEP}{"z":1}`]],
    [['-P', 'file.json', '-p', 'k', ''], ['-P', 'file.json', `--param=k${PAIR_SEP}`]],
    [['x', '--', '-p', 'k'], ['x', '--', '-p', 'k']],
  ])('%j → %j', (input, out) => expect(foldPairFlags(input)).toEqual(out));

  it('rejects a flag without its two words', () => {
    expect(() => foldPairFlags(['-p', 'k'])).toThrow(UsageError);
    expect(() => foldPairFlags(['-a'])).toThrow(/-a KEY VALUE/);
  });
});

describe('parseValue', () => {
  it.each([
    ['5', 5],
    ['true', true],
    ['"q"', 'q'],
    ['{"a":[1]}', { a: [1] }],
    ['hello world', 'hello world'],
    ['[INFO] not json', '[INFO] not json'],
    ['', ''],
  ])('%j → %j', (raw, v) => expect(parseValue('k', raw)).toEqual(v));
  it.each(['{"a":', '{bad', '[1,'])('%j is malformed', (raw) => {
    if (raw === '[1,') expect(parseValue('k', raw)).toBe('[1,');
    else expect(() => parseValue('k', raw)).toThrow(UsageError);
  });
  it('needs a key', () => expect(() => pairsToKeyValues([`${PAIR_SEP}v`], '-p')).toThrow(/non-empty KEY/));
});

describe('kinds', () => {
  it.each([
    ['a.js', 'nodejs:default'],
    ['dir/a.py', 'python:default'],
    ['A.JAVA', 'java:default'],
    ['x.jar', 'java:default'],
    ['m.go', 'go:default'],
  ])('%s → %s', (f, k) => expect(inferKind(f)).toBe(k));
  it.each(['a.zip', 'a.txt', 'Makefile'])('%s needs --kind', (f) => expect(() => inferKind(f)).toThrow(/--kind/));
  it('guesses directories from their entry file', () => {
    expect(inferKindOfDirectory(['package.json', 'lib'], 'd')).toBe('nodejs:default');
    expect(inferKindOfDirectory(['__main__.py'], 'd')).toBe('python:default');
    expect(() => inferKindOfDirectory(['README'], 'd')).toThrow(UsageError);
  });
});

describe('qualified names', () => {
  it.each([
    ['a', '_', '/_/a'],
    ['p/a', 'guest', '/guest/p/a'],
    ['/ns/a', '_', '/ns/a'],
    ['/ns/p/a', '_', '/ns/p/a'],
    ['ns/p/a', '_', '/ns/p/a'],
  ])('%s (default %s) → %s', (n, ns, out) => expect(fqn(parseQName(n, ns))).toBe(out));
  it.each(['', '/', '/ns', 'a//b', '/a/b/c/d'])('%j is invalid', (n) => expect(() => parseQName(n, '_')).toThrow(UsageError));
});
