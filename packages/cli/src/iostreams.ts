/**
 * IO abstraction in the style of gh's iostreams: commands write through it, so tests can swap in buffers
 * and pretend to be (or not be) a terminal.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';

export interface ColorScheme {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  gray(s: string): string;
}

export interface IOStreams {
  readonly in: Readable;
  readonly out: Writable;
  readonly err: Writable;
  isStdoutTTY(): boolean;
  isStderrTTY(): boolean;
  /** Prompting needs a human on both ends: stdin and stdout are terminals. */
  canPrompt(): boolean;
  /** Colours for stdout / stderr; identity functions when the stream is not a TTY or NO_COLOR is set. */
  colors(): ColorScheme;
  errColors(): ColorScheme;
  /** Shows a spinner on stderr if it is a terminal; returns the function that removes it. */
  startSpinner(label: string): () => void;
  /** Width of the terminal, or a wide default when piped. */
  terminalWidth(): number;
}

const plain: ColorScheme = { green: (s) => s, red: (s) => s, yellow: (s) => s, bold: (s) => s, gray: (s) => s };
const ansi = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const colored: ColorScheme = { green: ansi(32), red: ansi(31), yellow: ansi(33), bold: ansi(1), gray: ansi(90) };

export interface IOOptions {
  in: Readable;
  out: Writable;
  err: Writable;
  stdinTTY: boolean;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  env: NodeJS.ProcessEnv;
  columns?: number;
  spinnerIntervalMs?: number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createIO(o: IOOptions): IOStreams {
  // https://no-color.org: any non-empty value disables colour. TERM=dumb terminals cannot render it either.
  const noColor = (o.env.NO_COLOR ?? '') !== '' || o.env.TERM === 'dumb';
  return {
    in: o.in,
    out: o.out,
    err: o.err,
    isStdoutTTY: () => o.stdoutTTY,
    isStderrTTY: () => o.stderrTTY,
    canPrompt: () => o.stdinTTY && o.stdoutTTY,
    colors: () => (o.stdoutTTY && !noColor ? colored : plain),
    errColors: () => (o.stderrTTY && !noColor ? colored : plain),
    terminalWidth: () => o.columns ?? 120,
    startSpinner(label: string): () => void {
      if (!o.stderrTTY) return () => undefined;
      let i = 0;
      const c = o.stderrTTY && !noColor ? colored : plain;
      const draw = (): void => {
        o.err.write(`\r${c.yellow(FRAMES[i++ % FRAMES.length]!)} ${label}`);
      };
      draw();
      const timer = setInterval(draw, o.spinnerIntervalMs ?? 80);
      return () => {
        clearInterval(timer);
        // Erase the spinner line so the command's own output starts on a clean line.
        o.err.write('\r\x1b[2K');
      };
    },
  };
}

export function systemIO(env: NodeJS.ProcessEnv = process.env): IOStreams {
  return createIO({
    in: process.stdin,
    out: process.stdout,
    err: process.stderr,
    stdinTTY: process.stdin.isTTY === true,
    stdoutTTY: process.stdout.isTTY === true,
    stderrTTY: process.stderr.isTTY === true,
    env,
    columns: process.stdout.columns,
  });
}

export interface TestIO {
  io: IOStreams;
  out(): string;
  err(): string;
  /** Feeds stdin. */
  input(s: string): void;
}

/** Buffer-backed IO for tests; TTY-ness and environment are whatever the test says. */
export function testIO(opts: { tty?: boolean; stdinTTY?: boolean; env?: NodeJS.ProcessEnv } = {}): TestIO {
  const tty = opts.tty ?? false;
  const inStream = new PassThrough();
  const outStream = new PassThrough();
  const errStream = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  outStream.on('data', (d: Buffer) => outChunks.push(d));
  errStream.on('data', (d: Buffer) => errChunks.push(d));
  return {
    io: createIO({
      in: inStream,
      out: outStream,
      err: errStream,
      stdinTTY: opts.stdinTTY ?? tty,
      stdoutTTY: tty,
      stderrTTY: tty,
      env: opts.env ?? {},
      columns: 120,
    }),
    out: () => Buffer.concat(outChunks).toString('utf8'),
    err: () => Buffer.concat(errChunks).toString('utf8'),
    input: (s) => inStream.write(s),
  };
}
