import { describe, expect, it } from 'vitest';
import { initFailure, runResponse } from './response.js';

describe('run responses', () => {
  it.each([
    [200, '{"a":1}', 0, { a: 1 }],
    [200, '[1,2]', 0, [1, 2]],
    [200, '{"error":"no"}', 1, { error: 'no' }],
    [200, '42', 2, { error: 'The action did not produce a valid JSON or JSON Array response: 42' }],
    [200, 'not json', 2, { error: 'The action did not produce a valid JSON or JSON Array response: not json' }],
    [502, '{"error":"An error has occurred: x"}', 2, { error: 'An error has occurred: x' }],
    [500, '<html>', 2, { error: 'The action did not produce a valid response: <html>' }],
  ])('%i %s → status %i', (status, body, code, result) => {
    const r = runResponse(status, body, Buffer.byteLength(body));
    expect(r.statusCode).toBe(code);
    expect(r.result).toEqual(result);
  });

  it('truncates an oversized result into an application error', () => {
    const r = runResponse(200, '{"x":"yyyy', 2000, 10);
    expect(r.statusCode).toBe(1);
    expect(r.result).toEqual({
      error: 'The action produced a response that exceeded the allowed length: 2000 > 10 bytes. The truncated response was: {"x":"yyyy',
    });
  });

  it('reads init failures from the error field or wraps the body', () => {
    expect(initFailure(502, '{"error":"Initialization has failed due to: x"}').result).toEqual({ error: 'Initialization has failed due to: x' });
    expect(initFailure(500, 'crash')).toEqual({ statusCode: 2, result: { error: 'The action failed during initialization: crash' } });
  });
});
