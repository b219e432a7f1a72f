/**
 * A real terminal session through tmux: on a TTY the CLI shows a spinner (stderr) during a blocking invoke
 * and an upload over 1 MB, colours `ok:`, and prints aligned tables; in a pipe, or with NO_COLOR, none of
 * that. Skips (with a message) when tmux is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';
import { cliEnv, cliMain, type CliEnv } from './helpers.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.warn('[cli e2e] skipping the terminal session test: tmux is not installed (apt-get install -y tmux)');

const ESC = '\x1b[';
const SPIN = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

describe.skipIf(!hasTmux)('terminal session (tmux)', () => {
  let server: RunningStandalone;
  let cli: CliEnv;
  const session = `whirl-cli-${process.pid}`;
  let log = '';
  let n = 0;

  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', session, ...args], { encoding: 'utf8' });

  /** Runs a shell line in the pane and returns every byte it wrote (escape sequences included). */
  async function term(line: string): Promise<string> {
    const mark = `__done_${++n}__`;
    const before = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
    tmux('send-keys', '-t', session, `${line}; echo ${mark}`, 'Enter');
    return waitFor(
      mark,
      async () => {
        const all = readFileSync(log, 'utf8').slice(before);
        // The mark appears once in the echoed command line and once as output.
        const i = all.lastIndexOf(`\n${mark}`);
        return i >= 0 && all.split(mark).length > 2 ? all.slice(0, i) : undefined;
      },
      60_000,
    );
  }

  beforeAll(async () => {
    server = await startStandalone({ env: { WHIRL_CONTAINERS: 'process' } });
    cli = cliEnv(server);
    log = path.join(cli.dir, 'pane.log');
    writeFileSync(path.join(cli.dir, 'slow.js'), 'function main() { return new Promise((r) => setTimeout(() => r({ slow: true }), 1500)); }');
    // Over 1 MB of source: the upload spinner threshold.
    writeFileSync(path.join(cli.dir, 'big.js'), `// ${'x'.repeat(1_200_000)}\nfunction main() { return { big: true }; }\n`);
    const env = `WSK_CONFIG_FILE=${cli.props} HOME=${cli.dir}`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', '200', '-y', '50', 'env', '-i', `PATH=${process.env.PATH}`, 'TERM=xterm-256color', 'bash', '--norc', '--noprofile');
    tmux('pipe-pane', '-t', session, '-o', `cat >> ${log}`);
    tmux('send-keys', '-t', session, `export ${env}; cd ${repoRoot}; w() { node --import tsx ${cliMain} "$@"; }`, 'Enter');
  });

  afterAll(async () => {
    if (hasTmux) spawnSync('tmux', ['-L', session, 'kill-server']);
    await server?.stop();
  });

  it('colours ok: on a TTY, not in a pipe, not with NO_COLOR', async () => {
    const tty = await term(`w action create slow ${path.join(cli.dir, 'slow.js')}`);
    expect(tty).toContain(`${ESC}32mok:${ESC}0m created action slow`);
    const piped = await term(`w action update slow ${path.join(cli.dir, 'slow.js')} | cat`);
    expect(piped).toContain('ok: updated action slow');
    expect(piped).not.toContain(`${ESC}32m`);
    const noColor = await term(`NO_COLOR=1 w action update slow ${path.join(cli.dir, 'slow.js')}`);
    expect(noColor).toContain('ok: updated action slow');
    expect(noColor).not.toContain(`${ESC}32m`);
  });

  it('shows a spinner on stderr during a blocking invoke on a TTY only', async () => {
    const tty = await term('w action invoke slow -r');
    expect(tty).toMatch(SPIN);
    expect(tty).toContain('Invoking /_/slow');
    expect(tty).toContain('"slow": true');
    // stderr is a pipe here, so no spinner even though stdout is the terminal.
    const piped = await term('w action invoke slow -r 2>&1 | cat');
    expect(piped).not.toMatch(SPIN);
    expect(piped).toContain('"slow": true');
  });

  it('shows a spinner while uploading more than 1 MB', async () => {
    const tty = await term(`w action create big ${path.join(cli.dir, 'big.js')}`);
    expect(tty).toMatch(/Uploading 1\.\d MB/);
    expect(tty).toContain('created action big');
  });

  it('prints an aligned table with a title on a TTY, TSV in a pipe', async () => {
    const tty = await term('w action list');
    expect(tty).toMatch(/actions.*\r?\n\/guest\/big {20,}private {2}nodejs:\d+/);
    const piped = await term('w action list | cat');
    expect(piped).toMatch(/\/guest\/big\tprivate\tnodejs:\d+/);
    expect(piped).not.toMatch(/actions\r?\n/);
  });

  it('prints errors in red on a TTY', async () => {
    const tty = await term('w action get nope');
    expect(tty).toContain(`${ESC}31merror:${ESC}0m Unable to get action 'nope'`);
  });
});
