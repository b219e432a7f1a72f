/** run() in-process with the buffer IO: usage errors and output modes, no server needed. */
import { describe, expect, it } from 'vitest';
import { createFactory } from './factory.js';
import { testIO } from './iostreams.js';
import { run } from './run.js';

async function whirl(args: string[], opts: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const t = testIO({ tty: opts.tty, env: opts.env });
  const code = await run(args, createFactory(t.io, { WSK_CONFIG_FILE: '/nonexistent/wskprops', ...opts.env }));
  return { code, out: t.out(), err: t.err() };
}

describe('run()', () => {
  it.each([
    [['nope'], 2, /^error: unknown command 'nope'/],
    [['action', 'list', '--bogus'], 2, /^error: unknown option '--bogus'/],
    [['action', 'get'], 2, /missing required argument 'name'/],
    [['action', 'invoke', 'x', '-p', 'k'], 2, /-p KEY VALUE/],
    [['completion', 'tcsh'], 2, /Unsupported shell/],
    [['action', 'list'], 1, /The API host is not set\.\nhint: /],
    [['action', 'list', '--apihost', 'http://127.0.0.1:1'], 1, /The API authentication key is not set/],
  ])('%j → exit %i', async (args, code, err) => {
    const r = await whirl(args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(err);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('prints help with the exit-code table and exits 0', async () => {
    const r = await whirl(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Exit codes:');
    expect(r.out).toContain('highest precedence first');
  });

  it('colours errors only on a TTY without NO_COLOR', async () => {
    expect((await whirl(['nope'], { tty: true })).err).toContain('\x1b[31merror:');
    expect((await whirl(['nope'], { tty: true, env: { NO_COLOR: '1' } })).err).not.toContain('\x1b[');
    expect((await whirl(['nope'])).err).not.toContain('\x1b[');
  });

  it('prints the CLI version even with no server', async () => {
    const r = await whirl(['--version']);
    expect(r).toMatchObject({ code: 0, out: 'whirl CLI 0.1.0\nserver: no apihost configured\n' });
  });
});

describe('spinner', () => {
  it('draws on a TTY and erases itself; nothing in a pipe', () => {
    const tty = testIO({ tty: true });
    tty.io.startSpinner('Working')();
    expect(tty.err()).toMatch(/^\r\x1b\[33m⠋\x1b\[0m Working\r\x1b\[2K$/);
    const pipe = testIO();
    pipe.io.startSpinner('Working')();
    expect(pipe.err()).toBe('');
  });
});
