/**
 * The one exit-code table. Everything that ends the process goes through `run()` in run.ts, which maps an
 * error to one of these; commands never call process.exit themselves.
 */
export const ExitCode = {
  ok: 0,
  /** Anything that is not the user's input and not an HTTP status: network, unreadable reply, internal. */
  error: 1,
  /** Bad command line or local input: unknown command/flag, missing argument, unreadable file, bad -p. */
  usage: 2,
  /** Interrupted by Ctrl-C (128 + SIGINT), as shells report it. */
  cancelled: 130,
} as const;

/**
 * wsk exits with `HTTP status - 256` when the server answers with an error status (404 → 148, 409 → 153,
 * 502 application error → 246). Scripts written for wsk test these numbers, so we keep them.
 */
export function exitCodeForStatus(status: number): number {
  if (status >= 400 && status <= 511) return status - 256;
  return ExitCode.error;
}

export const EXIT_CODE_HELP = `Exit codes:
  0        success
  1        error (server unreachable, unreadable reply, missing auth, ...)
  2        usage error (unknown command or flag, missing argument, unreadable file, malformed -p/-P, kind not inferable)
  130      interrupted (Ctrl-C)
  144-255  the server answered HTTP status S: exit S - 256, as wsk does
           (400→144, 401→145, 403→147, 404→148, 409→153, 413→157, 429→173, 500→244,
            502→246 for a failed invocation, 503→247)`;

/** Bad local input: reported as one line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure we explain ourselves in one line (plus an optional hint), exit code chosen by the thrower. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.error,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The command already printed what it had to say (e.g. a failed activation) and only needs a code. */
export class SilentExit extends Error {
  override readonly name = 'SilentExit';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
