import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeApiHost, parseProps, propsPath, readPropsFile, resolveConfig, updateProps, writePropsFile } from './config.js';

describe('precedence: flag > WHIRL_* > __OW_* > file > default', () => {
  const file = new Map([
    ['APIHOST', 'file-host'],
    ['AUTH', 'file:auth'],
    ['NAMESPACE', 'filens'],
  ]);
  it.each([
    [{}, {}, 'file-host', 'file:auth', 'filens'],
    [{}, { __OW_API_HOST: 'ow-host', __OW_API_KEY: 'ow:key', __OW_NAMESPACE: 'owns' }, 'ow-host', 'ow:key', 'owns'],
    [{}, { __OW_API_HOST: 'ow-host', WHIRL_APIHOST: 'w-host', WHIRL_NAMESPACE: 'wns' }, 'w-host', 'file:auth', 'wns'],
    [{ apihost: 'flag-host', auth: 'f:k' }, { WHIRL_APIHOST: 'w-host', WHIRL_AUTH: 'w:k' }, 'flag-host', 'f:k', 'filens'],
  ])('flags %j env %j', (flags, env, host, auth, ns) => {
    const c = resolveConfig(flags, env, file);
    expect([c.apihost.value, c.auth.value, c.namespace.value]).toEqual([host, auth, ns]);
  });
  it('defaults namespace to _ and apiversion to v1', () => {
    const c = resolveConfig({}, {}, new Map());
    expect([c.apihost.value, c.namespace.value, c.apiversion.value]).toEqual([undefined, '_', 'v1']);
  });
  it('finds the file from WSK_CONFIG_FILE, else ~/.wskprops', () => {
    expect(propsPath({ WSK_CONFIG_FILE: '/x/props', HOME: '/h' })).toBe('/x/props');
    expect(propsPath({ HOME: '/h' })).toBe('/h/.wskprops');
  });
});

describe('apihost', () => {
  it.each([
    ['localhost:3233', 'https://localhost:3233'],
    ['http://127.0.0.1:3233/', 'http://127.0.0.1:3233'],
    ['openwhisk.example.com', 'https://openwhisk.example.com'],
    ['https://h/prefix/', 'https://h/prefix'],
  ])('%s → %s', (h, out) => expect(normalizeApiHost(h)).toBe(out));
  it('rejects other schemes', () => expect(() => normalizeApiHost('ftp://h')).toThrow(/http or https/));
});

describe('.wskprops file', () => {
  it('updates in place and keeps comments and unknown keys', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'props-'));
    const p = path.join(dir, 'sub', 'wskprops');
    writePropsFile({ path: p, lines: ['# hi', 'APIGW_TENANT_ID=t', 'AUTH=old'] });
    writePropsFile(updateProps(readPropsFile(p), { AUTH: 'new', APIHOST: 'h', NAMESPACE: undefined }));
    expect(readFileSync(p, 'utf8')).toBe('# hi\nAPIGW_TENANT_ID=t\nAUTH=new\nAPIHOST=h\n');
    writePropsFile(updateProps(readPropsFile(p), { AUTH: undefined }));
    expect(parseProps(readPropsFile(p).lines)).toEqual(new Map([['APIGW_TENANT_ID', 't'], ['APIHOST', 'h']]));
    writeFileSync(p, 'APIHOST = spaced \r\nbroken line\n=novalue\n');
    expect(parseProps(readPropsFile(p).lines)).toEqual(new Map([['APIHOST', 'spaced']]));
  });
});
