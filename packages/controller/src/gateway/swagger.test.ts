import { describe, expect, it } from 'vitest';
import { addEndpoint, baseSwagger, checkImport, compileApi, matchRoute, normalizeBasePath, operationId, removeEndpoint, resolveNamespaces, type Endpoint } from './swagger.js';

const endpoint = (relPath: string, verb: Endpoint['verb'], responseType: Endpoint['responseType'] = 'json', name = 'hello'): Endpoint => ({
  basePath: '/club',
  relPath,
  verb,
  action: { namespace: 'guest', name },
  responseType,
  apiHost: 'https://h:1',
  ...(relPath.includes('{') ? { pathParameters: [{ name: 'isbn', in: 'path', required: true, type: 'string' }] } : {}),
});

describe('API documents', () => {
  it('builds OpenWhisk operation ids and base paths', () => {
    expect(operationId('get', '/books/{isbn}')).toBe('getBooksIsbn');
    expect(operationId('POST', '/foo/bar')).toBe('postFooBar');
    expect(normalizeBasePath('/club/')).toBe('/club');
    expect(normalizeBasePath('/')).toBe('/');
  });

  it('adds endpoints with x-openwhisk, replacing a duplicate in place', () => {
    let doc = addEndpoint(baseSwagger('/club', 'Book Club'), endpoint('/books', 'get'));
    doc = addEndpoint(doc, endpoint('/books', 'get', 'html', 'pkg/other'));
    const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(paths['/books']!)).toEqual(['get']);
    expect(paths['/books']!.get!['x-openwhisk']).toEqual({ namespace: 'guest', package: 'pkg', action: 'other', url: 'https://h:1/api/v1/web/guest/pkg/other.html' });
  });

  it('removes an operation, then the path when it has none left', () => {
    let doc = addEndpoint(baseSwagger('/club', undefined), endpoint('/books', 'get'));
    doc = addEndpoint(doc, endpoint('/books', 'post'));
    expect(removeEndpoint(doc, '/nope', undefined)).toBe("path '/nope' does not exist in the API");
    expect(removeEndpoint(doc, '/books', 'put')).toBe("path '/books' with operation 'put' does not exist in the API");
    const one = removeEndpoint(doc, '/books', 'GET') as Record<string, Record<string, object>>;
    expect(Object.keys(one.paths!['/books']!)).toEqual(['post']);
    const none = removeEndpoint(one, '/books', 'post') as Record<string, object>;
    expect(none.paths).toEqual({});
  });

  it('matches literal paths before parameters', () => {
    let doc = addEndpoint(baseSwagger('/club', undefined), endpoint('/books/{isbn}', 'get', 'http'));
    doc = addEndpoint(doc, endpoint('/books/new', 'get'));
    const api = compileApi(doc);
    expect(matchRoute(api, '/books/new')?.route.relPath).toBe('/books/new');
    expect(matchRoute(api, '/books/42')).toMatchObject({ route: { relPath: '/books/{isbn}' }, params: { isbn: '42' } });
    expect(matchRoute(api, '/books')).toBeUndefined();
    expect(matchRoute(api, '/books/')).toBeUndefined();
  });

  it('reads the gateway extensions', () => {
    const doc = {
      ...addEndpoint(baseSwagger('/club', undefined), endpoint('/books', 'get')),
      securityDefinitions: { k: { type: 'apiKey', in: 'query', name: 'key', 'x-whirl-api-keys': ['a'] } },
      security: [{ k: [] }],
      'x-ibm-rate-limit': [{ rate: 5, unit: 'second', units: 2 }],
      'x-ibm-configuration': { cors: { enabled: false } },
    };
    expect(compileApi(doc)).toMatchObject({ apiKey: { in: 'query', name: 'key', keys: ['a'] }, rateLimit: { rate: 5, perMs: 2000 }, cors: false });
  });

  it('refuses parameters in the base path and path parameters without .http', () => {
    expect(() => compileApi(baseSwagger('/club/{x}', undefined))).toThrow('The base path (/club/{x}) cannot have parameters.');
    const doc = addEndpoint(baseSwagger('/club', undefined), endpoint('/books/{isbn}', 'get', 'json'));
    expect(() => compileApi(doc)).toThrow("The action must use a response type of '.http' in order to receive the path parameters.");
  });

  it('refuses an import wsk would show otherwise or that routes nothing', () => {
    const doc = addEndpoint(baseSwagger('/club', undefined), endpoint('/books', 'get'));
    expect(() => checkImport(doc, compileApi(doc))).not.toThrow();
    const numbered = { ...doc, info: { title: 'Club', version: 1.5 } };
    expect(() => checkImport(numbered, compileApi(numbered))).toThrow('info.version must be a string, not the number 1.5 (in YAML, quote it: version: "...").');
    const titled = { ...doc, info: { title: true, version: '1' } };
    expect(() => checkImport(titled, compileApi(titled))).toThrow('info.title must be a string, not the boolean true');
    const empty = baseSwagger('/club', undefined);
    expect(() => checkImport(empty, compileApi(empty))).toThrow('The swagger has no operation');
  });

  it('resolves _ to the caller namespace and fills in missing operation ids', () => {
    const doc = { paths: { '/x': { get: { 'x-openwhisk': { namespace: '_', action: 'a', url: 'https://h/api/v1/web/_/default/a.json' } } } } };
    expect(resolveNamespaces(doc, 'guest')).toEqual({
      paths: { '/x': { get: { operationId: 'getX', 'x-openwhisk': { namespace: 'guest', action: 'a', url: 'https://h/api/v1/web/guest/default/a.json' } } } },
    });
  });
});
